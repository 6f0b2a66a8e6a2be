"""Sphinx configuration for chainrule's documentation site (``sphinx-build -W -b html docs OUT``).

Why Sphinx and not MkDocs: the docstrings are numpydoc, which Sphinx's numpydoc extension reads as
written (mkdocstrings' numpy style drops parts of it); autodoc imports the package, so the reference
is the code's own names and signatures; the doctest builder runs every example in these pages in
CI; and the tutorial's figures and graph pages are drawn by the code beside them at build time
(docs/_ext/build_pictures.py). The
pages themselves are Markdown (MyST), like docs/architecture.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
if os.environ.get("CHAINRULE_DOCS_SRC"):  # the tests build a worktree's sources, not an installed copy
    sys.path.insert(0, os.environ["CHAINRULE_DOCS_SRC"])

import chainrule  # noqa: E402

project = "chainrule"
author = "chainrule's authors"
copyright = "chainrule's authors"  # noqa: A001 - Sphinx's name
release = version = chainrule.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx.ext.doctest",
    "chainrule_api",
    "build_pictures",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "**/artifacts"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # architecture.md and tf1_compatibility.md start at level 2 in places

# The reference: signatures as written, members in source order, numpydoc's sections without
# autosummary member tables (every member is documented below its class instead).
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections say the types; the annotations are for mypy
autodoc_default_options = {"show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Doctests: the pages' ``{doctest}`` and ``{testcode}`` blocks (the docstrings' examples run in
# tests/docs/test_docstring_examples.py, with better failure reports, so not here again).
doctest_global_setup = """
import numpy as np
import chainrule as cr
cr.reset_default_graph()
"""
doctest_test_doctest_blocks = ""

html_theme = "alabaster"
html_title = f"chainrule {release}"
html_theme_options = {"description": "Graph-based automatic differentiation on NumPy", "fixed_sidebar": True}
html_static_path: list[str] = []
