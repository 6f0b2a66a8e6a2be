"""The Numba backend on unrolled loops: repeated runs become equal regions compiled once, the compile
budget counts them once and goes where it saves most, and the lowering forms that keep regions cheap
to compile (index expressions for constant slices, operators for float arithmetic)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("numba")

from chainrule.backends.numba import NumbaBackend  # noqa: E402 - after the skip
from chainrule.backends.numba.backend import NativePlan, native_regions  # noqa: E402
from chainrule.backends.numba.regions import HELPER_LINES, REGION_LINES  # noqa: E402
from chainrule.backends.numba.repeats import repeat_cuts  # noqa: E402
from chainrule.runtime.plan import Exclusive  # noqa: E402


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _cell_graph(steps: int, b: int = 5):
    """An LSTM-like recurrence unrolled over ``steps`` characters (concats, slices, sigmoids), and its gradient."""
    g = cr.Graph()
    with g.as_default():
        w = cr.placeholder(cr.float64, [4 * b], name="w")
        bias = cr.placeholder(cr.float64, [4 * b], name="bias")
        seq = cr.placeholder(cr.float64, [steps, b], name="seq")
        xs = cr.unstack(seq, num=steps)
        h = cr.zeros([b], cr.float64)
        c = cr.zeros([b], cr.float64)
        total = cr.constant(0.0, cr.float64)
        for t in range(steps):
            gates = cr.concat([xs[t], h, xs[t], h], axis=0) * w + bias
            c = c * cr.sigmoid(gates[:b]) + cr.sigmoid(gates[b : 2 * b]) * cr.tanh(gates[3 * b :])
            h = cr.sigmoid(gates[2 * b : 3 * b]) * cr.tanh(c)
            total = total + cr.reduce_sum(h * xs[t])
        grads = cr.gradients(total, [w, bias])
    rng = np.random.default_rng(0)
    feeds = {w: rng.normal(size=4 * b), bias: rng.normal(size=4 * b), seq: rng.normal(size=(steps, b))}
    return g, [total, *grads], feeds


def _compare(g, fetches, feeds, backend):
    with cr.Session(graph=g) as plain, cr.Session(graph=g, backend=backend) as native:
        want = plain.run(fetches, feeds)
        got = native.run(fetches, feeds)
        (plan,) = native.plans
    for a, c in zip(want, got):
        np.testing.assert_allclose(c, a, rtol=1e-12, atol=1e-14)
    return plan


def test_repeat_cuts_take_the_period_covering_most_nodes() -> None:
    class Op:
        def __init__(self, kind: str) -> None:
            self.op_type, self.attrs, self.inputs, self.outputs, self.extra = kind, {}, [], [], None

    # "AAB" eight times after a prologue: the period is 3 (not the pair of equal As inside it).
    nodes = [Op("P")] + [Op(k) for _ in range(8) for k in "AAB"] + [Op("Q")]
    cuts = repeat_cuts(nodes)  # type: ignore[arg-type]
    assert {1 + 3 * k for k in range(0, 8, 3)} | {25} <= cuts  # copies grouped to at least 8 nodes
    assert all((c - 1) % 3 == 0 for c in cuts)
    assert repeat_cuts([Op(k) for k in "PQRSTUVWXYZABCDEFGH"]) == set()  # type: ignore[arg-type]


def test_the_steps_of_an_unrolled_loop_share_one_compiled_region() -> None:
    g, fetches, feeds = _cell_graph(24)
    plan = _compare(g, fetches, feeds, "numba")
    regions = native_regions(plan.executable)
    dispatchers = {id(r.dispatcher) for r in regions}
    # The forward steps are equal regions, and so are the backward ones: far fewer functions than calls.
    assert len(regions) >= 24 and len(dispatchers) <= len(regions) // 4
    shared = max(sum(r.dispatcher is d.dispatcher for r in regions) for d in regions)
    assert shared >= 20


def test_the_compile_budget_counts_equal_regions_once() -> None:
    g, fetches, feeds = _cell_graph(24)
    plan = _compare(g, fetches, feeds, "numba")
    regions = native_regions(plan.executable)
    step = max(regions, key=lambda r: sum(o.dispatcher is r.dispatcher for o in regions))
    copies = [r for r in regions if r.dispatcher is step.dispatcher]
    helper_calls = len(re.findall(r"\b(?!concatenate_)[a-z_]+_\d+\(", step.source))
    lines = REGION_LINES + step.source.count("\n") + HELPER_LINES * helper_calls + 10
    assert 2 * lines - 20 < len(copies) * (lines - 10)  # without counting once, two copies would not fit
    # A budget that fits one copy of the step compiles every copy (they are one function).
    plan = _compare(g, fetches, feeds, NumbaBackend(max_plan_lines=lines))
    kept = native_regions(plan.executable)
    assert sum(r.source == step.source for r in kept) == len(copies)
    assert len({id(r.dispatcher) for r in kept}) <= 2
    assert any("run on NumPy" in note and "max_plan_lines" in note for note in plan.backend_notes)


def test_the_compile_budget_goes_to_the_regions_that_save_most_per_line() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [6], name="x")
        v = cr.sin(x) * 3.0
        for k in range(5):  # a one-off region calling helpers (reductions): costly to compile, saves little
            v = v * (0.5 + 0.1 * k) + cr.reduce_sum(v)  # other constants: no step repeats another
        ys = [cr.placeholder(cr.float64, [6], name=f"y{i}") for i in range(16)]
        us = [cr.tanh(y * 2.0 + 1.0) * y - cr.square(y) for y in ys]  # equal regions, cheap and many
        fetches = [v, *us]
    feeds = {x: np.linspace(0, 1, 6), **{y: np.linspace(-1, 1, 6) + i for i, y in enumerate(ys)}}
    plan = _compare(g, fetches, feeds, NumbaBackend(max_plan_lines=100_000))
    regions = native_regions(plan.executable)
    (long,) = [r for r in regions if "Sum" in [m.op_type for m in r.members]]
    short = next(r for r in regions if r.dispatcher is not long.dispatcher and len(r.members) > 1)
    copies = sum(r.dispatcher is short.dispatcher for r in regions)
    assert copies >= 2 and long.compile_cost > short.compile_cost
    # Room for either, not both: the long one comes first in the plan, the repeated ones save more per line.
    budget = long.compile_cost + short.compile_cost // 2
    plan = _compare(g, fetches, feeds, NumbaBackend(max_plan_lines=budget))
    kept = native_regions(plan.executable)
    assert sum(r.source == short.source for r in kept) == copies
    assert all("Sum" not in [m.op_type for m in r.members] for r in kept)
    assert any("max_plan_lines" in note for note in plan.backend_notes)


def test_constant_slices_and_concats_lower_without_helpers() -> None:
    g, fetches, feeds = _cell_graph(3)
    plan = _compare(g, fetches, feeds, NumbaBackend(max_plan_lines=100_000))
    sources = "".join(r.source for r in native_regions(plan.executable))
    assert "[0:5]" in sources and "[15:20]" in sources  # gates[:b], gates[3b:] as index expressions
    assert "strided_slice_" not in sources and "concat_" not in sources
    assert "concatenate_" in sources  # NumPy's function, bound


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64, cr.int32])
def test_float_arithmetic_lowers_to_operators_with_the_kernels_dtype(dtype) -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(dtype, [7], name="x")
        y = cr.placeholder(dtype, [7], name="y")
        z = (x * y - x) + y * y - (-x)
        w = z * z + x
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    feeds = {x: np.arange(1, 8).astype(np_dtype), y: (np.arange(7) * 3 - 5).astype(np_dtype)}
    if dtype.is_floating:
        feeds = {k: v / np_dtype.type(3) for k, v in feeds.items()}
    with cr.Session(graph=g) as plain, cr.Session(graph=g, backend="numba") as native:
        want, got = plain.run(w, feeds), native.run(w, feeds)
        (plan,) = native.plans
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # the same IEEE operations: bit for bit
    (region,) = native_regions(plan.executable)
    if dtype.is_floating:
        assert " * " in region.source and "np.multiply" not in region.source and "np.add" not in region.source
    else:  # integers keep the ufuncs (their overflow and widening rules)
        assert "np.multiply" in region.source


def test_a_buffered_native_plan_is_an_exclusive_and_reentry_runs_its_fallback() -> None:
    g = cr.Graph()
    nested: list[np.ndarray] = []
    with g.as_default():
        x = cr.placeholder(cr.float64, [100, 200], name="x")

        @cr.custom_op("RunsTheNumbaSessionAgain")
        def again(v):
            if not nested:
                nested.append(None)  # type: ignore[arg-type]
                nested[0] = sess.run(y, {x: np.full((100, 200), 2.0)})
            return np.array(v, copy=True)

        h = cr.sin(x * 3.0) * x + 1.0  # large, native: written into an array the region keeps
        y = cr.sin(again(h) * 0.5) * h + h
    value = np.full((100, 200), 0.25)
    with cr.Session(graph=g, backend="numba") as sess:
        out = sess.run(y, {x: value})
        (plan,) = sess.plans
        assert isinstance(plan.executable, Exclusive) and isinstance(plan.executable.inner, NativePlan)
        assert native_regions(plan.executable) and any(r.buffers for r in native_regions(plan.executable))
        results: list[np.ndarray] = []
        threads = [threading.Thread(target=lambda: results.append(sess.run(y, {x: value}))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def expected(v):
        h = np.sin(v * 3.0) * v + 1.0
        return np.sin(h * 0.5) * h + h

    np.testing.assert_allclose(out, expected(value), rtol=1e-12)
    np.testing.assert_allclose(nested[0], expected(2.0), rtol=1e-12)
    for r in results:
        np.testing.assert_allclose(r, expected(value), rtol=1e-12)
