"""ADBench's LSTM written with ``cr.foldl`` over the characters, beside the unrolled graph (chainrule only).

Run: ``python benchmarks/lstm_scan.py [--size l2_c1024]`` from the repository root (ADBench data in
``shared/adbench`` beside the checkout, or ``CHAINRULE_ADBENCH``). For each formulation: the graph's
op count (objective and gradient), the first objective and gradient calls (which build the plans),
and the medians of repeated calls; the two formulations' values and gradients are compared.
JAX (``lax.scan``) and TensorFlow (``tf.scan``) are the peers in ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chainrule as cr  # noqa: E402
from harness import data  # noqa: E402
from harness.tools import chainrule_tool  # noqa: E402


def measure(build: Any, inst: Any, repeats: int) -> dict[str, Any]:
    graph = cr.Graph()
    with graph.as_default():
        names = ("main", "extra", "state", "sequence")
        ph = [cr.placeholder(cr.float64, getattr(inst, n).shape, name=n) for n in names]
        f = build(*ph, inst)
        objective_ops = len(graph.get_operations())
        grads = cr.gradients(f, ph[:2])
    feed = {p: getattr(inst, n) for p, n in zip(ph, names)}
    out: dict[str, Any] = {"ops F": objective_ops, "ops F+J": len(graph.get_operations())}
    sess = cr.Session(graph=graph)
    for label, fetch in (("F", f), ("J", grads)):
        t0 = time.perf_counter()
        value = sess.run(fetch, feed)
        out[f"first {label}"] = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            sess.run(fetch, feed)
            times.append(time.perf_counter() - t0)
        out[label] = statistics.median(times)
        out[f"value {label}"] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="l2_c1024")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    inst = data.read_lstm(data.lstm_files()[args.size])
    unrolled = measure(chainrule_tool.lstm_graph, inst, args.repeats)
    looped = measure(chainrule_tool.lstm_scan_graph, inst, args.repeats)
    np.testing.assert_allclose(looped["value F"], unrolled["value F"], rtol=1e-12)
    for a, b in zip(looped["value J"], unrolled["value J"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    print(f"ADBench LSTM {args.size}: values and gradients agree (rtol 1e-10)")
    print(f"{'':10} {'ops F':>7} {'ops F+J':>8} {'first F':>9} {'first J':>9} {'F':>9} {'J':>9}")
    for name, r in (("unrolled", unrolled), ("foldl", looped)):
        print(
            f"{name:10} {r['ops F']:7d} {r['ops F+J']:8d} {r['first F']:8.2f}s {r['first J']:8.2f}s "
            f"{r['F'] * 1e3:7.1f}ms {r['J'] * 1e3:7.1f}ms"
        )


if __name__ == "__main__":
    main()
