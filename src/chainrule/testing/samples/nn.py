"""Samples for the activations, softmax family, cross-entropies, l2_loss, bias_add and dropout (``cr.nn``)."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, positive, rand, sample

UNARY_SHAPES = [(2, 3), (1,), (), (0, 2)]
IAE = cr.errors.InvalidArgumentError


def _off_kinks(*shape: int, seed: int = 0) -> np.ndarray:
    """Values in [-2, -0.2] U [0.2, 2]: central differences never straddle the kink at 0."""
    x = rand(*shape, low=-1.8, high=1.8, seed=seed)
    return x + np.where(x >= 0, 0.2, -0.2)


def _activation(name, fn, ref):
    return [
        sample(name, fn, _off_kinks(*s, seed=i), ref=ref, label="x".join(map(str, s)) or "scalar")
        for i, s in enumerate(UNARY_SHAPES)
    ]


def _log_softmax_ref(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    with np.errstate(divide="ignore"):  # an empty class axis: log(0) of a sum that is then dropped
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _softmax_ref(x, axis=-1):
    return np.exp(_log_softmax_ref(x, axis))


def _distribution(*shape: int, seed: int = 0, axis: int = -1) -> np.ndarray:
    return _softmax_ref(rand(*shape, seed=seed + 50), axis)


def _xent_ref(labels, logits, axis=-1):
    return -np.sum(labels * _log_softmax_ref(logits, axis), axis=axis)


def _sparse_ref(logits, labels):
    logp = _log_softmax_ref(logits)
    return -np.take_along_axis(logp, labels[..., None].astype(np.intp), axis=-1)[..., 0]


def _sigmoid_xent_ref(logits, labels):
    return np.logaddexp(0, logits) - logits * labels


def _softmax_samples(name, fn, ref):
    cases = [
        ((2, 3), -1),
        ((2, 3), 0),
        ((4,), -1),
        ((1, 4), -1),
        ((3, 1), -1),
        ((2, 3, 2), 1),
        ((0, 3), -1),
        ((2, 0), -1),
    ]
    return [
        sample(
            name,
            lambda x, a=axis: fn(x, axis=a),
            rand(*s, seed=i),
            ref=lambda x, a=axis: ref(x, a),
            label=f"{s} axis={axis}",
            rtol=1e-6,
        )
        for i, (s, axis) in enumerate(cases)
    ]


def _xent(labels, logits, axis=-1):
    return cr.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, axis=axis)


def _sparse(logits, labels):
    return cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def _sigmoid_xent(logits, labels):
    return cr.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)


SAMPLES: list[OpSample] = [
    *_activation("relu", cr.nn.relu, lambda x: np.maximum(x, 0)),
    sample("relu", cr.nn.relu, np.array([-3, 0, 2], np.int32), ref=lambda x: np.maximum(x, 0), label="int32", order=0),
    *_activation("elu", cr.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    *_activation("leaky_relu", cr.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    sample(
        "leaky_relu",
        lambda x: cr.nn.leaky_relu(x, alpha=0.01),
        _off_kinks(2, 3),
        ref=lambda x: np.where(x > 0, x, 0.01 * x),
        label="alpha=0.01",
    ),
    sample("sigmoid", cr.nn.sigmoid, rand(2, 3), ref=lambda x: 1 / (1 + np.exp(-x)), rtol=1e-6),
    sample("tanh", cr.nn.tanh, rand(2, 3), ref=np.tanh),
    sample("softplus", cr.nn.softplus, rand(2, 3), ref=lambda x: np.log1p(np.exp(x))),
    *_softmax_samples("softmax", cr.nn.softmax, _softmax_ref),
    *_softmax_samples("log_softmax", cr.nn.log_softmax, _log_softmax_ref),
    # Softmax cross-entropy: normalized labels, unnormalized labels (the gradient must not assume
    # they sum to 1), another axis, 1-D (scalar loss), one class, no examples.
    sample("softmax_cross_entropy_with_logits", _xent, _distribution(2, 3), rand(2, 3), ref=_xent_ref),
    sample(
        "softmax_cross_entropy_with_logits",
        _xent,
        positive(3, 4),
        rand(3, 4, seed=1),
        ref=_xent_ref,
        label="unnormalized labels",
    ),
    sample(
        "softmax_cross_entropy_with_logits",
        lambda y, x: _xent(y, x, axis=0),
        _distribution(3, 2, axis=0),
        rand(3, 2, seed=2),
        ref=lambda y, x: _xent_ref(y, x, 0),
        label="axis=0",
    ),
    sample("softmax_cross_entropy_with_logits", _xent, _distribution(4), rand(4, seed=3), ref=_xent_ref, label="1-D"),
    sample(
        "softmax_cross_entropy_with_logits",
        _xent,
        np.ones((2, 1)),
        rand(2, 1, seed=4),
        ref=_xent_ref,
        label="one class",
    ),
    sample(
        "softmax_cross_entropy_with_logits", _xent, np.zeros((0, 3)), rand(0, 3), ref=_xent_ref, label="empty batch"
    ),
    # Sparse: int32 and int64 labels, extra batch dims, one class, no examples.
    sample(
        "sparse_softmax_cross_entropy_with_logits", _sparse, rand(2, 3), np.array([0, 2], np.int32), ref=_sparse_ref
    ),
    sample(
        "sparse_softmax_cross_entropy_with_logits",
        _sparse,
        rand(2, 2, 3, seed=1),
        np.array([[1, 0], [2, 2]], np.int64),
        ref=_sparse_ref,
        label="3-D int64",
    ),
    sample(
        "sparse_softmax_cross_entropy_with_logits",
        _sparse,
        rand(1, 1, seed=2),
        np.array([0], np.int32),
        ref=_sparse_ref,
        label="one class",
    ),
    sample(
        "sparse_softmax_cross_entropy_with_logits",
        _sparse,
        rand(0, 4),
        np.zeros(0, np.int32),
        ref=_sparse_ref,
        label="empty batch",
    ),
    # Sigmoid cross-entropy: labels in [0, 1] (soft labels too), all shapes.
    *[
        sample(
            "sigmoid_cross_entropy_with_logits",
            _sigmoid_xent,
            rand(*s, seed=i),
            rand(*s, low=0.0, high=1.0, seed=10 + i),
            ref=_sigmoid_xent_ref,
            label="x".join(map(str, s)) or "scalar",
        )
        for i, s in enumerate(UNARY_SHAPES)
    ],
    sample("l2_loss", cr.nn.l2_loss, rand(2, 3), ref=lambda t: np.sum(t**2) / 2),
    sample("l2_loss", cr.nn.l2_loss, rand(), ref=lambda t: t**2 / 2, label="scalar"),
    sample("l2_loss", cr.nn.l2_loss, rand(0, 3), ref=lambda t: np.sum(t**2) / 2, label="empty"),
    sample("bias_add", cr.nn.bias_add, rand(2, 3), rand(3, seed=1), ref=np.add),
    sample("bias_add", cr.nn.bias_add, rand(2, 2, 3), rand(3, seed=1), ref=np.add, label="3-D"),
    sample("bias_add", cr.nn.bias_add, rand(1, 1), rand(1, seed=1), ref=np.add, label="1x1"),
    sample("bias_add", cr.nn.bias_add, rand(0, 3), rand(3, seed=1), ref=np.add, label="empty batch"),
    sample(
        "bias_add",
        lambda v, b: cr.nn.bias_add(v, b, data_format="NCHW"),
        rand(2, 3, 2, 1),
        rand(3, seed=1),
        ref=lambda v, b: v + b[:, None, None],
        label="NCHW",
    ),
    # Dropout draws a fresh mask each run: forward checks shapes and dtypes only (values are
    # tested in tests/ops/test_nn_ops.py); with rate 0 it is the identity.
    sample("dropout", lambda x: cr.nn.dropout(x, rate=0.5, seed=1), rand(2, 3), ref=None, order=0),
    sample("dropout", lambda x: cr.nn.dropout(x, keep_prob=0.8), rand(4), ref=None, order=0, label="keep_prob"),
    sample(
        "dropout",
        lambda x: cr.nn.dropout(x, rate=0.3, noise_shape=[2, 1]),
        rand(2, 3),
        ref=None,
        order=0,
        label="noise_shape",
    ),
    sample("dropout", lambda x: cr.nn.dropout(x, rate=0.5), rand(0, 3), ref=None, order=0, label="empty"),
    sample("dropout", lambda x: cr.nn.dropout(x, rate=0.0), rand(2, 3), ref=lambda x: x, label="rate=0"),
]

ERRORS: list[ErrorSample] = [
    error("relu", cr.nn.relu, np.array([True]), error=cr.errors.InvalidDTypeError, match="Relu.*bool.*numeric"),
    error(
        "elu", cr.nn.elu, np.array([1, 2], np.int32), error=cr.errors.InvalidDTypeError, match="Elu.*int32.*floating"
    ),
    error(
        "leaky_relu",
        cr.nn.leaky_relu,
        np.array([1], np.int32),
        error=cr.errors.InvalidDTypeError,
        match="LeakyRelu.*floating",
    ),
    error(
        "softmax", lambda x: cr.nn.softmax(x, axis=2), rand(2, 3), error=IAE, match="Softmax.*axis 2 is out of bounds"
    ),
    error("softmax", cr.nn.softmax, rand(), error=IAE, match="Softmax.*rank >= 1", label="scalar"),
    error(
        "log_softmax",
        cr.nn.log_softmax,
        np.array([1, 2], np.int32),
        error=cr.errors.InvalidDTypeError,
        match="LogSoftmax.*floating",
    ),
    error(
        "softmax_cross_entropy_with_logits",
        _xent,
        rand(2, 4),
        rand(2, 3),
        error=IAE,
        match=r"SoftmaxCrossEntropyWithLogits.*same shape.*\(2, 3\).*\(2, 4\)",
    ),
    error(
        "softmax_cross_entropy_with_logits",
        _xent,
        rand(2, 3).astype(np.float32),
        rand(2, 3),
        error=cr.errors.InvalidDTypeError,
        match="SoftmaxCrossEntropyWithLogits.*same dtype",
        label="dtype",
    ),
    error(
        "softmax_cross_entropy_with_logits",
        _xent,
        rand(2, 1),
        rand(2, 3),
        error=IAE,
        match=r"same shape.*\(2, 3\).*\(2, 1\).*SoftmaxCrossEntropyWithLogits",
        label="at run",
        at_run=True,
        static_shapes=False,
    ),
    error(
        "sparse_softmax_cross_entropy_with_logits",
        _sparse,
        rand(2, 3),
        np.array([0, 3], np.int32),
        error=IAE,
        match=r"label value of 3 which is outside the valid range of \[0, 3\).*SparseSoftmaxCrossEntropyWithLogits",
        at_run=True,
    ),
    error(
        "sparse_softmax_cross_entropy_with_logits",
        _sparse,
        rand(2, 3),
        np.array([-1, 0], np.int64),
        error=IAE,
        match=r"label value of -1 .*SparseSoftmaxCrossEntropyWithLogits",
        label="negative",
        at_run=True,
    ),
    error(
        "sparse_softmax_cross_entropy_with_logits",
        _sparse,
        rand(2, 3),
        np.array([0.0, 1.0]),
        error=cr.errors.InvalidDTypeError,
        match="SparseSoftmaxCrossEntropyWithLogits.*labels.*integer",
        label="float labels",
    ),
    error(
        "sparse_softmax_cross_entropy_with_logits",
        _sparse,
        rand(2, 3),
        np.array([0, 1, 2], np.int32),
        error=IAE,
        match=r"SparseSoftmaxCrossEntropyWithLogits.*labels must have the shape of logits without the last axis",
        label="shape",
    ),
    error(
        "sigmoid_cross_entropy_with_logits",
        _sigmoid_xent,
        rand(2, 3),
        rand(3, 2),
        error=IAE,
        match="SigmoidCrossEntropyWithLogits.*same shape",
    ),
    error("l2_loss", cr.nn.l2_loss, np.array([1, 2], np.int32), error=TypeError, match="l2_loss.*floating"),
    error(
        "bias_add", cr.nn.bias_add, rand(2, 3), rand(2), error=IAE, match=r"BiasAdd.*bias must be 1-D.*\(2, 3\).*\(2,\)"
    ),
    error(
        "bias_add",
        cr.nn.bias_add,
        rand(2, 3),
        rand(1, 3),
        error=IAE,
        match="BiasAdd.*bias must be 1-D",
        label="2-D bias",
    ),
    error("bias_add", cr.nn.bias_add, rand(3), rand(3), error=IAE, match="BiasAdd.*at least 2-D", label="1-D value"),
    error(
        "bias_add",
        cr.nn.bias_add,
        rand(2, 3),
        rand(2),
        error=IAE,
        match="bias must be 1-D.*BiasAdd",
        label="at run",
        at_run=True,
        static_shapes=False,
    ),
    error(
        "bias_add",
        lambda v, b: cr.nn.bias_add(v, b, data_format="NCHW"),
        rand(2, 3, 2, 2),
        rand(2),
        error=ValueError,
        match="bias_add.*axis 1",
        label="NCHW",
    ),
    error(
        "dropout",
        lambda x: cr.nn.dropout(x, rate=0.5, keep_prob=0.5),
        rand(3),
        error=ValueError,
        match="dropout.*exactly one",
    ),
    error(
        "dropout", lambda x: cr.nn.dropout(x), rand(3), error=ValueError, match="dropout.*exactly one", label="neither"
    ),
    error(
        "dropout",
        lambda x: cr.nn.dropout(x, rate=1.0),
        rand(3),
        error=ValueError,
        match=r"dropout.*rate must be in \[0, 1\)",
        label="rate=1",
    ),
    error(
        "dropout",
        lambda x: cr.nn.dropout(x, keep_prob=0.0),
        rand(3),
        error=ValueError,
        match=r"dropout.*keep_prob",
        label="keep_prob=0",
    ),
    error(
        "dropout",
        lambda x: cr.nn.dropout(x, rate=0.5),
        np.array([1, 2], np.int32),
        error=TypeError,
        match="dropout.*floating",
        label="int",
    ),
    error(
        "dropout",
        lambda x: cr.nn.dropout(x, rate=0.5, noise_shape=[3, 1]),
        rand(2, 3),
        error=ValueError,
        match="dropout.*noise_shape",
        label="noise_shape",
    ),
]
