"""``Graph.as_graph_def()``: the graph as plain ``GraphDef``/``NodeDef`` values, shaped like TensorFlow's.

Programs read ``graph_def.node`` (``n.name``, ``n.op``, ``n.input``, ``n.device``, ``n.attr``);
the values here are Python ones (attributes keep their chainrule values: dtypes, shapes, arrays).
TensorBoard's protocol buffer is built by ``cr.summary`` from the graph itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The GraphDef version of TensorFlow 1.15, reported as ``versions.producer``.
PRODUCER_VERSION = 27


@dataclass
class NodeDef:
    """One op: ``name``, ``op`` (its type), ``input`` (``"op"``, ``"op:1"``, ``"^op"``), ``device``, ``attr``."""

    name: str
    op: str
    input: list[str] = field(default_factory=list)
    device: str = ""
    attr: dict[str, Any] = field(default_factory=dict)


@dataclass
class VersionDef:
    producer: int = PRODUCER_VERSION
    min_consumer: int = 0


@dataclass
class GraphDef:
    """The ops of a graph in creation order (``node``) and the format version (``versions``)."""

    node: list[NodeDef] = field(default_factory=list)
    versions: VersionDef = field(default_factory=VersionDef)

    def __str__(self) -> str:
        lines = []
        for n in self.node:
            lines.append(f'node {{\n  name: "{n.name}"\n  op: "{n.op}"')
            lines.extend(f'  input: "{i}"' for i in n.input)
            if n.device:
                lines.append(f'  device: "{n.device}"')
            lines.extend(f"  attr {{ key: {k!r} value: {v!r} }}" for k, v in n.attr.items())
            lines.append("}")
        lines.append(f"versions {{\n  producer: {self.versions.producer}\n}}")
        return "\n".join(lines)


def _input_name(t: Any) -> str:
    return t.op.name if t.value_index == 0 else f"{t.op.name}:{t.value_index}"


def graph_def_of(graph: Any, from_version: int | None = None, add_shapes: bool = False) -> GraphDef:
    """The ``GraphDef`` of ``graph`` (see ``Graph.as_graph_def``)."""
    out = GraphDef()
    for op in graph.get_operations():
        if from_version is not None and op.id < from_version:
            continue
        attr = op.kernel_attrs
        if add_shapes:
            attr["_output_shapes"] = [t.shape for t in op.outputs]
        inputs = [_input_name(t) for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
        out.node.append(NodeDef(op.name, op.type, inputs, op.device, attr))
    return out
