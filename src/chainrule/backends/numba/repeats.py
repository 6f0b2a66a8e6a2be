"""Where a program repeats itself: cut points so that each copy of a repeated run becomes an equal region.

An unrolled loop (the ADBench LSTM over its characters, and its gradient in reverse) is the same
run of ops many times over. Cut at the start of each copy, the copies lower to the same source
(a region's names are numbered from its start), so Numba compiles one function that every copy
calls: the compile cost is one copy's, not the whole unrolled graph's.

Each node gets a *signature* (its op, attributes, its inputs' and outputs' static types, the
values of its small constant inputs); a run of length ``p`` that the next ``p`` signatures
repeat is a tandem repeat. Scanning the program left to right, at each position the period
covering the most nodes in consecutive copies is taken (the LSTM's step, not a pair of equal
slices inside it). Equal signatures do not promise equal regions (the wiring between nodes is
not in them): copies that lower differently only compile separately, as without the cuts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chainrule.compiler.ir import Node

# The longest period looked for, and the work bound of the search (periods x nodes).
MAX_PERIOD = 512
MAX_SEARCH = 20_000_000
# Copies of a period shorter than this many nodes are grouped, so a region has some work to do.
MIN_SEGMENT_NODES = 8
# A constant input of at most this many elements is part of the signature (its value changes the lowering).
SMALL_CONSTANT = 64


def signature(node: Node) -> int:
    """A hash of what ``node``'s lowering depends on, apart from how its inputs are wired."""
    members = node.extra.members if node.op_type == "Fused" else [node]
    parts: list[object] = [node.op_type]
    for m in members:
        parts.append(m.op_type)
        parts.append(repr(sorted((k, v) for k, v in m.attrs.items() if k != "value")))
    for v in node.inputs:
        parts.append((str(v.dtype), str(v.shape)))
        if v.node.op_type == "Const":
            value = np.asarray(v.node.attrs["value"])
            parts.append(value.tobytes() if value.size <= SMALL_CONSTANT else ("const", value.dtype.str, value.shape))
    parts.extend((str(o.dtype), str(o.shape)) for o in node.outputs)
    return hash(tuple(parts))


def _runs(equal: np.ndarray) -> np.ndarray:
    """For each position, how many consecutive True values start there."""
    n = len(equal)
    positions = np.arange(n)
    false_at = np.where(equal, n, positions)
    next_false = np.minimum.accumulate(false_at[::-1])[::-1]
    return next_false - positions


def repeat_cuts(nodes: Sequence[Node]) -> set[int]:
    """Positions in ``nodes`` where a copy of a repeated run starts (a region should start there)."""
    n = len(nodes)
    if n < 2 * MIN_SEGMENT_NODES:
        return set()
    sig = np.array([signature(node) for node in nodes], dtype=np.int64)
    max_period = min(MAX_PERIOD, n // 2, max(1, MAX_SEARCH // n))
    best_cover = np.zeros(n, dtype=np.int64)
    best_period = np.zeros(n, dtype=np.int64)
    for p in range(1, max_period + 1):
        run = np.zeros(n, dtype=np.int64)
        run[: n - p] = _runs(sig[: n - p] == sig[p:])
        copies = np.where(run >= p, 1 + run // p, 0)
        cover = copies * p
        better = cover > best_cover
        best_cover[better] = cover[better]
        best_period[better] = p
    cuts: set[int] = set()
    i = 0
    while i < n:
        p = int(best_period[i])
        if not p:
            i += 1
            continue
        count = int(best_cover[i]) // p
        group = -(-MIN_SEGMENT_NODES // p)
        for k in range(0, count + 1, group):
            cuts.add(i + k * p)
        i += count * p
        cuts.add(i)
    return cuts
