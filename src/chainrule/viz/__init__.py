"""Seeing the graph: DOT text, a self-contained HTML page, SVG through Graphviz, plots, and ``explain``.

``render(graph_or_tensors, path)`` picks the format from the file extension:
``.html`` (one file, no server, no network), ``.dot``/``.gv`` (Graphviz text), and
``.svg``/``.png``/``.pdf`` (Graphviz's ``dot`` program must be installed).
"""

from __future__ import annotations

import os
from typing import Any

from chainrule.viz.dot import run_dot, to_dot
from chainrule.viz.explain import explain
from chainrule.viz.html import to_html
from chainrule.viz.plot import plot_curve, plot_function_and_derivative

_GRAPHVIZ_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}


def render(graph_or_tensors: Any, path: str | os.PathLike[str], title: str | None = None) -> str:
    """Write a picture of the graph (or of the ops some tensors depend on) to ``path``.

    Parameters
    ----------
    graph_or_tensors : a Graph (None: the default graph), a tensor/operation/Variable, or a list of them.
    path : where to write; the extension picks the format: ``.html``, ``.dot``/``.gv``, ``.svg``/``.png``/``.pdf``.
    title : shown at the top.

    Returns
    -------
    The path written, as a string.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext in (".html", ".htm"):
        data: str | bytes = to_html(graph_or_tensors, title=title)
    elif ext in (".dot", ".gv"):
        data = to_dot(graph_or_tensors, title=title)
    elif ext in _GRAPHVIZ_FORMATS:
        data = run_dot(to_dot(graph_or_tensors, title=title), _GRAPHVIZ_FORMATS[ext])
    else:
        raise ValueError(f"Cannot tell the format of {path!r}: use .html, .dot, .gv, .svg, .png or .pdf.")
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
    return path


__all__ = ["explain", "plot_curve", "plot_function_and_derivative", "render", "to_dot", "to_html"]
