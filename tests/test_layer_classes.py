"""tf.layers' classes (Dense, Conv2D, pooling, Flatten, Dropout, BatchNormalization), TF 1.x's documented behaviour:
a layer object creates its variables at its first call, in a scope named after it, and reuses them after."""

import numpy as np
import pytest

import chainrule as cr


def _values(*fetches, feed=None):
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        return sess.run(list(fetches), feed)


def test_a_dense_layer_shares_its_variables_between_calls():
    x = cr.placeholder(cr.float64, [None, 3])
    layer = cr.layers.Dense(4, activation=cr.nn.relu, kernel_initializer=cr.random_normal_initializer(seed=1))
    assert not layer.built and layer.kernel is None and layer.variables == []
    first, second = layer(x), layer(2 * x)
    head = cr.layers.Dense(2)
    out = head(first)
    assert [v.op.name for v in cr.global_variables()] == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    assert layer.built and layer.name == "dense" and head.name == "dense_1" and layer.units == 4
    assert [v.op.name for v in layer.trainable_variables] == ["dense/kernel", "dense/bias"]
    assert layer.weights == [layer.kernel, layer.bias] and layer.non_trainable_variables == []
    x0 = np.random.default_rng(0).normal(size=(5, 3))
    a, b, kernel, bias, o = _values(first, second, layer.kernel, layer.bias, out, feed={x: x0})
    np.testing.assert_allclose(a, np.maximum(x0 @ kernel + bias, 0))
    np.testing.assert_allclose(b, np.maximum(2 * x0 @ kernel + bias, 0))
    assert o.shape == (5, 2)


def test_the_class_and_the_functional_layer_give_the_same_graph_values():
    x0 = np.random.default_rng(1).normal(size=(2, 3))
    init = cr.constant_initializer(np.arange(12.0).reshape(3, 4) / 10)
    by_class = cr.layers.Dense(4, kernel_initializer=init, name="a")(cr.constant(x0))
    by_function = cr.layers.dense(cr.constant(x0), 4, kernel_initializer=init, name="b")
    np.testing.assert_array_equal(*_values(by_class, by_function))


def test_a_named_layer_under_a_variable_scope_and_trainable_false():
    with cr.variable_scope("model"):
        layer = cr.layers.Dense(3, name="logits", trainable=False)
        layer(cr.zeros([1, 2]))
    assert [v.op.name for v in layer.variables] == ["model/logits/kernel", "model/logits/bias"]
    assert layer.trainable_variables == [] and cr.trainable_variables() == []
    assert layer.name == "logits"


def test_conv_pool_flatten_and_dropout_classes():
    images = cr.placeholder(cr.float64, [None, 8, 8, 1])
    conv = cr.layers.Conv2D(2, 3, padding="same", activation=cr.nn.relu)
    features = conv(images)
    pooled = cr.layers.MaxPooling2D(2, 2)(features)
    averaged = cr.layers.AveragePooling2D(pool_size=2, strides=2)(features)
    flat = cr.layers.Flatten()(pooled)
    dropped = cr.layers.Dropout(0.5)(flat, training=False)
    assert conv.kernel.shape.as_list() == [3, 3, 1, 2] and conv.filters == 2
    assert (pooled.shape.as_list(), flat.shape.as_list(), dropped.shape.as_list()) == (
        [None, 4, 4, 2],
        [None, 32],
        [None, 32],
    )
    x0 = np.random.default_rng(2).normal(size=(2, 8, 8, 1))
    f, p, a, fl, d = _values(features, pooled, averaged, flat, dropped, feed={images: x0})
    np.testing.assert_allclose(p, f.reshape(2, 4, 2, 4, 2, 2).max(axis=(2, 4)))
    np.testing.assert_allclose(a, f.reshape(2, 4, 2, 4, 2, 2).mean(axis=(2, 4)))
    np.testing.assert_array_equal(fl, p.reshape(2, -1))
    np.testing.assert_array_equal(d, fl)


def test_batch_normalization_class_collects_its_update_ops():
    x = cr.placeholder(cr.float64, [None, 2])
    bn = cr.layers.BatchNormalization(momentum=0.5)
    y = bn(x, training=True)
    assert [v.op.name.split("/")[-1] for v in bn.variables] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert bn.non_trainable_variables == [bn.moving_mean, bn.moving_variance]
    assert len(bn.updates) == 2 and set(bn.updates) <= set(cr.get_collection(cr.GraphKeys.UPDATE_OPS))
    x0 = np.array([[1.0, 2.0], [3.0, 6.0]])
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        out, _ = sess.run([y, bn.updates], {x: x0})
        np.testing.assert_allclose(sess.run(bn.moving_mean), 0.5 * x0.mean(axis=0))
    np.testing.assert_allclose(out, (x0 - x0.mean(0)) / np.sqrt(x0.var(0) + 1e-3))
    inference = bn(x, training=False)  # the same variables, no new ones
    assert len(cr.global_variables()) == 4 and inference.shape.as_list() == [None, 2]


def test_gradients_reach_the_layer_variables():
    x = cr.constant(np.random.default_rng(3).normal(size=(4, 3)))
    layer = cr.layers.Dense(2, activation=cr.tanh)
    loss = cr.reduce_sum(layer(x)) + cr.reduce_sum(layer(x * x))
    grads = cr.gradients(loss, layer.trainable_variables)
    assert all(g is not None for g in grads)
    train = cr.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=layer.trainable_variables)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        before = sess.run(loss)
        for _ in range(5):
            sess.run(train)
        assert sess.run(loss) < before


def test_too_many_positional_arguments_and_unknown_attributes():
    with pytest.raises(TypeError, match="Dense takes at most 2 positional arguments"):
        cr.layers.Dense(3, None, True)
    with pytest.raises(AttributeError, match="no attribute 'filters'"):
        cr.layers.Dense(3).filters  # noqa: B018
