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
    return cr.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis)


def _xent_v1(labels, logits, axis=-1):
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
    sample("softmax_cross_entropy_with_logits_v2", _xent, _distribution(2, 3), rand(2, 3), ref=_xent_ref),
    sample(
        "softmax_cross_entropy_with_logits_v2",
        _xent,
        positive(3, 4),
        rand(3, 4, seed=1),
        ref=_xent_ref,
        label="unnormalized labels",
    ),
    sample(
        "softmax_cross_entropy_with_logits_v2",
        lambda y, x: _xent(y, x, axis=0),
        _distribution(3, 2, axis=0),
        rand(3, 2, seed=2),
        ref=lambda y, x: _xent_ref(y, x, 0),
        label="axis=0",
    ),
    sample(
        "softmax_cross_entropy_with_logits_v2", _xent, _distribution(4), rand(4, seed=3), ref=_xent_ref, label="1-D"
    ),
    sample(
        "softmax_cross_entropy_with_logits_v2",
        _xent,
        np.ones((2, 1)),
        rand(2, 1, seed=4),
        ref=_xent_ref,
        label="one class",
    ),
    sample(
        "softmax_cross_entropy_with_logits_v2", _xent, np.zeros((0, 3)), rand(0, 3), ref=_xent_ref, label="empty batch"
    ),
    # v1 (TensorFlow 1.x): the same loss, with no gradient into the labels; dim is its older axis name.
    sample("softmax_cross_entropy_with_logits", _xent_v1, _distribution(2, 3), rand(2, 3), ref=_xent_ref, wrt=(1,)),
    sample(
        "softmax_cross_entropy_with_logits",
        lambda y, x: cr.nn.softmax_cross_entropy_with_logits(labels=y, logits=x, dim=0),
        _distribution(3, 2, axis=0),
        rand(3, 2, seed=2),
        ref=lambda y, x: _xent_ref(y, x, 0),
        label="dim=0",
        wrt=(1,),
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
        "softmax_cross_entropy_with_logits_v2",
        _xent,
        rand(2, 4),
        rand(2, 3),
        error=IAE,
        match=r"SoftmaxCrossEntropyWithLogits.*same shape.*\(2, 3\).*\(2, 4\)",
    ),
    error(
        "softmax_cross_entropy_with_logits_v2",
        _xent,
        rand(2, 3).astype(np.float32),
        rand(2, 3),
        error=cr.errors.InvalidDTypeError,
        match="SoftmaxCrossEntropyWithLogits.*same dtype",
        label="dtype",
    ),
    error(
        "softmax_cross_entropy_with_logits_v2",
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


# --- TensorFlow 1.x's further activations, normalization, embeddings and sampled losses --------
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_FLT_MAX = float(np.finfo(np.float32).max)


def _off_relu6_kinks(*shape: int, seed: int = 0) -> np.ndarray:
    """Values in [-2, 8] at least 0.2 away from the kinks at 0 and 6."""
    x = rand(*shape, low=-2.0, high=8.0, seed=seed)
    return np.where(np.abs(x) < 0.2, x + 0.5, np.where(np.abs(x - 6) < 0.2, x + 0.5, x))


def _selu_ref(x):
    return _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0)))


def _moments_ref(x, axes, keep=False):
    return np.mean(x, axis=tuple(axes), keepdims=keep), np.var(x, axis=tuple(axes), keepdims=keep)


def _fused_ref(x, scale, offset, eps=0.001):
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    n = x.size // x.shape[-1]
    return (x - mean) / np.sqrt(var + eps) * scale + offset, mean, var * n / (n - 1)


def _l2_normalize_ref(x, axis=None, eps=1e-12):
    return x / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), eps))


_IDS = np.array([[0, 4], [6, 1], [4, 4]], np.int64)


def _table_ref(parts, strategy):
    """The full table, row i being id i, of a sharded ``params`` list (TensorFlow's two strategies)."""
    n, total = len(parts), sum(len(p) for p in parts)
    rows = []
    for i in range(total):
        if strategy == "mod":
            rows.append(parts[i % n][i // n])
        else:
            per, extras = divmod(total, n)
            p = max(i // (per + 1), (i - extras) // per)
            rows.append(parts[p][i % (per + 1) if p < extras else (i - extras) % per])
    return np.stack(rows)


def _clip_rows_ref(e, max_norm):
    norm = np.sqrt(np.sum(e * e, axis=-1, keepdims=True))
    return e * max_norm / np.maximum(norm, max_norm)


# A fixed sample for the sampled losses (sampled_values given, so the loss is deterministic):
# class 4 is sampled and is example 1's target (an accidental hit).
_LABELS = np.array([[1], [4]], np.int64)
_LABELS2 = np.array([[1, 3], [4, 0]], np.int64)
_SAMPLED = np.array([0, 4, 5], np.int64)


def _counts(ids):
    p = np.log((ids + 2.0) / (ids + 1.0)) / np.log(7.0)
    return (p * 3).astype(np.float32)


def _sampled_values(labels):
    return (_SAMPLED, _counts(labels), _counts(_SAMPLED))


def _sampled_logits_ref(w, b, x, labels, remove_hits):
    sampled, true_expected, sampled_expected = _sampled_values(labels)
    true_logits = np.einsum("bd,btd->bt", x, w[labels]) + b[labels]
    sampled_logits = x @ w[sampled].T + b[sampled]
    if remove_hits:
        hits = np.any(labels[:, :, None] == sampled[None, None, :], axis=1)
        sampled_logits = np.where(hits, sampled_logits - _FLT_MAX, sampled_logits)
    true_logits = true_logits - np.log(true_expected.astype(np.float64))
    sampled_logits = sampled_logits - np.log(sampled_expected.astype(np.float64))
    logits = np.concatenate([true_logits, sampled_logits], 1)
    targets = np.concatenate([np.full(true_logits.shape, 1 / labels.shape[1]), np.zeros(sampled_logits.shape)], 1)
    return logits, targets


def _nce_ref(labels, remove_hits=False):
    def ref(w, b, x):
        logits, z = _sampled_logits_ref(w, b, x, labels, remove_hits)
        return np.sum(np.maximum(logits, 0) - logits * z + np.log1p(np.exp(-np.abs(logits))), axis=1)

    return ref


def _sampled_softmax_ref(labels, remove_hits=True):
    def ref(w, b, x):
        logits, z = _sampled_logits_ref(w, b, x, labels, remove_hits)
        return -np.sum(z * _log_softmax_ref(logits), axis=1)

    return ref


def _nce(labels, remove_hits=False):
    return lambda w, b, x: cr.nn.nce_loss(
        w, b, labels, x, 3, 7, num_true=labels.shape[1], sampled_values=_sampled_values(labels),
        remove_accidental_hits=remove_hits,
    )  # fmt: skip


def _sampled_softmax(labels, remove_hits=True):
    return lambda w, b, x: cr.nn.sampled_softmax_loss(
        w, b, labels, x, 3, 7, num_true=labels.shape[1], sampled_values=_sampled_values(labels),
        remove_accidental_hits=remove_hits,
    )  # fmt: skip


SAMPLES += [
    *[
        sample("relu6", cr.nn.relu6, _off_relu6_kinks(*s, seed=i), ref=lambda x: np.clip(x, 0, 6), label=str(s))
        for i, s in enumerate(UNARY_SHAPES)
    ],
    sample(
        "relu6", cr.nn.relu6, np.array([-3, 0, 4, 9], np.int32), ref=lambda x: np.clip(x, 0, 6), label="int32", order=0
    ),
    *_activation("selu", cr.nn.selu, _selu_ref),
    *_activation("softsign", cr.nn.softsign, lambda x: x / (1 + np.abs(x))),
    sample(
        "crelu", cr.nn.crelu, _off_kinks(2, 3), ref=lambda x: np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], -1)
    ),
    sample(
        "crelu",
        lambda x: cr.nn.crelu(x, axis=0),
        _off_kinks(2, 3, seed=1),
        ref=lambda x: np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], 0),
        label="axis=0",
    ),
    sample("moments", lambda x: cr.nn.moments(x, [0]), rand(4, 3), ref=lambda x: _moments_ref(x, [0]), rtol=1e-6),
    sample(
        "moments",
        lambda x: cr.nn.moments(x, [0, 1, 2], keep_dims=True),
        rand(2, 3, 2, 2, seed=1),
        ref=lambda x: _moments_ref(x, [0, 1, 2], True),
        label="NHWC keep_dims",
        rtol=1e-6,
    ),
    sample("moments", lambda x: cr.nn.moments(x, [1]), rand(3, 1), ref=lambda x: _moments_ref(x, [1]), label="size 1"),
    sample(
        "batch_normalization",
        lambda x, m, v, o, s: cr.nn.batch_normalization(x, m, v, o, s, 1e-3),
        rand(4, 3),
        rand(3, seed=1),
        positive(3, seed=2),
        rand(3, seed=3),
        rand(3, seed=4),
        ref=lambda x, m, v, o, s: (x - m) / np.sqrt(v + 1e-3) * s + o,
        rtol=1e-6,
    ),
    sample(
        "batch_normalization",
        lambda x, m, v: cr.nn.batch_normalization(x, m, v, None, None, 1e-3),
        rand(2, 2, 3),
        rand(3, seed=1),
        positive(3, seed=2),
        ref=lambda x, m, v: (x - m) / np.sqrt(v + 1e-3),
        label="no offset or scale",
        rtol=1e-6,
    ),
    sample(
        "fused_batch_norm",
        cr.nn.fused_batch_norm,
        rand(2, 2, 2, 3),
        positive(3, seed=1),
        rand(3, seed=2),
        ref=_fused_ref,
        rtol=1e-6,
    ),
    sample(
        "fused_batch_norm",
        lambda x, s, o, m, v: cr.nn.fused_batch_norm(x, s, o, m, v, is_training=False),
        rand(1, 2, 2, 3),
        positive(3, seed=1),
        rand(3, seed=2),
        rand(3, seed=3),
        positive(3, seed=4),
        ref=lambda x, s, o, m, v: ((x - m) / np.sqrt(v + 0.001) * s + o, m, v),
        label="inference",
        rtol=1e-6,
    ),
    sample(
        "fused_batch_norm",
        lambda x, s, o: cr.nn.fused_batch_norm(x, s, o, data_format="NCHW"),
        rand(2, 3, 2, 1),
        positive(3, seed=1),
        rand(3, seed=2),
        ref=lambda x, s, o: tuple(
            np.transpose(r, (0, 3, 1, 2)) if r.ndim == 4 else r for r in _fused_ref(np.transpose(x, (0, 2, 3, 1)), s, o)
        ),
        label="NCHW",
        rtol=1e-6,
    ),
    sample("l2_normalize", lambda x: cr.nn.l2_normalize(x, 1), rand(2, 3), ref=lambda x: _l2_normalize_ref(x, 1)),
    sample("l2_normalize", cr.nn.l2_normalize, rand(2, 3, seed=1), ref=_l2_normalize_ref, label="all axes"),
    sample(
        "l2_normalize",
        lambda x: cr.nn.l2_normalize(x, dim=0),
        np.array([[0.0, 1.0], [0.0, -2.0]]),
        ref=lambda x: _l2_normalize_ref(x, 0),
        label="dim=0 zero column",
        order=1,  # the zero column sits on the epsilon floor's kink for second differences
    ),
    sample(
        "embedding_lookup",
        lambda p: cr.nn.embedding_lookup(p, _IDS),
        rand(7, 2),
        ref=lambda p: p[_IDS],
    ),
    sample(
        "embedding_lookup",
        lambda p: cr.nn.embedding_lookup(p, np.array([0, 2, 0], np.int32)),
        rand(3, 2, 2, seed=1),
        ref=lambda p: p[[0, 2, 0]],
        label="int32 ids 3-D params",
    ),
    *[
        sample(
            "embedding_lookup",
            lambda a, b, c, s=strategy: cr.nn.embedding_lookup([a, b, c], _IDS, partition_strategy=s),
            rand(3, 2, seed=2),
            rand(2, 2, seed=3),
            rand(2, 2, seed=4),
            ref=lambda a, b, c, s=strategy: _table_ref([a, b, c], s)[_IDS],
            label=f"3 partitions {strategy}",
        )
        for strategy in ("mod", "div")
    ],
    sample(
        "embedding_lookup",
        lambda p: cr.nn.embedding_lookup(p, _IDS, max_norm=1.5),
        rand(7, 2, low=-3.0, high=3.0, seed=5),
        ref=lambda p: _clip_rows_ref(p[_IDS], 1.5),
        label="max_norm",
    ),
    sample(
        "embedding_lookup",
        lambda p: cr.nn.embedding_lookup(p, np.zeros((0,), np.int64)),
        rand(3, 2),
        ref=lambda p: p[np.zeros(0, np.intp)],
        label="no ids",
    ),  # fmt: skip
    sample(
        "nce_loss", _nce(_LABELS), rand(7, 3), rand(7, seed=1), rand(2, 3, seed=2), ref=_nce_ref(_LABELS), rtol=1e-6
    ),
    sample(
        "nce_loss",
        _nce(_LABELS2, remove_hits=True),
        rand(7, 3),
        rand(7, seed=1),
        rand(2, 3, seed=2),
        ref=_nce_ref(_LABELS2, True),
        label="num_true=2 remove_accidental_hits",
        rtol=1e-6,
    ),
    sample(
        "sampled_softmax_loss",
        _sampled_softmax(_LABELS),
        rand(7, 3),
        rand(7, seed=1),
        rand(2, 3, seed=2),
        ref=_sampled_softmax_ref(_LABELS),
        rtol=1e-6,
    ),
    sample(
        "sampled_softmax_loss",
        _sampled_softmax(_LABELS2, remove_hits=False),
        rand(7, 3),
        rand(7, seed=1),
        rand(2, 3, seed=2),
        ref=_sampled_softmax_ref(_LABELS2, False),
        label="num_true=2 keep hits",
        rtol=1e-6,
    ),
    sample(
        "sampled_softmax_loss",
        lambda a, b, bias, x: cr.nn.sampled_softmax_loss(
            [a, b], bias, _LABELS, x, 3, 7, sampled_values=_sampled_values(_LABELS)
        ),
        rand(4, 3),
        rand(3, 3, seed=3),
        rand(7, seed=1),
        rand(2, 3, seed=2),
        ref=lambda a, b, bias, x: _sampled_softmax_ref(_LABELS)(_table_ref([a, b], "mod"), bias, x),
        label="sharded weights",
        rtol=1e-6,
    ),
    # The sampler draws a fresh sample each run: shapes and dtypes here, values in tests/ops/test_nn_ops.py.
    sample(
        "log_uniform_candidate_sampler",
        lambda t: cr.nn.log_uniform_candidate_sampler(t, 1, 4, True, 10, seed=3),
        _LABELS,
        ref=None,
        order=0,
    ),
    sample(
        "log_uniform_candidate_sampler",
        lambda t: cr.nn.log_uniform_candidate_sampler(t, 2, 5, False, 3),
        np.array([[0, 1], [2, 2], [1, 0]], np.int32),
        ref=None,
        order=0,
        label="with replacement, int32 classes",
    ),
    sample(
        "nce_loss",
        lambda w, b, x: cr.nn.nce_loss(w, b, _LABELS, x, 3, 7, remove_accidental_hits=True),
        rand(7, 3),
        rand(7, seed=1),
        rand(2, 3, seed=2),
        ref=None,
        order=0,
        label="sampled",
    ),
]

ERRORS += [
    error("relu6", cr.nn.relu6, np.array([True]), error=cr.errors.InvalidDTypeError, match="Relu6.*bool.*numeric"),
    error("selu", cr.nn.selu, np.array([1], np.int32), error=TypeError, match="selu.*floating"),
    error("softsign", cr.nn.softsign, np.array([1], np.int32), error=TypeError, match="softsign.*floating"),
    error(
        "moments",
        lambda x: cr.nn.moments(x, [0]),
        np.array([1, 2], np.int32),
        error=TypeError,
        match="moments.*floating",
    ),
    error(
        "moments",
        lambda x: cr.nn.moments(x, [0], keep_dims=True, keepdims=True),
        rand(2),
        error=ValueError,
        match="keepdims and its deprecated alias keep_dims",
        label="both keep_dims",
    ),
    error("l2_normalize", lambda x: cr.nn.l2_normalize(x, 0, dim=0), rand(2), error=ValueError, match="axis and .*dim"),
    error(
        "fused_batch_norm",
        lambda x, s, o: cr.nn.fused_batch_norm(x, s, o, is_training=False),
        rand(1, 2, 2, 3),
        rand(3),
        rand(3),
        error=ValueError,
        match="fused_batch_norm: inference.*mean and variance",
    ),
    error(
        "fused_batch_norm",
        cr.nn.fused_batch_norm,
        rand(2, 3),
        rand(3),
        rand(3),
        error=ValueError,
        match="fused_batch_norm: x must be 4-D",
        label="2-D",
    ),  # fmt: skip
    error(
        "embedding_lookup",
        lambda p: cr.nn.embedding_lookup([p, p], _IDS, partition_strategy="range"),
        rand(4, 2),
        error=ValueError,
        match="partition_strategy must be 'mod' or 'div'",
    ),
    error(
        "embedding_lookup",
        lambda p: cr.nn.embedding_lookup(p, [0.5]),
        rand(4, 2),
        error=TypeError,
        match="embedding_lookup: ids.*int32 or int64",
        label="float ids",
    ),  # fmt: skip
    error(
        "embedding_lookup",
        lambda p: cr.nn.embedding_lookup(p, np.array([0, 9], np.int64)),
        rand(4, 2),
        error=IAE,
        match="GatherV2",
        label="id out of range",
        at_run=True,
    ),
    error(
        "log_uniform_candidate_sampler",
        lambda t: cr.nn.log_uniform_candidate_sampler(t, 1, 5, True, 4),
        _LABELS,
        error=IAE,
        match=r"LogUniformCandidateSampler.*unique sample of 5 candidates needs range_max >= 5",
    ),
    error(
        "log_uniform_candidate_sampler",
        lambda t: cr.nn.log_uniform_candidate_sampler(t, 2, 3, True, 10),
        _LABELS,
        error=IAE,
        match=r"LogUniformCandidateSampler.*true_classes must be \[batch_size, num_true=2\]",
        label="num_true",
    ),
    error(
        "log_uniform_candidate_sampler",
        lambda t: cr.nn.log_uniform_candidate_sampler(t, 1, 3, True, 10),
        np.array([[0.5]]),
        error=TypeError,
        match="true_classes.*float64.*log_uniform_candidate_sampler needs a integer",
        label="float classes",
    ),
    error(
        "nce_loss",
        lambda w, b, x: cr.nn.nce_loss(w, b, np.array([[0.5]]), x, 3, 7),
        rand(7, 3),
        rand(7),
        rand(1, 3),
        error=TypeError,
        match="labels.*int32 or int64",
    ),
    error(
        "softmax_cross_entropy_with_logits",
        lambda y, x: cr.nn.softmax_cross_entropy_with_logits(y, x),
        rand(2, 3),
        rand(2, 3),
        error=ValueError,
        match="Only call `softmax_cross_entropy_with_logits` with named arguments",
    ),
]
