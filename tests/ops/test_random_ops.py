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


# --- TensorFlow 1.x's other random ops and top-level names --------------------------------------
def test_top_level_names_are_the_random_ops():
    assert cr.random_normal is cr.random.normal and cr.random_uniform is cr.random.uniform
    assert cr.set_random_seed is cr.random.set_seed and cr.random_shuffle is cr.random.shuffle
    assert cr.truncated_normal is cr.random.truncated_normal and cr.multinomial is cr.random.multinomial


def test_truncated_normal_bounds_and_statistics():
    y = cr.truncated_normal([200_000], mean=1.0, stddev=3.0, seed=1)
    with cr.Session() as sess:
        v = sess.run(y).astype(np.float64)
    assert np.all(np.abs(v - 1.0) <= 6.0) and np.abs(v - 1.0).max() > 5.9
    # The std of N(0, 1) truncated to [-2, 2] is 0.8796 (init_ops.TRUNCATED_NORMAL_STDDEV).
    assert abs(v.std() - 3.0 * 0.87962566103423978) < 0.02 and abs(v.mean() - 1.0) < 0.02


def test_shuffle_permutes_the_first_dimension_freshly_each_run():
    x = np.arange(20.0).reshape(10, 2)
    y = cr.random_shuffle(x, seed=3)
    with cr.Session() as sess:
        a, b = sess.run(y), sess.run(y)
    for v in (a, b):
        np.testing.assert_array_equal(v[:, 1] - v[:, 0], 1)  # rows move whole
        np.testing.assert_array_equal(np.sort(v[:, 0]), x[:, 0])
    assert not np.array_equal(a, b)
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), a)  # seeded: the same sequence again


def test_multinomial_frequencies_follow_the_softmax():
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 1e-30]]))
    y = cr.multinomial(cr.constant(logits), 50_000, seed=7)
    c = cr.random.categorical(logits, 3, dtype=cr.int32)
    with cr.Session() as sess:
        v, cv = sess.run([y, c])
    assert v.dtype == np.int64 and v.shape == (2, 50_000) and cv.dtype == np.int32 and cv.shape == (2, 3)
    for row, probs in zip(v, [[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]]):
        freq = np.bincount(row, minlength=3) / row.size
        np.testing.assert_allclose(freq, probs, atol=0.01)
    ninf = cr.multinomial([[-np.inf, 0.0]], 100)
    with cr.Session() as sess:
        assert np.all(sess.run(ninf) == 1)  # a -inf logit is never drawn
    n = cr.placeholder(cr.int32, [])
    dyn = cr.multinomial(cr.zeros([4, 2]), n)
    assert dyn.shape.as_list() == [4, None]
    with cr.Session() as sess:
        assert sess.run(dyn, {n: 5}).shape == (4, 5)


def _graph_with_branch_op(seed):
    g = cr.Graph()
    with g.as_default():
        if seed is not None:
            cr.set_random_seed(seed)
        outer = cr.random_uniform([4], name="random_uniform")
        pred = cr.placeholder_with_default(True, [])
        inner = cr.cond(pred, lambda: cr.random_uniform([4], name="random_uniform"), lambda: cr.zeros([4]))
        _, drawn = cr.while_loop(
            lambda i, acc: i < 3,
            lambda i, acc: (i + 1, cr.concat([acc, cr.random_uniform([1], name="random_uniform")], 0)),
            [0, cr.zeros([0])],
            shape_invariants=[cr.TensorShape([]), cr.TensorShape([None])],
        )
    return g, outer, inner, drawn


@pytest.mark.parametrize("seed", [None, 5])
def test_ops_in_branches_and_loop_bodies_have_their_own_streams(seed):
    # The branch's op has the outer op's name (function graphs have their own names); it used to
    # share the outer op's stream, so the branch alone repeated the outer op's numbers.
    g, outer, inner, drawn = _graph_with_branch_op(seed)
    assert inner.op.graph is g and outer.op.name == "random_uniform"
    with cr.Session(graph=g) as sess:
        a, b, d = sess.run([outer, inner, drawn])
    with cr.Session(graph=g) as sess:
        b_alone = sess.run(inner)
    assert not np.array_equal(a, b) and len(set(d.tolist())) == 3  # each iteration draws afresh
    assert not np.array_equal(b_alone, a)
    if seed is not None:
        np.testing.assert_array_equal(b_alone, b)  # independent of what else ran
        g2, outer2, inner2, drawn2 = _graph_with_branch_op(seed)
        with cr.Session(graph=g2) as sess:
            a2, b2, d2 = sess.run([outer2, inner2, drawn2])
        np.testing.assert_array_equal(a2, a)
        np.testing.assert_array_equal(b2, b)
        np.testing.assert_array_equal(d2, d)
