"""The graph as one self-contained HTML page: inline SVG drawn by inline script, no network access.

Name scopes (and the ops of one library composite call, such as ``reduce_mean``) are boxes
that expand and collapse on click, gradient ops (under a ``gradients`` scope) are orange, and
hovering a node shows its op type, output dtypes and shapes, inputs, attributes and the user's
source line. The page lays out whatever is expanded with dagre (vendored, inlined: see
``_page``) and routes every edge around the boxes.
"""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np

from chainrule.framework.dtypes import DType
from chainrule.framework.graph import Operation
from chainrule.framework.tensor_shape import TensorShape
from chainrule.viz import _page, _scopes
from chainrule.viz._graph import (
    collect,
    composite_of,
    drawn_ops,
    is_gradient_op,
    is_gradient_scope,
    shape_text,
    source_text,
)

_KINDS = {"Const": "const", "Placeholder": "placeholder", "VariableV2": "variable", "ReadVariable": "variable"}
_HIDDEN_ATTRS = {"dtype", "shape", "value"}


def _attr_text(value: Any) -> str:
    if isinstance(value, DType):
        return value.name
    if isinstance(value, TensorShape):
        return str(value)
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=12, precision=6)
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _op_data(path: str, op: Operation) -> dict[str, Any]:
    attrs = {k: _attr_text(v) for k, v in op.kernel_attrs.items() if k not in _HIDDEN_ATTRS}
    if op.type == "Const":
        attrs["value"] = _attr_text(op.get_attr("value"))
    if op.gradient_overridden:
        attrs["gradient override"] = str(op.gradient_op_type)
    return {
        "name": op.name,
        "short": path.rsplit("/", 1)[-1],
        "type": op.type,
        "kind": _KINDS.get(op.type, "op"),
        "gradient": is_gradient_op(path),
        "outputs": [[t.dtype.name, shape_text(t)] for t in op.outputs],
        "inputs": [t.name for t in op.inputs],
        "control": [c.name for c in op.control_inputs],
        "attrs": attrs,
        "source": source_text(op),
    }


def graph_data(graph_or_tensors: Any = None) -> dict[str, Any]:
    """The JSON the page draws: ops, name-scope groups (with their children), and edges."""
    _, ops = collect(graph_or_tensors)
    drawn = drawn_ops(ops)
    composites = composite_of(ops)
    tree = _scopes.build(drawn)
    groups = {
        gid: {
            "name": g.scope,
            "short": g.scope.rsplit("/", 1)[-1],
            "children": g.children,
            "num_ops": g.num_ops,
            "gradient": bool(g.scope) and is_gradient_scope(g.scope),
            "composite": composites.get(g.scope),
        }
        for gid, g in tree.groups.items()
    }
    return {
        "ops": {_scopes.op_id(path): _op_data(path, op) for path, op in drawn},
        "groups": groups,
        "parent": tree.parent,
        "edges": [list(e) for e in tree.edges],
    }


def to_html(graph_or_tensors: Any = None, title: str | None = None) -> str:
    """The self-contained HTML page for a graph, or for the ops some tensors depend on.

    Parameters
    ----------
    graph_or_tensors : a Graph (None: the default graph), a tensor/operation/Variable, or a list of them.
    title : shown at the top of the page.
    """
    data = graph_data(graph_or_tensors)
    # "</" would end the script element early; "<\/" is the same string to JSON.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    title = title or "chainrule graph"
    num_ops = len(data["ops"])
    num_scopes = len(data["groups"]) - 1
    num_grad = sum(1 for op in data["ops"].values() if op["gradient"])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_page.CSS}</style>
</head>
<body>
<header>
  <h1>{html.escape(title)}</h1>
  <span class="stats">{num_ops} ops ({num_grad} gradient), {num_scopes} name scopes,
    <span id="shown">0</span> boxes shown</span>
  <button id="expand-all" type="button">Expand all</button>
  <button id="collapse-all" type="button">Collapse all</button>
  <span class="legend">
    <span><i class="swatch" style="background:var(--fwd);border-color:var(--fwd-line)"></i>op</span>
    <span><i class="swatch" style="background:var(--grad);border-color:var(--grad-line)"></i>gradient op</span>
    <span><i class="swatch" style="background:var(--var);border-color:var(--var-line)"></i>variable</span>
    <span><i class="swatch" style="background:#fff;border-color:var(--fwd-line);border-style:dashed"></i>placeholder
    </span>
    <span><i class="swatch" style="background:var(--const);border-color:var(--const-line)"></i>constant</span>
    <span><i class="swatch" style="background:var(--scope);border-color:var(--scope-line)"></i>name scope (click)</span>
    <span><i class="swatch" style="background:var(--comp);border-color:var(--comp-line)"></i>library composite (click)
    </span>
    <span><i class="line"></i>data</span>
    <span><i class="line dashed"></i>control dependency</span>
  </span>
</header>
<div id="canvas">
  <svg id="graph" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(title)}"></svg>
</div>
<noscript>This page draws the graph with JavaScript; please enable it.</noscript>
<div id="tooltip"></div>
<script type="application/json" id="graph-data">{payload}</script>
<script>{_page.dagre_source()}</script>
<script>{_page.SCRIPT}</script>
</body>
</html>
"""
