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


def lstm_scan_graph(main: cr.Tensor, extra: cr.Tensor, state: cr.Tensor, sequence: cr.Tensor, inst: Any) -> cr.Tensor:
    """The same loss as ``chainrule_tool.lstm_graph``, one ``foldl`` over the characters."""
    b, layers, c = inst.b, inst.layers, inst.sequence.shape[0]
    w = cr.unstack(main, num=2 * layers)
    in_w, out_w, out_b = cr.unstack(extra, num=3)
    s = cr.unstack(state, num=2 * layers)

    def step(carry: Any, chars: Any) -> Any:
        h, cell, total = list(carry[0]), list(carry[1]), carry[2]
        current, following = chars
        x = current * in_w
        for j in range(layers):
            gates = cr.concat([x, h[j], x, h[j]], axis=0) * w[2 * j] + w[2 * j + 1]
            forget = cr.sigmoid(gates[:b])
            ingate = cr.sigmoid(gates[b : 2 * b])
            outgate = cr.sigmoid(gates[2 * b : 3 * b])
            change = cr.tanh(gates[3 * b :])
            cell[j] = cell[j] * forget + ingate * change
            h[j] = outgate * cr.tanh(cell[j])
            x = h[j]
        y = x * out_w + out_b
        ynorm = y - cr.log(2.0 + cr.reduce_sum(cr.exp(y)))
        return (tuple(h), tuple(cell), total + cr.reduce_sum(following * ynorm))

    initial = (
        tuple(s[2 * j] for j in range(layers)),
        tuple(s[2 * j + 1] for j in range(layers)),
        cr.constant(0.0, cr.float64),
    )
    _, _, total = cr.foldl(step, (sequence[:-1], sequence[1:]), initializer=initial)
    return -total / float((c - 1) * b)


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
    looped = measure(lstm_scan_graph, inst, args.repeats)
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
