"""The built documentation site in headless Chromium: the tutorial page renders with its pictures.

The site is built by tests/docs/_sitebuild.py (``sphinx-build -W -b html``); the browser is driven
by test_graph_page.py's DevTools-pipe client. A screenshot of the tutorial is kept in
tests/browser/artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "docs"))
from _sitebuild import build  # noqa: E402
from test_graph_page import ARTIFACTS, CHROMIUM, Browser, pytestmark  # noqa: E402, F401

FIGURES = {"cos_and_derivative", "minimise_cos", "network_fit", "higher_derivatives"}


@pytest.fixture
def browser():
    b = Browser(CHROMIUM, width=1200, height=900)
    try:
        yield b
    finally:
        b.close()


def _wait_for_images(b: Browser, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        images = b.evaluate(
            "Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete,"
            " width: i.naturalWidth, height: i.naturalHeight, shown: i.getBoundingClientRect().width}))"
        )
        if all(i["complete"] for i in images) or time.monotonic() > deadline:
            return images
        time.sleep(0.2)


def test_tutorial_page_renders_with_its_images(browser):
    site, _, _ = build("html")
    browser.open_page((site / "tutorial.html").as_uri())
    images = _wait_for_images(browser)
    figures = [i for i in images if "_figures/" in (i["src"] or "")]
    assert {Path(i["src"]).stem for i in figures} == FIGURES, images
    for image in figures:
        assert image["complete"] and image["width"] > 300 and image["height"] > 150, image  # decoded, not broken
        assert image["shown"] > 100, image  # laid out on the page at a visible size
    assert browser.evaluate("document.querySelector('div.body h1').textContent").startswith("Tutorial")
    code_blocks = browser.evaluate("document.querySelectorAll('div.highlight pre, pre.literal-block').length")
    assert code_blocks >= 15, code_blocks
    frame = browser.evaluate(
        "(() => { const f = document.querySelector('iframe.graph-page'); const r = f.getBoundingClientRect();"
        " return {src: f.getAttribute('src'), width: r.width, height: r.height}; })()"
    )
    assert frame["src"] == "_graph/tutorial_cos.html" and frame["width"] > 400 and frame["height"] > 300, frame
    browser.screenshot(ARTIFACTS / "docs_tutorial.png")
    assert (ARTIFACTS / "docs_tutorial.png").stat().st_size > 50_000
    assert browser.errors() == []

    # The embedded graph page, opened on its own, draws the cos graph with its gradients scope.
    browser.open_page((site / frame["src"]).as_uri())
    ops = browser.evaluate("Array.from(document.querySelectorAll('#graph .node')).map(n => n.dataset.id)")
    assert "o:Cos" in ops and "g:gradients" in ops, json.dumps(ops)
    assert browser.errors() == []
