"""Neural-network ops: activations, the softmax family, cross-entropies, ``bias_add``, ``l2_loss``, ``dropout``.

Each op is either a composition of primitives or a primitive whose gradient is
built from other stable primitives; the comment above each block says which and
why. All gradients are chainrule ops, so they can be differentiated again.
Convolutions and pooling live in ``conv_ops`` (also re-exported by ``cr.nn``).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.framework.source import composite_call
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import array_ops, indexing_ops, math_ops, random_ops, reduction_ops
from chainrule.ops.axes import deprecated_alias
from chainrule.ops.constant_op import convert_n, convert_to_tensor
from chainrule.ops.jvp_forms import Tangent, linear, sum_tangents
from chainrule.ops.native import helper, index, loop_nest, np_type, static_dims
from chainrule.ops.registry import UNARY, apply, constant_shape, register_op
from chainrule.ops.shape_rules import (
    FLOAT,
    INT,
    NUMERIC,
    broadcast_shapes,
    check_kind,
    common_dtype,
    normalize_axis,
    unary,
)
from chainrule.ops.ufunc_steps import ZERO_SCALAR

__all__ = [
    "relu",
    "relu6",
    "elu",
    "selu",
    "crelu",
    "softsign",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits",
    "sigmoid_cross_entropy_with_logits",
    "l2_loss",
    "bias_add",
    "dropout",
]

# Already stable primitives in math_ops (sigmoid/softplus via logaddexp); cr.nn re-exports them.
sigmoid = math_ops.sigmoid
tanh = math_ops.tanh
softplus = math_ops.softplus


# --- activations ---------------------------------------------------------------------------
# Relu: primitive, for TensorFlow's kink convention (gradient 0 at x == 0); maximum(x, 0) would give 1 there.
register_op(
    "Relu",
    None,
    unary(NUMERIC),
    lambda op, g: [math_ops.where(op.outputs[0] > 0, g, 0)],
    elementwise=UNARY,
    steps=[("maximum", 0, ZERO_SCALAR)],
    explain="relu",
)


def relu(features: Any, name: str | None = None) -> Tensor:
    """Rectified linear unit ``max(features, 0)``; the gradient at 0 is 0 (as TensorFlow)."""
    return apply("Relu", convert_to_tensor(features), name=name)


# Relu6: primitive, for TensorFlow's kink convention (gradient 0 at x == 0 and at x == 6);
# minimum(relu(x), 6) would pass the gradient at 6, and no exact composition avoids it.
register_op(
    "Relu6",
    lambda xp, x: xp.minimum(xp.maximum(x, x.dtype.type(0)), x.dtype.type(6)),
    unary(NUMERIC),
    lambda op, g: [math_ops.where(math_ops.logical_and(op.inputs[0] > 0, op.inputs[0] < 6), g, 0)],
    elementwise=UNARY,
    explain="relu6",
)


def relu6(features: Any, name: str | None = None) -> Tensor:
    """``min(max(features, 0), 6)``; the gradient is 0 at 0 and at 6 (as TensorFlow)."""
    return apply("Relu6", convert_to_tensor(features), name=name)


# Elu: primitive, so the gradient reuses the output (g * (y + 1) for x <= 0) instead of recomputing exp(x).
register_op(
    "Elu",
    lambda xp, x: xp.where(x > 0, x, xp.expm1(xp.minimum(x, x.dtype.type(0)))),
    unary(FLOAT),
    lambda op, g: [math_ops.where(op.outputs[0] > 0, g, g * (op.outputs[0] + 1))],
    elementwise=UNARY,
    explain="elu",
)


def elu(features: Any, name: str | None = None) -> Tensor:
    """Exponential linear unit: ``features`` where positive, else ``exp(features) - 1``."""
    return apply("Elu", convert_to_tensor(features), name=name)


# LeakyRelu: primitive, one pass and the same kink convention as Relu (slope alpha at x == 0).
register_op(
    "LeakyRelu",
    lambda xp, x, alpha: xp.where(x > 0, x, x * x.dtype.type(alpha)),
    unary(FLOAT),
    lambda op, g: [math_ops.where(op.inputs[0] > 0, g, g * op.get_attr("alpha"))],
    elementwise=UNARY,
    explain=lambda b, op, a: b.func("leaky_relu", a[0], alpha=op.get_attr("alpha")),
)


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """``features`` where positive, else ``alpha * features``."""
    return apply("LeakyRelu", convert_to_tensor(features), name=name, alpha=float(alpha))


# SELU's constants (Klambauer et al., 2017), as TensorFlow's kernel has them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features: Any, name: str | None = None) -> Tensor:
    """Scaled ELU: ``scale * features`` where positive, else ``scale * alpha * (exp(features) - 1)``.

    A composition of ``Elu`` (``where`` picks ``features`` for ``features >= 0``, so the gradient at 0
    is ``scale``, TensorFlow's convention). ``alpha`` and ``scale`` are the constants of Klambauer et al.
    """
    x = convert_to_tensor(features)
    if not x.dtype.is_floating:
        raise TypeError(f"selu: features {x.name} has dtype {x.dtype.name}, but Selu needs a floating dtype")
    with get_default_graph().name_scope(name or "Selu"):
        return math_ops.where(x >= 0, x, elu(x) * _SELU_ALPHA) * _SELU_SCALE


def crelu(features: Any, name: str | None = None, axis: int = -1) -> Tensor:
    """Concatenated ReLU: ``concat([relu(features), relu(-features)], axis)`` (twice the channels)."""
    x = convert_to_tensor(features)
    with get_default_graph().name_scope(name or "CRelu"):
        return array_ops.concat([relu(x), relu(math_ops.negative(x))], axis)


def softsign(features: Any, name: str | None = None) -> Tensor:
    """``features / (abs(features) + 1)`` (a composition; its gradient ``1 / (|x| + 1)^2`` follows)."""
    x = convert_to_tensor(features)
    if not x.dtype.is_floating:
        raise TypeError(f"softsign: features {x.name} has dtype {x.dtype.name}, but Softsign needs a floating dtype")
    return math_ops.divide(x, math_ops.abs(x) + 1, name=name or "Softsign")


# --- softmax family ------------------------------------------------------------------------
def _softmax_rows(dims: tuple[int, ...], axis: int, dt: str, log: bool, indent: str = "") -> list[str]:
    """Lines computing ``out`` (allocated by the caller) from ``x``: the kernels' formulas, one row at a time.

    The loops run over every axis but ``axis``; inside, three passes over the row: its max, the
    sum of exponentials, the result (``_softmax_kernel`` / ``_log_softmax_kernel`` step by step).
    """
    others = [k for k in range(len(dims)) if k != axis]
    v = [f"i{k}" for k in range(len(dims))]
    v[axis] = "j"
    at = index(v)
    row = [
        f"m = {dt}(-np.inf)",
        f"for j in range({dims[axis]}):",
        f"    if x{at} > m or x{at} != x{at}:",
        f"        m = x{at}",
    ]
    if log:
        row += [
            f"rest = {dt}(0)",
            f"ties = {dt}(0)",
            f"for j in range({dims[axis]}):",
            f"    s = x{at} - m",
            f"    out{at} = s",
            "    if s == 0:",
            "        ties += 1",
            "    else:",
            "        rest += np.exp(s)",
            f"shift = np.log1p(rest + (ties - {dt}(1)))",
            f"for j in range({dims[axis]}):",
            f"    out{at} = out{at} - shift",
        ]
    else:
        row += [
            f"total = {dt}(0)",
            f"for j in range({dims[axis]}):",
            f"    e = np.exp(x{at} - m)",
            f"    out{at} = e",
            "    total += e",
            f"for j in range({dims[axis]}):",
            f"    out{at} = out{at} / total",
        ]
    return [indent + line[4:] for line in loop_nest([dims[k] for k in others], [v[k] for k in others], row)]


def _softmax_lower(log: bool) -> Any:
    def rule(lw: Any, node: Any, args: list[str]) -> str | None:
        dims, dt = static_dims(node.inputs[0]), np_type(node.out.dtype)
        if not dims or dt is None or not node.out.dtype.is_floating:
            return None
        if 0 in dims:
            return helper(lw, "softmax", ["x"], [f"return np.zeros({dims}, {dt})"], args[:1])
        body = [f"out = np.empty({dims}, {dt})", *_softmax_rows(dims, node.attrs["axis"] % len(dims), dt, log)]
        return helper(lw, "log_softmax" if log else "softmax", ["x"], [*body, "return out"], args[:1])

    return rule


def _softmax_xent_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """``0 - sum(labels * log_softmax(logits), axis)``, the kernel's formula, row by row."""
    logits, labels = node.inputs
    dims, out, dt = static_dims(logits), static_dims(node.out), np_type(node.out.dtype)
    if not dims or out is None or dt is None or static_dims(labels) != dims or not node.out.dtype.is_floating:
        return None
    axis = node.attrs["axis"] % len(dims)
    v = [f"i{k}" for k in range(len(dims))]
    v[axis] = "j"
    kept = [v[k] for k in range(len(dims)) if k != axis]
    body = [f"out = np.empty({dims}, {dt})"]
    if 0 not in dims:
        body += _softmax_rows(dims, axis, dt, log=True)
    body.append(f"loss = np.zeros({out}, {dt})")
    body += [line[4:] for line in loop_nest(dims, v, [f"loss{index(kept)} += labels{index(v)} * out{index(v)}"])]
    body += [line[4:] for line in loop_nest(out, kept, [f"loss{index(kept)} = {dt}(0) - loss{index(kept)}"])]
    result = "loss" if out else "loss[()]"
    return helper(lw, "softmax_xent", ["x", "labels"], [*body, f"return {result}"], args[:2])


def _log_softmax_kernel(xp: Any, x: Any, axis: int) -> Any:
    if x.size == 0:
        return xp.zeros_like(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    # log(sum(exp(shifted))) = log1p(rest + ties - 1): keeping the max's own exp(0) = 1 out of the
    # sum gives a dominant class full relative precision (log p ~ -sum(exp(others)), not 0).
    is_max = shifted == 0
    rest = xp.sum(xp.where(is_max, x.dtype.type(0), xp.exp(shifted)), axis=axis, keepdims=True)
    ties = xp.sum(is_max, axis=axis, keepdims=True).astype(x.dtype) - 1
    return shifted - xp.log1p(rest + ties)


def _softmax_kernel(xp: Any, x: Any, axis: int) -> Any:
    if x.size == 0:
        return xp.zeros_like(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _softmax_infer(inputs: list[Tensor], axis: int) -> list[Any]:
    (x,) = inputs
    check_kind("op", x, FLOAT, "logits")
    if x.shape.rank == 0:
        raise ValueError(f"logits must have rank >= 1, got a scalar {x.name}")
    normalize_axis(axis, x.shape.rank)
    return [(x.dtype, x.shape)]


# Softmax: primitive, shifted by the max so exp never overflows; the gradient y * (g - sum(g * y)) needs only y.
def _softmax_jvp(op: Any, t: Tangent) -> list[Tangent]:
    y = op.outputs[0]
    return [y * (t - reduction_ops.reduce_sum(t * y, axis=op.get_attr("axis"), keepdims=True))]


register_op(
    "Softmax",
    _softmax_kernel,
    _softmax_infer,
    lambda op, g: [
        op.outputs[0] * (g - reduction_ops.reduce_sum(g * op.outputs[0], axis=op.get_attr("axis"), keepdims=True))
    ],
    fresh_output=True,
    explain="softmax",
    jvp=_softmax_jvp,
    lower={"numba": _softmax_lower(log=False)},
)


# LogSoftmax: primitive, x - max - log(sum(exp(x - max))) never overflows; its gradient
# g - exp(y) * sum(g) uses exp(y) <= 1, so it stays finite for logits of any size.
def _log_softmax_jvp(op: Any, t: Tangent) -> list[Tangent]:
    p = math_ops.exp(op.outputs[0])
    return [t - reduction_ops.reduce_sum(t * p, axis=op.get_attr("axis"), keepdims=True)]


register_op(
    "LogSoftmax",
    _log_softmax_kernel,
    _softmax_infer,
    lambda op, g: [
        g - math_ops.exp(op.outputs[0]) * reduction_ops.reduce_sum(g, axis=op.get_attr("axis"), keepdims=True)
    ],
    fresh_output=True,
    explain="log_softmax",
    jvp=_log_softmax_jvp,
    lower={"numba": _softmax_lower(log=True)},
)


def softmax(logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    """``exp(logits) / sum(exp(logits), axis)``, computed without overflow."""
    return apply("Softmax", convert_to_tensor(logits), name=name, axis=int(axis))


def log_softmax(logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    """``logits - log(sum(exp(logits), axis))``, computed without overflow."""
    return apply("LogSoftmax", convert_to_tensor(logits), name=name, axis=int(axis))


def _expand(g: Tensor, axis: int) -> Tensor:
    """Re-insert the reduced ``axis`` (size 1) into ``g`` so it broadcasts against the logits."""
    if axis < 0:
        return g[(Ellipsis, None) + (slice(None),) * (-axis - 1)]
    return g[(slice(None),) * axis + (None,)]


def _without_axis(shape: TensorShape, axis: int) -> TensorShape:
    if shape.dims is None:
        return TensorShape(None)
    a = normalize_axis(axis, shape.rank)
    return TensorShape(d for i, d in enumerate(shape.dims) if i != a)


# --- softmax cross-entropy -----------------------------------------------------------------
def _softmax_xent_kernel(xp: Any, logits: Any, labels: Any, axis: int) -> Any:
    if logits.shape != labels.shape:
        raise ValueError(
            f"logits and labels must have the same shape, got logits {logits.shape} and labels {labels.shape}"
        )
    # 0 - sum (not -sum) so a perfect prediction gives +0.0 rather than -0.0.
    # ``0 - s``, not ``-s``: no -0.0 (TensorFlow's). A zero of the sum's own dtype, not a Python 0:
    # NumPy 1.x's value-based casting makes ``0 - float32 scalar`` a float64.
    total = xp.sum(labels * _log_softmax_kernel(xp, logits, axis), axis=axis)
    return xp.asarray(xp.subtract(xp.zeros_like(total), total))


def _same_shape_logits_labels(inputs: list[Tensor]) -> tuple[Any, TensorShape]:
    """The dtype and merged shape of float ``logits`` and ``labels`` of one shape (dense cross-entropies)."""
    logits, labels = inputs
    check_kind("op", logits, FLOAT, "logits")
    dtype = common_dtype(inputs)
    if not logits.shape.is_compatible_with(labels.shape):
        raise ValueError(
            f"logits and labels must have the same shape, got logits {logits.shape} and labels {labels.shape}"
        )
    return dtype, logits.shape.merge_with(labels.shape)


def _softmax_xent_infer(inputs: list[Tensor], axis: int) -> list[Any]:
    dtype, shape = _same_shape_logits_labels(inputs)
    if shape.rank == 0:
        raise ValueError("logits and labels must have rank >= 1, got scalars")
    return [(dtype, _without_axis(shape, axis))]


def _softmax_xent_grad(op: Any, g: Tensor) -> list[Tensor]:
    logits, labels = op.inputs
    axis = op.get_attr("axis")
    g = _expand(g, axis)
    # d/dlogits = sum(labels) * softmax - labels (exact even when labels do not sum to 1);
    # d/dlabels = -log_softmax (TF2 semantics: labels are differentiable).
    total = reduction_ops.reduce_sum(labels, axis=axis, keepdims=True)
    return [g * (softmax(logits, axis) * total - labels), -g * log_softmax(logits, axis)]


# Primitive with a fused gradient built from Softmax/LogSoftmax: one stable pass, a shape check
# that names the op, and gradients (w.r.t. logits and labels) that are finite for any logits.
def _softmax_xent_jvp(op: Any, t_logits: Tangent, t_labels: Tangent) -> list[Tangent]:
    logits, labels = op.inputs
    axis = op.get_attr("axis")
    log_p = log_softmax(logits, axis)
    terms = []
    if t_labels is not None:
        terms.append(-reduction_ops.reduce_sum(t_labels * log_p, axis=axis))
    if t_logits is not None:
        total = reduction_ops.reduce_sum(labels, axis=axis)
        terms.append(
            total * reduction_ops.reduce_sum(t_logits * math_ops.exp(log_p), axis=axis)
            - reduction_ops.reduce_sum(labels * t_logits, axis=axis)
        )
    return [sum_tangents(terms)]


register_op(
    "SoftmaxCrossEntropyWithLogits",
    _softmax_xent_kernel,
    _softmax_xent_infer,
    _softmax_xent_grad,
    jvp=_softmax_xent_jvp,
    lower={"numba": _softmax_xent_lower},
)


@composite_call("softmax_cross_entropy_with_logits_v2")
def softmax_cross_entropy_with_logits_v2(
    labels: Any, logits: Any, axis: int | None = None, name: str | None = None, dim: int | None = None
) -> Tensor:
    """Cross-entropy ``-sum(labels * log_softmax(logits), axis)``, per example; gradients flow into both.

    Parameters
    ----------
    labels : probabilities, the shape and dtype of ``logits`` (integer or bool labels, such as
        one-hot rows, are cast to the logits' dtype, as TensorFlow does). Gradients flow into them too;
        wrap them in ``cr.stop_gradient`` to prevent that (or use the v1 function, which does).
    logits : unscaled log-probabilities.
    axis : the class axis (-1 by default); ``dim`` is TensorFlow 1.x's older name for it.

    Returns
    -------
    A tensor of the logits' shape without ``axis``, finite for logits of any magnitude.
    """
    axis = deprecated_alias(axis, dim, "axis", "dim")
    logits, labels = convert_n([logits, labels])
    if (labels.dtype.is_integer or labels.dtype.is_bool) and logits.dtype.is_floating:
        # TensorFlow casts the labels to the logits' dtype; integer (one-hot) labels are common.
        labels = math_ops.cast(labels, logits.dtype)
    return apply("SoftmaxCrossEntropyWithLogits", logits, labels, name=name, axis=-1 if axis is None else int(axis))


@composite_call("softmax_cross_entropy_with_logits")
def softmax_cross_entropy_with_logits(
    _sentinel: Any = None,
    labels: Any = None,
    logits: Any = None,
    dim: int = -1,
    name: str | None = None,
    axis: int | None = None,
) -> Tensor:
    """TensorFlow 1.x's cross-entropy: ``softmax_cross_entropy_with_logits_v2`` with ``labels`` held constant.

    As in TensorFlow 1.x, no gradient flows into ``labels`` (they pass through ``stop_gradient``);
    use ``softmax_cross_entropy_with_logits_v2`` to differentiate with respect to them. Call it with
    keyword arguments only (``labels=``, ``logits=``); ``axis`` (or the older ``dim``) is the class axis.
    """
    if _sentinel is not None:
        raise ValueError("Only call `softmax_cross_entropy_with_logits` with named arguments (labels=..., logits=...)")
    if labels is None or logits is None:
        raise ValueError("softmax_cross_entropy_with_logits: both labels and logits must be provided")
    axis = dim if axis is None else axis
    logits, labels = convert_n([logits, labels])
    labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis, name=name)


# --- sparse softmax cross-entropy ----------------------------------------------------------
def _check_labels(xp: Any, labels: Any, depth: int) -> None:
    bad = (labels < 0) | (labels >= depth)
    if xp.any(bad):
        shown = " ".join(str(int(v)) for v in np.ravel(labels)[:20])
        raise ValueError(
            f"Received a label value of {int(labels[bad][0])} which is outside the valid range of [0, {depth}). "
            f"Label values: {shown}"
        )


def _sparse_xent_kernel(xp: Any, logits: Any, labels: Any) -> Any:
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"labels must have the shape of logits without the last axis: logits {logits.shape}, labels {labels.shape}"
        )
    _check_labels(xp, labels, logits.shape[-1])
    picked = xp.take_along_axis(_log_softmax_kernel(xp, logits, -1), labels[..., None].astype(np.intp), axis=-1)
    picked = picked[..., 0]
    return xp.asarray(xp.subtract(xp.zeros_like(picked), picked))  # no -0.0, the dtype kept (as above)


def _sparse_xent_infer(inputs: list[Tensor]) -> list[Any]:
    logits, labels = inputs
    check_kind("op", logits, FLOAT, "logits")
    check_kind("op", labels, INT, "labels")
    if logits.shape.rank == 0:
        raise ValueError(f"logits must have rank >= 1, got a scalar {logits.name}")
    batch = logits.shape[:-1] if logits.shape.rank is not None else TensorShape(None)
    if not batch.is_compatible_with(labels.shape):
        raise ValueError(
            f"labels must have the shape of logits without the last axis: logits {logits.shape}, labels {labels.shape}"
        )
    return [(logits.dtype, batch.merge_with(labels.shape))]


def _sparse_xent_grad(op: Any, g: Tensor) -> list[Any]:
    logits, labels = op.inputs
    depth = logits.shape[-1] if logits.shape.rank is not None else None
    depth_t = convert_to_tensor(np.int32(depth)) if depth is not None else array_ops.shape(logits)[-1]
    one_hot = indexing_ops.one_hot(labels, depth_t, dtype=logits.dtype)  # a constant w.r.t. the logits
    return [g[..., None] * (softmax(logits) - one_hot), None]


# Primitive with a fused gradient (softmax - one_hot): one stable pass, and a label range check
# at run time that names the op (a gather of log_softmax would fail with an opaque index error).
def _sparse_xent_jvp(op: Any, t_logits: Tangent, t_labels: Tangent) -> list[Tangent]:
    if t_logits is None:
        return [None]
    logits, labels = op.inputs
    depth = logits.shape[-1] if logits.shape.rank is not None else None
    depth_t = depth if depth is not None else array_ops.shape(logits)[-1]
    one_hot = indexing_ops.one_hot(labels, depth_t, dtype=logits.dtype)
    return [reduction_ops.reduce_sum(t_logits * (softmax(logits) - one_hot), axis=-1)]


register_op(
    "SparseSoftmaxCrossEntropyWithLogits",
    _sparse_xent_kernel,
    _sparse_xent_infer,
    _sparse_xent_grad,
    jvp=_sparse_xent_jvp,
)


def sparse_softmax_cross_entropy_with_logits(*, labels: Any, logits: Any, name: str | None = None) -> Tensor:
    """Cross-entropy of integer class ``labels`` under ``softmax(logits)``: ``-log_softmax(logits)[labels]``.

    Parameters
    ----------
    labels : int32/int64 class indices in ``[0, num_classes)``, shape ``logits.shape[:-1]``;
        an out-of-range label raises ``InvalidArgumentError`` when the op runs.
    logits : unscaled log-probabilities, shape ``[..., num_classes]``.
    """
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels)
    return apply("SparseSoftmaxCrossEntropyWithLogits", logits, labels, name=name)


# --- sigmoid cross-entropy -----------------------------------------------------------------
def _sigmoid_xent_kernel(xp: Any, logits: Any, labels: Any) -> Any:
    if logits.shape != labels.shape:
        raise ValueError(
            f"logits and labels must have the same shape, got logits {logits.shape} and labels {labels.shape}"
        )
    zero = logits.dtype.type(0)
    # TensorFlow's formula: max(x, 0) - x * z + log(1 + exp(-|x|)), exact and overflow-free for any x.
    return xp.maximum(logits, zero) - logits * labels + xp.log1p(xp.exp(-xp.abs(logits)))


def _sigmoid_xent_infer(inputs: list[Tensor]) -> list[Any]:
    return [_same_shape_logits_labels(inputs)]


def _sigmoid_xent_grad(op: Any, g: Tensor) -> list[Tensor]:
    x, z = op.inputs
    # sigmoid(x) - z, written as (1 - z) - sigmoid(-x) for x >= 0 so a confident hard label keeps
    # full relative precision (1 - sigmoid(30) would cancel). Both branches are finite everywhere.
    dx = math_ops.where(x >= 0, (1 - z) - math_ops.sigmoid(-x), math_ops.sigmoid(x) - z)
    return [g * dx, -g * x]


# Primitive with a fused gradient: the value keeps full precision for large |x| (where
# softplus(x) - x * z cancels), and sigmoid(x) - z is a stable gradient at every x, kink-free at 0.
def _sigmoid_xent_jvp(op: Any, tx: Tangent, tz: Tangent) -> list[Tangent]:
    x, z = op.inputs
    dx = math_ops.where(x >= 0, (1 - z) - math_ops.sigmoid(-x), math_ops.sigmoid(x) - z)  # as the gradient
    return [sum_tangents([None if tx is None else tx * dx, None if tz is None else -tz * x])]


register_op(
    "SigmoidCrossEntropyWithLogits",
    _sigmoid_xent_kernel,
    _sigmoid_xent_infer,
    _sigmoid_xent_grad,
    jvp=_sigmoid_xent_jvp,
)


def sigmoid_cross_entropy_with_logits(*, labels: Any, logits: Any, name: str | None = None) -> Tensor:
    """Elementwise logistic loss ``-z * log(sigmoid(x)) - (1 - z) * log(1 - sigmoid(x))``.

    ``labels`` (z) and ``logits`` (x) have the same shape and dtype; gradients flow into both.
    Computed as ``max(x, 0) - x * z + log(1 + exp(-|x|))``, finite for any logits.
    """
    logits, labels = convert_n([logits, labels])
    return apply("SigmoidCrossEntropyWithLogits", logits, labels, name=name)


# --- l2_loss, bias_add ---------------------------------------------------------------------
@composite_call("l2_loss")
def l2_loss(t: Any, name: str | None = None) -> Tensor:
    """``sum(t ** 2) / 2`` as a scalar (a composition: nothing here can overflow early or lose precision)."""
    t = convert_to_tensor(t)
    if not t.dtype.is_floating:
        raise TypeError(f"l2_loss: t {t.name} has dtype {t.dtype.name}, but L2Loss needs a floating dtype")
    return math_ops.multiply(reduction_ops.reduce_sum(math_ops.square(t)), 0.5, name=name or "L2Loss")


def _bias_mismatch(value_shape: Any, bias_shape: Any) -> str:
    return (
        f"bias must be 1-D with the size of value's last dimension (the channels): "
        f"value has shape {value_shape}, bias has shape {bias_shape}"
    )


def _bias_add_kernel(xp: Any, value: Any, bias: Any) -> Any:
    if value.ndim < 2 or bias.ndim != 1 or value.shape[-1] != bias.shape[0]:
        raise ValueError(_bias_mismatch(value.shape, bias.shape))
    return value + bias


def _bias_add_infer(inputs: list[Tensor]) -> list[Any]:
    value, bias = inputs
    dtype = common_dtype(inputs)
    check_kind("op", value, NUMERIC, "value")
    if value.shape.rank is not None and value.shape.rank < 2:
        raise ValueError(f"value must be at least 2-D, got shape {value.shape}")
    if bias.shape.rank is not None and bias.shape.rank != 1:
        raise ValueError(_bias_mismatch(value.shape, bias.shape))
    if value.shape.rank is None:
        return [(dtype, TensorShape(None))]
    channels = TensorShape([value.shape[-1]])
    if bias.shape.rank is not None and not channels.is_compatible_with(bias.shape):
        raise ValueError(_bias_mismatch(value.shape, bias.shape))
    dims = value.shape.as_list()
    dims[-1] = channels.merge_with(bias.shape)[0]
    return [(dtype, TensorShape(dims))]


# Primitive for its shape contract (bias 1-D, matching the last axis, checked with a clear
# error); the gradient is g for both, summed back to the bias's shape by reverse mode.
def _bias_add_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    value, bias = node.inputs
    dims, channels = static_dims(value), static_dims(bias)
    if dims is None or channels is None or len(dims) < 2 or channels != dims[-1:] or np_type(node.out.dtype) is None:
        return None  # the kernel checks the shapes at run time
    return helper(lw, "bias_add", ["x", "b"], ["return x + b"], args[:2])


register_op(
    "BiasAdd",
    _bias_add_kernel,
    _bias_add_infer,
    lambda op, g: [g, g],
    broadcasts=True,
    explain=lambda b, op, a: b.add(*a),
    jvp=linear,
    lower={"numba": _bias_add_lower},
)


def bias_add(value: Any, bias: Any, data_format: str | None = None, name: str | None = None) -> Tensor:
    """Add the 1-D ``bias`` along the channel axis of ``value``.

    ``data_format`` None or ``"N...C"`` (e.g. ``"NHWC"``) puts channels last; ``"NC..."``
    (e.g. ``"NCHW"``) puts them at axis 1.
    """
    value, bias = convert_n([value, bias])
    if data_format is None or not data_format.startswith("NC"):
        return apply("BiasAdd", value, bias, name=name)
    # Channels first: validate here, then move the bias to axis 1 with a reshape and a broadcasting add.
    rank = value.shape.rank
    if rank is None or rank < 2:
        raise ValueError(
            f"bias_add: data_format {data_format!r} needs value of known rank >= 2, got shape {value.shape}"
        )
    if bias.shape.rank != 1 or not TensorShape([value.shape[1]]).is_compatible_with(bias.shape):
        raise ValueError(
            f"bias_add: bias must be 1-D with the size of value's axis 1 ({data_format}): "
            f"value {value.shape}, bias {bias.shape}"
        )
    return math_ops.add(value, array_ops.reshape(bias, [-1] + [1] * (rank - 2)), name=name)


# --- dropout -------------------------------------------------------------------------------
def _python_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def dropout(
    x: Any,
    keep_prob: Any = None,
    noise_shape: Any = None,
    seed: int | None = None,
    name: str | None = None,
    rate: Any = None,
) -> Tensor:
    """Zero each element with probability ``rate = 1 - keep_prob``; scale the rest by ``1 / keep_prob``.

    A composition (uniform noise, comparison, multiply): the gradient w.r.t. ``x`` is the
    same mask and scale, and it needs nothing beyond Mul's gradient.

    Parameters
    ----------
    x : floating tensor.
    keep_prob : keep probability in ``(0, 1]``; TensorFlow 1.x's second positional argument.
    rate : drop probability in ``[0, 1)`` (TensorFlow 2 style, keyword only); give exactly one of the two.
    noise_shape : shape of the random keep mask; it must broadcast to ``x``'s shape (e.g.
        ``[batch, 1, 1, channels]`` drops whole channels).
    seed : op seed for the mask (see ``cr.random.uniform``).
    """
    x = convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(f"dropout: x {x.name} has dtype {x.dtype.name}, but dropout needs a floating dtype")
    if (rate is None) == (keep_prob is None):
        raise ValueError("dropout: give exactly one of rate and keep_prob")
    if keep_prob is not None:
        if _python_number(keep_prob):
            if not 0 < keep_prob <= 1:
                raise ValueError(f"dropout: keep_prob must be in (0, 1], got {keep_prob}")
            rate = 1 - keep_prob
        else:
            rate = 1 - convert_to_tensor(keep_prob, dtype_hint=x.dtype)
    if _python_number(rate):
        if not 0 <= rate < 1:
            raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
        if rate == 0:
            return array_ops.identity(x, name=name)
    rate_t = convert_to_tensor(rate, dtype_hint=x.dtype)
    if noise_shape is None:
        noise_shape = x.shape.as_list() if x.shape.is_fully_defined() else array_ops.shape(x)
    else:
        noise = constant_shape(convert_to_tensor(noise_shape, dtype_hint=dtypes.int32))
        try:
            out = broadcast_shapes(x.shape, noise)
        except ValueError:
            out = None
        if out is None or (out.is_fully_defined() and x.shape.is_fully_defined() and out != x.shape):
            raise ValueError(f"dropout: noise_shape {noise} does not broadcast to x's shape {x.shape}")
    uniform = random_ops.uniform(noise_shape, dtype=x.dtype, seed=seed)
    keep = math_ops.cast(uniform >= rate_t, x.dtype)
    return math_ops.multiply(x, keep / (1 - rate_t), name=name)
