"""The Numba backend: native regions, fallback to NumPy kernels, the disk cache, errors, notes, random graphs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.ops import registry
from chainrule.runtime import backends

pytest.importorskip("numba")

from chainrule.backends.numba import NumbaBackend  # noqa: E402 - after the skip
from chainrule.backends.numba.backend import native_regions  # noqa: E402


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test compiles into its own cache directory (the disk cache is tested explicitly)."""
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _run_both(graph, fetches, feeds, backend="numba"):
    with cr.Session(graph=graph) as plain, cr.Session(graph=graph, backend=backend) as native:
        want = plain.run(fetches, feeds)
        got = native.run(fetches, feeds)
        (plan,) = native.plans
    return want, got, plan


def test_backend_is_found_by_name_and_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "numba" in backends.available_backends()
    assert isinstance(backends.get_backend("numba"), NumbaBackend)
    monkeypatch.setenv(backends.BACKEND_VARIABLE, "numba")
    assert cr.Session(graph=cr.Graph()).backend.name == "numba"


def test_plan_that_lowers_entirely_is_one_native_call() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [3, 4])
        w = cr.placeholder(cr.float64, [4, 2])
        b = cr.placeholder(cr.float64, [2])
        y = cr.tanh(cr.matmul(cr.sigmoid(x) * 2.0 - 1.0, w) + b)
        z = y * y + cr.exp(-y)
    feeds = {x: np.linspace(-2, 2, 12).reshape(3, 4), w: np.linspace(-1, 1, 8).reshape(4, 2), b: np.array([0.5, -0.5])}
    want, got, plan = _run_both(g, [z, y], feeds)
    for a, c in zip(want, got):
        np.testing.assert_allclose(c, a, rtol=1e-12)
    (region,) = native_regions(plan.executable)
    assert [n.op_type for n in region.members].count("MatMul") == 1
    body = [line.strip() for line in plan.source.split("# native region")[0].strip().splitlines()[1:]]
    assert len(body) == 2 and body[0].startswith("v") and "native_" in body[0] and body[1].startswith("return")
    assert plan.backend_notes == []


def test_fused_group_is_one_loop_nest_without_temporaries() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [5, 1])
        y = cr.placeholder(cr.float64, [6])
        z = cr.sin(x) * cr.cos(y) + cr.square(x - y)  # broadcast to [5, 6]
    feeds = {x: np.linspace(-1, 1, 5).reshape(5, 1), y: np.linspace(0, 3, 6)}
    want, got, plan = _run_both(g, [z], feeds)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    (region,) = native_regions(plan.executable)
    assert [n.op_type for n in region.members] == ["Fused"]
    assert region.source.count("np.empty(") == 1  # only the result is allocated
    assert "[i0, 0]" in region.source and "[i1]" in region.source  # broadcast index arithmetic


def test_fallback_op_splits_regions_and_gives_the_numpy_answer() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [4])
        a = cr.exp(cr.sin(x) * 3.0)
        (p,) = cr.py_func(lambda v: v[::-1].copy(), [a], [cr.float64])
        p.set_shape([4])
        r = cr.random_uniform([4], seed=3, dtype=cr.float64)
        y = cr.tanh(p + a) * r + cr.cos(p)
    want, got, plan = _run_both(g, [y], {x: np.linspace(0, 1, 4)})
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    regions = native_regions(plan.executable)
    assert len(regions) == 2
    kinds = [n.op_type for region in regions for n in region.members]
    assert "PyFunc" not in kinds and "RandomUniform" not in kinds


def test_a_long_region_is_split_with_a_note() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [1, 3])
        w = cr.placeholder(cr.float64, [3, 3])
        y = x
        for i in range(6):
            y = cr.matmul(cr.sin(y + float(i)), w) * 0.1
    with cr.Session(graph=g) as plain, cr.Session(graph=g, backend=NumbaBackend(max_region_lines=12)) as native:
        feeds = {x: np.ones((1, 3)), w: np.eye(3) + 0.5}
        want = plain.run(y, feeds)
        got = native.run(y, feeds)
        (plan,) = native.plans
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert any("split after" in note and "MAX_REGION_LINES" in note for note in plan.backend_notes)
    assert "# backend note: native region 1 split after" in plan.source


def _raising_op():
    """A custom op whose kernel and native lowering both reject negative inputs."""
    import numba

    @numba.njit
    def checked(x):
        for v in x.ravel():
            if v < 0:
                raise ValueError("negative input")
        return np.sqrt(x)

    def kernel(xp, x):
        if np.any(x < 0):
            raise ValueError("CheckedSqrt: negative input")
        return np.sqrt(x)

    name = "NumbaTestCheckedSqrt"
    if registry.find_op_def(name) is None:
        registry.register_op(
            name,
            kernel,
            lambda inputs: [(inputs[0].dtype, inputs[0].shape)],
            None,
            lower={"numba": lambda lw, node, args: f"{lw.bind('checked', checked)}({args[0]})"},
        )
    return name


def test_error_in_native_code_names_the_op_and_the_users_line() -> None:
    op_type = _raising_op()
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [3])
        y = registry.apply_op(op_type, [cr.sin(x) * 2.0], name="checked_root").outputs[0]  # the line named
        z = cr.exp(y)
    with cr.Session(graph=g, backend="numba") as sess:
        np.testing.assert_allclose(
            sess.run(z, {x: np.array([0.5, 1.0, 1.5])}), np.exp(np.sqrt(np.sin([0.5, 1, 1.5]) * 2))
        )
        assert any(op_type in [n.op_type for n in r.members] for r in native_regions(sess.plans[0].executable))
        with pytest.raises(cr.errors.InvalidArgumentError, match="negative input") as info:
            sess.run(z, {x: np.array([0.5, -1.0, 1.5])})
    message = str(info.value)
    assert "checked_root" in message and "test_numba_backend.py" in message


def test_numpy_floating_point_warnings_are_not_raised_in_native_code() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [2])
        y = cr.log(x) * 2.0
    with cr.Session(graph=g, backend="numba") as sess:
        np.testing.assert_array_equal(sess.run(y, {x: np.array([0.0, 1.0])}), [-np.inf, 0.0])


def test_disk_cache_is_reused_by_a_fresh_process(private_cache: Path) -> None:
    script = textwrap.dedent(
        """
        import numpy as np, chainrule as cr
        g = cr.Graph()
        with g.as_default():
            x = cr.placeholder(cr.float64, [7])
            y = cr.tanh(cr.sin(x) * 3.0 + 1.0) * cr.exp(-x)
        with cr.Session(graph=g, backend="numba") as sess:
            value = sess.run(y, {x: np.linspace(0, 1, 7)})
            (region,) = sess.plans[0].executable.regions
            print(sum(region.dispatcher.stats.cache_hits.values()), region.where)
        np.testing.assert_allclose(value, np.tanh(np.sin(np.linspace(0, 1, 7)) * 3 + 1) * np.exp(-np.linspace(0, 1, 7)))
        """
    )
    env = {**os.environ, "CHAINRULE_CACHE_DIR": str(private_cache)}
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    (first_hits, first_file), (second_hits, second_file) = (run.stdout.split() for run in runs)
    assert first_hits == "0" and int(second_hits) >= 1
    assert first_file == second_file and first_file.startswith(str(private_cache))


def test_importing_chainrule_does_not_import_numba() -> None:
    code = "import sys, chainrule; assert 'numba' not in sys.modules; print('ok')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_missing_numba_names_the_extra() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["numba"] = None  # as if not installed
        import chainrule as cr
        try:
            cr.Session(graph=cr.Graph(), backend="numba")
        except ImportError as e:
            print(e)
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "pip install 'chainrule[fast]'" in run.stdout, run.stdout + run.stderr


SHAPES = [(3, 4), (3, 1), (1, 4), (4,), ()]
UNARY = [cr.sin, cr.tanh, cr.sigmoid, cr.negative, cr.square, cr.exp, lambda t: cr.log(cr.square(t) + 1.0)]
BINARY = [cr.add, cr.subtract, cr.multiply, lambda a, b: a / (cr.square(b) + 1.0), cr.maximum]
step = st.tuples(st.integers(0, 4), st.integers(0, 100), st.integers(0, 100))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3), steps=st.lists(step, min_size=1, max_size=10))
def test_random_graphs_agree_with_numpy_backend(shapes, steps):
    """Random DAGs of elementwise, broadcasting, reduction and matmul ops, and their gradients."""
    graph = cr.Graph()
    rng = np.random.default_rng(len(steps))
    with graph.as_default():
        xs = [cr.placeholder(cr.float64, s, name=f"x{i}") for i, s in enumerate(shapes)]
        values = list(xs)
        for kind, i, j in steps:
            a, b = values[i % len(values)], values[j % len(values)]
            if kind == 0:
                values.append(UNARY[i % len(UNARY)](a))
            elif kind == 1:
                values.append(BINARY[j % len(BINARY)](a, b))
            elif kind == 2 and a.shape.rank:
                values.append(cr.reduce_sum(a, axis=-1, keepdims=bool(j % 2)))
            elif kind == 3 and a.shape.rank == 2:
                values.append(cr.matmul(a, a, transpose_b=True) * 0.25)
            else:
                values.append(cr.reduce_mean(a) * b)
        out = values[-1]
        total = cr.reduce_sum(out * out)
        grads = [gr for gr in cr.gradients(total, xs) if gr is not None]
        fetches = [out, total, *grads]
    feed = {x: rng.uniform(-1.5, 1.5, size=x.shape.as_list()) for x in xs}
    want, got, _ = _run_both(graph, fetches, feed)
    for a, b in zip(want, got):
        assert np.asarray(a).dtype == np.asarray(b).dtype and np.shape(a) == np.shape(b)
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * max(1.0, float(np.max(np.abs(a)))))


def test_compile_budget_leaves_the_rest_of_a_plan_to_numpy_with_a_note() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [1, 3])
        w = cr.placeholder(cr.float64, [3, 3])
        y = x
        for i in range(6):
            y = cr.matmul(cr.sin(y + float(i)), w) * 0.1
    backend = NumbaBackend(max_region_lines=12, max_plan_lines=100)  # a matmul helper call counts 40
    with cr.Session(graph=g) as plain, cr.Session(graph=g, backend=backend) as native:
        feeds = {x: np.ones((1, 3)), w: np.eye(3) + 0.5}
        want = plain.run(y, feeds)
        got = native.run(y, feeds)
        (plan,) = native.plans
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert 1 <= len(native_regions(plan.executable)) < 6
    assert any("run on NumPy" in note and "max_plan_lines" in note for note in plan.backend_notes)


def _scan_graph(body_extra=None):
    g = cr.Graph()
    with g.as_default():
        y0 = cr.placeholder(cr.float64, [14])
        w = cr.placeholder(cr.float64, [14])
        xs = cr.placeholder(cr.float64, [1000, 14])

        def step(y, x):
            z = cr.tanh(y * w + x * 0.01)
            return body_extra(z) if body_extra is not None else z

        ys = cr.scan(step, xs, initializer=y0)
        loss = cr.reduce_sum(ys[-1] * ys[-2])
        (gw,) = cr.gradients(loss, [w])
    feeds = {y0: np.zeros(14), w: np.linspace(-1, 1, 14), xs: np.random.default_rng(0).uniform(-1, 1, (1000, 14))}
    return g, [loss, gw, ys], feeds


def test_scan_whose_body_lowers_runs_all_iterations_in_one_native_function() -> None:
    from chainrule.backends.numba.loops import NativeLoop

    g, fetches, feeds = _scan_graph()
    with cr.Session(graph=g) as plain, cr.Session(graph=g, backend="numba") as native:
        want = plain.run(fetches, feeds)
        got = native.run(fetches, feeds)
        loops = native.run_state.loop_functions()
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    assert len(loops) == 2 and all(isinstance(loop, NativeLoop) for loop in loops)  # forward and backward
    assert all("while count != limit:" in loop.source for loop in loops)


def test_loop_with_a_fallback_op_runs_the_python_loop() -> None:
    from chainrule.backends.numba.loops import NativeLoop

    def reverse(z):
        (r,) = cr.py_func(lambda v: v[::-1].copy(), [z], [cr.float64])
        r.set_shape([14])
        return r

    g, fetches, feeds = _scan_graph(reverse)
    with cr.Session(graph=g) as plain, cr.Session(graph=g, backend="numba") as native:
        want = plain.run(fetches[::2], feeds)
        got = native.run(fetches[::2], feeds)
        loops = native.run_state.loop_functions()
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    assert loops and not any(isinstance(loop, NativeLoop) for loop in loops)


def test_error_in_a_native_loop_names_the_op_and_the_users_line() -> None:
    from chainrule.backends.numba.loops import NativeLoop

    op_type = _raising_op()
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [3])
        _, y = cr.while_loop(
            lambda i, v: i < 4,
            lambda i, v: (i + 1, registry.apply_op(op_type, [v - 1.5], name="root_in_loop").outputs[0] + v),  # named
            [cr.constant(0), x],
        )
    with cr.Session(graph=g, backend="numba") as sess:
        assert sess.run(y, {x: np.array([2.0, 3.0, 4.0])}).shape == (3,)
        (loop,) = sess.run_state.loop_functions()
        assert isinstance(loop, NativeLoop)
        with pytest.raises(cr.errors.InvalidArgumentError, match="negative input") as info:
            sess.run(y, {x: np.array([2.0, 0.5, 4.0])})
    assert "root_in_loop" in str(info.value) and "test_numba_backend.py" in str(info.value)


def test_in_process_cache_of_native_functions_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from chainrule.backends.numba import cache

    monkeypatch.setenv(cache.SIZE_VARIABLE, "2")
    modules = []
    for k in range(3):
        g = cr.Graph()
        with g.as_default():
            x = cr.placeholder(cr.float64, [k + 2])
            y = cr.sin(x) * float(k) + cr.cos(x)
        with cr.Session(graph=g, backend="numba") as sess:
            ones = np.ones(k + 2)
            np.testing.assert_allclose(sess.run(y, {x: ones}), np.sin(ones) * k + np.cos(ones))
            (region,) = native_regions(sess.plans[0].executable)
            modules.append(region.dispatcher.py_func.__module__)
    assert len(cache._FUNCTIONS) <= 2  # noqa: SLF001 - the bound under test
    assert modules[0] not in sys.modules and modules[2] in sys.modules


def test_large_results_of_numpy_ops_between_regions_use_kept_buffers_safely() -> None:
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [200, 300])
        a = cr.sin(x) * 2.0 + 1.0  # native (no SIMD function): opens a region
        b = cr.exp(x * 0.5) + 1.0  # NumPy (exp over many elements), between the region's members
        c = cr.tanh(b) * 3.0  # NumPy
        d = a * c + cr.square(a - b)  # native: the region's call comes here, reading a, b and c
        f = cr.exp(d * 0.1)  # NumPy, after the region: into a kept buffer
        e = cr.log(f * f + 1.0) - a
        fetches = [e, a, c, d]  # fetched values end fused groups
    with cr.Session(graph=g) as plain, cr.Session(graph=g, backend="numba") as native:
        for k in range(3):
            value = np.linspace(-1, 1 + k, 60_000).reshape(200, 300)
            for got, want in zip(native.run(fetches, {x: value}), plain.run(fetches, {x: value})):
                np.testing.assert_allclose(got, want, rtol=1e-12)
        (plan,) = native.plans
    (region,) = native_regions(plan.executable)
    assert len(region.members) == 2 and "buf_" in plan.source


def test_a_region_too_small_for_a_native_call_runs_on_numpy_with_a_note() -> None:
    g = cr.Graph()
    with g.as_default():
        xs = [cr.placeholder(cr.float64, [4]) for _ in range(2)]
        y = xs[0] * xs[1]  # one ufunc call reading 2 arrays: cheaper than a native call
    feeds = {x: np.full(4, float(i)) for i, x in enumerate(xs)}
    want, got, plan = _run_both(g, [y], feeds)
    np.testing.assert_allclose(got[0], want[0])
    assert native_regions(plan.executable) == []
    assert any("small native regions" in note for note in plan.backend_notes)


def test_cached_regions_keep_their_own_helpers_across_processes(private_cache: Path) -> None:
    # A region on disk holds its helpers' machine code under the symbol names of the process that
    # compiled it. Two helpers of one name (a sum's helper for two shapes) must not link to each
    # other when one is compiled here and the other's region is loaded from the cache: the first
    # process caches shape (3, 4)'s plan; the second compiles (5, 7)'s, then loads (3, 4)'s.
    script = textwrap.dedent(
        """
        import sys
        import numpy as np, chainrule as cr
        for shape in [tuple(int(d) for d in s.split("x")) for s in sys.argv[1:]]:
            g = cr.Graph()
            with g.as_default():
                x = cr.placeholder(cr.float64, shape)
                y = cr.reduce_sum(cr.tanh(x) * 2.0 + x, axis=1)
                dx, = cr.gradients(cr.reduce_sum(y * y), [x])
            value = np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape)
            with cr.Session(graph=g, backend="numba") as sess:
                got_y, got_dx = sess.run([y, dx], {x: value})
            want_y = (np.tanh(value) * 2.0 + value).sum(axis=1)
            want_dx = 2.0 * want_y[:, None] * (2.0 * (1.0 - np.tanh(value) ** 2) + 1.0)
            np.testing.assert_allclose(got_y, want_y, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(got_dx, want_dx, rtol=1e-12, atol=1e-12)
        """
    )
    env = {**os.environ, "CHAINRULE_CACHE_DIR": str(private_cache)}
    for shapes in (["3x4"], ["5x7", "3x4"]):
        run = subprocess.run([sys.executable, "-c", script, *shapes], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-3000:]
