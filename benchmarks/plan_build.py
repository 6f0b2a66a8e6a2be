"""Plan-building time: the first ``Session.run`` of a large gradient graph, with the collector's share.

Run: ``python benchmarks/plan_build.py [--ops N]``. Builds a chain of N elementwise ops on a
16-vector and its gradient (about 4.4 ops per link), then times the first run of the gradient
(pruning, rewrites, fusion, code generation, one execution) in fresh graphs, and reports how much
of one such run the cyclic garbage collector took, by generation (``gc.callbacks``). Nothing is
asserted; the machine is shared, so it prints the median and the spread of the repeats.
"""

from __future__ import annotations

import argparse
import collections
import gc
import statistics
import time

import numpy as np

import chainrule as cr

LINKS = [cr.sin, lambda t: t * 1.5, cr.cos, lambda t: t + 0.25, cr.tanh]


def build(n: int) -> tuple[cr.Graph, cr.Tensor, cr.Tensor]:
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [16], name="x")
        y = x
        for i in range(n):
            y = LINKS[i % len(LINKS)](y)
        (dx,) = cr.gradients(cr.reduce_sum(y), [x])
    return graph, x, dx


def first_run(n: int) -> tuple[float, int]:
    gc.collect()  # the previous repeat's graph (a cycle of ops and tensors) goes first
    graph, x, dx = build(n)
    with graph.as_default(), cr.Session() as sess:
        t0 = time.perf_counter()
        sess.run(dx, {x: np.linspace(0, 1, 16)})
        return time.perf_counter() - t0, len(graph.get_operations())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=3000, help="links in the chain")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times = []
    for _ in range(args.repeats):
        seconds, ops = first_run(args.ops)
        times.append(seconds)
    spent: collections.Counter[int] = collections.Counter()
    counts: collections.Counter[int] = collections.Counter()
    started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - started[0]
            counts[info["generation"]] += 1

    gc.callbacks.append(on_gc)
    seconds, _ = first_run(args.ops)
    gc.callbacks.remove(on_gc)
    ms = [t * 1e3 for t in times]
    print(f"{ops} ops: first run median {statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f})")
    by_gen = ", ".join(f"gen{g}: {spent[g] * 1e3:.0f} ms in {counts[g]}" for g in sorted(spent))
    print(f"collector during one run of {seconds * 1e3:.0f} ms: {by_gen}")


if __name__ == "__main__":
    main()
