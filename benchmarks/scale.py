"""Scale: how graph building, differentiation, compilation and running grow with the graph's size.

Run: ``python benchmarks/scale.py [--cases chain add_n] [--sizes 1000 10000 100000]``.

Two graphs per size N, both on a float64 16-vector placeholder ``x``:

- ``chain``: N elementwise ops in a row (sin, * 1.5, cos, + 0.25, tanh, repeated);
- ``add_n``: N terms ``sin(x * c_i)`` (N distinct constants) summed by one ``cr.add_n`` (the sine
  keeps the gradient from folding to a constant).

For each: the time to build the N ops, to differentiate (``cr.gradients`` of the sum with
respect to ``x``), to compile (the first ``Session.run`` of the gradient, which builds the plan
and runs it once; ``optimize=False`` too: the plan without rewrites), and to run again (median of
five runs). Each is reported as ops per second (ops: the graph's op count, gradient included, for
compile and run; the ops the stage creates for build and differentiate). Memory: a second pass
under ``tracemalloc`` gives each stage's peak above what was allocated before it, per op (the
compile peak is the first run's). Nothing is asserted; the machine may be shared, so the timings
are single runs, to compare sizes with each other (linear growth: a flat ops/s column).
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr

LINKS: list[Callable[[Any], Any]] = [cr.sin, lambda t: t * 1.5, cr.cos, lambda t: t + 0.25, cr.tanh]


def build_chain(x: cr.Tensor, n: int) -> cr.Tensor:
    y = x
    for i in range(n):
        y = LINKS[i % len(LINKS)](y)
    return y


def build_add_n(x: cr.Tensor, n: int) -> cr.Tensor:
    return cr.add_n([cr.sin(x * (1.0 + i / n)) for i in range(n)])


CASES = {"chain": build_chain, "add_n": build_add_n}


class Stopwatch:
    """Times a stage, or (``memory=True``) measures its tracemalloc peak above the current allocation."""

    def __init__(self, memory: bool) -> None:
        self.memory = memory
        self.results: dict[str, float] = {}

    def stage(self, name: str, fn: Callable[[], Any]) -> Any:
        gc.collect()
        if self.memory:
            tracemalloc.start()
            base, _ = tracemalloc.get_traced_memory()
            out = fn()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.results[name] = peak - base
        else:
            t0 = time.perf_counter()
            out = fn()
            self.results[name] = time.perf_counter() - t0
        return out


def measure(case: str, n: int, memory: bool) -> dict[str, Any]:
    """One pass over the stages for ``case`` at size ``n``: seconds (or peak bytes with ``memory``) and op counts."""
    watch = Stopwatch(memory)
    graph = cr.Graph()
    feed = np.linspace(0.0, 1.0, 16)
    with graph.as_default():
        x = cr.placeholder(cr.float64, [16], name="x")
        y = watch.stage("build", lambda: CASES[case](x, n))
        built = len(graph.get_operations()) - 1
        (dx,) = watch.stage("differentiate", lambda: cr.gradients(cr.reduce_sum(y), [x]))
        total = len(graph.get_operations())
        counts = {"build": built, "differentiate": total - built - 1, "compile": total, "compile_noopt": total}
        with cr.Session() as sess:
            watch.stage("compile", lambda: sess.run(dx, {x: feed}))
            if not memory:
                runs = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    sess.run(dx, {x: feed})
                    runs.append(time.perf_counter() - t0)
                watch.results["run"] = statistics.median(runs)
                counts["run"] = total
        with cr.Session(optimize=False) as sess:
            watch.stage("compile_noopt", lambda: sess.run(dx, {x: feed}))
    return {"values": watch.results, "ops": counts}


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=["chain", "add_n"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args()
    print(f"chainrule {Path(cr.__file__).parent} at {_git_commit()}; Python {platform.python_version()}, "
          f"NumPy {np.__version__}, {platform.machine()}, {platform.processor() or platform.platform()}")  # fmt: skip
    stages = ["build", "differentiate", "compile", "compile_noopt", "run"]
    header = "| case | N | ops | " + " | ".join(f"{s} s (ops/s)" for s in stages)
    header += " | " + " | ".join(f"{s} B/op" for s in stages[:4]) + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for case in args.cases:
        for n in args.sizes:
            timed = measure(case, n, memory=False)
            mem = None if args.no_memory else measure(case, n, memory=True)
            cells = [case, str(n), str(timed["ops"]["compile"])]
            for s in stages:
                seconds, ops = timed["values"][s], timed["ops"][s]
                cells.append(f"{seconds:.3g} ({ops / seconds:,.0f})")
            for s in stages[:4]:
                cells.append("-" if mem is None else f"{mem['values'][s] / mem['ops'][s]:,.0f}")
            print("| " + " | ".join(cells) + " |", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
