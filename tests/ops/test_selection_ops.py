"""top_k, boolean_mask, clipping by norm and tf.norm: TensorFlow's conventions the op table does not
reach (ties, dynamic shapes, zero norms, infinite norms, the matrix 2-norm's limits).

Numbers marked "TF" were recorded once with TensorFlow 2.21's ``tf.compat.v1`` in graph mode.
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_helpers import run

import chainrule as cr

pytestmark = pytest.mark.usefixtures("fresh_graph")


# --- top_k ----------------------------------------------------------------------------------------
def test_top_k_ties_come_lower_index_first_and_gradients_follow_them():
    x = cr.constant([[1.0, 3.0, 3.0, 2.0, 3.0]])
    values, indices = cr.nn.top_k(x, 3)
    got = run(cr.nn.top_k(x, 3))
    np.testing.assert_array_equal(got.indices, [[1, 2, 4]])  # TF
    np.testing.assert_array_equal(got.values, [[3.0, 3.0, 3.0]])
    assert indices.dtype == cr.int32 and values.shape.as_list() == [1, 3]
    (g,) = cr.gradients(values, [x], grad_ys=[cr.constant([[1.0, 10.0, 100.0]])])
    np.testing.assert_array_equal(run(g), [[0.0, 1.0, 10.0, 0.0, 100.0]])


def test_top_k_with_a_placeholder_k_has_an_unknown_last_dim():
    k = cr.placeholder(cr.int32, [])
    x = cr.placeholder(cr.float64, [2, 4])
    out = cr.nn.top_k(x, k)
    assert out.values.shape.as_list() == [2, None]
    value = np.array([[4.0, 1.0, 3.0, 2.0], [0.0, -1.0, 5.0, 6.0]])
    np.testing.assert_array_equal(run(out.values, {x: value, k: 2}), [[4.0, 3.0], [6.0, 5.0]])
    with pytest.raises(cr.errors.InvalidArgumentError, match="at least k = 5"):
        run(out.values, {x: value, k: 5})


# --- boolean_mask ---------------------------------------------------------------------------------
def test_boolean_mask_with_a_placeholder_mask_has_tensorflows_static_shape_and_scatters_gradients():
    x = cr.placeholder(cr.float64, [2, 3, 4])
    m = cr.placeholder(cr.bool, [2, 3])
    y = cr.boolean_mask(x, m)
    assert y.shape.as_list() == [None, 4]  # TF: (None, 4)
    xv = np.arange(24.0).reshape(2, 3, 4)
    mv = np.array([[True, False, True], [False, True, True]])
    np.testing.assert_array_equal(run(y, {x: xv, m: mv}), xv[mv])
    (g,) = cr.gradients(cr.reduce_sum(y * y), [x])
    np.testing.assert_array_equal(run(g, {x: xv, m: mv}), 2 * xv * mv[..., None])


def test_boolean_mask_on_unknown_dims_along_an_axis():
    x = cr.placeholder(cr.float64, [None, None, None])
    y = cr.boolean_mask(x, cr.constant([[True, False], [True, True]]), axis=1)
    assert y.shape.rank == 2
    xv = np.arange(12.0).reshape(3, 2, 2)
    np.testing.assert_array_equal(run(y, {x: xv}), xv.reshape(3, 4)[:, [0, 2, 3]])


# --- clipping -------------------------------------------------------------------------------------
def test_clip_by_global_norm_matches_tensorflow_and_keeps_none():
    a, b = cr.constant([3.0, 4.0]), cr.constant([[12.0]])
    clipped, norm = cr.clip_by_global_norm([a, None, b], 6.5)
    assert clipped[1] is None
    got_a, got_b, got_norm = run([clipped[0], clipped[2], norm])
    # TF: ([1.5, 2], [[6]]), 13
    np.testing.assert_allclose(got_a, [1.5, 2.0])
    np.testing.assert_allclose(got_b, [[6.0]])
    assert got_norm == 13.0


def test_clip_by_global_norm_of_an_infinite_norm_is_nan_as_tensorflow():
    clipped, norm = cr.clip_by_global_norm([cr.constant([np.inf, 1.0])], 1.0)
    assert np.isinf(run(norm))
    assert np.all(np.isnan(run(clipped[0])))
    clipped, _ = cr.clip_by_global_norm([cr.constant([3.0, 4.0])], 1.0, use_norm=cr.constant(10.0))
    np.testing.assert_allclose(run(clipped[0]), [0.3, 0.4])


def test_clip_by_norm_of_zeros_has_a_finite_gradient_not_nan():
    # Inside the ball clip_by_norm is the identity; the guarded sqrt keeps nan out at 0.
    t = cr.constant([0.0, 0.0])
    (g,) = cr.gradients(cr.reduce_sum(cr.clip_by_norm(t, 1.0)), [t])
    np.testing.assert_array_equal(run(g), [1.0, 1.0])


# --- norm -----------------------------------------------------------------------------------------
M = np.array([[1.0, -2.0], [3.0, 4.0]])


@pytest.mark.parametrize(
    ("order", "matrix", "vector"),
    # TF: tf.norm(M, ord, axis=[0, 1]) and tf.norm(M, ord)
    [("euclidean", 5.477225575051661, 5.477225575051661), (1, 6.0, 10.0), (2, 5.116672736016927, 5.477225575051661)]
    + [(np.inf, 7.0, 4.0), ("fro", 5.477225575051661, None)],
)
def test_norm_matches_tensorflow(order, matrix, vector):
    np.testing.assert_allclose(run(cr.norm(M, ord=order, axis=[0, 1])), matrix, rtol=1e-12)
    if vector is not None:
        np.testing.assert_allclose(run(cr.norm(M, ord=order)), vector, rtol=1e-12)
    np.testing.assert_allclose(run(cr.norm(M, ord=3)), 4.641588833612778, rtol=1e-12)  # TF


def test_matrix_2_norm_is_differentiable_once_and_says_so_beyond():
    x = cr.constant(M)
    (g,) = cr.gradients(cr.norm(x, ord=2, axis=[0, 1]), [x])
    u, _, vh = np.linalg.svd(M)
    np.testing.assert_allclose(run(g), np.outer(u[:, 0], vh[0]), rtol=1e-10)
    with pytest.raises(NotImplementedError, match="singular vectors.*differentiable once"):
        cr.gradients(cr.reduce_sum(g), [x])


def test_norm_keep_dims_alias_and_batched_matrix_norms():
    x = cr.constant(np.arange(24.0).reshape(2, 3, 4) - 10)
    y = cr.norm(x, ord=1, axis=[1, 2], keep_dims=True)
    assert y.shape.as_list() == [2, 1, 1]
    np.testing.assert_allclose(run(y)[:, 0, 0], np.linalg.norm(run(x), ord=1, axis=(1, 2)))
