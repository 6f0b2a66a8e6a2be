"""Plans: cached per signature, generated code, buffers released after their last use, no growth, errors."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

MODES = {
    "optimized": True,
    "as-written": False,
    "interpreted": compiler.Options(passes=(), codegen=False),
    "optimized-interpreted": compiler.Options(codegen=False),
}


@pytest.fixture(params=list(MODES), ids=list(MODES))
def optimize(request):
    return MODES[request.param]


def test_one_plan_per_signature_and_the_same_answers(optimize):
    x = cr.placeholder(cr.float64, [None], name="x")
    y = cr.sin(x) * 2.0
    z = y + 1.0
    with cr.Session(optimize=optimize) as sess:
        for _ in range(3):
            np.testing.assert_allclose(sess.run(y, {x: [0.5, 1.0]}), 2 * np.sin([0.5, 1.0]))
        sess.run([y, z], {x: [0.5]})
        sess.run({"y": y, "z": [z]}, {x: [0.5]})
        sess.run(z, {y: [3.0]})  # feeding y cuts x out
        assert len(sess.plans) == 3  # [y, z] and {'y': y, 'z': [z]} fetch the same tensors
        assert sess.run(z, {y: [3.0]}) == 4.0


def test_session_optimize_flag_and_options():
    assert cr.Session().options.passes == compiler.ALL_PASSES
    assert cr.Session(optimize=False).options.passes == ()
    opts = compiler.Options(passes=("fold",))
    assert cr.Session(optimize=opts).options is opts
    assert cr.Session(config=opts).options is opts
    previous = compiler.set_default_options(False)
    try:
        assert cr.Session().options.passes == ()
    finally:
        compiler.set_default_options(previous)


def test_generated_code_is_straight_line_with_kernels_bound_ahead():
    x = cr.placeholder(cr.float64, [2, 2], name="x")
    y = cr.matmul(x, x) + cr.transpose(x)
    with cr.Session() as sess:
        sess.run(y, {x: np.eye(2)})
        (plan,) = sess.plans
    src = plan.source
    assert src.startswith("def plan(f0):")
    assert "for " not in src and "partial" not in src  # bound kernels are globals of the function
    assert "np_add(" in src  # elementwise ops call their ufunc directly


def test_fetched_arrays_are_never_reused_by_later_runs(optimize):
    x = cr.placeholder(cr.float64, [4], name="x")
    y = cr.exp(x) * 2.0 + 1.0
    with cr.Session(optimize=optimize) as sess:
        first = sess.run(y, {x: np.zeros(4)})
        second = sess.run(y, {x: np.ones(4)})
    np.testing.assert_array_equal(first, 3.0)
    assert not np.shares_memory(first, second)


def test_feeds_are_never_written_into(optimize):
    x = cr.placeholder(cr.float64, [3], name="x")
    y = -cr.exp(cr.identity(x) * 1.0)
    value = np.array([1.0, 2.0, 3.0])
    with cr.Session(optimize=optimize) as sess:
        sess.run(y, {x: value})
        out = sess.run(cr.identity(x), {x: value})
    np.testing.assert_array_equal(value, [1.0, 2.0, 3.0])
    out[0] = 9.0  # what the user gets is theirs: it may alias the feed, never a constant or state
    assert out is not None


def test_intermediate_buffers_are_released_right_after_their_last_use(optimize):
    refs: list[weakref.ref] = []
    seen: list[bool] = []

    @cr.custom_op("RecordOutput")
    def record(x):
        out = np.array(x, copy=True)
        refs.append(weakref.ref(out))
        return out

    @cr.custom_op("CheckReleased")
    def check(x):
        gc.collect()
        seen.append(refs[-1]() is None)
        return np.array(x, copy=True)

    x = cr.placeholder(cr.float64, [3], name="x")
    big = record(x)  # only `middle` reads it ...
    middle = cr.reduce_sum(big) + x
    out = check(middle)  # ... so it is gone by the time this runs
    with cr.Session(optimize=optimize) as sess:
        sess.run(out, {x: np.ones(3)})
    assert seen == [True]


def test_no_memory_growth_over_ten_thousand_runs():
    x = cr.placeholder(cr.float64, [8], name="x")
    y = cr.reduce_sum(cr.tanh(x) * cr.sin(x) + 1.0)
    (g,) = cr.gradients(y, [x])
    value = np.linspace(0, 1, 8)
    with cr.Session() as sess:
        for _ in range(200):
            sess.run([y, g], {x: value})
        gc.collect()
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            for _ in range(10_000):
                sess.run([y, g], {x: value})
            gc.collect()
            end, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert end - start < 64 * 1024, f"grew by {end - start} bytes over 10,000 runs"


def test_errors_inside_fused_kernels_name_the_op_and_line(optimize):
    x = cr.placeholder(cr.float64, [None], name="x")
    y = cr.placeholder(cr.float64, [None], name="y")
    z = cr.sin(x + y) * 2.0  # shapes only clash at run time
    with cr.Session(optimize=optimize) as sess, pytest.raises(cr.errors.InvalidArgumentError) as info:
        sess.run(z, {x: [1.0, 2.0], y: [1.0, 2.0, 3.0]})
    message = str(info.value)
    assert "(Add)" in message and "z = cr.sin(x + y) * 2.0" in message
    assert "(2,)" in message and "(3,)" in message
    assert info.value.op is z.op.inputs[0].op.inputs[0].op


def test_stateful_ops_keep_their_order(optimize):
    v = cr.Variable(1.0, name="v")
    read_then_add = [v.value() * 1.0, v.assign_add(10.0)]
    with cr.Session(optimize=optimize) as sess:
        sess.run(v.initializer)
        before, after = sess.run(read_then_add)
        assert (before, after) == (1.0, 11.0)
        assert sess.run(v) == 11.0


def test_random_ops_draw_every_run(optimize):
    r = cr.random.uniform([3], seed=7, dtype=cr.float64)
    twice = r - r  # one draw, used twice
    with cr.Session(optimize=optimize) as sess:
        a, b = sess.run(r), sess.run(r)
        np.testing.assert_array_equal(sess.run(twice), 0.0)
    assert not np.array_equal(a, b)


def test_constant_results_are_copies(optimize):
    c = cr.constant([1.0, 2.0]) * 1.0
    with cr.Session(optimize=optimize) as sess:
        first = sess.run(c)
        first[0] = 100.0
        np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])


def test_plans_run_with_other_array_modules():
    x = cr.placeholder(cr.float64, [3], name="x")
    y = cr.exp(x) * 2.0 + 1.0

    class Wrapped:  # a NumPy-compatible module that is not numpy: no direct ufunc calls
        def __getattr__(self, name):
            return getattr(np, name)

    with cr.Session(array_module=Wrapped()) as sess:
        np.testing.assert_allclose(sess.run(y, {x: np.zeros(3)}), 3.0)
        (plan,) = sess.plans
    assert "np_exp" not in plan.source


def test_a_plan_running_inside_itself_does_not_share_its_buffers():
    x = cr.placeholder(cr.float64, [100, 200], name="x")
    nested: list[np.ndarray] = []

    @cr.custom_op("RunsTheSessionAgain")
    def again(v):
        if not nested:
            nested.append(None)
            nested[0] = sess.run(y, {x: np.full((100, 200), 2.0)})
        return np.array(v, copy=True)

    h = cr.tanh(x * 3.0) + 1.0  # large: written into a buffer the plan keeps
    y = cr.exp(again(h) * 0.5) + h
    value = np.full((100, 200), 0.25)
    with cr.Session() as sess:
        out = sess.run(y, {x: value})
        (plan,) = sess.plans
    assert "buf_" in plan.source
    expected = lambda v: np.exp((np.tanh(3 * v) + 1) * 0.5) + np.tanh(3 * v) + 1  # noqa: E731
    np.testing.assert_allclose(out, expected(value), rtol=1e-12)
    np.testing.assert_allclose(nested[0], expected(2.0), rtol=1e-12)


def test_plans_of_one_session_share_their_buffers():
    x = cr.placeholder(cr.float64, [200, 300], name="x")
    y = cr.reduce_sum(cr.tanh(x * 2.0) * cr.sin(x) + 1.0)
    (g,) = cr.gradients(y, [x])
    value = np.linspace(-1, 1, 60_000).reshape(200, 300)
    with cr.Session() as sess:
        sess.run(y, {x: value})
        after_objective = sess.run_state.buffers.nbytes
        sess.run([y, g], {x: value})
        after_both = sess.run_state.buffers.nbytes
    assert after_objective > 0
    # The gradient's plan reuses the objective's arrays and adds only what it needs beyond them.
    assert after_both <= after_objective + 3 * value.nbytes


def test_deep_graphs_compile_without_recursion_limits():
    x = cr.placeholder(cr.float64, [None], name="x")
    y = x
    for i in range(1500):
        y = cr.sin(y) * cr.ones_like(y) + x if i % 3 == 0 else cr.tanh(y) * 1.0
    (g,) = cr.gradients(cr.reduce_sum(y), [x])
    value = np.linspace(0, 1, 5)
    with cr.Session() as fast, cr.Session(optimize=False) as plain:
        np.testing.assert_array_equal(fast.run(g, {x: value}), plain.run(g, {x: value}))


def test_exclusive_wraps_any_executable_and_runs_the_fallback_while_the_lock_is_taken():
    import threading

    from chainrule.runtime.plan import Exclusive, Executable

    class Recording(Executable):
        def __init__(self, name: str) -> None:
            self.name = name
            self.source = f"# {name}"
            self.backend_notes = [f"note of {name}"]
            self.runs = 0

        def run(self, feed_values):
            self.runs += 1
            return [self.name, *feed_values]

    lock = threading.Lock()
    inner, made = Recording("inner"), []

    def make_fallback() -> Executable:
        made.append(Recording("fallback"))
        return made[-1]

    wrapped = Exclusive(inner, lock, make_fallback)
    assert not isinstance(wrapped, type(inner)) and wrapped.inner is inner
    assert wrapped.source == "# inner" and wrapped.backend_notes == ["note of inner"]
    assert wrapped.run([1]) == ["inner", 1] and not made  # the fallback is made on first need only
    with lock:
        assert wrapped.run([2]) == ["fallback", 2]
        assert wrapped.run([3]) == ["fallback", 3]
    assert len(made) == 1 and made[0].runs == 2
    assert wrapped.run([4]) == ["inner", 4] and inner.runs == 2
    assert not lock.locked()


def test_the_numpy_backends_buffered_plan_is_an_exclusive_around_its_generated_function():
    from chainrule.runtime.plan import Exclusive, Generated

    x = cr.placeholder(cr.float64, [100, 200], name="x")

    @cr.custom_op("CopiesItsInput")
    def copy(v):
        return np.array(v, copy=True)

    h = cr.tanh(x * 3.0) + 1.0  # large, read by an opaque op: written into a kept buffer
    y = cr.exp(copy(h) * 0.5) + h
    with cr.Session() as sess:
        sess.run(y, {x: np.ones((100, 200))})
        (plan,) = sess.plans
    assert isinstance(plan.executable, Exclusive) and isinstance(plan.executable.inner, Generated)
    assert plan.source == plan.executable.inner.source and "buf_" in plan.source
