"""cr.nn beyond the sample table: extreme logits, kink conventions, label gradients, dropout's randomness."""

from __future__ import annotations

import numpy as np
import pytest
from ops_helpers import run

import chainrule as cr

LD = np.longdouble  # 80-bit extended on x86: exp(2000) is representable, so naive formulas are exact enough

# Rows: dominant class, all equal and huge negative, near-tie at +1000, mixed signs, ordinary.
EXTREME = np.array(
    [
        [1000.0, -1000.0, 0.0],
        [-1000.0, -1000.0, -1000.0],
        [1000.0, 999.0, -1000.0],
        [-1000.0, 1000.0, 1000.0],
        [0.5, -0.3, 2.0],
    ]
)
LABELS = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.25, 0.25], [0.1, 0.6, 0.3]])
SPARSE = np.array([1, 0, 2, 0, 1], np.int32)


def _ref_log_softmax(x):
    x = np.asarray(x, LD)
    return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))


def _ref_softmax(x):
    x = np.asarray(x, LD)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def _ref_sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, LD)))


def _close(got, want, rtol=1e-12, atol=1e-300):
    got = np.asarray(got)
    assert np.all(np.isfinite(got)), got
    np.testing.assert_allclose(got, np.asarray(want, np.float64), rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_family_is_finite_and_exact_for_huge_logits(dtype):
    x = cr.placeholder(dtype, [None, 3])
    w = np.arange(15, dtype=dtype).reshape(5, 3) / 7 - 1  # a cotangent that exercises every entry
    sm, lsm = cr.nn.softmax(x), cr.nn.log_softmax(x)
    g_sm, g_lsm = cr.gradients(cr.reduce_sum(sm * w), [x])[0], cr.gradients(cr.reduce_sum(lsm * w), [x])[0]
    got = run([sm, lsm, g_sm, g_lsm], {x: EXTREME.astype(dtype)})
    p, logp = _ref_softmax(EXTREME), _ref_log_softmax(EXTREME)
    w = w.astype(LD)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    _close(got[0], p, rtol)
    _close(got[1], logp, rtol)
    _close(got[2], p * (w - np.sum(w * p, -1, keepdims=True)), rtol, atol=1e-6 if dtype == np.float32 else 1e-15)
    _close(got[3], w - p * np.sum(w, -1, keepdims=True), rtol, atol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_cross_entropy_huge_logits_values_and_gradients(dtype):
    x, y = cr.placeholder(dtype, [5, 3]), cr.placeholder(dtype, [5, 3])
    loss = cr.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x)
    gx, gy = cr.gradients(loss, [x, y])
    (gxx,) = cr.gradients(cr.reduce_sum(gx * np.linspace(-1, 1, 15, dtype=dtype).reshape(5, 3)), [x])
    got = run([loss, gx, gy, gxx], {x: EXTREME.astype(dtype), y: LABELS.astype(dtype)})
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    logp = _ref_log_softmax(EXTREME)
    _close(got[0], -np.sum(LABELS * logp, -1), rtol)
    _close(got[1], _ref_softmax(EXTREME) * np.sum(LABELS, -1, keepdims=True) - LABELS, rtol, atol=1e-7)
    _close(got[2], -logp, rtol)
    assert np.all(np.isfinite(got[3]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_softmax_cross_entropy_huge_logits(dtype):
    x = cr.placeholder(dtype, [5, 3])
    labels = cr.placeholder(cr.int32, [5])
    loss = cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
    (gx,) = cr.gradients(loss, [x])
    (gxx,) = cr.gradients(cr.reduce_sum(gx * gx), [x])
    got = run([loss, gx, gxx], {x: EXTREME.astype(dtype), labels: SPARSE})
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    one_hot = np.eye(3)[SPARSE]
    _close(got[0], -np.take_along_axis(_ref_log_softmax(EXTREME), SPARSE[:, None], -1)[:, 0], rtol)
    _close(got[1], _ref_softmax(EXTREME) - one_hot, rtol, atol=1e-7)
    assert np.all(np.isfinite(got[2]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_cross_entropy_huge_logits(dtype):
    logits = np.array([1000.0, -1000.0, 0.0, 30.0, -30.0, 1000.0, -1000.0, 2.5])
    labels = np.array([1.0, 0.0, 0.5, 1.0, 0.0, 0.3, 0.7, 0.9])
    x, z = cr.placeholder(dtype, [8]), cr.placeholder(dtype, [8])
    loss = cr.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    gx, gz = cr.gradients(loss, [x, z])
    (gxx,) = cr.gradients(cr.reduce_sum(gx), [x])
    got = run([loss, gx, gz, gxx], {x: logits.astype(dtype), z: labels.astype(dtype)})
    xl, zl = logits.astype(LD), labels.astype(LD)
    # -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)) in extended precision (exp(1000) fits),
    # a different formula from the kernel's.
    want = zl * np.log1p(np.exp(-xl)) + (1 - zl) * np.log1p(np.exp(xl))
    rtol, atol = (1e-12, 1e-300) if dtype == np.float64 else (1e-6, 1e-6)
    _close(got[0], want, rtol, atol)
    e = np.exp(xl)
    _close(got[1], (e * (1 - zl) - zl) / (1 + e), rtol, atol)  # sigmoid(x) - z without cancellation
    _close(got[2], -xl, rtol)
    _close(got[3], e / (1 + e) ** 2, rtol, atol)  # sigmoid'(x)


def test_log_softmax_keeps_precision_of_a_dominant_class():
    x = cr.placeholder(cr.float64, [2])
    out = run(cr.nn.log_softmax(x), {x: np.array([0.0, -40.0])})
    np.testing.assert_allclose(out, [-np.exp(-40.0), -40.0 - np.exp(-40.0)], rtol=1e-14)
    loss = cr.nn.sparse_softmax_cross_entropy_with_logits(labels=[0], logits=np.array([[0.0, -40.0]]))
    np.testing.assert_allclose(run(loss, None), [np.exp(-40.0)], rtol=1e-14)


def test_softmax_handles_ties_and_one_class():
    x = cr.placeholder(cr.float64, [None, None])
    out = run([cr.nn.softmax(x), cr.nn.log_softmax(x)], {x: np.array([[5.0, 5.0, 5.0, 5.0]])})
    np.testing.assert_allclose(out[0], [[0.25] * 4])
    np.testing.assert_allclose(out[1], [[-np.log(4)] * 4], rtol=1e-15)
    out = run([cr.nn.softmax(x), cr.nn.log_softmax(x)], {x: np.array([[3.0], [-1e300]])})
    np.testing.assert_array_equal(out[0], [[1.0], [1.0]])
    np.testing.assert_array_equal(out[1], [[0.0], [0.0]])


@pytest.mark.parametrize(
    "fn, expected",
    [
        (cr.nn.relu, [0.0, 0.0, 1.0]),
        (cr.nn.leaky_relu, [0.2, 0.2, 1.0]),
        (lambda x: cr.nn.leaky_relu(x, alpha=0.5), [0.5, 0.5, 1.0]),
        (cr.nn.elu, [np.exp(-1.0), 1.0, 1.0]),
    ],
)
def test_activation_gradients_at_and_around_the_kink(fn, expected):
    x = cr.placeholder(cr.float64, [3])
    (g,) = cr.gradients(cr.reduce_sum(fn(x)), [x])
    np.testing.assert_allclose(run(g, {x: np.array([-1.0, 0.0, 1.0])}), expected, rtol=1e-15)


def test_activations_keep_dtype_and_values():
    v = np.array([-2.0, -0.0, 0.0, 3.0], np.float32)
    x = cr.constant(v)
    relu, lrelu, elu = run([cr.nn.relu(x), cr.nn.leaky_relu(x), cr.nn.elu(x)], None)
    assert relu.dtype == lrelu.dtype == elu.dtype == np.float32
    np.testing.assert_array_equal(relu, [0, 0, 0, 3])
    np.testing.assert_allclose(lrelu, [-0.4, 0, 0, 3], rtol=1e-7)
    np.testing.assert_allclose(elu, [np.expm1(-2.0), 0, 0, 3], rtol=1e-6)
    assert run(cr.nn.relu(cr.constant([-3, 4])), None).tolist() == [0, 4]


def test_elu_of_huge_inputs_does_not_warn():
    with np.errstate(all="raise"):
        out = run(cr.nn.elu(cr.constant([1000.0, -1000.0], dtype=cr.float64)), None)
    np.testing.assert_array_equal(out, [1000.0, -1.0])


def test_cross_entropies_need_keyword_arguments():
    with pytest.raises(ValueError, match="named arguments"):  # TensorFlow 1.x's _sentinel check
        cr.nn.softmax_cross_entropy_with_logits([[0.5, 0.5]], [[1.0, 2.0]])
    with pytest.raises(TypeError):
        cr.nn.sigmoid_cross_entropy_with_logits([0.5], [1.0])  # type: ignore[misc]


def test_softmax_cross_entropy_labels_can_be_stopped():
    x = cr.constant([[1.0, 2.0, 3.0]])
    y = cr.constant([[0.2, 0.3, 0.5]])
    loss = cr.nn.softmax_cross_entropy_with_logits_v2(labels=cr.stop_gradient(y), logits=x)
    gx, gy = cr.gradients(loss, [x, y])
    assert gy is None and gx is not None


def test_softmax_cross_entropy_v1_stops_the_labels_gradient_and_v2_does_not():
    x = cr.constant([[1.0, 2.0, 3.0]], dtype=cr.float64)
    y = cr.constant([[0.2, 0.3, 0.5]], dtype=cr.float64)
    v1 = cr.nn.softmax_cross_entropy_with_logits(labels=y, logits=x)
    v2 = cr.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x)
    assert cr.gradients(v1, [y]) == [None]
    gx1, gx2, gy2, l1, l2 = run(cr.gradients(v1, [x]) + cr.gradients(v2, [x, y]) + [v1, v2], None)
    logp = _ref_log_softmax(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(gy2, -logp, rtol=1e-14)
    np.testing.assert_array_equal(gx1, gx2)
    np.testing.assert_array_equal(l1, l2)


def test_softmax_cross_entropy_on_another_axis_matches_transposed():
    logits = np.random.default_rng(0).normal(size=(3, 4))
    labels = np.random.default_rng(1).dirichlet(np.ones(3), size=4).T
    a = cr.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, axis=0)
    b = cr.nn.softmax_cross_entropy_with_logits(labels=labels.T, logits=logits.T)
    va, vb = run([a, b], None)
    np.testing.assert_allclose(va, vb, rtol=1e-14)


def test_sparse_label_out_of_range_names_the_op():
    logits = cr.placeholder(cr.float32, [None, 3])
    labels = cr.placeholder(cr.int64, [None])
    loss = cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xent")
    with pytest.raises(
        cr.errors.InvalidArgumentError,
        match=r"(?s)label value of 7 .*\[0, 3\).*'xent' \(SparseSoftmaxCrossEntropyWithLogits\)",
    ):
        run(loss, {logits: np.zeros((2, 3)), labels: [1, 7]})
    (g,) = cr.gradients(loss, [logits])
    np.testing.assert_allclose(run(g, {logits: np.zeros((1, 3)), labels: [2]}), [[1 / 3, 1 / 3, -2 / 3]], rtol=1e-6)


def test_l2_loss_and_bias_add():
    t = np.array([[1.0, -2.0], [3.0, 0.5]])
    assert run(cr.nn.l2_loss(t), None) == pytest.approx(np.sum(t**2) / 2)
    v = cr.placeholder(cr.float64, [None, 2])
    b = cr.constant([10.0, 20.0], dtype=cr.float64)
    out = cr.nn.bias_add(v, b)
    assert out.shape.as_list() == [None, 2]
    (gb,) = cr.gradients(cr.reduce_sum(out * out), [b])
    got, g = run([out, gb], {v: t})
    np.testing.assert_array_equal(got, t + [10.0, 20.0])
    np.testing.assert_allclose(g, np.sum(2 * (t + [10.0, 20.0]), axis=0))


# --- dropout ---------------------------------------------------------------------------------
def test_dropout_drops_at_rate_and_scales_kept_units():
    x = cr.ones([200, 500], dtype=cr.float64)
    for y, keep in [(cr.nn.dropout(x, rate=0.3, seed=5), 0.7), (cr.nn.dropout(x, keep_prob=0.25, seed=5), 0.25)]:
        out = run(y, None)
        assert set(np.unique(out)) <= {0.0, 1 / keep}
        frac = np.mean(out != 0)
        assert abs(frac - keep) < 0.01, frac
        assert abs(out.mean() - 1.0) < 0.03  # expectation preserved


def test_dropout_gradient_is_the_same_mask_and_scale():
    x = cr.placeholder(cr.float64, [None, None])
    y = cr.nn.dropout(x, rate=0.5)
    (g,) = cr.gradients(cr.reduce_sum(y), [x])
    val = np.random.default_rng(0).uniform(1, 2, size=(4, 6))
    out, grad = run([y, g], {x: val})
    np.testing.assert_allclose(out, val * grad)
    assert set(np.unique(grad)) <= {0.0, 2.0}


def test_dropout_seed_reproducible_and_fresh_each_run():
    x = cr.ones([50], dtype=cr.float32)
    y = cr.nn.dropout(x, rate=0.5, seed=3)
    with cr.Session() as s1:
        a1, a2 = s1.run(y), s1.run(y)
    with cr.Session() as s2:
        b1, b2 = s2.run(y), s2.run(y)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)
    assert a1.dtype == np.float32


def test_dropout_noise_shape_drops_whole_rows():
    x = cr.ones([100, 8])
    out = run(cr.nn.dropout(x, rate=0.5, noise_shape=[100, 1], seed=1), None)
    assert np.all((out == 0).all(axis=1) | (out == 2).all(axis=1))
    assert 20 < np.sum(out[:, 0] == 0) < 80


def test_dropout_rate_tensor_and_identity_at_zero():
    x = cr.ones([1000], dtype=cr.float64)
    rate = cr.placeholder(cr.float64, [])
    out = run(cr.nn.dropout(x, rate=rate, seed=0), {rate: 0.75})
    assert set(np.unique(out)) <= {0.0, 4.0} and 0.2 < np.mean(out != 0) < 0.3
    assert cr.nn.dropout(x, rate=0.0).op.type == "Identity"
    assert cr.nn.dropout(x, keep_prob=1.0).op.type == "Identity"


def test_dropout_second_positional_argument_is_keep_prob_as_in_tf1():
    x = cr.ones([20000], dtype=cr.float64)
    y = cr.nn.dropout(x, 0.8, seed=2)
    with cr.Session() as sess:
        out = sess.run(y)
    kept = out != 0
    assert abs(kept.mean() - 0.8) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.8)


# --- TensorFlow 1.x's further nn functions ------------------------------------------------------
def test_relu6_and_selu_kink_conventions_match_tensorflow():
    x = cr.constant([-1.0, 0.0, 3.0, 6.0, 7.0], dtype=cr.float64)
    g6, gs = run(cr.gradients(cr.reduce_sum(cr.nn.relu6(x)), [x]) + cr.gradients(cr.reduce_sum(cr.nn.selu(x)), [x]))
    np.testing.assert_array_equal(g6, [0, 0, 1, 0, 0])  # Relu6Grad: 0 < x < 6
    scale, alpha = 1.0507009873554805, 1.6732632423543772
    np.testing.assert_allclose(gs, [scale * alpha * np.exp(-1), scale, scale, scale, scale], rtol=1e-15)


def test_embedding_lookup_matches_tensorflow_partition_strategies():
    # Recorded once from TensorFlow 2.21 tf.compat.v1.nn.embedding_lookup (graph mode) on these inputs.
    def parts(sizes):
        return [cr.constant(100.0 * k + np.arange(2.0 * n).reshape(n, 2)) for k, n in enumerate(sizes)]

    mod = cr.nn.embedding_lookup(parts([3, 3, 3]), [0, 3, 4, 8, 6, 2], partition_strategy="mod")
    div = cr.nn.embedding_lookup(parts([4, 3, 3]), [0, 3, 4, 9, 6, 2], partition_strategy="div")
    clipped = cr.nn.embedding_lookup(parts([4, 3, 3]), [[0, 3], [4, 9]], partition_strategy="div", max_norm=150.0)
    got = run([mod, div, clipped])
    np.testing.assert_array_equal(got[0], [[0, 1], [2, 3], [102, 103], [204, 205], [4, 5], [200, 201]])
    np.testing.assert_array_equal(got[1], [[0, 1], [6, 7], [100, 101], [204, 205], [104, 105], [4, 5]])
    np.testing.assert_allclose(
        got[2], [[[0, 1], [6, 7]], [[100, 101], [105.80637080970278, 106.32502949014251]]], rtol=1e-15
    )


def test_embedding_lookup_of_variables_accumulates_the_gradient_of_repeated_ids():
    a, b = cr.Variable(np.arange(6.0).reshape(3, 2)), cr.Variable(np.arange(4.0).reshape(2, 2))
    ids = cr.placeholder(cr.int64, [None])
    out = cr.nn.embedding_lookup([a, b], ids)  # "mod": even ids in a, odd ids in b
    assert out.shape.as_list() == [None, 2]
    ga, gb = cr.gradients(cr.reduce_sum(out * [[1.0, 2.0]]), [a, b])
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        value, da, db = sess.run([out, ga, gb], {ids: [4, 1, 4, 0, 3]})
    np.testing.assert_array_equal(value, [[4, 5], [0, 1], [4, 5], [0, 1], [2, 3]])
    np.testing.assert_array_equal(da, [[1, 2], [0, 0], [2, 4]])
    np.testing.assert_array_equal(db, [[1, 2], [1, 2]])


def test_depthwise_conv2d_matches_tensorflow():
    # Recorded once from TensorFlow 2.21 tf.compat.v1.nn.depthwise_conv2d (float64, graph mode): one
    # output pixel's 6 channels (2 input channels x multiplier 3) of each call.
    x = np.linspace(-3, 3, 36).reshape(2, 3, 3, 2)
    f = np.linspace(-1, 1, 24).reshape(2, 2, 2, 3)
    same, atrous = run(
        [cr.nn.depthwise_conv2d(x, f, [1, 1, 1, 1], "SAME"), cr.nn.depthwise_conv2d(x, f, [1, 1, 1, 1], "SAME", rate=2)]
    )
    assert same.shape == atrous.shape == (2, 3, 3, 6)
    tf_same = [-0.611180124223603, 0.13416149068322913, 0.8795031055900622, 1.6546583850931667, 2.4596273291925463,
               3.264596273291925]  # fmt: skip
    tf_atrous = [0.7788819875776398, 0.6372670807453416, 0.4956521739130435, 0.3167701863354038,
                 0.19006211180124227, 0.0633540372670807]  # fmt: skip
    np.testing.assert_allclose(same[1, 1, 1], tf_same, rtol=1e-13)
    np.testing.assert_allclose(atrous[0, 2, 0], tf_atrous, rtol=1e-13)


def test_fused_batch_norm_training_returns_the_unbiased_variance_and_moments_keep_dims():
    x = np.random.default_rng(3).normal(size=(2, 3, 2, 4))
    y, mean, var = run(list(cr.nn.fused_batch_norm(x, np.ones(4), np.zeros(4), epsilon=1e-7)))
    np.testing.assert_allclose(mean, x.mean((0, 1, 2)), rtol=1e-13)
    np.testing.assert_allclose(var, x.var((0, 1, 2), ddof=1), rtol=1e-13)
    # epsilon is raised to 1.001e-5 (TensorFlow 1.x's cuDNN floor).
    np.testing.assert_allclose(y, (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + 1.001e-5), rtol=1e-12)
    m, v = cr.nn.moments(cr.placeholder(cr.float64, [None, 3, 2, 4]), [0, 1, 2], keep_dims=True)
    assert m.shape.as_list() == v.shape.as_list() == [1, 1, 1, 4]


def test_moments_are_exact_to_second_order():
    # TensorFlow stops the mean's gradient inside the variance, which changes the Hessian; here it is exact.
    x0 = np.array([0.5, -1.0, 2.0])
    x = cr.placeholder(cr.float64, [3])
    _, var = cr.nn.moments(x, [0])
    (g,) = cr.gradients(var, [x])
    hess = run([cr.gradients(g[i], [x])[0] for i in range(3)], {x: x0})
    np.testing.assert_allclose(hess, 2 / 3 * (np.eye(3) - 1 / 3), rtol=1e-14, atol=1e-15)


def test_softmax_cross_entropy_takes_integer_one_hot_labels_as_tensorflow_does():
    # Recorded once from TensorFlow 2.21 compat.v1: softmax_cross_entropy_with_logits_v2 with
    # int32 labels [[0, 1], [1, 0]] and float32 logits [[1, 2], [3, 1]].
    labels = cr.constant([[0, 1], [1, 0]], dtype=cr.int32)
    logits = cr.constant([[1.0, 2.0], [3.0, 1.0]], dtype=cr.float32)
    v1 = cr.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    v2 = cr.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    assert v1.dtype == v2.dtype == cr.float32
    with cr.Session() as sess:
        for value in sess.run([v1, v2]):
            np.testing.assert_allclose(value, [0.31326166, 0.12692805], rtol=1e-6)
    with pytest.raises(cr.errors.InvalidDTypeError, match="same dtype"):
        cr.nn.softmax_cross_entropy_with_logits_v2(labels=cr.constant([[0.0, 1.0]], cr.float64), logits=logits[:1])


def test_weighted_cross_entropy_with_logits_gives_tensorflows_values_and_gradients():
    # Recorded once from TensorFlow 2.21 compat.v1: weighted_cross_entropy_with_logits(targets=z,
    # logits=x, pos_weight=0.5) for x = [-30, -1.5, 0, 2, 40], z = [1, 0, 0.5, 1, 0] (float32).
    x = cr.constant([-30.0, -1.5, 0.0, 2.0, 40.0])
    z = cr.constant([1.0, 0.0, 0.5, 1.0, 0.0])
    loss = cr.nn.weighted_cross_entropy_with_logits(targets=z, logits=x, pos_weight=0.5)
    with cr.Session() as sess:
        np.testing.assert_allclose(
            sess.run(loss), [15.0, 0.20141327381134033, 0.5198603868484497, 0.06346400082111359, 40.0], rtol=1e-6
        )
    draw = np.random.default_rng(3)
    logits, labels = draw.standard_normal((3, 4)) * 3, draw.uniform(size=(3, 4))
    cr.test.check_gradients(
        lambda t, y: cr.nn.weighted_cross_entropy_with_logits(labels=y, logits=t, pos_weight=2.5), [logits, labels]
    )
    with pytest.raises(ValueError, match="both labels and its deprecated alias targets"):
        cr.nn.weighted_cross_entropy_with_logits(labels=z, targets=z, logits=x, pos_weight=1.0)
