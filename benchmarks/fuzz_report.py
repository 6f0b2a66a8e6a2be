"""Run the op fuzzer (tests/fuzz) with a longer budget and print the outcome counts per class.

    PYTHONPATH=src python benchmarks/fuzz_report.py --examples 50

Classes (see tests/fuzz/harness.py): ok, clear, wrapped, raw, silent; n/a counts functions that
take no tensors for their required arguments. Lists every raw and silent case.
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import sys
import time
import warnings
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tests.fuzz import harness  # noqa: E402


def run_one(name: str, fn: Any, examples: int, counts: Counter[str], bad: Counter[tuple[str, str, str]]) -> None:
    n = len(harness.tensor_params(fn))

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(harness.arrays(), min_size=n, max_size=n))
    def check(values: list[Any]) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls, detail = harness.run_case(fn, values)
        counts[cls] += 1
        if cls in ("raw", "silent", "wrapped"):
            bad[(cls, name, detail[:160])] += 1

    check()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=50, help="examples per op function")
    args = parser.parse_args()
    counts: collections.Counter[str] = collections.Counter()
    bad: collections.Counter[tuple[str, str, str]] = collections.Counter()
    start = time.perf_counter()
    functions = harness.op_functions()
    for name, fn in functions:
        run_one(name, fn, args.examples, counts, bad)
    elapsed = time.perf_counter() - start
    print(f"{len(functions)} op functions, {sum(counts.values())} cases in {elapsed:.1f} s")
    for cls in ("ok", "clear", "wrapped", "raw", "silent", "n/a"):
        print(f"  {cls:8s} {counts[cls]}")
    for (cls, name, detail), k in sorted(bad.items()):
        print(f"{cls:8s} {name}: {detail} (x{k})")


if __name__ == "__main__":
    main()
