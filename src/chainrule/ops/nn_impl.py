"""TensorFlow 1.x's Python-level neural-network functions: normalization, embedding lookup, sampled losses.

Every function here is a composite (as in TensorFlow's ``nn_impl.py`` and ``embedding_ops.py``):
built from primitives that already have gradients and JVPs, so each is differentiable to any
order without an op declaration of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.ops import array_ops, indexing_ops, linalg_ops, math_ops, nn_ops, reduction_ops
from chainrule.ops.axes import deprecated_alias
from chainrule.ops.candidate_sampling_ops import log_uniform_candidate_sampler
from chainrule.ops.clip_ops import clip_by_norm
from chainrule.ops.constant_op import convert_to_tensor

__all__ = [
    "moments",
    "batch_normalization",
    "fused_batch_norm",
    "l2_normalize",
    "weighted_cross_entropy_with_logits",
    "embedding_lookup",
    "nce_loss",
    "sampled_softmax_loss",
]


def _floating(t: Tensor, fn: str, what: str) -> None:
    if not t.dtype.is_floating:
        raise TypeError(f"{fn}: {what} {t.name} has dtype {t.dtype.name}, but {fn} needs a floating dtype")


# --- moments and batch normalization ----------------------------------------------------------
def moments(
    x: Any,
    axes: Any,
    shift: Any = None,
    name: str | None = None,
    keep_dims: bool | None = None,
    keepdims: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """The mean and variance of ``x`` over ``axes``.

    Parameters
    ----------
    x : floating tensor.
    axes : the axes to reduce (a list of ints; ``[0]`` for a batch of vectors, ``[0, 1, 2]`` for
        NHWC images, as in batch normalization).
    shift : accepted for TensorFlow compatibility; unused (as in TensorFlow 1.x).
    keep_dims : keep the reduced axes with size 1 (default False); ``keepdims`` is the newer name.

    Returns
    -------
    ``(mean, variance)``, the variance being the biased one, ``mean((x - mean)^2)``.

    Notes
    -----
    TensorFlow computes the variance against ``stop_gradient(mean)``. The first derivative is the
    same either way (the variance's derivative with respect to the mean is zero), but the second is
    not; here the mean is not stopped, so Hessians of the variance are exact.
    """
    keep = deprecated_alias(keepdims, keep_dims, "keepdims", "keep_dims")
    keep = bool(keep) if keep is not None else False
    x = convert_to_tensor(x)
    _floating(x, "moments", "x")
    axes = [int(a) for a in (axes if isinstance(axes, (list, tuple)) else [axes])]
    with get_default_graph().name_scope(name or "moments"):
        mean = reduction_ops.reduce_mean(x, axes, keepdims=True, name="mean")
        variance = reduction_ops.reduce_mean(math_ops.squared_difference(x, mean), axes, keepdims=True, name="variance")
        if not keep:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        return mean, variance


def batch_normalization(
    x: Any,
    mean: Any,
    variance: Any,
    offset: Any,
    scale: Any,
    variance_epsilon: float,
    name: str | None = None,
) -> Tensor:
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset`` (TensorFlow's formula).

    ``mean``, ``variance``, ``offset`` and ``scale`` broadcast against ``x`` (e.g. the outputs of
    ``moments`` with ``keep_dims=True``, or 1-D tensors over the last axis); ``offset`` and ``scale``
    may be None (0 and 1). Computed as ``x * inv + (offset - mean * inv)`` with
    ``inv = scale * rsqrt(variance + variance_epsilon)``, as TensorFlow does.
    """
    x, mean, variance = (convert_to_tensor(t) for t in (x, mean, variance))
    with get_default_graph().name_scope(name or "batchnorm"):
        inv = math_ops.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv = inv * convert_to_tensor(scale)
        shift = -mean * inv if offset is None else convert_to_tensor(offset) - mean * inv
        return x * inv + shift


def fused_batch_norm(
    x: Any,
    scale: Any,
    offset: Any,
    mean: Any = None,
    variance: Any = None,
    epsilon: float = 0.001,
    data_format: str = "NHWC",
    is_training: bool = True,
    name: str | None = None,
    exponential_avg_factor: float = 1.0,
) -> tuple[Tensor, Tensor, Tensor]:
    """Batch normalization of a 4-D ``x`` over all axes but the channels, in one call.

    Parameters
    ----------
    x : ``[N, H, W, C]`` (``[N, C, H, W]`` for ``data_format="NCHW"``), floating.
    scale, offset : ``[C]``.
    mean, variance : ``[C]``; required for inference (``is_training=False``), where they are
        used as given. In training they are the running averages that ``exponential_avg_factor``
        blends with the batch's statistics (unused with the default factor 1).
    epsilon : added to the variance; raised to 1.001e-5 if smaller (as TensorFlow 1.x does for cuDNN).

    Returns
    -------
    ``(y, batch_mean, batch_variance)``. In training, ``y`` is normalized with the batch's biased
    variance, and ``batch_variance`` is the unbiased one (times ``n / (n - 1)``, ``n`` the number of
    elements per channel), as TensorFlow returns it for the running average. In inference they
    are ``mean`` and ``variance``.
    """
    x = convert_to_tensor(x)
    _floating(x, "fused_batch_norm", "x")
    if x.shape.rank not in (None, 4):
        raise ValueError(f"fused_batch_norm: x must be 4-D, got shape {x.shape}")
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"fused_batch_norm: data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    epsilon = max(float(epsilon), 1.001e-5)
    axes = [0, 1, 2] if data_format == "NHWC" else [0, 2, 3]
    channel_shape = [-1] if data_format == "NHWC" else [-1, 1, 1]
    with get_default_graph().name_scope(name or "FusedBatchNorm"):
        scale_t, offset_t = convert_to_tensor(scale), convert_to_tensor(offset)
        if is_training:
            batch_mean, batch_var = moments(x, axes)
            size = math_ops.cast(array_ops.size(x) // array_ops.size(batch_mean), x.dtype)
            unbiased = batch_var * (size / math_ops.maximum(size - 1, 1))
            if exponential_avg_factor != 1.0:
                if mean is None or variance is None:
                    raise ValueError(
                        "fused_batch_norm: exponential_avg_factor != 1 needs the running mean and variance"
                    )
                f = float(exponential_avg_factor)
                out_mean = convert_to_tensor(mean) * (1 - f) + batch_mean * f
                out_var = convert_to_tensor(variance) * (1 - f) + unbiased * f
            else:
                out_mean, out_var = batch_mean, unbiased
        else:
            if mean is None or variance is None:
                raise ValueError("fused_batch_norm: inference (is_training=False) needs mean and variance")
            batch_mean, batch_var = convert_to_tensor(mean), convert_to_tensor(variance)
            out_mean, out_var = batch_mean, batch_var
        y = batch_normalization(
            x,
            array_ops.reshape(batch_mean, channel_shape),
            array_ops.reshape(batch_var, channel_shape),
            array_ops.reshape(offset_t, channel_shape),
            array_ops.reshape(scale_t, channel_shape),
            epsilon,
        )
        return y, out_mean, out_var


def weighted_cross_entropy_with_logits(
    labels: Any = None, logits: Any = None, pos_weight: Any = None, name: str | None = None, targets: Any = None
) -> Tensor:
    """Sigmoid cross-entropy with the positive term weighted by ``pos_weight`` (TensorFlow's formula).

    ``(1 - z) x + (1 + (pos_weight - 1) z) (log(1 + exp(-|x|)) + max(-x, 0))`` for labels ``z`` and
    logits ``x``: finite for logits of any size. ``targets`` is TensorFlow 1.x's older name for ``labels``.
    """
    labels = deprecated_alias(labels, targets, "labels", "targets")
    if labels is None or logits is None or pos_weight is None:
        raise ValueError("weighted_cross_entropy_with_logits needs labels (or targets), logits and pos_weight")
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype=logits.dtype)
    pos_weight = convert_to_tensor(pos_weight, dtype=logits.dtype)
    with get_default_graph().name_scope(name or "logistic_loss"):
        log_weight = 1.0 + (pos_weight - 1.0) * labels
        softplus_of_minus_abs = math_ops.log1p(math_ops.exp(-math_ops.abs(logits)))
        return (1.0 - labels) * logits + log_weight * (softplus_of_minus_abs + nn_ops.relu(-logits))


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: str | None = None, dim: Any = None) -> Tensor:
    """``x / sqrt(max(sum(x^2, axis), epsilon))``; ``dim`` is TensorFlow 1.x's older name for ``axis``.

    ``axis`` None normalizes over every axis; the ``epsilon`` floor keeps an all-zero slice finite (0).
    """
    axis = deprecated_alias(axis, dim, "axis", "dim")
    x = convert_to_tensor(x)
    _floating(x, "l2_normalize", "x")
    with get_default_graph().name_scope(name or "l2_normalize"):
        square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
        return x * math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))


# --- embedding lookup -----------------------------------------------------------------------
def _row_index(ids: Tensor, parts: Sequence[Tensor], partition_strategy: str) -> Tensor:
    """Where each id's row lies in the concatenation of the partitions, under TensorFlow's strategy."""
    n = len(parts)
    sizes = math_ops.cast(array_ops.stack([array_ops.shape(p)[0] for p in parts]), ids.dtype)
    offsets = reduction_ops.cumsum(sizes, exclusive=True)
    if partition_strategy == "mod":
        # Id i is row i // n of partition i % n.
        return indexing_ops.gather(offsets, math_ops.floormod(ids, n)) + math_ops.floordiv(ids, n)
    # "div": contiguous ranges; the first (total % n) partitions hold one id more.
    total = reduction_ops.reduce_sum(sizes)
    per = total // n
    extras = total % n
    part = math_ops.maximum(ids // (per + 1), (ids - extras) // math_ops.maximum(per, 1))
    row = math_ops.where(part < extras, ids % (per + 1), (ids - extras) % math_ops.maximum(per, 1))
    return indexing_ops.gather(offsets, part) + row


def embedding_lookup(
    params: Any,
    ids: Any,
    partition_strategy: str = "mod",
    name: str | None = None,
    validate_indices: bool = True,
    max_norm: Any = None,
) -> Tensor:
    """Rows of ``params`` at ``ids``: the result has shape ``ids.shape + params.shape[1:]``.

    Parameters
    ----------
    params : a tensor or Variable, or a list of them (a table sharded along axis 0) with equal
        trailing dimensions.
    ids : int32/int64 ids of any shape. An id outside the table is an error when the graph runs.
    partition_strategy : with several ``params``, ``"mod"`` (id ``i`` is row ``i // n`` of
        partition ``i % n``) or ``"div"`` (partitions hold contiguous id ranges, the first
        ``total % n`` one id more), as TensorFlow.
    validate_indices : accepted for TensorFlow compatibility; ids are always checked.
    max_norm : if given, each looked-up row whose L2 norm exceeds it is rescaled to ``max_norm``.

    The gradient with respect to ``params`` is ``gather``'s: each row's gradient is the sum over
    the ids that looked it up (split back to the partitions).
    """
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"embedding_lookup: partition_strategy must be 'mod' or 'div', got {partition_strategy!r}")
    parts = [convert_to_tensor(p) for p in (params if isinstance(params, (list, tuple)) else [params])]
    if not parts:
        raise ValueError("embedding_lookup: need at least one params tensor")
    ids_t = convert_to_tensor(ids)
    if ids_t.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"embedding_lookup: ids {ids_t.name} must be int32 or int64, got {ids_t.dtype.name}")
    with get_default_graph().name_scope(name or "embedding_lookup"):
        if len(parts) == 1:
            result = indexing_ops.gather(parts[0], ids_t)
        else:
            table = array_ops.concat(parts, 0)
            result = indexing_ops.gather(table, _row_index(ids_t, parts, partition_strategy))
        if max_norm is None:
            return result
        if ids_t.shape.rank is None or result.shape.rank is None:
            raise ValueError("embedding_lookup: max_norm needs ids and params of known rank")
        return clip_by_norm(result, max_norm, axes=list(range(ids_t.shape.rank, result.shape.rank)))


# --- sampled losses -------------------------------------------------------------------------
# TensorFlow's weight for an accidental hit (a sampled class that is one of the example's
# targets): -FLT_MAX, so the hit's logit drops out of the softmax and the logistic loss.
_ACCIDENTAL_HIT = float(-np.finfo(np.float32).max)


def _compute_sampled_logits(
    weights: Any,
    biases: Any,
    labels: Any,
    inputs: Any,
    num_sampled: int,
    num_classes: int,
    num_true: int,
    sampled_values: Any,
    subtract_log_q: bool,
    remove_accidental_hits: bool,
    partition_strategy: str,
    seed: int | None,
) -> tuple[Tensor, Tensor]:
    """TensorFlow's ``_compute_sampled_logits``: ``[batch, num_true + num_sampled]`` logits and target probabilities."""
    inputs = convert_to_tensor(inputs)
    _floating(inputs, "sampled loss", "inputs")
    labels = convert_to_tensor(labels)
    if not labels.dtype.is_integer:
        raise TypeError(f"labels {labels.name} must be int32 or int64 class ids, got {labels.dtype.name}")
    labels = math_ops.cast(labels, dtypes.int64) if labels.dtype != dtypes.int64 else labels
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(
            labels, num_true, num_sampled, unique=True, range_max=num_classes, seed=seed
        )
    sampled, true_expected, sampled_expected = (array_ops.stop_gradient(convert_to_tensor(s)) for s in sampled_values)
    sampled = math_ops.cast(sampled, dtypes.int64) if sampled.dtype != dtypes.int64 else sampled
    labels_flat = array_ops.reshape(labels, [-1])
    true_w = embedding_lookup(weights, labels_flat, partition_strategy=partition_strategy)
    sampled_w = embedding_lookup(weights, sampled, partition_strategy=partition_strategy)
    true_b = embedding_lookup(biases, labels_flat, partition_strategy=partition_strategy)
    sampled_b = embedding_lookup(biases, sampled, partition_strategy=partition_strategy)
    # [batch, dim] x [num_sampled, dim]^T, and each example's dot product with its own targets.
    sampled_logits = linalg_ops.matmul(inputs, sampled_w, transpose_b=True) + sampled_b
    dim = array_ops.shape(true_w)[1]
    true_w = array_ops.reshape(true_w, array_ops.stack([-1, num_true, dim]))
    true_logits = reduction_ops.reduce_sum(array_ops.expand_dims(inputs, 1) * true_w, axis=2)
    true_logits = true_logits + array_ops.reshape(true_b, [-1, num_true])
    if remove_accidental_hits:
        hits = reduction_ops.reduce_sum(
            math_ops.cast(math_ops.equal(array_ops.expand_dims(labels, 2), sampled), dtypes.int32), axis=1
        )
        sampled_logits = sampled_logits + math_ops.where(hits > 0, _ACCIDENTAL_HIT, 0.0 * sampled_logits)
    if subtract_log_q:
        # The sampler's counts are float32 (TensorFlow's op); widened to the logits' dtype (lossless),
        # where TensorFlow would refuse float64 inputs.
        true_logits = true_logits - math_ops.log(math_ops.cast(true_expected, inputs.dtype))
        sampled_logits = sampled_logits - math_ops.log(math_ops.cast(sampled_expected, inputs.dtype))
    logits = array_ops.concat([true_logits, sampled_logits], 1)
    targets = array_ops.concat([array_ops.ones_like(true_logits) / num_true, array_ops.zeros_like(sampled_logits)], 1)
    return logits, targets


def nce_loss(
    weights: Any,
    biases: Any,
    labels: Any,
    inputs: Any,
    num_sampled: int,
    num_classes: int,
    num_true: int = 1,
    sampled_values: Any = None,
    remove_accidental_hits: bool = False,
    partition_strategy: str = "mod",
    name: str = "nce_loss",
) -> Tensor:
    """Noise-contrastive estimation loss per example (TensorFlow's ``nce_loss``), shape ``[batch_size]``.

    Parameters
    ----------
    weights : ``[num_classes, dim]`` tensor or Variable, or a list of them sharded along axis 0
        (looked up with ``embedding_lookup`` and ``partition_strategy``).
    biases : ``[num_classes]``, sharded the same way.
    labels : ``[batch_size, num_true]`` int64 (or int32) target classes.
    inputs : ``[batch_size, dim]`` activations.
    num_sampled : negative classes sampled per batch (by ``log_uniform_candidate_sampler`` with
        ``unique=True``, unless ``sampled_values`` gives them).
    num_classes : the number of classes.
    num_true : targets per example.
    sampled_values : optional ``(sampled_candidates, true_expected_count, sampled_expected_count)``,
        e.g. from a sampler called by hand (then the loss is deterministic).
    remove_accidental_hits : give a sampled class that is one of the example's targets the logit
        ``-FLT_MAX`` (so it contributes nothing).

    Returns
    -------
    The sum over the ``num_true + num_sampled`` logits ``x - log(expected_count)`` of the logistic
    loss against targets ``1 / num_true`` (true classes) and 0 (sampled ones). Gradients flow to
    ``weights``, ``biases`` and ``inputs`` (the sample is held constant). Use it for training only:
    evaluate with the full softmax or sigmoid loss.
    """
    with get_default_graph().name_scope(name):
        logits, targets = _compute_sampled_logits(
            weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
            subtract_log_q=True, remove_accidental_hits=remove_accidental_hits,
            partition_strategy=partition_strategy, seed=None,
        )  # fmt: skip
        losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
        return reduction_ops.reduce_sum(losses, axis=1)


def sampled_softmax_loss(
    weights: Any,
    biases: Any,
    labels: Any,
    inputs: Any,
    num_sampled: int,
    num_classes: int,
    num_true: int = 1,
    sampled_values: Any = None,
    remove_accidental_hits: bool = True,
    partition_strategy: str = "mod",
    name: str = "sampled_softmax_loss",
    seed: int | None = None,
) -> Tensor:
    """Sampled softmax loss per example (TensorFlow's ``sampled_softmax_loss``), shape ``[batch_size]``.

    The softmax cross-entropy over the true classes and ``num_sampled`` sampled ones, each logit
    corrected by ``-log(expected_count)``, with target ``1 / num_true`` on each true class.
    Arguments as ``nce_loss``'s; ``remove_accidental_hits`` defaults to True here, and ``seed`` is
    the sampler's op seed. Use it for training only: evaluate with the full softmax.
    """
    with get_default_graph().name_scope(name):
        logits, targets = _compute_sampled_logits(
            weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
            subtract_log_q=True, remove_accidental_hits=remove_accidental_hits,
            partition_strategy=partition_strategy, seed=seed,
        )  # fmt: skip
        return nn_ops.softmax_cross_entropy_with_logits_v2(labels=array_ops.stop_gradient(targets), logits=logits)
