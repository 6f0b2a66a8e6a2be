"""Shapes and sizes (issue 12, item 8): huge shapes build lazily, malformed ones raise chainrule errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_shape_values_beyond_int32_are_int64_not_overflow():
    t = cr.zeros([2**31, 2**31])
    assert t.shape.as_list() == [2**31, 2**31]
    assert t.op.inputs[0].dtype == cr.int64


def test_shape_value_beyond_int64_is_a_clear_error():
    with pytest.raises(ValueError, match="does not fit in int64"):
        cr.zeros([2**63])


def test_reshape_to_a_huge_shape_names_the_op():
    with pytest.raises(cr.errors.InvalidArgumentError, match="(?s)Reshape.*created at"):
        cr.reshape(cr.ones([2]), [2**40, 2**40])


def test_huge_range_is_not_allocated_at_graph_construction():
    t = cr.range(0, 10**10)
    assert t.shape.as_list() == [10**10]
    small = cr.range(0.0, 1e6, 0.3)  # the float count past the exact-count limit matches NumPy's
    assert small.shape.as_list() == [len(np.arange(0.0, 1e6, 0.3))]


def test_huge_eye_is_built_lazily_and_small_eye_is_exact():
    t = cr.linalg.eye(10**12)
    assert t.shape.as_list() == [10**12, 10**12] and t.dtype == cr.float32
    with cr.Session() as sess:
        lazy = sess.run(cr.linalg.eye(300, 7, batch_shape=[2], dtype=cr.float64))
    np.testing.assert_array_equal(lazy, np.broadcast_to(np.eye(300, 7), (2, 300, 7)))
    assert lazy.dtype == np.float64


def test_negative_eye_is_a_clear_error():
    with pytest.raises(ValueError, match="eye: num_rows must be a non-negative integer"):
        cr.linalg.eye(-1)


@pytest.mark.parametrize(
    "build", [lambda: cr.one_hot([[0, 1], [1]], 3), lambda: cr.gather(cr.ones([3]), [[0, 1], [1]])]
)
def test_ragged_index_lists_are_a_clear_error(build):
    with pytest.raises(ValueError, match="indices must be a rectangular nested list"):
        build()


def test_constant_of_negative_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"constant: the requested shape \[-1\] has negative dimensions"):
        cr.constant(1.0, shape=[-1])


def test_sum_to_shape_of_higher_rank_target_names_the_op():
    with pytest.raises(cr.errors.InvalidArgumentError, match="(?s)SumToShape.*created at"):
        cr.sum_to_shape(1.5, [1])


def test_range_of_infinite_bounds_is_a_clear_error():
    with pytest.raises(cr.errors.InvalidArgumentError, match="(?s)Range.*must be finite"):
        cr.range(0.0, float("inf"))


def test_a_0d_shape_is_refused_not_read_as_a_vector():
    with pytest.raises(cr.errors.InvalidArgumentError, match="(?s)Fill.*1-D integer tensor"):
        cr.ones(cr.constant(3))


@pytest.mark.parametrize(
    "optimize", [None, cr.compiler.Options(passes=(), codegen=False)] if hasattr(cr, "compiler") else [None]
)
def test_identity_n_of_one_tensor_returns_the_array_not_a_tuple(optimize):
    p = cr.placeholder(cr.float32, [1])
    (out,) = cr.identity_n([p[0]])
    assert out.shape.as_list() == []
    assert np.shape(cr.Session(optimize=optimize).run(out, {p: np.ones(1, np.float32)})) == ()


def test_placeholder_with_default_refuses_a_tensor_shape():
    with pytest.raises(TypeError, match="placeholder_with_default: shape must be a static shape"):
        cr.placeholder_with_default(cr.ones([3, 2]), cr.constant([3, 2]))
