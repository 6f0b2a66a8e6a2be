"""What to draw: the ops of a graph, or the ops some tensors depend on, with their name scopes."""

from __future__ import annotations

import os
import re
from typing import Any

from chainrule.framework.graph import Graph, Operation, Tensor, as_graph_element, function_bodies, get_default_graph

# Scopes that cr.gradients / cr.hessians put their ops under ("gradients", "gradients_1", ...).
_GRADIENT_SCOPE = re.compile(r"^(gradients|hessians)(_\d+)?$")


def is_gradient_op(name: str) -> bool:
    """Whether the op named ``name`` lies under a ``gradients`` (or ``hessians``) name scope."""
    return any(_GRADIENT_SCOPE.match(part) for part in name.split("/")[:-1])


def is_gradient_scope(scope: str) -> bool:
    """Whether the name scope ``scope`` (``"a/b"``) is or lies inside a gradient scope."""
    return any(_GRADIENT_SCOPE.match(part) for part in scope.split("/"))


def _as_element(obj: Any) -> Tensor | Operation:
    obj = as_graph_element(obj)
    if not isinstance(obj, (Tensor, Operation)):
        raise TypeError(f"Expected a cr.Graph, a tensor, an operation or a list of them, got {type(obj).__name__}")
    return obj


def collect(graph_or_tensors: Any = None) -> tuple[Graph, list[Operation]]:
    """The graph and the ops to draw, in creation (topological) order.

    A Graph (or None: the default graph) gives all its ops; a tensor, operation,
    Variable or list of them gives just the ops they depend on (data and control inputs).
    """
    if graph_or_tensors is None:
        graph_or_tensors = get_default_graph()
    if isinstance(graph_or_tensors, Graph):
        return graph_or_tensors, graph_or_tensors.get_operations()
    items = graph_or_tensors if isinstance(graph_or_tensors, (list, tuple, set)) else [graph_or_tensors]
    elements = [_as_element(x) for x in items if x is not None]
    if not elements:
        raise ValueError("Nothing to draw: no tensors or operations given.")
    graph = elements[0].graph
    seen: set[Operation] = set()
    stack = [e.op if isinstance(e, Tensor) else e for e in elements]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        if op.graph is not graph:
            raise ValueError(f"{op!r} is from a different graph than {elements[0]!r}.")
        seen.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return graph, sorted(seen, key=lambda op: op.id)


def drawn_ops(ops: list[Operation], prefix: str = "") -> list[tuple[str, Operation]]:
    """Each op with the path it is drawn at, and the ops of the functions it runs inside its frame.

    An op that runs functions (``cr.cond``'s ``If``, ``cr.while_loop``'s ``While``) becomes a frame
    named after it, holding the op itself (``cond/If``) and a frame per function
    (``cond/then_branch/Sin``), as TensorBoard draws TensorFlow's ``cond/`` and ``while/`` scopes.
    The ops of one call of a library composite (``reduce_mean``'s ``Sum``, ``Size``, ``FloorDiv``...)
    are drawn under the name of its output op (``loss/Sum`` beside ``loss``), one box for the call.
    """
    home = composite_homes(ops)
    drawn: list[tuple[str, Operation]] = []
    for op in ops:
        path = prefix + home.get(op, op.name)
        bodies = function_bodies(op)
        if not bodies:
            drawn.append((path, op))
            continue
        drawn.append((f"{path}/{op.type}", op))
        for key, function_ops in bodies:
            drawn.extend(drawn_ops(function_ops, f"{path}/{key}/"))
    return drawn


def composite_homes(ops: list[Operation]) -> dict[Operation, str]:
    """Where the ops of each composite call (of two ops or more) are drawn: under the name of its output op."""
    calls: dict[int, list[Operation]] = {}
    for op in ops:
        if op.composite is not None:
            calls.setdefault(op.composite.serial, []).append(op)
    homes: dict[Operation, str] = {}
    for members in calls.values():
        if len(members) < 2:
            continue
        out = max(members, key=lambda o: o.id)  # the op the call returned is the last it created
        scope = out.name.rsplit("/", 1)[0] + "/" if "/" in out.name else ""
        for op in members:
            if op is not out:
                rel = op.name[len(scope) :] if op.name.startswith(scope) else op.name.rsplit("/", 1)[-1]
                homes[op] = f"{out.name}/{rel}"
    return homes


def composite_of(ops: list[Operation]) -> dict[str, str]:
    """The composite boxes among ``ops``: the drawn scope of each (its output op's name) -> the function's name."""
    homes = composite_homes(ops)
    return {path.rsplit("/", 1)[0]: op.composite.function for op, path in homes.items() if op.composite is not None}


def source_text(op: Operation) -> str:
    """``file:line: code`` of the user's line that created ``op``, the path relative to the cwd when below it."""
    src = op.source
    if src is None:
        return ""
    path = src.filename
    try:
        rel = os.path.relpath(path)
        if not rel.startswith(".."):
            path = rel
    except ValueError:  # another drive on Windows
        pass
    line = src.line
    return f"{path}:{src.lineno}" + (f": {line}" if line else "")


def shape_text(t: Tensor) -> str:
    """``(?, 3)``-style static shape; ``<unknown>`` when even the rank is unknown."""
    dims = t.shape.dims
    if dims is None:
        return "<unknown>"
    inner = ", ".join("?" if d is None else str(d) for d in dims)
    return f"({inner},)" if len(dims) == 1 else f"({inner})"
