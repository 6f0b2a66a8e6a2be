"""Memory saved by ``cr.checkpoint``: the gradient of a deep computation, with and without segments.

Two programs, each differentiated by ``cr.grad`` (one compiled plan per variant):

- ``tanh``: a chain of ``--layers`` tanh layers on a ``--size`` x ``--size`` float64 array;
- ``mlp``: ``--layers`` dense tanh layers (``h = tanh(h @ W_k)``) on a ``--size`` x ``--size``
  batch, differentiated with respect to the list of weights.

Each variant checkpoints every segment of ``k`` layers (``k = 0``: no checkpoint). Reported per
variant: the peak of the plan's buffers (``Session.run_state.buffers.nbytes``: the arrays the
plan keeps between runs, about the peak of what one run keeps alive), the peak of NumPy's
allocations during one gradient call (``tracemalloc``), how many tanh evaluations the plan
runs (the recomputation shows as more), and the median time of a call.

    python benchmarks/checkpoint_memory.py                       # 50 tanh layers, 12 dense, 1000x1000
    python benchmarks/checkpoint_memory.py --size 300 --quick    # a fast look
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr


def _segments(layer: Callable[[Any, Any], Any], n: int, k: int) -> Callable[[Any, list[Any]], Any]:
    """``h -> layer(...layer(h, p_0)..., p_{n-1})``, each segment of ``k`` layers checkpointed (k = 0: none)."""

    def run(h: Any, params: list[Any]) -> Any:
        for p in params:
            h = layer(h, p)
        return h

    if k <= 0:
        return run
    segment = cr.checkpoint(run)

    def chained(h: Any, params: list[Any]) -> Any:
        for start in range(0, n, k):
            h = segment(h, params[start : start + k])
        return h

    return chained


def tanh_program(n: int, k: int) -> tuple[Callable[..., Any], int]:
    body = _segments(lambda h, _: cr.tanh(h), n, k)
    return lambda x: cr.reduce_sum(body(x, [None] * n)), 0


def mlp_program(n: int, k: int) -> tuple[Callable[..., Any], int]:
    body = _segments(lambda h, w: cr.tanh(cr.matmul(h, w)), n, k)
    return lambda x, ws: cr.reduce_sum(body(x, ws)), 1


def tanh_count(concrete: Any) -> int:
    """Tanh evaluations in the compiled plan (members of fused groups included)."""
    count = 0
    for node in concrete.plan.program.nodes:
        types = node.extra.describe() if node.op_type == "Fused" else [node.op_type]
        count += sum(t == "Tanh" for t in types)
    return count


def measure(program: Callable[[int, int], Any], args: list[np.ndarray], n: int, k: int, repeat: int) -> dict[str, Any]:
    loss, argnum = program(n, k)
    grad = cr.grad(loss, argnums=argnum)
    grad(*args)  # trace and compile
    concrete = grad.get_concrete_function(*args)
    tracemalloc.start()
    grad(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        grad(*args)
        times.append(time.perf_counter() - t0)
    result = grad(*args)
    return {
        "k": k,
        "buffers": concrete.session.run_state.buffers.nbytes,
        "traced_peak": peak,
        "tanh": tanh_count(concrete),
        "ms": 1e3 * statistics.median(times),
        "checksum": float(sum(np.sum(np.abs(r)) for r in (result if isinstance(result, list) else [result]))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--layers", type=int, default=50, help="tanh layers")
    parser.add_argument("--dense", type=int, default=12, help="dense layers of the MLP")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one timed call per variant")
    a = parser.parse_args()
    repeat = 1 if a.quick else a.repeat
    rng = np.random.default_rng(0)
    x = rng.standard_normal((a.size, a.size))
    ws = [rng.standard_normal((a.size, a.size)) / np.sqrt(a.size) for _ in range(a.dense)]
    mb = 1 / 2**20
    print(f"# {platform.processor() or platform.machine()}, NumPy {np.__version__}, chainrule {cr.__version__}")
    print(f"# python benchmarks/checkpoint_memory.py --size {a.size} --layers {a.layers} --dense {a.dense}\n")
    print("| program | checkpoint every | plan buffers (MiB) | peak allocated (MiB) | tanh evaluations | time (ms) |")
    print("|---|---|---|---|---|---|")
    cases: list[tuple[str, Any, list[Any], int, list[int]]] = [
        (f"{a.layers} tanh layers, {a.size}x{a.size}", tanh_program, [x], a.layers, [0, 5, 7, 10]),
        (f"{a.dense} dense tanh layers, {a.size}x{a.size}", mlp_program, [x, ws], a.dense, [0, 2, 3, 4]),
    ]
    for name, program, args, n, ks in cases:
        base = None
        for k in ks:
            r = measure(program, args, n, k, repeat)
            base = base if base is not None else r["checksum"]
            if not np.isclose(r["checksum"], base, rtol=1e-9):
                raise AssertionError(f"{name}, k={k}: the gradient differs from the one without checkpoints")
            every = f"{k} layers" if k else "none"
            print(
                f"| {name} | {every} | {r['buffers'] * mb:.0f} | {r['traced_peak'] * mb:.0f} | {r['tanh']} | "
                f"{r['ms']:.0f} |"
            )


if __name__ == "__main__":
    main()
