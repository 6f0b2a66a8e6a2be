"""cr.layers and cr.metrics: TensorFlow 1.x's variable names, defaults, values, gradients and update ops."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def fresh_graph():
    g = cr.Graph()
    with g.as_default():
        yield g


def _rng(seed=0):
    return np.random.default_rng(seed)


def _names(variables):
    return [v.name for v in variables]


def _init(sess):
    sess.run([cr.global_variables_initializer(), cr.local_variables_initializer()])


def _check_jacobian(y, x, x_value, sess, feed=None, tol=1e-6):
    feed = dict(feed or {})
    y_shape = sess.run(y, {**feed, x: x_value}).shape
    with sess.as_default():
        theoretical, numerical = cr.test.compute_gradient(
            x, np.shape(x_value), y, y_shape, x_init_value=x_value, delta=1e-6, extra_feed_dict=feed
        )
    np.testing.assert_allclose(theoretical, numerical, rtol=tol, atol=tol)


# --- dense ------------------------------------------------------------------------------------------
def test_dense_names_shapes_and_default_initializers():
    x = cr.placeholder(cr.float32, [None, 40])
    h = cr.layers.dense(x, 60, activation=cr.nn.relu)
    y = cr.layers.dense(h, 2, use_bias=False)
    assert _names(cr.trainable_variables()) == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0"]
    assert h.op.name == "dense/Relu" and y.op.name.startswith("dense_1/") and y.shape.as_list() == [None, 2]
    kernel, bias = cr.trainable_variables()[:2]
    assert kernel.shape == (40, 60) and bias.shape == (60,)
    with cr.Session() as sess:
        _init(sess)
        k, b = sess.run([kernel, bias])
    limit = np.sqrt(6.0 / (40 + 60))  # Glorot uniform, get_variable's default
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.95 * limit
    np.testing.assert_array_equal(b, np.zeros(60, np.float32))


def test_dense_values_and_higher_rank_inputs():
    x = cr.placeholder(cr.float64, [None, 3, 4])
    y = cr.layers.dense(x, 2, kernel_initializer=cr.random_normal_initializer(seed=1),
                        bias_initializer=cr.constant_initializer([0.5, -1.0]), activation=cr.tanh)  # fmt: skip
    assert y.shape.as_list() == [None, 3, 2] and y.dtype == cr.float64
    xv = _rng().normal(size=(2, 3, 4))
    kernel = cr.get_collection(cr.GraphKeys.GLOBAL_VARIABLES, "dense/kernel")[0]
    with cr.Session() as sess:
        _init(sess)
        yv, k = sess.run([y, kernel], {x: xv})
    np.testing.assert_allclose(yv, np.tanh(xv @ k + [0.5, -1.0]), rtol=1e-12)


def test_dense_reuse_by_name_and_scopes():
    x = cr.placeholder(cr.float32, [None, 3])
    a = cr.layers.dense(x, 4, name="shared")
    b = cr.layers.dense(x, 4, name="shared", reuse=True)
    with pytest.raises(ValueError, match="Variable shared/kernel already exists, disallowed"):
        cr.layers.dense(x, 4, name="shared")
    with cr.variable_scope("net"):
        cr.layers.dense(x, 4)
    for _ in range(2):  # a model built twice under AUTO_REUSE shares its default-named layers
        with cr.variable_scope("tower", reuse=cr.AUTO_REUSE):
            cr.layers.dense(x, 4)
    assert _names(cr.trainable_variables()) == [
        "shared/kernel:0", "shared/bias:0", "net/dense/kernel:0", "net/dense/bias:0",
        "tower/dense/kernel:0", "tower/dense/bias:0",
    ]  # fmt: skip
    with cr.Session() as sess:
        _init(sess)
        av, bv = sess.run([a, b], {x: np.ones((2, 3), np.float32)})
    np.testing.assert_array_equal(av, bv)


def test_dense_regularizers_and_errors():
    x = cr.placeholder(cr.float32, [None, 3])
    cr.layers.dense(x, 2, kernel_regularizer=lambda w: cr.reduce_sum(w * w), activity_regularizer=cr.reduce_mean)
    assert len(cr.get_collection(cr.GraphKeys.REGULARIZATION_LOSSES)) == 2
    assert cr.get_collection(cr.GraphKeys.REGULARIZATION_LOSSES)[0].op.name.startswith("dense/kernel/Regularizer/")
    with pytest.raises(ValueError, match="last dimension of the inputs should be defined"):
        cr.layers.dense(cr.placeholder(cr.float32, [None, None]), 2)
    with pytest.raises(TypeError, match="dense: inputs .* must be floating, got int32"):
        cr.layers.dense(cr.constant([[1, 2]]), 2)
    with pytest.raises(ValueError, match="rank 2 or more"):
        cr.layers.dense(cr.placeholder(cr.float32, [3]), 2)
    with pytest.raises(NotImplementedError, match="kernel_constraint"):
        cr.layers.dense(x, 2, kernel_constraint=lambda w: w)


def test_dense_gradients_match_central_differences():
    x = cr.placeholder(cr.float64, [2, 3])
    y = cr.layers.dense(x, 2, activation=cr.sigmoid)
    kernel, bias = cr.trainable_variables()
    xv = _rng(1).normal(size=(2, 3))
    with cr.Session() as sess:
        _init(sess)
        _check_jacobian(y, x, xv, sess)
        _check_jacobian(y, kernel.value(), sess.run(kernel), sess, {x: xv})
        _check_jacobian(y, bias.value(), np.array([0.3, -0.2]), sess, {x: xv})


def test_training_a_dense_network_decreases_the_loss():
    rng = _rng(2)
    xv = rng.normal(size=(64, 3)).astype(np.float32)
    yv = (xv @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    cr.set_random_seed(0)
    x = cr.placeholder(cr.float32, [None, 3])
    target = cr.placeholder(cr.float32, [None, 1])
    hidden = cr.layers.dense(x, 8, activation=cr.tanh)
    pred = cr.layers.dense(hidden, 1)
    loss = cr.reduce_mean(cr.square(pred - target))
    train = cr.train.GradientDescentOptimizer(0.1).minimize(loss)
    with cr.Session() as sess:
        _init(sess)
        losses = [sess.run([loss, train], {x: xv, target: yv})[0] for _ in range(200)]
    assert losses[-1] < 0.05 * losses[0] and all(b <= a * 1.01 for a, b in zip(losses, losses[1:]))


def test_a_layer_in_a_loop_body_is_one_set_of_variables_shared_by_every_iteration():
    x = cr.placeholder(cr.float64, [2, 3])

    def body(i, h):
        with cr.variable_scope("cell", reuse=cr.AUTO_REUSE):
            return i + 1, cr.layers.dense(h, 3, activation=cr.tanh, name="d")

    _, out = cr.while_loop(lambda i, h: i < 3, body, [0, x])
    kernel, bias = cr.trainable_variables()
    assert _names([kernel, bias]) == ["cell/d/kernel:0", "cell/d/bias:0"] and kernel.graph is x.graph
    xv = _rng(12).normal(size=(2, 3))
    with cr.Session() as sess:
        _init(sess)
        k, b, yv = sess.run([kernel, bias, out], {x: xv})
        ref = xv
        for _ in range(3):
            ref = np.tanh(ref @ k + b)
        np.testing.assert_allclose(yv, ref, rtol=1e-12)
        _check_jacobian(out, kernel.value(), k, sess, {x: xv})


# --- conv2d, pooling, flatten ------------------------------------------------------------------------
def _conv_ref(x, k, stride, padding):
    n, h, w, c = x.shape
    kh, kw, _, f = k.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    else:
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return out


@pytest.mark.parametrize(("stride", "padding"), [(1, "valid"), (2, "same"), (1, "SAME")])
def test_conv2d_values_names_and_defaults(stride, padding):
    x = cr.placeholder(cr.float64, [None, 5, 6, 2])
    y = cr.layers.conv2d(x, 3, 3, strides=stride, padding=padding, activation=cr.nn.relu,
                         bias_initializer=cr.constant_initializer([0.1, 0.2, -0.3]))  # fmt: skip
    kernel, bias = cr.trainable_variables()
    assert _names([kernel, bias]) == ["conv2d/kernel:0", "conv2d/bias:0"] and kernel.shape == (3, 3, 2, 3)
    xv = _rng(3).normal(size=(2, 5, 6, 2))
    with cr.Session() as sess:
        _init(sess)
        yv, k = sess.run([y, kernel], {x: xv})
    ref = np.maximum(_conv_ref(xv, k, stride, padding.lower()) + [0.1, 0.2, -0.3], 0)
    assert y.shape.as_list() == [None, *ref.shape[1:]]
    np.testing.assert_allclose(yv, ref, rtol=1e-10, atol=1e-12)


def test_conv2d_channels_first_and_kernel_size_pairs():
    x = cr.placeholder(cr.float64, [1, 2, 4, 4])
    y = cr.layers.conv2d(x, 5, (3, 1), data_format="channels_first", name="c")
    assert y.shape.as_list() == [1, 5, 2, 4] and cr.trainable_variables()[0].shape == (3, 1, 2, 5)
    xv = _rng(4).normal(size=(1, 2, 4, 4))
    with cr.Session() as sess:
        _init(sess)
        yv, k = sess.run([y, cr.trainable_variables()[0]], {x: xv})
    ref = _conv_ref(xv.transpose(0, 2, 3, 1), k, 1, "valid").transpose(0, 3, 1, 2)
    np.testing.assert_allclose(yv, ref, rtol=1e-10)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        cr.layers.conv2d(x, 1, 2, padding="full")
    with pytest.raises(ValueError, match="data_format must be"):
        cr.layers.conv2d(x, 1, 2, data_format="NHWC")


def test_conv2d_gradients_match_central_differences():
    x = cr.placeholder(cr.float64, [1, 4, 4, 2])
    y = cr.layers.conv2d(x, 2, 2, strides=2, padding="same")
    kernel = cr.trainable_variables()[0]
    xv = _rng(5).normal(size=(1, 4, 4, 2))
    with cr.Session() as sess:
        _init(sess)
        _check_jacobian(y, x, xv, sess)
        _check_jacobian(y, kernel.value(), sess.run(kernel), sess, {x: xv})


def test_pooling_and_flatten():
    xv = _rng(6).normal(size=(2, 4, 6, 3))
    x = cr.placeholder(cr.float64, [None, 4, 6, 3])
    mx = cr.layers.max_pooling2d(x, 2, 2)
    av = cr.layers.average_pooling2d(x, (2, 3), (2, 3), padding="same")
    flat = cr.layers.flatten(mx)
    assert mx.op.name.startswith("max_pooling2d/") and av.op.name.startswith("average_pooling2d/")
    assert flat.shape.as_list() == [None, 18] and flat.op.name.startswith("flatten/")
    unknown = cr.placeholder(cr.float64, [None, None, 2])
    dyn = cr.layers.flatten(unknown)
    assert dyn.shape.rank == 2
    with cr.Session() as sess:
        m, a, f, d = sess.run([mx, av, flat, dyn], {x: xv, unknown: np.ones((3, 4, 2))})
    np.testing.assert_allclose(m, xv.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4)))
    np.testing.assert_allclose(a, xv.reshape(2, 2, 2, 2, 3, 3).mean(axis=(2, 4)))
    np.testing.assert_allclose(f, m.reshape(2, 18))
    assert d.shape == (3, 8)


def test_flatten_channels_first_moves_channels_last():
    xv = np.arange(24.0).reshape(2, 3, 2, 2)
    y = cr.layers.flatten(xv, data_format="channels_first")
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), xv.transpose(0, 2, 3, 1).reshape(2, 12))


# --- dropout ----------------------------------------------------------------------------------------
def test_dropout_follows_the_training_flag():
    x = cr.ones([100_000])
    off = cr.layers.dropout(x, 0.3)
    on = cr.layers.dropout(x, 0.3, training=True, seed=1)
    flag = cr.placeholder(cr.bool, [])
    switched = cr.layers.dropout(x, 0.3, training=flag, seed=2)
    assert off.op.name.startswith("dropout/") and on.op.name.startswith("dropout_1/")
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(off), np.ones(100_000))
        v = sess.run(on)
        np.testing.assert_allclose(np.unique(v), [0.0, 1 / 0.7], rtol=1e-6)
        assert abs(np.mean(v == 0) - 0.3) < 0.01
        np.testing.assert_array_equal(sess.run(switched, {flag: False}), np.ones(100_000))
        assert abs(np.mean(sess.run(switched, {flag: True}) == 0) - 0.3) < 0.01


def test_dropout_gradient_uses_the_forward_mask():
    x = cr.placeholder(cr.float64, [1000])
    flag = cr.placeholder_with_default(True, [])
    for training in (True, flag):
        y = cr.layers.dropout(x, 0.5, training=training)
        (g,) = cr.gradients(cr.reduce_sum(y), [x])
        with cr.Session() as sess:
            yv, gv = sess.run([y, g], {x: np.ones(1000)})
        np.testing.assert_array_equal(gv, yv)  # d(mask * x / keep)/dx = mask / keep = y at x = 1
        assert 0.4 < np.mean(yv == 0) < 0.6


# --- batch normalization --------------------------------------------------------------------------
def test_batch_normalization_variables_and_training_output():
    x = cr.placeholder(cr.float64, [None, 3])
    y = cr.layers.batch_normalization(x, training=True)
    assert _names(cr.global_variables()) == [
        "batch_normalization/gamma:0", "batch_normalization/beta:0",
        "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0",
    ]  # fmt: skip
    assert _names(cr.trainable_variables()) == ["batch_normalization/gamma:0", "batch_normalization/beta:0"]
    updates = cr.get_collection(cr.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2 and all(u.op.type == "AssignSub" for u in updates)
    xv = _rng(7).normal(3.0, 2.0, size=(50, 3))
    with cr.Session() as sess:
        _init(sess)
        yv = sess.run(y, {x: xv})
    ref = (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-3)
    np.testing.assert_allclose(yv, ref, rtol=1e-10)


def test_batch_normalization_update_ops_move_the_averages():
    x = cr.placeholder(cr.float32, [None, 2, 2, 3])
    y = cr.layers.batch_normalization(x, momentum=0.9, training=True)
    mean_var, var_var = cr.global_variables()[2:]
    xv = _rng(8).normal(1.0, 3.0, size=(8, 2, 2, 3)).astype(np.float32)
    with cr.Session() as sess:
        _init(sess)
        sess.run(y, {x: xv})  # the output alone does not move the averages
        np.testing.assert_array_equal(sess.run(mean_var), np.zeros(3))
        for step in range(1, 3):
            sess.run([y, cr.get_collection(cr.GraphKeys.UPDATE_OPS)], {x: xv})
            decay = 0.9**step
            np.testing.assert_allclose(sess.run(mean_var), (1 - decay) * xv.mean((0, 1, 2)), rtol=1e-5)
            np.testing.assert_allclose(sess.run(var_var), decay + (1 - decay) * xv.var((0, 1, 2)), rtol=1e-5)


def test_batch_normalization_inference_uses_the_moving_averages():
    x = cr.placeholder(cr.float64, [None, 2])
    y = cr.layers.batch_normalization(x, axis=[1], epsilon=0.01, center=False,
                                      moving_mean_initializer=cr.constant_initializer([1.0, -1.0]),
                                      moving_variance_initializer=cr.constant_initializer([4.0, 0.25]))  # fmt: skip
    assert cr.get_collection(cr.GraphKeys.UPDATE_OPS) == [] and len(cr.global_variables()) == 3
    xv = _rng(9).normal(size=(5, 2))
    with cr.Session() as sess:
        _init(sess)
        np.testing.assert_allclose(sess.run(y, {x: xv}), (xv - [1.0, -1.0]) / np.sqrt([4.01, 0.26]), rtol=1e-12)


def test_batch_normalization_with_a_training_tensor():
    x = cr.placeholder(cr.float64, [None, 2])
    training = cr.placeholder_with_default(False, [])
    y = cr.layers.batch_normalization(x, training=training, momentum=0.5)
    updates = cr.get_collection(cr.GraphKeys.UPDATE_OPS)
    moving_mean = cr.global_variables()[2]
    xv = _rng(10).normal(2.0, 1.0, size=(6, 2))
    with cr.Session() as sess:
        _init(sess)
        np.testing.assert_allclose(sess.run(y, {x: xv}), xv / np.sqrt(1.001), rtol=1e-12)  # moving: 0 and 1
        sess.run(updates, {x: xv})  # not training: the averages stay
        np.testing.assert_array_equal(sess.run(moving_mean), [0.0, 0.0])
        yt, _ = sess.run([y, updates], {x: xv, training: True})
        np.testing.assert_allclose(yt, (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-3), rtol=1e-10)
        np.testing.assert_allclose(sess.run(moving_mean), 0.5 * xv.mean(0), rtol=1e-12)


def test_batch_normalization_gradients_match_central_differences():
    x = cr.placeholder(cr.float64, [4, 3])
    y = cr.layers.batch_normalization(x, training=True, gamma_initializer=cr.constant_initializer([1.0, 2.0, 0.5]))
    gamma, beta = cr.trainable_variables()
    xv = _rng(11).normal(size=(4, 3))
    with cr.Session() as sess:
        _init(sess)
        _check_jacobian(y, x, xv, sess, tol=1e-5)
        _check_jacobian(y, gamma.value(), np.array([1.0, 2.0, 0.5]), sess, {x: xv})
        _check_jacobian(y, beta.value(), np.array([0.1, 0.0, -0.1]), sess, {x: xv})


def test_batch_normalization_errors():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        cr.layers.batch_normalization(cr.placeholder(cr.float32, [None, 3]), axis=2)
    with pytest.raises(ValueError, match="has no known size"):
        cr.layers.batch_normalization(cr.placeholder(cr.float32, [None, None]))
    with pytest.raises(NotImplementedError, match="renorm"):
        cr.layers.batch_normalization(cr.placeholder(cr.float32, [None, 3]), renorm=True)


# --- metrics ----------------------------------------------------------------------------------------
def test_accuracy_accumulates_over_batches_in_local_variables():
    labels = cr.placeholder(cr.int64, [None])
    predictions = cr.placeholder(cr.int32, [None])
    acc, update = cr.metrics.accuracy(labels, predictions)
    assert _names(cr.local_variables()) == ["accuracy/total:0", "accuracy/count:0"]
    assert cr.get_collection(cr.GraphKeys.METRIC_VARIABLES) == cr.local_variables()
    assert cr.global_variables() == [] and cr.trainable_variables() == []
    assert acc.op.name == "accuracy/value" and update.op.name == "accuracy/update_op"
    with cr.Session() as sess:
        sess.run(cr.local_variables_initializer())
        assert sess.run(acc) == 0.0  # nothing counted yet
        assert sess.run(update, {labels: [1, 2, 3, 4], predictions: [1, 2, 0, 0]}) == 0.5
        assert sess.run(update, {labels: [5, 6], predictions: [5, 6]}) == pytest.approx(4 / 6)
        assert sess.run(acc) == pytest.approx(4 / 6)
    second, _ = cr.metrics.accuracy(labels, predictions)
    assert second.op.name == "accuracy_1/value"


def test_accuracy_with_weights_and_collections():
    labels = cr.constant([1.0, 1.0, 0.0])
    predictions = cr.constant([1.0, 0.0, 0.0])
    acc, update = cr.metrics.accuracy(labels, predictions, weights=[2.0, 1.0, 1.0],
                                      metrics_collections=["m"], updates_collections=["u"], name="acc")  # fmt: skip
    assert cr.get_collection("m") == [acc] and cr.get_collection("u") == [update]
    assert _names(cr.local_variables()) == ["acc/total:0", "acc/count:0"]
    with cr.Session() as sess:
        sess.run(cr.local_variables_initializer())
        assert sess.run(update) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="not compatible"):
        cr.metrics.accuracy(cr.constant([1, 2]), cr.constant([1, 2, 3]))
