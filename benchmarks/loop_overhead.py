"""Per-iteration cost of ``cr.while_loop`` against one ``Session.run`` per step and the unrolled graph.

Run: ``python benchmarks/loop_overhead.py [--steps N]``. The body is tiny (a 14-vector:
``y = tanh(y * w + b)``), so what is measured is the cost of an iteration, not of the math:

- ``while_loop``: one run of a graph holding one ``While`` op of N iterations;
- ``session.run per step``: N ``Session.run`` calls of the body's graph, feeding the previous result;
- ``unrolled``: one run of a graph with the body written out N times (N * 3 ops);
- the same for the gradient with respect to ``w`` (the loop's backward pass is a loop too).

Each figure is the median of repeated runs (microseconds per iteration), with the first run
(plan building) reported separately. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import chainrule as cr


def _time(fn, repeats: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return first, statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    n = args.steps
    rng = np.random.default_rng(0)
    w_value, b_value, y_value = (rng.standard_normal(14) * 0.5 for _ in range(3))

    def body(y, w, b):
        return cr.tanh(y * w + b)

    rows = []
    graph = cr.Graph()
    with graph.as_default():
        w, b, y0 = (cr.placeholder(cr.float64, [14], name=s) for s in "wby")
        _, looped = cr.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, body(y, w, b)), [cr.constant(0), y0])
        (d_looped,) = cr.gradients(cr.reduce_sum(looped), [w])
        unrolled = y0
        for _ in range(n):
            unrolled = body(unrolled, w, b)
        (d_unrolled,) = cr.gradients(cr.reduce_sum(unrolled), [w])
        feed = {w: w_value, b: b_value, y0: y_value}
        step = body(y0, w, b)
    for name, fetch in [("while_loop F", looped), ("unrolled F", unrolled), ("while_loop J", d_looped),
                        ("unrolled J", d_unrolled)]:  # fmt: skip
        sess = cr.Session(graph=graph)
        first, median = _time(lambda fetch=fetch, sess=sess: sess.run(fetch, feed), args.repeats)
        rows.append((name, first, median))
    sess = cr.Session(graph=graph)

    def per_step() -> None:
        value = y_value
        for _ in range(n):
            value = sess.run(step, {w: w_value, b: b_value, y0: value})

    first, median = _time(per_step, max(1, args.repeats // 2))
    rows.append(("session.run per step F", first, median))
    print(f"{n} iterations of y = tanh(y * w + b) on a 14-vector ({len(graph.get_operations())} ops in the graph)")
    print(f"{'':26} {'first run':>12} {'per run':>12} {'per iteration':>14}")
    for name, first, median in rows:
        print(f"{name:26} {first * 1e3:9.1f} ms {median * 1e3:9.2f} ms {median / n * 1e6:11.2f} us")


if __name__ == "__main__":
    main()
