"""The CuPy backend on a real GPU: the op table against the NumPy backend, then GMM, LSTM and MLP timings.

Run from the repository root on a machine with an NVIDIA GPU and CuPy (``pip install -e '.[gpu]'``):

    python benchmarks/gpu_check.py [--all] [--repeats 10] [--skip-table | --skip-timings]

(a) Every op function of the op table (one sample each; ``--all``: every sample), its outputs
and gradients, on ``backend="cupy"`` beside the NumPy backend: float64 to 1e-10 of each result's
scale (CUDA's math functions and reduction orders are not NumPy's to the last bit), float32 to
1e-5, integers and booleans exactly; random ops by shape and dtype (CuPy's generator draws other
numbers). Prints one line per failure and a summary; the exit status is 1 when any sample failed.

(b) A Markdown table of median times (``--repeats`` calls after a warm one, milliseconds) for the
GMM gradient, the ADBench LSTM objective and gradient and the digits MLP SGD step: chainrule on
NumPy (CPU) and on CuPy, PyTorch CUDA and JAX GPU where installed (float64 throughout). The
ADBench data comes from ``CHAINRULE_ADBENCH`` or ``shared/adbench`` (rows without it are skipped).

Without CuPy or a GPU the script stops at once with exit status 2, saying which is missing.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chainrule as cr  # noqa: E402

ROWS = [("gmm", "d10_K25", "J"), ("gmm", "d20_K50", "J"), ("gmm", "d64_K200", "J")]
ROWS += [("lstm", "l2_c1024[:64]", "F"), ("lstm", "l2_c1024[:64]", "J"), ("mlp", "digits", "J")]


def require_gpu() -> str:
    """The GPU's name; exits with status 2 naming what is missing when CuPy or a device is not there."""
    from chainrule.runtime.backends import get_backend

    try:
        backend = get_backend("cupy")
    except ImportError as e:
        print(f"gpu_check: no CuPy: {e}", file=sys.stderr)
        sys.exit(2)
    except cr.errors.UnavailableError as e:
        print(f"gpu_check: no GPU: {e.message}", file=sys.stderr)
        sys.exit(2)
    props = backend.module.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


# --- (a) the op table ----------------------------------------------------------------------------
def op_table(every_sample: bool) -> int:
    from chainrule.testing.op_table import RANDOM_OP_TYPES, budgeted, layout_mismatch, sample_graph, value_mismatch
    from chainrule.testing.samples import all_samples

    table = all_samples()
    samples = list(table.samples) if every_sample else budgeted(table.samples)
    failures = 0
    started = time.perf_counter()
    for number, sample in enumerate(samples):
        for dtype in ("float64", "float32") if sample.float32 else ("float64",):
            args = sample.args
            if dtype == "float32":
                args = tuple(a.astype(np.float32) if a.dtype == np.float64 else a for a in args)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    built = sample_graph(sample, args, gradients=dtype == "float64")
                    if not built.fetches:
                        continue
                    feeds = dict(zip(built.inputs, args))
                    with cr.Session(graph=built.graph) as sess:
                        want = sess.run(built.fetches, feeds)
                    with cr.Session(graph=built.graph, backend="cupy") as sess:
                        got = sess.run(built.fetches, feeds)
                if {op.type for op in built.graph.get_operations()} & RANDOM_OP_TYPES:
                    problem = layout_mismatch(built.fetches, got, want, "cupy")  # other generators' numbers
                else:
                    problem = value_mismatch(built.fetches, got, want, 1e-10 if dtype == "float64" else 1e-5, "cupy")
            except Exception as e:  # noqa: BLE001 - every failure is reported, the table goes on
                problem = f"raised {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                if "-v" in sys.argv:
                    traceback.print_exc()
            if problem is not None:
                failures += 1
                print(f"FAIL {sample.id} [{dtype}]: {problem}", flush=True)
        if number % 50 == 49:
            print(f"... {number + 1}/{len(samples)} samples, {time.perf_counter() - started:.0f} s", flush=True)
    print(f"op table on cupy: {len(samples)} samples, {failures} failures, {time.perf_counter() - started:.0f} s")
    return failures


# --- (b) timings -----------------------------------------------------------------------------------
def timed(fn: Any, repeats: int, sync: Any) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peers() -> dict[str, tuple[Any, Any]]:
    """Tool name -> (the harness tool module, a synchronize function)."""
    from harness.tools import chainrule_tool

    def chainrule_on(backend: str) -> Any:
        class Tool:
            def __getattr__(self, problem: str) -> Any:
                def make(arg: Any) -> Any:
                    chainrule_tool.configure(backend=backend)
                    return getattr(chainrule_tool, problem)(arg)

                return make

        return Tool()

    def nothing() -> None:
        return None

    found: dict[str, tuple[Any, Any]] = {
        "chainrule numpy (CPU)": (chainrule_on("numpy"), nothing),
        "chainrule cupy": (chainrule_on("cupy"), nothing),  # fetches come back to the host: synchronized
    }
    try:
        torch = importlib.import_module("torch")
        if torch.cuda.is_available():
            torch.set_default_device("cuda")  # the harness's tensors are made on the GPU
            found["PyTorch CUDA"] = (importlib.import_module("harness.tools.torch_tool"), torch.cuda.synchronize)
    except ImportError:
        pass
    try:
        jax = importlib.import_module("jax")
        if jax.default_backend() == "gpu":
            found["JAX GPU"] = (importlib.import_module("harness.tools.jax_tool"), nothing)  # blocks until ready
    except ImportError:
        pass
    return found


def timings(repeats: int, device: str) -> None:
    from harness import problems

    tools = peers()
    print(f"\nMedian of {repeats} calls after a warm call, ms, float64; GPU: {device}\n")
    print("| row | " + " | ".join(tools) + " |")
    print("|---|" + "---|" * len(tools))
    for problem, size, kind in ROWS:
        try:
            inst = problems.load(problem, size)
        except (KeyError, FileNotFoundError, TypeError) as e:
            print(f"| {problem} {size} {kind} | skipped: no data ({type(e).__name__}) |", flush=True)
            continue
        cells = []
        for tool, sync in tools.values():
            try:
                case = getattr(tool, problem)(inst)
                fn = case.objective if kind == "F" else case.gradient
                cells.append("-" if fn is None else f"{timed(fn, repeats, sync) * 1e3:.3f}")
            except Exception as e:  # noqa: BLE001 - a peer that cannot run a row shows why
                cells.append(f"failed: {type(e).__name__}")
        print(f"| {problem} {size} {kind} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="every sample of the op table, not one per op function")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--skip-timings", action="store_true")
    parser.add_argument("-v", action="store_true", help="print the traceback of each failure")
    args = parser.parse_args()
    device = require_gpu()
    print(f"GPU: {device}", flush=True)
    failures = 0 if args.skip_table else op_table(args.all)
    if not args.skip_timings:
        timings(args.repeats, device)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
