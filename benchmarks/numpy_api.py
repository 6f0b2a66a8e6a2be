"""The eager path of ``chainrule.numpy``: ``np.sin(ndarray)`` side by side with NumPy, autograd and JAX.

Run: ``python benchmarks/numpy_api.py [--repeats N] [--number N]``. Issue 17 item 6 asks that
``chainrule.numpy.sin(ndarray)`` be within 1 microsecond of ``numpy.sin``: on a NumPy array the
function checks that no argument is a tensor and calls NumPy. Measured for ``sin`` (a unary ufunc),
``add`` with a Python scalar (a binary ufunc), ``sum`` (a reduction) and ``dot``, on a 0-d array,
a 10-vector and a 1000-vector, as the best of ``--repeats`` timeit runs of ``--number`` calls each
(microseconds per call). ``autograd.numpy`` and ``jax.numpy`` (run on NumPy arrays, as a user
would; JAX's result is blocked on) are included when installed. Nothing is asserted here;
tests/numpy/test_numpy_speed.py checks the 1 microsecond bound with a margin.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule.numpy as cnp


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _best(fns: list[Callable[[], Any]], repeats: int, number: int) -> list[float]:
    """Microseconds per call of each function: the best of ``repeats`` runs of ``number`` calls, the
    functions' runs interleaved (so a slower moment of a shared machine hits them alike)."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], timeit.timeit(fn, number=number) / number * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    anp = _optional("autograd.numpy")
    jnp = _optional("jax.numpy")
    modules: list[tuple[str, Any, Callable[[Any], Any]]] = [
        ("numpy", np, lambda r: r),
        ("chainrule.numpy", cnp, lambda r: r),
    ]
    if anp is not None:
        modules.append(("autograd.numpy", anp, lambda r: r))
    if jnp is not None:
        modules.append(("jax.numpy", jnp, lambda r: r.block_until_ready()))
    rng = np.random.default_rng(0)
    arrays = {"0-d": np.asarray(0.5), "10": rng.standard_normal(10), "1000": rng.standard_normal(1000)}
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "sin(x)": lambda m, x: m.sin(x),
        "add(x, 2.0)": lambda m, x: m.add(x, 2.0),
        "sum(x)": lambda m, x: m.sum(x),
        "dot(x, x)": lambda m, x: m.dot(x, x),
    }
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, NumPy {np.__version__}")
    header = ["op", "size", *[name for name, _, _ in modules], "chainrule.numpy - numpy"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for op_name, op in ops.items():
        for size, x in arrays.items():
            fns = []
            for _, module, block in modules:
                xm = x if module is not jnp else jnp.asarray(x)
                fns.append(lambda m=module, v=xm, b=block: b(op(m, v)))
            times = _best(fns, args.repeats, args.number)
            cells = [f"{t:.2f} µs" for t in times]
            print(f"| {op_name} | {size} | " + " | ".join(cells) + f" | {times[1] - times[0]:+.2f} µs |")


if __name__ == "__main__":
    main()
