"""Compiling is linear in the graph's size: measured by memory (deterministic), never by wall time.

Each test builds the same kind of graph at two sizes and compares the peak memory ``tracemalloc``
sees while the plan is built: work that is quadratic in the size (an ``AddN`` of n inputs whose
n - 1 generated lines each kept a copy of all n argument names) shows as a ratio near 16 for
4x the size, linear work near 4.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

import numpy as np

import chainrule as cr


def _peak_of_first_run(build: Callable[[cr.Tensor], cr.Tensor], optimize: bool) -> tuple[int, np.ndarray]:
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [3], name="x")
        y = build(x)
        with cr.Session(optimize=optimize) as sess:
            gc.collect()
            tracemalloc.start()
            try:
                value = sess.run(y, {x: np.array([1.0, 2.0, 3.0])})
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    return peak, value


def _add_n(n: int) -> Callable[[cr.Tensor], cr.Tensor]:
    return lambda x: cr.add_n([x * float(i) for i in range(n)])


def test_add_n_plan_memory_is_linear_in_the_number_of_terms() -> None:
    for optimize in (False, True):
        small, v_small = _peak_of_first_run(_add_n(500), optimize)
        large, v_large = _peak_of_first_run(_add_n(2000), optimize)
        np.testing.assert_allclose(v_small, np.array([1.0, 2.0, 3.0]) * (500 * 499 / 2))
        np.testing.assert_allclose(v_large, np.array([1.0, 2.0, 3.0]) * (2000 * 1999 / 2))
        assert large / small < 7, (optimize, small, large)


def test_chain_plan_memory_is_linear_in_its_length() -> None:
    def chain(n: int) -> Callable[[cr.Tensor], cr.Tensor]:
        def build(x: cr.Tensor) -> cr.Tensor:
            y = x
            for i in range(n):
                y = cr.sin(y) if i % 2 else y * 1.0
            return y

        return build

    small, v_small = _peak_of_first_run(chain(1000), True)
    large, v_large = _peak_of_first_run(chain(4000), True)
    want = np.array([1.0, 2.0, 3.0])
    for _ in range(2000):
        want = np.sin(want)
    np.testing.assert_allclose(v_large, want, rtol=1e-12)
    assert large / small < 7, (small, large)


def test_long_plan_compiles_in_segments_with_bounded_memory_per_op() -> None:
    # One Python function of n lines needs about 4 KB a line to compile; in segments, far less.
    def chain(x: cr.Tensor) -> cr.Tensor:
        y = x
        for _ in range(10_000):
            y = cr.sin(y)
        return y

    peak, value = _peak_of_first_run(chain, True)
    want = np.array([1.0, 2.0, 3.0])
    for _ in range(10_000):
        want = np.sin(want)
    np.testing.assert_allclose(value, want, rtol=1e-12)
    assert peak / 10_000 < 2500, peak / 10_000
