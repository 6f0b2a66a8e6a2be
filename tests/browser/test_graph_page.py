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
from chainrule.viz.html import graph_data

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


# Every drawn edge sampled every 2 px against every box drawn (ops and collapsed scopes) but its own
# two ends: the points that fall inside one. Computed from the SVG alone, not from the page's layout.
_CROSSINGS_JS = """(() => {
  const boxes = [...document.querySelectorAll('#graph .node')].map((n) => {
    const b = n.getBBox();
    return [n.getAttribute('data-id'), b.x + 1, b.y + 1, b.x + b.width - 1, b.y + b.height - 1];
  });
  const found = [];
  for (const p of document.querySelectorAll('#graph path.edge')) {
    const ends = [p.getAttribute('data-from'), p.getAttribute('data-to')];
    const len = p.getTotalLength();
    for (let s = 0; s <= len; s += 2) {
      const q = p.getPointAtLength(s);
      const hit = boxes.find(([id, x0, y0, x1, y1]) =>
        !ends.includes(id) && q.x > x0 && q.x < x1 && q.y > y0 && q.y < y1);
      if (hit) { found.push(ends.concat([hit[0], Math.round(q.x), Math.round(q.y)])); break; }
    }
  }
  return {edges: document.querySelectorAll('#graph path.edge').length, boxes: boxes.length, crossings: found};
})()"""


def _demo_graph() -> cr.Graph:
    """The graph ``chainrule demo`` draws on its page (d/dx cos x), built by the demo's own step."""
    from chainrule import demo

    ctx = demo.DemoContext(out_dir=".")
    demo.cos_derivative(ctx)
    return ctx.results["cos"][0]


def _no_crossings(b: Browser, state: str) -> int:
    seen = b.evaluate(_CROSSINGS_JS)
    assert seen["crossings"] == [], f"{state}: edges through boxes (from, to, box, x, y): {seen['crossings']}"
    return seen["edges"]


def test_demo_graph_edges_go_around_boxes_scopes_fold_and_nothing_is_fetched(browser, tmp_path):
    graph = _demo_graph()
    page = Path(cr.viz.render(graph, tmp_path / "cos_graph.html"))
    # Offline: the browser has no network at all, and the page must still draw everything.
    targets = browser.send("Target.getTargets", session=False)["targetInfos"]
    target = next(t for t in targets if t["type"] == "page")
    browser.session = browser.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable")
    offline = {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0}
    browser.send("Network.emulateNetworkConditions", offline)
    browser.send("Page.navigate", {"url": page.as_uri()})
    browser.wait_for("Page.loadEventFired")

    collapsed = _visible(browser)
    assert collapsed["ops"] == 2 and collapsed["scopes"] == 1, collapsed  # x, Cos and the gradients scope
    assert _no_crossings(browser, "collapsed") == 3  # x -> Cos, x -> gradients, Cos -> gradients
    browser.screenshot(ARTIFACTS / "demo_graph_page_collapsed.png")

    # Clicking the gradients scope opens it onto its ops and the collapsed Cos_grad scope.
    browser.click(*_center(browser, '#graph .node.group.collapsed[data-id="g:gradients"]'))
    opened = _visible(browser)
    assert opened["frames"] == 1 and opened["scopes"] == 1, opened
    _no_crossings(browser, "gradients expanded")
    browser.click(*_center(browser, '#graph .node.group.collapsed[data-id="g:gradients/Cos_grad"]'))
    full = _visible(browser)
    assert full["frames"] == 2 and full["scopes"] == 0 and full["ops"] == 8, full
    edges = _no_crossings(browser, "all expanded")
    # x feeds Cos and, inside Cos_grad, Sin: its own edge, from x's box to Sin's box.
    assert browser.evaluate(
        'document.querySelector(\'#graph path.edge[data-from="o:x"][data-to="o:gradients/Cos_grad/Sin"]\') !== null'
    )
    assert edges == len({(a, b) for a, b, _ in graph_data(graph)["edges"]}), edges  # each edge drawn once
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(ARTIFACTS / "demo_graph_page_expanded.png")

    # The creation line of an op is the demo's own line, not the console script's.
    browser.mouse("mouseMoved", *_center(browser, '#graph .node.op[data-id="o:Cos"]'))
    tip = browser.evaluate("document.getElementById('tooltip').textContent")
    assert "demo.py" in tip and "y = cr.cos(x)" in tip, tip

    # Clicking the title bar of an open scope folds it again.
    browser.click(*_center(browser, '#graph .frame[data-id="g:gradients"] rect.head'))
    assert _visible(browser) == collapsed
    _no_crossings(browser, "collapsed again")

    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert requests == [page.as_uri()], requests  # the page itself, nothing else
    assert browser.errors() == []


def test_no_edge_crosses_a_box_on_a_network_with_its_training_step(browser, tmp_path):
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float32, [None, 4], name="x")
        labels = cr.placeholder(cr.int32, [None], name="labels")
        with cr.name_scope("layer1"):
            w1 = cr.Variable(cr.zeros([4, 8]), name="w")
            h = cr.nn.relu(cr.matmul(x, w1) + cr.Variable(cr.zeros([8]), name="b"))
        with cr.name_scope("layer2"):
            logits = cr.matmul(h, cr.Variable(cr.zeros([8, 3]), name="w"))
        xent = cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        loss = cr.reduce_mean(xent, name="loss")
        cr.train.GradientDescentOptimizer(0.1).minimize(loss)
    browser.open_page(Path(cr.viz.render(graph, tmp_path / "net.html")).as_uri())
    _no_crossings(browser, "collapsed")
    # The mean is one box of its own (reduce_mean built several ops), which opens like a scope.
    mean_box = '#graph .node.group.collapsed.composite[data-id="g:loss"]'
    assert browser.evaluate(f"document.querySelector({json.dumps(mean_box)}) !== null")
    browser.click(*_center(browser, '#graph .node.group.collapsed[data-id="g:loss"]'))
    assert browser.evaluate("document.querySelector('#graph .frame.composite[data-id=\"g:loss\"]') !== null")
    assert browser.evaluate("document.querySelector('#graph .node.op[data-id=\"o:loss/Sum\"]') !== null")
    _no_crossings(browser, "mean expanded")
    browser.evaluate("document.getElementById('expand-all').click()")
    assert _no_crossings(browser, "all expanded") > 40
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(ARTIFACTS / "graph_page_network_expanded.png")
    assert browser.errors() == []
