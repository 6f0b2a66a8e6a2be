"""Convolution and pooling beyond the op table: TensorFlow's padding and tie rules, static shapes, speed."""

from __future__ import annotations

import numpy as np
import pytest
from ops_helpers import run

import chainrule as cr
from chainrule.testing.samples.conv import avg_pool_ref, conv2d_ref, max_pool_ref

pytestmark = pytest.mark.usefixtures("fresh_graph")


# --- static shapes ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("in_hw", "k", "strides", "padding", "out_hw"),
    [
        ((8, 8), 3, 1, "SAME", (8, 8)),
        ((8, 8), 3, 2, "SAME", (4, 4)),
        ((7, 5), 3, 2, "SAME", (4, 3)),
        ((8, 8), 3, 1, "VALID", (6, 6)),
        ((7, 5), 3, 2, "VALID", (3, 2)),
        ((4, 4), 5, 1, "SAME", (4, 4)),
    ],
)
def test_static_shapes_with_unknown_batch(in_hw, k, strides, padding, out_hw):
    x = cr.placeholder(cr.float32, [None, *in_hw, 3])
    w = cr.placeholder(cr.float32, [k, k, 3, 16])
    assert cr.nn.conv2d(x, w, strides, padding).shape.as_list() == [None, *out_hw, 16]
    if padding == "SAME" or k <= min(in_hw):
        assert cr.nn.max_pool2d(x, k, strides, padding).shape.as_list() == [None, *out_hw, 3]
        assert cr.nn.avg_pool2d(x, k, strides, padding).shape.as_list() == [None, *out_hw, 3]


def test_static_shapes_partially_known():
    x = cr.placeholder(cr.float32, [None, None, 6, None])
    w = cr.placeholder(cr.float32, [3, 3, 2, 4])
    assert cr.nn.conv2d(x, w, 2, "VALID").shape.as_list() == [None, None, 2, 4]
    assert cr.nn.conv2d(cr.placeholder(cr.float32), w, 1, "SAME").shape.as_list() == [None, None, None, 4]
    unknown_filters = cr.nn.conv2d(cr.placeholder(cr.float32, [2, 5, 5, 2]), cr.placeholder(cr.float32), 1, "SAME")
    assert unknown_filters.shape.as_list() == [2, 5, 5, None]
    x_nchw = cr.placeholder(cr.float32, [None, 2, 8, 6])
    assert cr.nn.conv2d(x_nchw, w, [1, 1, 2, 2], "SAME", data_format="NCHW").shape.as_list() == [None, 4, 4, 3]


def test_gradient_shapes_keep_static_dims():
    x = cr.placeholder(cr.float64, [None, 5, 5, 2])
    w = cr.constant(np.ones((3, 3, 2, 4)))
    y = cr.nn.max_pool2d(cr.nn.conv2d(x, w, 2, "SAME"), 2, 1, "SAME")
    gx, gw = cr.gradients(cr.reduce_sum(cr.nn.avg_pool2d(y, 2, 2, "SAME")), [x, w])
    assert gx.shape.as_list() == [None, 5, 5, 2]
    assert gw.shape.as_list() == [3, 3, 2, 4]


def test_op_attributes_are_tensorflow_style():
    y = cr.nn.conv2d(cr.placeholder(cr.float32, [1, 4, 4, 1]), np.ones((2, 2, 1, 1), np.float32), [1, 2, 2, 1], "same")
    assert y.op.type == "Conv2D"
    assert y.op.get_attr("strides") == (1, 2, 2, 1)
    assert y.op.get_attr("dilations") == (1, 1, 1, 1)
    assert y.op.get_attr("padding") == "SAME"
    p = cr.nn.max_pool2d(y, 2, 1, "VALID")
    assert (p.op.type, p.op.get_attr("ksize"), p.op.get_attr("strides")) == ("MaxPool", (1, 2, 2, 1), (1, 1, 1, 1))


# --- TensorFlow's SAME padding ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "k", "s", "before"), [(4, 3, 2, 0), (5, 3, 2, 1), (4, 2, 1, 0), (6, 4, 1, 1), (6, 5, 1, 2)]
)
def test_same_padding_puts_the_odd_pad_after(size, k, s, before):
    # A filter that only sees its top-left tap reads x at (i*s - pad_before): pad_before is visible.
    x = np.arange(1.0, size * size + 1).reshape(1, size, size, 1)
    w = np.zeros((k, k, 1, 1))
    w[0, 0] = 1.0
    out = run(cr.nn.conv2d(cr.constant(x), cr.constant(w), s, "SAME"))
    padded = np.pad(x, ((0, 0), (before, k), (before, k), (0, 0)))
    n_out = -(-size // s)
    np.testing.assert_array_equal(out, padded[:, : n_out * s : s, : n_out * s : s, :])


def test_max_pool_pads_with_minus_infinity():
    x = -5.0 - np.arange(9.0).reshape(1, 3, 3, 1)
    out = run(cr.nn.max_pool2d(cr.constant(x), 2, 2, "SAME"))
    np.testing.assert_array_equal(out[0, :, :, 0], [[-5.0, -7.0], [-11.0, -13.0]])


def test_avg_pool_same_averages_only_real_elements():
    x = np.ones((1, 3, 3, 1))
    out = run(cr.nn.avg_pool2d(cr.constant(x), 3, 1, "SAME"))
    np.testing.assert_allclose(out, np.ones((1, 3, 3, 1)))  # zeros from padding would pull borders below 1
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    out = run(cr.nn.avg_pool2d(cr.constant(x), 2, 2, "SAME"))
    np.testing.assert_allclose(out[0, :, :, 0], [[2.0, 3.5], [6.5, 8.0]])


# --- max pooling ties ---------------------------------------------------------------------------
def test_max_pool_gradient_goes_to_first_maximum_on_ties():
    # TensorFlow scans each window row-major and keeps the first maximum (strict '>' comparison).
    x = cr.constant(np.array([[3.0, 1.0, 2.0, 2.0], [3.0, 3.0, 2.0, 2.0]]).reshape(1, 2, 4, 1))
    (g,) = cr.gradients(cr.reduce_sum(cr.nn.max_pool2d(x, 2, 2, "VALID")), [x])
    np.testing.assert_array_equal(run(g)[0, :, :, 0], [[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def test_max_pool_overlapping_windows_accumulate_gradient():
    x = cr.constant(np.array([[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]).reshape(1, 3, 3, 1))
    (g,) = cr.gradients(cr.reduce_sum(cr.nn.max_pool2d(x, 2, 1, "VALID")), [x])
    assert run(g)[0, 1, 1, 0] == 4.0


def test_max_pool_gradient_never_lands_on_padding():
    x = cr.placeholder(cr.float64, [1, 3, 3, 2])
    y = cr.nn.max_pool2d(x, 3, 2, "SAME")
    (g,) = cr.gradients(cr.reduce_sum(y), [x])
    for value in (np.full((1, 3, 3, 2), -np.inf), np.full((1, 3, 3, 2), np.nan)):
        grad = run(g, {x: value})
        assert grad.sum() == 2 * 4  # every output element's gradient reached a real input element


def test_max_pool_grad_grad_gathers_at_argmax():
    x = cr.constant(np.array([[1.0, 5.0], [2.0, 0.0]]).reshape(1, 2, 2, 1))
    seed = cr.placeholder(cr.float64, [1, 1, 1, 1])
    (gx,) = cr.gradients(cr.nn.max_pool2d(x, 2, 1, "VALID"), [x], grad_ys=[seed])
    v = cr.constant(np.array([10.0, 20.0, 30.0, 40.0]).reshape(1, 2, 2, 1))
    (gg,) = cr.gradients(cr.reduce_sum(gx * v), [seed])
    assert gg.op.type == "MaxPoolGradGrad"
    assert run(gg, {seed: np.ones((1, 1, 1, 1))}).item() == 20.0


# --- NCHW, transpose, adjointness ---------------------------------------------------------------
def test_nchw_matches_nhwc():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((3, 2, 3, 4))
    nhwc = np.transpose(x, (0, 2, 3, 1))
    got = run(
        [
            cr.nn.conv2d(x, w, [1, 1, 2, 1], [[0, 0], [0, 0], [1, 1], [0, 2]], data_format="NCHW"),
            cr.nn.max_pool2d(x, [1, 1, 2, 2], [1, 1, 2, 2], "SAME", data_format="NCHW"),
            cr.nn.avg_pool2d(x, 3, 1, "VALID", data_format="NCHW"),
        ]
    )
    want = [
        conv2d_ref(nhwc, w, (2, 1), [None, (1, 1), (0, 2)]),
        max_pool_ref(nhwc, 2, 2, "SAME"),
        avg_pool_ref(nhwc, 3, 1, "VALID"),
    ]
    for g, wnt in zip(got, want, strict=True):
        np.testing.assert_allclose(g, np.transpose(wnt, (0, 3, 1, 2)), rtol=1e-10)


@pytest.mark.parametrize(
    ("size", "strides", "padding", "dilations"), [(5, 2, "SAME", 1), (6, 2, "VALID", 1), (7, 1, "SAME", 2)]
)
def test_conv2d_transpose_is_the_adjoint_of_conv2d(size, strides, padding, dilations):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, size, size, 3)), rng.standard_normal((3, 3, 3, 4))
    y = cr.nn.conv2d(x, w, strides, padding, dilations=dilations)
    v = rng.standard_normal(y.shape.as_list())
    xt = cr.nn.conv2d_transpose(v, w, list(x.shape), strides, padding, dilations=dilations)
    assert xt.shape.as_list() == list(x.shape)
    y_val, xt_val = run([y, xt])
    np.testing.assert_allclose(np.sum(y_val * v), np.sum(x * xt_val), rtol=1e-10)


def test_backprop_input_with_dynamic_input_sizes():
    sizes = cr.placeholder(cr.int32, [4])
    w = np.ones((2, 2, 1, 1))
    dy = np.ones((1, 2, 2, 1))
    dx = cr.nn.conv2d_backprop_input(sizes, w, dy, 2, "SAME")
    assert dx.shape.as_list() == [1, None, None, 1]
    # Input sizes 3 and 4 both give a stride-2 SAME output of 2: input_sizes picks which.
    assert run(dx, {sizes: [1, 3, 3, 1]}).shape == (1, 3, 3, 1)
    assert run(dx, {sizes: [1, 4, 4, 1]}).shape == (1, 4, 4, 1)


def test_hessian_of_a_conv_loss():
    x = cr.constant(np.random.default_rng(2).standard_normal((1, 4, 4, 1)))
    w = cr.placeholder(cr.float64, [2, 2, 1, 1])
    y = cr.nn.max_pool2d(cr.tanh(cr.nn.conv2d(x, w, 1, "SAME")), 2, 2, "VALID")
    (h,) = cr.hessians(cr.reduce_sum(y * y), [w])
    value = run(h, {w: np.full((2, 2, 1, 1), 0.3)})
    assert value.shape == (2, 2, 1, 1, 2, 2, 1, 1)
    flat = value.reshape(4, 4)
    np.testing.assert_allclose(flat, flat.T, rtol=1e-8, atol=1e-12)


def test_errors_name_the_op_and_the_line():
    x = cr.placeholder(cr.float32, [1, 4, 4, 3])
    with pytest.raises(cr.errors.InvalidArgumentError, match=r"Conv2D.*3 channels.*expect 2") as info:
        cr.nn.conv2d(x, np.ones((3, 3, 2, 8), np.float32), 1, "SAME")
    assert __file__ in str(info.value)
    with pytest.raises(cr.errors.InvalidArgumentError, match="padding must be"):
        cr.nn.avg_pool2d(x, 2, 2, "valid-ish")


# --- speed: a small CNN on 8x8 digit-sized images -----------------------------------------------
def _digits_like(n, rng):
    """8x8 images of a bright horizontal (label 0) or vertical (label 1) bar, with noise."""
    labels = rng.integers(0, 2, n)
    images = rng.normal(0.0, 0.3, (n, 8, 8, 1))
    pos = rng.integers(1, 7, n)
    for i in range(n):
        if labels[i]:
            images[i, :, pos[i], 0] += 2.0
        else:
            images[i, pos[i], :, 0] += 2.0
    return images.astype(np.float32), np.eye(2, dtype=np.float32)[labels]


def test_small_cnn_learns():
    rng = np.random.default_rng(0)
    x = cr.placeholder(cr.float32, [None, 8, 8, 1])
    labels = cr.placeholder(cr.float32, [None, 2])
    w1 = cr.Variable(rng.normal(0, 0.3, (3, 3, 1, 8)).astype(np.float32))
    w2 = cr.Variable(rng.normal(0, 0.2, (3, 3, 8, 16)).astype(np.float32))
    w3 = cr.Variable(rng.normal(0, 0.2, (4 * 16, 2)).astype(np.float32))
    h = cr.maximum(cr.nn.conv2d(x, w1, 1, "SAME"), 0.0)
    h = cr.nn.max_pool2d(h, 2, 2, "SAME")  # 4x4x8
    h = cr.maximum(cr.nn.conv2d(h, w2, 1, "SAME"), 0.0)  # 4x4x16
    h = cr.nn.avg_pool2d(h, 2, 2, "VALID")  # 2x2x16
    logits = cr.matmul(cr.reshape(h, [-1, 4 * 16]), w3)
    shifted = logits - cr.reduce_max(logits, axis=1, keepdims=True)
    log_probs = shifted - cr.log(cr.reduce_sum(cr.exp(shifted), axis=1, keepdims=True))
    loss = -cr.reduce_mean(cr.reduce_sum(labels * log_probs, axis=1))
    params = [w1, w2, w3]
    grads = cr.gradients(loss, params)
    train = [p.assign_sub(0.2 * g) for p, g in zip(params, grads, strict=True)]
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        losses = []
        for _ in range(40):
            images, onehot = _digits_like(64, rng)
            value, _ = sess.run([loss, train], {x: images, labels: onehot})
            losses.append(value)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), losses
