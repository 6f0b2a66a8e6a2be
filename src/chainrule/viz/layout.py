"""A small layered (Sugiyama-style) layout of a graph with nested name scopes, in pure Python.

Every name scope is a group; inside a group, its direct children (ops and
sub-scopes) are laid out in layers so that edges point downwards: cycles
between scopes are broken by dropping back edges of a depth-first search,
layers come from longest paths (with sources moved down next to their first
consumer), and the order within each layer from a few barycenter sweeps. An
edge between two ops constrains the deepest scope that holds both. The page
(``viz.html``) turns layers into coordinates for whichever scopes are expanded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chainrule.framework.graph import Operation

ROOT = "g:"
_SWEEPS = 4


def op_id(path: str) -> str:
    """The id of the op drawn at ``path`` (its name, or its place inside a control-flow frame)."""
    return "o:" + path


def group_id(scope: str) -> str:
    return "g:" + scope


@dataclass
class Group:
    """A name scope: its direct children, their layers, and the edges between them."""

    scope: str
    parent: str | None
    children: list[str] = field(default_factory=list)
    edges: set[tuple[str, str]] = field(default_factory=set)
    layers: list[list[str]] = field(default_factory=list)
    num_ops: int = 0


@dataclass
class Layout:
    groups: dict[str, Group]
    parent: dict[str, str]  # op or group id -> id of the group that holds it
    edges: list[tuple[str, str, str]]  # (source op id, target op id, "data" | "control")


def _scope_of(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def build(drawn: Sequence[tuple[str, Operation]]) -> Layout:
    """Lay out ops (each with the path it is drawn at, in creation order) with their scopes as nested groups."""
    groups: dict[str, Group] = {ROOT: Group("", None)}
    parent: dict[str, str] = {}
    rank: dict[str, int] = {}  # first creation index under each id: the initial order

    def ensure_group(scope: str) -> str:
        gid = group_id(scope)
        if gid not in groups:
            up = ensure_group(_scope_of(scope)) if "/" in scope else ROOT
            groups[gid] = Group(scope, up)
            groups[up].children.append(gid)
            parent[gid] = up
        return gid

    ids = {op: op_id(path) for path, op in drawn}
    for i, (path, op) in enumerate(drawn):
        oid = ids[op]
        gid = ensure_group(_scope_of(path)) if "/" in path else ROOT
        parent[oid] = gid
        groups[gid].children.append(oid)
        node: str | None = oid
        while node is not None:
            rank.setdefault(node, i)
            if node.startswith("g:"):
                groups[node].num_ops += 1
            node = parent.get(node)
        rank.setdefault(ROOT, i)

    edges: list[tuple[str, str, str]] = []
    for _, op in drawn:
        for t in dict.fromkeys(t.op for t in op.inputs):
            if t in ids:
                edges.append((ids[t], ids[op], "data"))
        for c in op.control_inputs:
            if c in ids:
                edges.append((ids[c], ids[op], "control"))

    def chain(node: str) -> list[str]:
        out = [node]
        while node in parent:
            node = parent[node]
            out.append(node)
        return out[::-1]  # root first

    for src, dst, _ in edges:
        a, b = chain(src), chain(dst)
        k = 0
        while k < min(len(a), len(b)) and a[k] == b[k]:
            k += 1
        # a[k-1] is the deepest common group; a[k], b[k] are the children of it on each side.
        if k < len(a) and k < len(b):
            groups[a[k - 1]].edges.add((a[k], b[k]))

    for g in groups.values():
        g.children.sort(key=lambda c: rank[c])
        g.layers = _layers(g.children, g.edges)
    return Layout(groups, parent, edges)


def _layers(nodes: list[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    order = {n: i for i, n in enumerate(nodes)}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in sorted(edges, key=lambda e: (order[e[0]], order[e[1]])):
        succ[a].append(b)

    # Break cycles (possible between scopes): drop the back edges of a DFS in creation order.
    state: dict[str, int] = {}
    dag: dict[str, list[str]] = {n: [] for n in nodes}
    for start in nodes:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(succ[start]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                continue  # back edge
            else:
                dag[node].append(nxt)
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(succ[nxt])))
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, bs in dag.items():
        for b in bs:
            pred[b].append(a)

    # Topological order (Kahn, ties by creation order), longest-path layers.
    indeg = {n: len(pred[n]) for n in nodes}
    ready = [n for n in nodes if indeg[n] == 0]
    topo: list[str] = []
    while ready:
        ready.sort(key=order.__getitem__, reverse=True)
        n = ready.pop()
        topo.append(n)
        for m in dag[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    layer = {n: 0 for n in nodes}
    for n in topo:
        for m in dag[n]:
            layer[m] = max(layer[m], layer[n] + 1)
    # Sources (constants, placeholders) go right above their first consumer, not all at the top.
    for n in reversed(topo):
        if not pred[n] and dag[n]:
            layer[n] = min(layer[m] for m in dag[n]) - 1

    depth = max(layer.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for n in nodes:
        layers[layer[n]].append(n)

    # Barycenter sweeps: order each layer by the mean position of neighbours already placed.
    pos: dict[str, float] = {}

    def place(row: list[str]) -> None:
        for j, n in enumerate(row):
            pos[n] = (j + 0.5) / len(row)

    for row in layers:
        place(row)

    def sweep(rows: range, neighbours: dict[str, list[str]]) -> None:
        for i in rows:
            row = layers[i]
            keys = {}
            for n in row:
                near = [pos[m] for m in neighbours[n]]
                keys[n] = sum(near) / len(near) if near else pos[n]
            row.sort(key=keys.__getitem__)
            place(row)

    for _ in range(_SWEEPS):
        sweep(range(1, depth), pred)
        sweep(range(depth - 2, -1, -1), dag)
    sweep(range(1, depth), pred)
    return [row for row in layers if row]
