"""The two figures issue 12 (item 16) quoted: the first run of an ``add_n`` of N terms, and of a chain's gradient.

Run: ``python benchmarks/scale_headline.py add_n 16000`` (``add_n([x * i for i in range(N)])`` on a
4-vector: the first ``Session.run`` with and without rewrites) or ``python benchmarks/scale_headline.py
chain 100000`` (N links of sin, * 1.5, cos, + 0.25, tanh on a 16-vector and its gradient, about 4.4
ops a link: the first run of the gradient, and the resident memory it added, from ``ru_maxrss``).
Single runs, nothing asserted.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

import chainrule as cr

LINKS = [cr.sin, lambda t: t * 1.5, cr.cos, lambda t: t + 0.25, cr.tanh]


def main() -> None:
    case, n = sys.argv[1], int(sys.argv[2])
    graph = cr.Graph()
    with graph.as_default():
        if case == "add_n":
            x = cr.placeholder(cr.float64, [4], name="x")
            y = cr.add_n([x * float(i) for i in range(n)])
            feed = np.ones(4)
            for optimize in (False, True):
                with cr.Session(optimize=optimize) as sess:
                    t0 = time.perf_counter()
                    sess.run(y, {x: feed})
                    print(f"add_n {n}: first run, optimize={optimize}: {time.perf_counter() - t0:.2f} s")
            return
        x = cr.placeholder(cr.float64, [16], name="x")
        y = x
        for i in range(n):
            y = LINKS[i % len(LINKS)](y)
        (dx,) = cr.gradients(cr.reduce_sum(y), [x])
        ops = len(graph.get_operations())
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with cr.Session() as sess:
            t0 = time.perf_counter()
            sess.run(dx, {x: np.ones(16)})
            seconds = time.perf_counter() - t0
        added = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
        print(f"chain {n} ({ops} ops): first run of the gradient {seconds:.2f} s, +{added / 1e6:.0f} MB resident "
              f"({added / ops:.0f} B/op)")  # fmt: skip


if __name__ == "__main__":
    main()
