"""cr.random: seeding, fresh draws per run, statistics, shapes, gradients w.r.t. the parameters."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.registry import constant_value

MAKERS = {
    "normal": lambda seed=None: cr.random.normal([1000], seed=seed),
    "uniform": lambda seed=None: cr.random.uniform([1000], seed=seed),
    "uniform_int": lambda seed=None: cr.random.uniform([1000], maxval=1 << 20, dtype=cr.int32, seed=seed),
}


@pytest.mark.parametrize("kind", MAKERS)
def test_same_seed_same_sequence_across_sessions(kind):
    y = MAKERS[kind](seed=42)
    with cr.Session() as s1:
        first = [s1.run(y) for _ in range(3)]
    with cr.Session() as s2:
        second = [s2.run(y) for _ in range(3)]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    # Successive runs in one session draw new values.
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[1], first[2])


@pytest.mark.parametrize("kind", MAKERS)
def test_unseeded_ops_differ_across_sessions(kind):
    y = MAKERS[kind]()
    with cr.Session() as s1:
        a = s1.run(y)
    with cr.Session() as s2:
        b = s2.run(y)
    assert not np.array_equal(a, b)


def test_graph_seed_makes_unseeded_ops_reproducible():
    g = cr.Graph()
    with g.as_default():
        cr.random.set_seed(7)
        a = cr.random.normal([20])
        b = cr.random.normal([20])
    with cr.Session(graph=g) as s1:
        va1, vb1 = s1.run([a, b])
    with cr.Session(graph=g) as s2:
        va2, vb2 = s2.run([a, b])
    np.testing.assert_array_equal(va1, va2)
    np.testing.assert_array_equal(vb1, vb2)
    assert not np.array_equal(va1, vb1)  # two ops, two streams


def test_one_draw_per_run_shared_by_all_consumers():
    y = cr.random.uniform([100])
    with cr.Session() as sess:
        a, b, diff = sess.run([y, y * 2.0, y - y])
    np.testing.assert_allclose(b, 2 * a)
    np.testing.assert_array_equal(diff, 0)
    assert constant_value(y) is None  # never treated as a constant


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64, cr.float16])
def test_normal_statistics(dtype):
    y = cr.random.normal([200_000], mean=3.0, stddev=2.0, dtype=dtype, seed=1)
    with cr.Session() as sess:
        v = sess.run(y)
    assert v.dtype == dtype.as_numpy_dtype and v.shape == (200_000,)
    assert abs(v.mean() - 3.0) < 0.03
    assert abs(v.astype(np.float64).std() - 2.0) < 0.03
    z = (v.astype(np.float64) - 3.0) / 2.0
    assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.01  # shape of the distribution, not just moments


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_uniform_bounds_and_statistics(dtype):
    y = cr.random.uniform([200_000], minval=-1.0, maxval=3.0, dtype=dtype, seed=2)
    with cr.Session() as sess:
        v = sess.run(y)
    assert v.dtype == dtype.as_numpy_dtype
    assert v.min() >= -1.0 and v.max() < 3.0
    assert abs(v.mean() - 1.0) < 0.02
    assert abs(v.var() - 16 / 12) < 0.02
    counts, _ = np.histogram(v, bins=8, range=(-1, 3))
    assert counts.min() > 0.95 * len(v) / 8


def test_uniform_default_is_unit_interval():
    with cr.Session() as sess:
        v = sess.run(cr.random.uniform([50_000], seed=0))
    assert v.dtype == np.float32 and v.min() >= 0 and v.max() < 1 and abs(v.mean() - 0.5) < 0.01


@pytest.mark.parametrize("dtype", [cr.int32, cr.int64])
def test_uniform_int_bounds(dtype):
    y = cr.random.uniform([20_000], minval=-3, maxval=4, dtype=dtype, seed=3)
    with cr.Session() as sess:
        v = sess.run(y)
    assert v.dtype == dtype.as_numpy_dtype
    assert set(np.unique(v)) == set(range(-3, 4))
    counts = np.bincount(v + 3)
    assert counts.min() > 0.9 * len(v) / 7


def test_uniform_int_needs_maxval():
    with pytest.raises(ValueError, match="maxval"):
        cr.random.uniform([3], dtype=cr.int64)


def test_static_and_dynamic_shapes():
    assert cr.random.normal([2, 3]).shape.as_list() == [2, 3]
    assert cr.random.uniform((4,), dtype=cr.float64).shape.as_list() == [4]
    assert cr.random.normal(np.array([5], np.int64)).shape.as_list() == [5]
    assert cr.random.normal([]).shape.as_list() == []
    x = cr.placeholder(cr.float32, [None, 3])
    y = cr.random.normal(cr.shape(x))
    assert y.shape.as_list() == [None, 3]
    dims = cr.placeholder(cr.int32, [2])
    z = cr.random.uniform(dims, maxval=5, dtype=cr.int32)
    assert z.shape.as_list() == [None, None]
    rank_unknown = cr.placeholder(cr.int32, None)
    w = cr.random.normal(rank_unknown)
    assert w.shape.rank is None
    with cr.Session() as sess:
        vy, vz, vw = sess.run([y, z, w], {x: np.zeros((4, 3)), dims: [2, 5], rank_unknown: [1, 2, 3]})
    assert vy.shape == (4, 3) and vz.shape == (2, 5) and vw.shape == (1, 2, 3)


def test_shape_mixing_ints_and_tensors():
    x = cr.placeholder(cr.float32, [None, 3])
    y = cr.random.uniform([cr.shape(x)[0], 2])
    assert y.shape.as_list() == [None, 2]
    with cr.Session() as sess:
        assert sess.run(y, {x: np.zeros((6, 3))}).shape == (6, 2)


def test_gradients_flow_to_mean_stddev_and_bounds_only():
    mean = cr.placeholder(cr.float64, [])
    stddev = cr.placeholder(cr.float64, [])
    y = cr.random.normal([100], mean=mean, stddev=stddev, dtype=cr.float64, seed=4)
    g_mean, g_std = cr.gradients(cr.reduce_sum(y), [mean, stddev])
    lo = cr.placeholder(cr.float64, [])
    hi = cr.placeholder(cr.float64, [])
    u = cr.random.uniform([100], lo, hi, dtype=cr.float64, seed=5)
    g_lo, g_hi = cr.gradients(cr.reduce_sum(u), [lo, hi])
    feed = {mean: 1.5, stddev: 0.5, lo: -2.0, hi: 6.0}
    with cr.Session() as sess:
        vy, gm, gs, vu, gl, gh = sess.run([y, g_mean, g_std, u, g_lo, g_hi], feed)
    assert gm == pytest.approx(100)
    assert gs == pytest.approx(np.sum((vy - 1.5) / 0.5))  # d/dstddev of sum(mean + stddev z) = sum(z)
    unit = (vu + 2.0) / 8.0
    assert gh == pytest.approx(np.sum(unit))
    assert gl == pytest.approx(np.sum(1 - unit))
    shape = cr.placeholder(cr.int32, [1])
    assert cr.gradients(cr.reduce_sum(cr.random.normal(shape)), [shape]) == [None]


def test_random_ops_are_stateful_and_not_differentiable():
    from chainrule.ops.registry import get_op_def

    for op_type in ("RandomStandardNormal", "RandomUniform", "RandomUniformInt"):
        assert get_op_def(op_type).stateful
    y = cr.random.normal([3], seed=1)
    assert y.op.type == "RandomStandardNormal" and y.op.get_attr("seed") == 1


def test_ops_with_the_same_seed_repeat_each_other_as_in_tensorflow():
    a = cr.random.normal([5], seed=7, dtype=cr.float64)
    b = cr.random.normal([5], seed=7, dtype=cr.float64)
    c = cr.random.normal([5], seed=8, dtype=cr.float64)
    with cr.Session() as sess:
        va, vb, vc = sess.run([a, b, c])
    np.testing.assert_array_equal(va, vb)
    assert not np.allclose(va, vc)
