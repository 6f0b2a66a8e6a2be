"""Memory planning: which large intermediate results get arrays kept between runs.

A plan that writes its large results into preallocated arrays (``out=``) saves an
allocation (and its page faults) per result per run. ``plan_buffers`` decides which
results qualify and lets results whose lifetimes do not overlap share one array, so
the memory a Session holds between runs is about the peak of what one run keeps alive.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from chainrule.compiler.codegen import node_steps, writes_into
from chainrule.compiler.ir import Node, Program, Value
from chainrule.ops.registry import find_op_def
from chainrule.ops.shape_rules import known_dims

BufferKey = tuple[str, tuple[int, ...]]  # (dtype string, static shape): arrays with one key are interchangeable


class ArrayPool(Protocol):
    """Where the arrays come from (the Session's pool, shared by its plans)."""

    def get(self, key: BufferKey, i: int) -> np.ndarray: ...


def fresh_output(node: Node) -> bool:
    """Whether ``node`` always returns a new array (never a view of an input): a buffer it reads is free after it."""
    if node.op_type == "Fused" or node_steps(node) is not None:
        return True
    if node.kernel is not None:
        return False
    op_def = find_op_def(node.op_type)
    return op_def is not None and op_def.fresh_output and not op_def.stateful


def plan_buffers(program: Program, min_bytes: int, pool: ArrayPool) -> dict[tuple[Node, int], np.ndarray]:
    """Preallocated arrays for the large results of ops that can write into one (``out=``).

    A site is ``(node, i)``: the node's output (``i = 0``), or for a fused node the member ``i``
    that allocates. A value qualifies when its static shape is known, it is at least ``min_bytes``,
    and neither it nor any view of it is fetched or reaches a stateful op (so no reference to the
    buffer outlives the run). Sites whose lifetimes (through views) do not overlap share a buffer,
    so the memory held between runs is about the peak of what one run keeps alive; the arrays
    come from ``pool``, which the plans of one Session share.
    """
    position = {n: i for i, n in enumerate(program.nodes)}
    consumers = program.consumers()
    fetched = set(program.outputs)

    def lifetime(v: Value) -> int | None:
        """Last position that may read ``v`` or a view of it; None when it escapes the run."""
        end = position[v.node]
        stack, seen = [v], {v}
        while stack:
            u = stack.pop()
            if u in fetched:
                return None
            for c in consumers.get(u, ()):
                if c.stateful:
                    return None
                end = max(end, position[c])
                if not fresh_output(c):
                    for o in c.outputs:
                        if o not in seen:
                            seen.add(o)
                            stack.append(o)
        return end

    def buffer_key(v: Value) -> BufferKey | None:
        """The key of ``v``'s array when its static shape is known and it is at least ``min_bytes``, else None."""
        dims = known_dims(v.shape)
        if dims is None or math.prod(dims) * np.dtype(v.dtype.as_numpy_dtype).itemsize < min_bytes:
            return None
        return (np.dtype(v.dtype.as_numpy_dtype).str, tuple(dims))

    sites: list[tuple[int, int, tuple[Node, int], BufferKey]] = []  # (start, end, site, key)
    for node in program.nodes:
        p = position[node]
        if node.op_type == "Fused":
            for i, holds_result in node.extra.allocating_members():
                member_out = node.extra.members[i].out
                v = node.out if holds_result else member_out
                key = buffer_key(member_out)
                if key is None or member_out.dtype != v.dtype:
                    continue
                end = lifetime(node.out) if holds_result else p
                if end is not None:
                    sites.append((p, end, (node, i), key))
        elif len(node.outputs) == 1 and (key := buffer_key(node.out)) is not None:
            if writes_into(node):
                end = lifetime(node.out)
                if end is not None:
                    sites.append((p, end, (node, 0), key))
    free: dict[BufferKey, list[np.ndarray]] = {}
    busy: list[tuple[int, BufferKey, np.ndarray]] = []
    assigned: dict[tuple[Node, int], np.ndarray] = {}
    made: dict[BufferKey, int] = {}
    by_start: dict[int, list[tuple[int, tuple[Node, int], BufferKey]]] = {}
    for start, end, site, key in sites:
        by_start.setdefault(start, []).append((end, site, key))
    for p in range(len(program.nodes)):
        for end, site, key in by_start.get(p, ()):
            available = free.get(key)
            if available:
                buf = available.pop()
            else:
                buf = pool.get(key, made.get(key, 0))
                made[key] = made.get(key, 0) + 1
            assigned[site] = buf
            busy.append((end, key, buf))
        still = []
        for end, key, buf in busy:
            if end <= p:
                free.setdefault(key, []).append(buf)
            else:
                still.append((end, key, buf))
        busy = still
    return assigned
