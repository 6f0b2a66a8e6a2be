"""The Numba backend beside the NumPy backend, plain NumPy and JAX jit (where installed).

Run: ``python benchmarks/numba_backend.py [--repeats 15] [--quick | --gmm-all]`` from the repository root
(ADBench data in ``CHAINRULE_ADBENCH`` or ``shared/adbench``). Rows: the 200-op scalar chain
gradient, the MLP objective and SGD step, the ADBench LSTM objective and gradient (unrolled, and
``J foldl``: as one ``cr.foldl``, the formulation of JAX's ``lax.scan``), and the GMM gradient at a
small and a mid size; each cell is the median of ``--repeats`` calls (after a warm call) with the
spread (min-max) in brackets. Then the first call of the LSTM gradient (graph build + plan build +
compile + run) on each chainrule backend and on JAX, in fresh processes, with ``CHAINRULE_CACHE_DIR``
pointing at an empty directory (and once more with that cache warm), per formulation.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import problems  # noqa: E402
from harness.tools import chainrule_tool, numpy_tool  # noqa: E402

ROWS = [("chain", "n200", "J"), ("mlp", "digits", "F"), ("mlp", "digits", "J"), ("lstm", "l2_c1024[:64]", "F")]
ROWS += [("lstm", "l2_c1024[:64]", "J"), ("lstm", "l2_c1024[:64]", "J foldl")]
ROWS += [("gmm", "d2_K5", "J"), ("gmm", "d10_K25", "J"), ("gmm", "d20_K50", "J")]
# "foldl": chainrule's LSTM as one ``cr.foldl`` over the characters (``chainrule_tool.lstm_scan_graph``),
# the formulation of JAX's ``lax.scan``; the other rows unroll it.
_LSTM_SCAN = {"on": False}


def timed(fn: Any, repeats: int) -> tuple[float, float, float]:
    fn()  # warm: builds (and compiles) the plan
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def tools() -> dict[str, Any]:
    found: dict[str, Any] = {}

    def chainrule_with(backend: str) -> Any:
        class Tool:
            def __getattr__(self, problem: str) -> Any:
                def make(arg: Any) -> Any:
                    chainrule_tool.configure(backend=backend, lstm_scan=_LSTM_SCAN["on"])
                    return getattr(chainrule_tool, problem)(arg)

                return make

        return Tool()

    found["chainrule numpy"] = chainrule_with("numpy")
    try:
        importlib.import_module("numba")
        found["chainrule numba"] = chainrule_with("numba")
    except ImportError:
        pass
    found["plain NumPy"] = numpy_tool
    try:
        found["JAX jit"] = importlib.import_module("harness.tools.jax_tool")
    except ImportError:
        pass
    return found


def table(repeats: int, rows: list[tuple[str, str, str]]) -> None:
    available = tools()
    print("| row | " + " | ".join(available) + " |")
    print("|---|" + "---|" * len(available))
    for problem, size, kind in rows:
        inst = problems.load(problem, size)
        cells = []
        _LSTM_SCAN["on"] = kind.endswith("foldl")
        for name, tool in available.items():
            if _LSTM_SCAN["on"] and name == "plain NumPy":
                cells.append("-")
                continue
            case = getattr(tool, problem)(inst)
            fn = case.objective if kind.startswith("F") else case.gradient
            if fn is None:
                cells.append("-")
                continue
            median, low, high = timed(fn, repeats)
            cells.append(f"{median * 1e3:.3f} ms [{low * 1e3:.3f}-{high * 1e3:.3f}]")
        print(f"| {problem} {size} {kind} | " + " | ".join(cells) + " |", flush=True)


FIRST_CALL = """
import sys, time, json
sys.path.insert(0, {bench!r})
t0 = time.perf_counter()
from harness import problems
inst = problems.load("lstm", {size!r})
if {tool!r} == "jax":
    from harness.tools import jax_tool as tool
else:
    from harness.tools import chainrule_tool as tool
    tool.configure(backend={tool!r}, lstm_scan={scan!r})
case = tool.lstm(inst)
t1 = time.perf_counter()
case.gradient()
t2 = time.perf_counter()
print(json.dumps({{"setup": t1 - t0, "first gradient": t2 - t1}}))
"""


FIRST_CALLS = [
    ("numpy", False, "chainrule numpy"),
    ("numba", False, "chainrule numba, cold cache"),
    ("numba", False, "chainrule numba, warm cache"),
    ("numba", True, "chainrule numba foldl, cold cache"),
    ("numba", True, "chainrule numba foldl, warm cache"),
    ("jax", False, "JAX jit"),
]


def first_calls(size: str) -> None:
    bench = str(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory() as unrolled, tempfile.TemporaryDirectory() as folded:
        for tool, scan, label in FIRST_CALLS:
            env = {**os.environ, "CHAINRULE_CACHE_DIR": folded if scan else unrolled}  # each formulation's own
            code = FIRST_CALL.format(bench=bench, size=size, tool=tool, scan=scan)
            run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{label}: failed: {run.stderr.strip().splitlines()[-1:]}")
                continue
            t = json.loads(run.stdout.strip().splitlines()[-1])
            print(
                f"first LSTM gradient call, {label}: setup {t['setup']:.2f} s + first call {t['first gradient']:.2f} s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="the chain and the MLP only")
    parser.add_argument("--gmm-all", action="store_true", help="F and J at every GMM size instead (J/F, J vs JAX)")
    args = parser.parse_args()
    if args.gmm_all:
        table(args.repeats, [("gmm", size, kind) for size in problems.sizes("gmm", quick=False) for kind in "FJ"])
        return
    table(args.repeats, ROWS[:3] if args.quick else ROWS)
    if not args.quick:
        first_calls("l2_c1024[:64]")


if __name__ == "__main__":
    main()
