"""Initializers: values and statistics (fixed seeds) against TensorFlow 1.x's formulas, computed with NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.init_ops import TRUNCATED_NORMAL_STDDEV, compute_fans


def _value(init, shape, dtype=None):
    g = cr.Graph()
    with g.as_default():
        t = init(shape, dtype=dtype)
    with cr.Session(graph=g) as sess:
        return sess.run(t)


def test_truncated_normal_correction_is_the_std_of_a_unit_normal_truncated_to_two():
    # Var of N(0,1) truncated to [-2, 2]: 1 - 2*phi(2)*2 / (2*Phi(2) - 1), with phi/Phi the normal pdf/cdf.
    phi = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert TRUNCATED_NORMAL_STDDEV == pytest.approx(math.sqrt(1 - 4 * phi / mass), abs=1e-15)


def test_constant_zeros_ones():
    np.testing.assert_array_equal(_value(cr.zeros_initializer(), [2, 3]), np.zeros((2, 3), np.float32))
    ones = _value(cr.ones_initializer(dtype=cr.int64), [4])
    assert ones.dtype == np.int64 and ones.tolist() == [1, 1, 1, 1]
    np.testing.assert_array_equal(_value(cr.constant_initializer(7), [2], cr.int32), [7, 7])
    np.testing.assert_array_equal(_value(cr.constant_initializer([1, 2, 3, 4]), [2, 2]), [[1, 2], [3, 4]])
    # TensorFlow 1.x pads a short list with its last element (verify_shape=False).
    np.testing.assert_array_equal(_value(cr.constant_initializer([1, 2]), [2, 2]), [[1, 2], [2, 2]])
    with pytest.raises(ValueError, match="Too many elements provided. Needed at most 2, but received 3"):
        _value(cr.constant_initializer([1, 2, 3]), [2])
    with pytest.raises(TypeError, match=r"Expected Tensor's shape: \(3,\), got \(2,\)"):
        _value(cr.constant_initializer([1, 2], verify_shape=True), [3])
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        cr.constant_initializer({"a": 1})


def test_random_normal_uniform_and_truncated_statistics():
    v = _value(cr.random_normal_initializer(mean=1.0, stddev=2.0, seed=3), [400, 500])
    assert v.dtype == np.float32 and abs(v.mean() - 1.0) < 0.02 and abs(v.std() - 2.0) < 0.02
    u = _value(cr.random_uniform_initializer(-1.0, 3.0, seed=4, dtype=cr.float64), [200_000])
    assert u.dtype == np.float64 and u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.02
    t = _value(cr.truncated_normal_initializer(mean=0.5, stddev=2.0, seed=5), [200_000])
    assert np.all(np.abs(t - 0.5) <= 4.0) and np.abs(t - 0.5).max() > 3.9
    assert abs(t.std() - 2.0 * TRUNCATED_NORMAL_STDDEV) < 0.01 and abs(t.mean() - 0.5) < 0.02
    ints = _value(cr.random_uniform_initializer(0, 5, seed=1, dtype=cr.int32), [1000])
    assert ints.dtype == np.int32 and set(ints.tolist()) == {0, 1, 2, 3, 4}


@pytest.mark.parametrize(
    ("shape", "fans"),
    [([], (1, 1)), ([5], (5, 5)), ([3, 7], (3, 7)), ([3, 3, 16, 32], (144, 288)), ([2, 2, 2, 3, 4], (24, 32))],
)
def test_fans(shape, fans):
    assert compute_fans(shape) == fans


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform", "normal"])
def test_variance_scaling_variance_is_scale_over_fan(mode, distribution):
    shape = [3, 3, 40, 60]
    fan_in, fan_out = 9 * 40, 9 * 60
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    scale = 2.0
    v = _value(cr.variance_scaling_initializer(scale, mode, distribution, seed=11, dtype=cr.float64), shape)
    target = math.sqrt(scale / n)
    assert v.shape == tuple(shape) and abs(v.std() - target) < 0.02 * target
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        assert np.abs(v).max() <= limit and np.abs(v).max() > 0.99 * limit
    elif distribution in ("truncated_normal", "normal"):
        bound = 2 * target / TRUNCATED_NORMAL_STDDEV
        assert np.abs(v).max() <= bound and np.abs(v).max() > 0.99 * bound
    else:
        assert np.abs(v).max() > 3 * target  # untruncated: tails beyond two standard deviations


def test_glorot_and_he_are_variance_scaling():
    shape = [300, 500]
    gu = _value(cr.glorot_uniform_initializer(seed=1), shape)
    limit = math.sqrt(6.0 / 800)
    assert np.abs(gu).max() <= limit and abs(gu.std() - limit / math.sqrt(3)) < 0.01 * limit
    gn = _value(cr.glorot_normal_initializer(seed=1), shape)
    assert abs(gn.std() - math.sqrt(2.0 / 800)) < 0.01 * math.sqrt(2.0 / 800)
    he = _value(cr.initializers.he_normal(seed=2), shape)
    assert abs(he.std() - math.sqrt(2.0 / 300)) < 0.01 * math.sqrt(2.0 / 300)
    assert cr.glorot_uniform_initializer().get_config() == {"seed": None, "dtype": "float32"}
    vs = cr.variance_scaling_initializer(2.0, "fan_out", "uniform", seed=3)
    again = cr.variance_scaling_initializer.from_config(vs.get_config())
    assert again.scale == 2.0 and again.mode == "fan_out" and again.distribution == "uniform" and again.seed == 3


def test_same_seed_same_values_in_every_session_and_graph():
    a = _value(cr.glorot_uniform_initializer(seed=42), [4, 5])
    b = _value(cr.glorot_uniform_initializer(seed=42), [4, 5])
    c = _value(cr.glorot_uniform_initializer(seed=43), [4, 5])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`scale` must be positive"):
        cr.variance_scaling_initializer(0.0)
    with pytest.raises(ValueError, match="Invalid `mode` argument: 'fan'"):
        cr.variance_scaling_initializer(mode="fan")
    with pytest.raises(ValueError, match="Invalid `distribution` argument"):
        cr.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError, match="RandomNormal expects a floating dtype, got int32"):
        _value(cr.random_normal_initializer(), [2], cr.int32)
    with pytest.raises(ValueError, match="fully defined shape"):
        _value(cr.zeros_initializer(), [None, 2])


@pytest.mark.parametrize(("shape", "gain"), [([6, 4], 1.0), ([3, 7], 2.0), ([3, 3, 4, 8], 0.5), ([5, 5], 1.0)])
def test_orthogonal_initializer_gives_orthonormal_columns_or_rows(shape, gain):
    v = _value(cr.orthogonal_initializer(gain=gain, seed=3, dtype=cr.float64), shape)
    assert v.shape == tuple(shape)
    flat = v.reshape(-1, shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(gram.shape[0]), atol=1e-12)
    np.testing.assert_array_equal(v, _value(cr.orthogonal_initializer(gain=gain, seed=3, dtype=cr.float64), shape))


def test_orthogonal_initializer_is_uniform_over_signs():
    # With R's diagonal signs folded in, Q is Haar-distributed: its entries have mean 0 and variance 1/n.
    draws = np.stack([_value(cr.orthogonal_initializer(seed=s, dtype=cr.float64), [4, 4]) for s in range(300)])
    assert abs(draws.mean()) < 0.02 and abs(draws.var() - 0.25) < 0.02
    assert abs(np.mean(draws[:, 0, 0] > 0) - 0.5) < 0.1
