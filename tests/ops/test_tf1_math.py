"""TF 1.x math composites: tf.math.reduce_std/variance/euclidean_norm, tf.nn.in_top_k, tf.linalg.matvec, ...

The expected values were recorded once from TensorFlow 2.21 (``tf.compat.v1``, graph mode) on the
same inputs.
"""

import numpy as np
import pytest

import chainrule as cr


def _run(*fetches):
    with cr.Session() as sess:
        return sess.run(list(fetches))


def test_in_top_k_counts_ties_in_and_non_finite_or_out_of_range_targets_out():
    predictions = cr.constant([[0.1, 0.9, 0.5], [0.3, 0.3, 0.2], [np.nan, 1, 2], [1, 2, 3], [np.inf, 1, 2]])
    targets = cr.constant([2, 0, 0, 5, 0])
    got = _run(*(cr.nn.in_top_k(predictions, targets, k) for k in (1, 2, 3)))
    expected = [
        [False, True, False, False, False],
        [True, True, False, False, False],
        [True, True, False, False, False],
    ]
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    assert cr.math.in_top_k is cr.nn.in_top_k


def test_values_recorded_from_tensorflow():
    got = _run(
        cr.math.reduce_std([[1.0, 2.0], [3.0, 5.0]], axis=0),
        cr.math.reduce_variance([1.0, 2.0, 4.0]),
        cr.invert_permutation([2, 0, 1]),
        cr.linalg.matvec([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]),
        cr.nn.zero_fraction([0, 1, 0, 3]),
        cr.math.reciprocal_no_nan([0.0, 2.0]),
        cr.math.reduce_euclidean_norm([3.0, 4.0]),
        cr.accumulate_n([[1.0, 2.0], [3.0, 4.0]]),
    )
    expected = [[1.0, 1.5], 1.5555557, [1, 2, 0], [3.0, 7.0], 0.5, [0.0, 0.5], 5.0, [4.0, 6.0]]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6)
    assert got[2].dtype == np.int32 and got[4].dtype == np.float32


def test_reductions_match_numpy_on_broadcast_size_one_and_empty_axes():
    rng = np.random.default_rng(0)
    for shape, axis in [((3, 4), 1), ((1, 5), 0), ((2, 1, 3), (0, 2)), ((0, 3), 1)]:
        x = rng.normal(size=shape)
        std, var, norm = _run(
            cr.math.reduce_std(x, axis=axis),
            cr.math.reduce_variance(x, axis=axis),
            cr.math.reduce_euclidean_norm(x, axis=axis),
        )
        np.testing.assert_allclose(std, np.std(x, axis=axis), rtol=1e-12)
        np.testing.assert_allclose(var, np.var(x, axis=axis), rtol=1e-12)
        np.testing.assert_allclose(norm, np.sqrt(np.sum(x * x, axis=axis)), rtol=1e-12)


@pytest.mark.parametrize(
    "build",
    [
        lambda x: cr.math.reduce_std(x, axis=1),
        lambda x: cr.math.reduce_variance(x),
        lambda x: cr.math.reduce_euclidean_norm(x, axis=0),
        lambda x: cr.linalg.matvec(x, cr.constant([1.0, -2.0, 0.5], dtype=cr.float64)),
    ],
)
def test_gradients_match_central_differences(build):
    x0 = np.random.default_rng(1).normal(size=(2, 3))
    x = cr.placeholder(cr.float64, [2, 3])
    y = build(x)
    with cr.Session():
        err = cr.test.compute_gradient_error(x, [2, 3], y, y.shape.as_list(), x_init_value=x0)
    assert err < 1e-6


def test_bad_inputs_name_the_function():
    with pytest.raises(TypeError, match="reduce_variance: input must be floating"):
        cr.math.reduce_variance(cr.constant([1, 2]))
    with pytest.raises(ValueError, match="in_top_k: predictions must be 2-D"):
        cr.nn.in_top_k(cr.constant([1.0]), cr.constant([0]), 1)
    with pytest.raises(ValueError, match="invert_permutation: expected a 1-D integer tensor"):
        cr.invert_permutation(cr.constant([[1, 0]]))
    with pytest.raises(ValueError, match="accumulate_n: input .* has shape"):
        cr.accumulate_n([cr.constant([1.0, 2.0])], shape=[3])


def test_tf_math_and_linalg_names_for_existing_ops():
    assert cr.math.log_softmax is cr.nn.log_softmax and cr.math.is_nan is cr.is_nan
    assert cr.linalg.transpose is cr.matrix_transpose and cr.linalg.tensor_diag is cr.diag
    assert cr.linalg.global_norm is cr.global_norm and cr.linalg.l2_normalize is cr.nn.l2_normalize
