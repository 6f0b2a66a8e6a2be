"""The graph as Graphviz DOT text, name scopes as nested clusters; SVG/PNG/PDF through the ``dot`` program."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from chainrule.framework.graph import Operation
from chainrule.viz._graph import collect, drawn_ops, is_gradient_op, is_gradient_scope, shape_text, source_text

_STYLE = {
    "forward": ("#dbeafe", "#2563eb"),
    "gradient": ("#ffedd5", "#ea580c"),
    "Const": ("#f1f5f9", "#94a3b8"),
    "VariableV2": ("#dcfce7", "#16a34a"),
}


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node(path: str, op: Operation, indent: str) -> str:
    short = path.rsplit("/", 1)[-1]
    label = short if short == op.type else f"{short}\n{op.type}"
    fill, line = _STYLE["gradient" if is_gradient_op(path) else op.type if op.type in _STYLE else "forward"]
    outs = "; ".join(f"{t.dtype.name} {shape_text(t)}" for t in op.outputs) or "no outputs"
    tooltip = f"{path} ({op.type})\n{outs}" + (f"\n{source_text(op)}" if op.source else "")
    style = "rounded,filled,dashed" if op.type == "Placeholder" else "rounded,filled"
    return (
        f"{indent}{_q(path)} [label={_q(label)}, style={_q(style)}, fillcolor={_q(fill)}, color={_q(line)}, "
        f"tooltip={_q(tooltip)}];"
    )


def to_dot(graph_or_tensors: Any = None, title: str | None = None) -> str:
    """Graphviz DOT text of a graph (or of the ops some tensors depend on).

    Name scopes become nested ``cluster`` subgraphs, gradient ops are orange,
    edges carry the tensor's shape, control dependencies are dashed.

    Parameters
    ----------
    graph_or_tensors : a Graph (None: the default graph), a tensor/operation/Variable, or a list of them.
    title : graph label.
    """
    _, ops = collect(graph_or_tensors)
    drawn = drawn_ops(ops)
    tree: dict[str, Any] = {"ops": [], "sub": {}}
    for path, op in drawn:
        node = tree
        for part in path.split("/")[:-1]:
            node = node["sub"].setdefault(part, {"ops": [], "sub": {}})
        node["ops"].append((path, op))

    lines = [
        "digraph chainrule {",
        f"  graph [rankdir=TB, fontname=Helvetica, fontsize=11, label={_q(title or 'chainrule graph')}, labelloc=t];",
        "  node [shape=box, fontname=Helvetica, fontsize=10, height=0.3];",
        '  edge [fontname=Helvetica, fontsize=8, color="#64748b", fontcolor="#64748b", arrowsize=0.6];',
    ]
    counter = [0]

    def emit(node: dict[str, Any], scope: str, indent: str) -> None:
        for path, op in node["ops"]:
            lines.append(_node(path, op, indent))
        for part, sub in node["sub"].items():
            inner = f"{scope}/{part}" if scope else part
            counter[0] += 1
            grad = is_gradient_scope(inner)
            fill, line = ("#fff7ed", "#ea580c") if grad else ("#f8fafc", "#64748b")
            lines.append(f"{indent}subgraph cluster_{counter[0]} {{")
            lines.append(
                f"{indent}  label={_q(part)}; tooltip={_q(inner + '/')}; style={_q('rounded,filled')}; "
                f"fillcolor={_q(fill)}; color={_q(line)};"
            )
            emit(sub, inner, indent + "  ")
            lines.append(f"{indent}}}")

    emit(tree, "", "  ")
    paths = {op: path for path, op in drawn}
    for path, op in drawn:
        for t in op.inputs:
            if t.op in paths:
                lines.append(f"  {_q(paths[t.op])} -> {_q(path)} [label={_q(shape_text(t))}];")
        for c in op.control_inputs:
            if c in paths:
                lines.append(f'  {_q(paths[c])} -> {_q(path)} [style=dashed, color="#94a3b8"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_dot(dot_text: str, fmt: str) -> bytes:
    """Render DOT text with Graphviz's ``dot -T<fmt>``; RuntimeError naming the fix when it is missing."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            f"Writing .{fmt} needs the Graphviz 'dot' program, which was not found on PATH. Install Graphviz "
            "(e.g. 'apt-get install graphviz' or 'brew install graphviz'), or write a '.html' page (no dependencies) "
            "or '.dot' text instead."
        )
    proc = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Graphviz 'dot -T{fmt}' failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout
