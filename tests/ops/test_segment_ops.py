"""Segment reductions: TensorFlow's fill values, tie and zero conventions of the gradients, and
placeholder ids (dynamic output length), which the op table (constant ids) does not cover.

Numbers marked "TF" were recorded once with TensorFlow 2.21's ``tf.compat.v1`` in graph mode, for
data = [1, 2, 3, 4] and ids = [0, 0, 3, 3] (num_segments = 5 for the unsorted ops).
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_helpers import run

import chainrule as cr

pytestmark = pytest.mark.usefixtures("fresh_graph")

F32_MAX = np.finfo(np.float32).max


def test_sorted_segments_fill_empty_ones_as_tensorflow():
    d, ids = cr.constant([1.0, 2.0, 3.0, 4.0]), cr.constant([0, 0, 3, 3])
    got = run([cr.segment_max(d, ids), cr.segment_min(d, ids), cr.segment_prod(d, ids), cr.segment_mean(d, ids)])
    # TF: [2 0 0 4] [1 0 0 3] [2 1 1 12] [1.5 0 0 3.5]
    np.testing.assert_array_equal(got, [[2, 0, 0, 4], [1, 0, 0, 3], [2, 1, 1, 12], [1.5, 0, 0, 3.5]])


def test_unsorted_segments_fill_empty_ones_as_tensorflow():
    d, ids = cr.constant([1.0, 2.0, 3.0, 4.0]), cr.constant([0, 0, 3, 3])
    fns = [cr.unsorted_segment_max, cr.unsorted_segment_min, cr.unsorted_segment_prod, cr.unsorted_segment_mean]
    mx, mn, prod, mean = run([f(d, ids, 5) for f in fns])
    # TF: max [2 -3.4e38 -3.4e38 4 -3.4e38], min [1 3.4e38 3.4e38 3 3.4e38], prod [2 1 1 12 1], mean [1.5 0 0 3.5 0]
    np.testing.assert_array_equal(mx, [2, -F32_MAX, -F32_MAX, 4, -F32_MAX])
    np.testing.assert_array_equal(mn, [1, F32_MAX, F32_MAX, 3, F32_MAX])
    np.testing.assert_array_equal(prod, [2, 1, 1, 12, 1])
    np.testing.assert_array_equal(mean, [1.5, 0, 0, 3.5, 0])
    # TF: unsorted_segment_max([1, 2], [0, 0], 2) = [2, -2147483648]
    np.testing.assert_array_equal(run(cr.unsorted_segment_max(cr.constant([1, 2]), [0, 0], 2)), [2, -(2**31)])


def test_segment_max_gradient_is_split_among_ties():
    x = cr.constant([1.0, 3.0, 3.0, 2.0])
    y = cr.segment_max(x, [0, 0, 0, 1])
    (g,) = cr.gradients(y, [x], grad_ys=[cr.constant([1.0, 5.0])])
    np.testing.assert_allclose(run(g), [0.0, 0.5, 0.5, 5.0])
    y = cr.unsorted_segment_min(x, [1, 0, 0, 1], 3)
    (g,) = cr.gradients(y, [x], grad_ys=[cr.constant([1.0, 2.0, 7.0])])
    np.testing.assert_allclose(run(g), [2.0, 0.5, 0.5, 0.0])


def test_unsorted_segment_gradients_are_zero_for_dropped_ids():
    x = cr.constant([1.0, 2.0, 3.0])
    for fn in (cr.unsorted_segment_sum, cr.unsorted_segment_max, cr.unsorted_segment_prod, cr.unsorted_segment_mean):
        (g,) = cr.gradients(cr.reduce_sum(fn(x, [0, -1, 0], 1)), [x])
        assert run(g)[1] == 0.0, fn.__name__


def test_segment_prod_gradient_with_two_zeros_is_zero_and_with_one_is_the_others_product():
    x = cr.constant([0.0, 2.0, 0.0, 0.0, 3.0, 4.0])
    (g,) = cr.gradients(cr.reduce_sum(cr.segment_prod(x, [0, 0, 0, 1, 1, 1])), [x])
    np.testing.assert_allclose(run(g), [0.0, 0.0, 0.0, 12.0, 0.0, 0.0])


def test_placeholder_ids_give_a_dynamic_length_and_unsorted_ids_fail_when_run():
    d = cr.placeholder(cr.float64, [None, 2])
    ids = cr.placeholder(cr.int32, [None])
    y = cr.segment_sum(d, ids)
    assert y.shape.as_list() == [None, 2]
    data = np.arange(8.0).reshape(4, 2)
    np.testing.assert_array_equal(run(y, {d: data, ids: [0, 1, 1, 4]}), [[0, 1], [6, 8], [0, 0], [0, 0], [6, 7]])
    (g,) = cr.gradients(cr.reduce_sum(y * y), [d])
    np.testing.assert_array_equal(run(g, {d: data, ids: [0, 1, 1, 4]}), 2 * np.array([[0, 1], [6, 8], [6, 8], [6, 7]]))
    with pytest.raises(cr.errors.InvalidArgumentError, match="segment ids are not increasing"):
        run(y, {d: data, ids: [1, 0, 2, 2]})
    num = cr.placeholder(cr.int32, [])
    z = cr.unsorted_segment_sum(d, ids, num)
    assert z.shape.as_list() == [None, 2]
    np.testing.assert_array_equal(run(z, {d: data, ids: [1, 0, 1, -1], num: 2}), [[2, 3], [4, 6]])


def test_unsorted_segment_sum_with_2d_ids_reduces_the_leading_axes():
    d = cr.constant(np.arange(12.0).reshape(2, 3, 2))
    y = cr.unsorted_segment_sum(d, [[1, 0, 1], [0, 0, -1]], 2)
    assert y.shape.as_list() == [2, 2]
    np.testing.assert_array_equal(run(y), [[2 + 6 + 8, 3 + 7 + 9], [0 + 4, 1 + 5]])
