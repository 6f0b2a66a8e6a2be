"""The documentation site builds with warnings as errors, and every example on its pages runs.

``sphinx-build -W -b html`` renders the tutorial, guides, migration page and API reference (the
tutorial's figures and graph page are drawn by the code on the page while it builds);
``sphinx-build -W -b doctest`` runs each page's ``{doctest}`` blocks. The docstrings' own examples
run in test_docstring_examples.py.
"""

from __future__ import annotations

import re

from _sitebuild import DOCS, build

GUIDES = ["index", "custom_ops", "transforms", "compiler", "checkpoints", "tensorboard", "numerics", "performance"]
PAGES = ["index", "tutorial", "migration", "architecture", "tf1_compatibility", "api/index", "api/chainrule", "api/nn"]
PAGES += ["api/train", *(f"guides/{g}" for g in GUIDES)]


def test_site_builds_without_warnings():
    out, log, elapsed = build("html")
    for page in PAGES:
        assert (out / f"{page}.html").is_file(), page
    tutorial = (out / "tutorial.html").read_text()
    for figure in ("cos_and_derivative", "minimise_cos", "network_fit", "higher_derivatives"):
        assert f"_figures/{figure}.png" in tutorial and (out / "_figures" / f"{figure}.png").stat().st_size > 5000
    assert '<iframe class="graph-page" src="_graph/tutorial_cos.html"' in tutorial
    assert "gradients/Cos_grad" in (out / "_graph" / "tutorial_cos.html").read_text()
    print(f"sphinx-build -b html: {elapsed:.1f} s")


def test_api_reference_documents_every_public_name():
    out, _, _ = build("html")
    page = (out / "api" / "chainrule.html").read_text()
    for name in ("cos", "gradients", "Session", "placeholder", "custom_op", "reduce_sum", "while_loop"):
        assert f'id="chainrule.{name}"' in page, name
    assert re.search(r'id="chainrule\.cos".*?Elementwise <code[^>]*><span class="pre">Cos</span>', page, re.S)
    nn = (out / "api" / "nn.html").read_text()
    assert 'id="chainrule.nn.softmax_cross_entropy_with_logits_v2"' in nn
    viz = (out / "api" / "viz.html").read_text()
    assert 'id="chainrule.viz.render"' in viz and 'id="chainrule.viz.Any"' not in viz and "chainrule.viz.os" not in viz


def test_every_example_on_the_pages_runs():
    out, log, elapsed = build("doctest")
    report = (out / "output.txt").read_text()
    assert "0 failures in tests" in report, report[-4000:]
    ran = {m.group(1): int(m.group(2)) for m in re.finditer(r"Document: (\S+)\n.*?\n(\d+) passed", report, re.S)}
    for page in ("tutorial", "migration", "guides/custom_ops", "guides/numerics", "guides/compiler"):
        assert ran.get(page, 0) >= 5, (page, ran)
    print(f"sphinx-build -b doctest: {elapsed:.1f} s")


def test_pages_show_no_untested_python():
    """A ```python block would be shown without being run: pages use {doctest} (one import line excepted)."""
    offenders = []
    for page in DOCS.rglob("*.md"):
        if page.name in ("architecture.md", "tf1_compatibility.md"):
            continue  # design notes and a generated table, not examples
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S):
            if block.strip() != "import chainrule as tf   # was: import tensorflow as tf  (or tensorflow.compat.v1)":
                offenders.append(f"{page.relative_to(DOCS)}: {block[:60]!r}")
    assert not offenders, offenders
