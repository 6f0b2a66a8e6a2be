"""The name-scope tree the graph page draws: every scope a group, every op in the deepest scope that holds it.

As in TensorBoard, an op named like a scope is drawn inside it: a variable ``w`` sits in the box
of ``w/`` with its ``Assign``, and a composite's output op in the box of its other ops
(``_graph.drawn_ops`` puts those under the output's name). The page lays the groups out with
dagre; nothing here computes coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chainrule.framework.graph import Operation

ROOT = "g:"


def op_id(path: str) -> str:
    """The id of the op drawn at ``path`` (its name, or its place inside a frame or a composite's box)."""
    return "o:" + path


def group_id(scope: str) -> str:
    return "g:" + scope


@dataclass
class Group:
    """A name scope (or a control-flow frame, or one composite call): its direct children."""

    scope: str
    parent: str | None
    children: list[str] = field(default_factory=list)
    num_ops: int = 0


@dataclass
class Scopes:
    groups: dict[str, Group]
    parent: dict[str, str]  # op or group id -> id of the group that holds it
    edges: list[tuple[str, str, str]]  # (source op id, target op id, "data" | "control")


def _scope_of(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def build(drawn: Sequence[tuple[str, Operation]]) -> Scopes:
    """Ops (each with the path it is drawn at, in creation order) in their nested scopes, and the edges between them."""
    paths = {path for path, _ in drawn}
    scopes = {_scope_of(p) for p in paths if "/" in p}
    for s in list(scopes):
        while "/" in s:
            s = _scope_of(s)
            scopes.add(s)
    groups: dict[str, Group] = {ROOT: Group("", None)}
    parent: dict[str, str] = {}

    def ensure_group(scope: str) -> str:
        gid = group_id(scope)
        if gid not in groups:
            up = ensure_group(_scope_of(scope)) if "/" in scope else ROOT
            groups[gid] = Group(scope, up)
            groups[up].children.append(gid)
            parent[gid] = up
        return gid

    ids = {op: op_id(path) for path, op in drawn}
    for path, op in drawn:
        oid = ids[op]
        # An op named like a scope goes inside it (TensorBoard's rule), else into the scope above it.
        home = path if path in scopes else _scope_of(path) if "/" in path else ""
        gid = ensure_group(home) if home else ROOT
        parent[oid] = gid
        groups[gid].children.append(oid)
        node: str | None = gid
        while node is not None:
            groups[node].num_ops += 1
            node = parent.get(node)

    edges: list[tuple[str, str, str]] = []
    for _, op in drawn:
        for t in dict.fromkeys(t.op for t in op.inputs):
            if t in ids:
                edges.append((ids[t], ids[op], "data"))
        for c in op.control_inputs:
            if c in ids:
                edges.append((ids[c], ids[op], "control"))
    return Scopes(groups, parent, edges)
