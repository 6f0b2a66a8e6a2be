"""TensorFlow 1.x's math names: edge cases the op table does not cover (zeros, infinities, signs,
dtypes, TensorFlow's gradient conventions at the guarded points, dynamic shapes).

Numbers marked "TF" were recorded once with TensorFlow 2.21's ``tf.compat.v1`` in graph mode
(``tf1.disable_eager_execution(); tf1.Session().run(...)``), e.g.
``tf1.gradients(tf1.math.xlogy(x, y), [x, y])`` for x = [0, 0, 2], y = [0, 3, 0].
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_helpers import run

import chainrule as cr

pytestmark = pytest.mark.usefixtures("fresh_graph")


# --- the *_no_nan ops, xlogy, xdivy at their guarded points -----------------------------------------
def test_xlogy_and_xdivy_values_and_gradients_at_zeros_match_tensorflow():
    x, y = cr.constant([0.0, 0.0, 2.0]), cr.constant([0.0, 3.0, 0.0])
    z = cr.xlogy(x, y)
    got = run([z, *cr.gradients(z, [x, y])])
    # TF: xlogy = [0, 0, -inf], d/dx = [0, 0, -inf], d/dy = [0, 0, inf]
    np.testing.assert_array_equal(got, [[0.0, 0.0, -np.inf], [0.0, 0.0, -np.inf], [0.0, 0.0, np.inf]])
    z = cr.xdivy(x, y)
    got = run([z, *cr.gradients(z, [x, y])])
    # TF: xdivy = [0, 0, inf], d/dx = [0, 0, inf], d/dy = [0, 0, -inf]
    np.testing.assert_array_equal(got, [[0.0, 0.0, np.inf], [0.0, 0.0, np.inf], [0.0, 0.0, -np.inf]])


def test_div_no_nan_is_zero_with_a_zero_gradient_where_the_divisor_is_zero():
    y, x = cr.constant([0.0, 0.0, 2.0]), cr.constant([0.0, 3.0, 0.0])
    z = cr.div_no_nan(x, y)
    value, gx, gy = run([z, *cr.gradients(z, [x, y])])
    # TF: div_no_nan = [0, 0, 0], d/dx = [0, 0, 0.5], d/dy = [0, 0, -0]
    np.testing.assert_array_equal(value, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.5])
    np.testing.assert_array_equal(gy, [0.0, 0.0, 0.0])
    inf_over_zero = cr.div_no_nan(cr.constant([np.inf, np.nan]), cr.constant([0.0, 0.0]))
    np.testing.assert_array_equal(run(inf_over_zero), [0.0, 0.0])


def test_mul_no_nan_is_zero_even_for_inf_times_zero():
    # TF (tf1.math.multiply_no_nan): [0, 2]
    np.testing.assert_array_equal(run(cr.mul_no_nan(cr.constant([np.inf, 1.0]), cr.constant([0.0, 2.0]))), [0.0, 2.0])
    np.testing.assert_array_equal(run(cr.math.multiply_no_nan(cr.constant([np.nan]), cr.constant([0.0]))), [0.0])


def test_second_order_through_xlogy_is_finite_and_matches_the_closed_form():
    x = cr.constant([0.5, 1.5])
    y = cr.constant([2.0, 0.7])
    (gy,) = cr.gradients(cr.reduce_sum(cr.xlogy(x, y)), [y])
    (gyy,) = cr.gradients(cr.reduce_sum(gy), [y])
    np.testing.assert_allclose(run(gyy), -np.array([0.5, 1.5]) / np.array([2.0, 0.7]) ** 2, rtol=1e-6)


# --- division flavours --------------------------------------------------------------------------
def test_truncating_division_and_remainder_take_the_sign_of_the_dividend():
    x, y = cr.constant([-7, 7, -8, 7]), cr.constant([2, -2, 3, 2])
    np.testing.assert_array_equal(run(cr.truncatediv(x, y)), [-3, -3, -2, 3])
    np.testing.assert_array_equal(run(cr.truncatemod(x, y)), [-1, 1, -2, 1])
    # Their identity: x == truncatediv(x, y) * y + truncatemod(x, y).
    np.testing.assert_array_equal(run(cr.truncatediv(x, y) * y + cr.truncatemod(x, y)), run(x))
    # TF: truncatediv([-7.5, 7], [2, -2]) = [-3, -3]; truncatemod = [-1.5, 1]
    xf, yf = cr.constant([-7.5, 7.0]), cr.constant([2.0, -2.0])
    np.testing.assert_array_equal(run(cr.truncatediv(xf, yf)), [-3.0, -3.0])
    np.testing.assert_array_equal(run(cr.truncatemod(xf, yf)), [-1.5, 1.0])


def test_truncating_division_of_large_int64_is_exact():
    big = np.array([2**62 + 1, -(2**62) - 3], np.int64)
    got = run(cr.truncatediv(cr.constant(big), cr.constant(np.array([3, 3], np.int64))))
    np.testing.assert_array_equal(got, [(2**62 + 1) // 3, -((2**62 + 3) // 3)])


def test_div_is_python2_division_and_truediv_casts_integers_as_tensorflow():
    np.testing.assert_array_equal(run(cr.div(cr.constant([-7, 7]), cr.constant([2, 2]))), [-4, 3])
    np.testing.assert_array_equal(run(cr.div(cr.constant([-7.0]), cr.constant([2.0]))), [-3.5])
    # TF: truediv of int8/int16/uint8 is float32, of int32/int64 float64.
    for dtype, want in [
        (cr.int8, cr.float32),
        (cr.int16, cr.float32),
        (cr.uint8, cr.float32),
        (cr.int32, cr.float64),
        (cr.int64, cr.float64),
    ]:
        z = cr.truediv(cr.constant([3], dtype), cr.constant([2], dtype))
        assert z.dtype == want
        assert run(z).dtype == want.as_numpy_dtype
        np.testing.assert_array_equal(run(z), [1.5])
    assert cr.divide(cr.constant([1], cr.int16), 2).dtype == cr.float32
    assert (cr.constant([1], cr.int32) / 2).dtype == cr.float64


def test_floor_div_floors_floats_too():
    np.testing.assert_array_equal(run(cr.floor_div(cr.constant([-7.0, 7.0]), cr.constant([2.0, 2.0]))), [-4.0, 3.0])


def test_tf1_arg_max_and_arg_min_take_dimension():
    m = cr.constant([[1.0, -2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(run(cr.arg_max(m, 1)), [0, 1])  # TF
    np.testing.assert_array_equal(run(cr.arg_min(m, dimension=0)), [0, 0])
    assert cr.arg_max(m, 0).dtype == cr.int64


def test_where_with_one_argument_gives_coordinates_with_an_unknown_count():
    c = cr.placeholder(cr.bool, [2, 3])
    idx = cr.where(c)
    assert idx.shape.as_list() == [None, 2] and idx.dtype == cr.int64
    value = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(run(idx, {c: value}), np.argwhere(value))
    assert run(cr.where(c), {c: np.zeros((2, 3), bool)}).shape == (0, 2)
    with pytest.raises(ValueError, match="both x and y, or neither"):
        cr.where(c, 1.0)


def test_math_namespace_has_tensorflows_names():
    for name in ["xlogy", "xdivy", "divide_no_nan", "multiply_no_nan", "truediv", "floordiv", "mod", "top_k"]:
        assert callable(getattr(cr.math, name)), name
    assert cr.math.segment_sum is cr.segment_sum and cr.math.reduce_any is cr.reduce_any


# --- reductions -----------------------------------------------------------------------------------
def test_reduce_all_and_any_accept_the_tf1_keywords_and_need_bool():
    x = cr.constant([[True, False], [True, True]])
    np.testing.assert_array_equal(run(cr.reduce_all(x, reduction_indices=1, keep_dims=True)), [[False], [True]])
    np.testing.assert_array_equal(run(cr.reduce_any(x, axis=0)), [True, True])
    assert run(cr.reduce_all(cr.constant(np.zeros((0,), bool)))) == np.True_
    with pytest.raises(cr.errors.InvalidDTypeError, match="All.*bool"):
        cr.reduce_all(cr.constant([1.0]))


def test_count_nonzero_is_int64_by_default_as_tensorflow():
    z = cr.count_nonzero(cr.constant([[0, 1], [2, 0]]), axis=0)
    assert z.dtype == cr.int64
    np.testing.assert_array_equal(run(z), [1, 1])  # TF
    assert run(cr.count_nonzero(input=cr.constant(np.array([0.0, -0.0, 1e-300])))) == 1


def test_cumsum_exclusive_reverse_matches_tensorflow():
    # TF: cumsum([1, 2, 3], exclusive=True, reverse=True) = [5, 3, 0]
    np.testing.assert_array_equal(run(cr.cumsum(cr.constant([1.0, 2.0, 3.0]), exclusive=True, reverse=True)), [5, 3, 0])
    np.testing.assert_array_equal(run(cr.cumprod(cr.constant([1.0, 2.0, 3.0]), exclusive=True)), [1, 1, 2])


def test_linspace_cross_and_tensor_diag_give_tensorflows_values():
    # Recorded once from TensorFlow 2.21 compat.v1: tf.linspace(-1., 1., 7), tf.linspace(0.1, 2.3, 6) (float32),
    # tf.cross([[1., 2, 3]], [[4., 5, 6]]) and the shape of tf.diag([[1., 2], [3, 4]]).
    with cr.Session() as sess:
        a, b, c, d = sess.run(
            [cr.linspace(-1.0, 1.0, 7), cr.linspace(0.1, 2.3, 6), cr.cross([[1.0, 2, 3]], [[4.0, 5, 6]]),
             cr.diag([[1.0, 2], [3, 4]])]
        )  # fmt: skip
    assert a.dtype == b.dtype == np.float32
    np.testing.assert_array_equal(
        a,
        np.float32([-1.0, -0.6666666269302368, -0.3333333134651184, 0.0, 0.3333333730697632, 0.6666667461395264, 1.0]),
    )
    np.testing.assert_array_equal(
        b,
        np.float32([0.10000000149011612, 0.5400000214576721, 0.9800000190734863, 1.4199999570846558,
                    1.8600000143051147, 2.299999952316284]),
    )  # fmt: skip
    np.testing.assert_array_equal(c, [[-3.0, 6.0, -3.0]])
    assert d.shape == (2, 2, 2, 2) and d[1, 0, 1, 0] == 3.0 and d[0, 1, 1, 0] == 0.0
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(cr.mod([22.0, -22.0], 5.0)), np.float32([2.0, 3.0]))  # floor mod
