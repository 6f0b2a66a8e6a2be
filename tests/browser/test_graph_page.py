"""The graph page in a real browser: headless Chromium driven over the DevTools protocol.

Chromium is driven through ``--remote-debugging-pipe`` (DevTools messages on file
descriptors 3 and 4), so no websocket library or browser download is needed.
The screenshot is kept in tests/browser/artifacts/ for a person to look at.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

import chainrule as cr

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = (
    shutil.which("chromium")
    or shutil.which("chromium-browser")
    or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),  # in CI a missing browser must fail, not skip
    reason="Chromium is not installed (apt-get install chromium); CI installs it, so this test runs there",
)


def _above_9(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Browser:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, executable: str, width: int = 1400, height: int = 900) -> None:
        self._profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
        # The child's ends go above 9 first, so that placing them at 3 and 4 below cannot clobber them.
        to_child_r, self._to_child = (_above_9(fd) for fd in os.pipe())
        self._from_child, from_child_w = (_above_9(fd) for fd in os.pipe())
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        # The browser reads commands on fd 3 and writes replies on fd 4; bash puts the pipe ends there
        # (bash, not sh: dash cannot redirect descriptors above 9, which the pipe ends may be).
        script = f'exec "$0" "$@" 3<&{to_child_r} 4>&{from_child_w} {to_child_r}<&- {from_child_w}>&-'
        self._proc = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", script, executable, *flags],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from Chromium")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 16)
                if not chunk:
                    err = self._proc.stderr.read().decode(errors="replace") if self._proc.poll() is not None else ""
                    raise RuntimeError(f"Chromium closed the DevTools pipe\n{err[-2000:]}")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30, session: bool = True) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            event = self._read_message(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def open_page(self, url: str) -> None:
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def mouse(self, kind: str, x: float, y: float) -> None:
        params = {"type": kind, "x": x, "y": y, "button": "left" if kind != "mouseMoved" else "none", "clickCount": 1}
        self.send("Input.dispatchMouseEvent", params)

    def click(self, x: float, y: float) -> None:
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y)
        self.mouse("mouseReleased", x, y)

    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions seen so far."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args", []))[:500])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append(params["entry"].get("text", ""))
        return out

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False, timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_child, self._from_child):
            os.close(fd)
        if self._proc.stderr:
            self._proc.stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)


@pytest.fixture
def browser():
    b = Browser(CHROMIUM)
    try:
        yield b
    finally:
        b.close()


def _lecture_graph() -> cr.Graph:
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [None], name="x")
        y = cr.cos(x)
        cr.gradients(y, [x])
        with cr.name_scope("model"):
            w = cr.Variable(0.5, dtype=cr.float64, name="w")
            b = cr.Variable(0.1, dtype=cr.float64, name="b")
            pred = cr.sigmoid(w * x + b)
        loss = cr.reduce_sum(cr.square(pred - y), name="loss")
        cr.train.GradientDescentOptimizer(0.1).minimize(loss)
    return graph


def _visible(b: Browser) -> dict[str, int]:
    return b.evaluate(
        "({ops: document.querySelectorAll('#graph .node.op').length,"
        " scopes: document.querySelectorAll('#graph .node.group.collapsed').length,"
        " frames: document.querySelectorAll('#graph .frame').length,"
        " gradient: document.querySelectorAll('#graph .gradient').length,"
        " edges: document.querySelectorAll('#graph path.edge').length})"
    )


def _center(b: Browser, selector: str, scroll: bool = True) -> tuple[float, float]:
    """Viewport coordinates of the middle of an element (scrolled into view first)."""
    into_view = "e.scrollIntoView({block: 'center', inline: 'center'});" if scroll else ""
    box = b.evaluate(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null; {into_view}"
        " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    assert box is not None, f"no element matches {selector}"
    return box[0], box[1]


def test_graph_page_in_chromium(browser, tmp_path):
    page = Path(cr.viz.render(_lecture_graph(), tmp_path / "graph.html", title="lecture graph"))
    browser.open_page(page.as_uri())

    before = _visible(browser)
    browser.screenshot(ARTIFACTS / "graph_page_collapsed.png")
    assert before["ops"] >= 3 and before["scopes"] >= 2 and before["edges"] >= 2, before
    assert before["gradient"] >= 1, "the gradients scope is not set apart"
    assert browser.evaluate("document.getElementById('shown').textContent") == str(before["ops"] + before["scopes"])

    # A real mouse click on the collapsed gradients scope expands it.
    browser.click(*_center(browser, '#graph .node.group.collapsed[data-id="g:gradients"]'))
    after = _visible(browser)
    assert after["ops"] + after["scopes"] > before["ops"] + before["scopes"] - 1, (before, after)
    assert after["ops"] > before["ops"], (before, after)
    assert after["frames"] == before["frames"] + 1
    assert browser.evaluate("document.querySelector('#graph .frame[data-id=\"g:gradients\"]') !== null")
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(ARTIFACTS / "graph_page_gradients_expanded.png")

    # Hovering an op shows its type, dtype, shape and the line of this file that created it.
    browser.mouse("mouseMoved", *_center(browser, '#graph .node.op[data-id="o:Cos"]'))
    tip = browser.evaluate(
        "document.getElementById('tooltip').style.display + '|' + document.getElementById('tooltip').textContent"
    )
    shown, text = tip.split("|", 1)
    assert shown == "block"
    assert "op: Cos" in text and "float64" in text and "(?,)" in text
    assert "test_graph_page.py" in text and "y = cr.cos(x)" in text

    # Expand everything and keep a picture of it for a person to look at.
    browser.evaluate("document.getElementById('expand-all').click()")
    full = _visible(browser)
    assert full["scopes"] == 0 and full["ops"] > after["ops"]
    browser.evaluate("window.scrollTo(0, 0)")
    browser.mouse("mouseMoved", *_center(browser, '#graph .node.op[data-id="o:gradients/Cos_grad/Sin"]', scroll=False))
    assert "op: Sin  (gradient)" in browser.evaluate("document.getElementById('tooltip').textContent")
    browser.screenshot(ARTIFACTS / "graph_page.png")
    assert (ARTIFACTS / "graph_page.png").stat().st_size > 10_000

    # Collapsing the gradients scope again by its title bar hides its ops.
    browser.evaluate("document.getElementById('collapse-all').click()")
    assert _visible(browser) == before
    assert browser.errors() == []


def test_loop_and_cond_frames_expand_in_chromium(browser, tmp_path):
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [], name="x")
        y = cr.cond(x > 0, lambda: cr.sin(x), lambda: -x, name="branch")
        cr.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, cr.cos(v) * y), [cr.constant(0), x], name="loop")
    browser.open_page(Path(cr.viz.render(graph, tmp_path / "loop.html")).as_uri())
    collapsed = '#graph .node.group.collapsed[data-id="{}"]'
    assert browser.evaluate(f"document.querySelector({json.dumps(collapsed.format('g:loop'))}) !== null")

    # Clicking the loop's frame opens it onto the While op and its collapsed cond and body.
    browser.click(*_center(browser, collapsed.format("g:loop")))
    assert browser.evaluate("document.querySelector('#graph .frame[data-id=\"g:loop\"]') !== null")
    assert browser.evaluate("document.querySelector('#graph .node.op[data-id=\"o:loop/While\"]') !== null")
    browser.click(*_center(browser, collapsed.format("g:loop/body")))
    assert browser.evaluate("document.querySelector('#graph .node.op[data-id=\"o:loop/body/Cos\"]') !== null")
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(ARTIFACTS / "graph_page_loop_expanded.png")
    assert browser.errors() == []
