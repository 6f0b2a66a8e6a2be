"""Build the documentation site once per test run (``sphinx-build -W``: a warning fails the build).

Shared by tests/docs/test_docs.py and tests/browser/test_docs_site.py. The html build and the doctest
build share one doctree folder, so the pages are read (and their pictures drawn) once.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@functools.cache
def build(builder: str) -> tuple[Path, str, float]:
    """Run ``sphinx-build -W -b <builder>``; return its output folder, its log and its wall time.

    The html build runs first, whichever is asked for: the builders share the doctrees, and the
    pictures are drawn (into the html output) while the pages are read, which only the first build does.
    """
    if builder != "html":
        build("html")
    out = Path(_workdir()) / builder
    env = dict(os.environ, CHAINRULE_DOCS_SRC=str(ROOT / "src"), MPLBACKEND="Agg")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder]
    cmd += ["-d", str(Path(_workdir()) / "doctrees"), str(DOCS), str(out)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    log = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"sphinx-build -b {builder} failed ({done.returncode}):\n{log[-6000:]}")
    return out, log, elapsed


@functools.cache
def _workdir() -> str:
    return tempfile.mkdtemp(prefix="chainrule-docs-")
