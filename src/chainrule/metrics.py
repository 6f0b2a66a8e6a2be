"""``cr.metrics``: streaming metrics as TensorFlow 1.x's ``tf.metrics`` (value, update op, local variables).

A metric keeps running totals in local variables (``GraphKeys.LOCAL_VARIABLES`` and
``METRIC_VARIABLES``, initialized by ``cr.local_variables_initializer()``); running its update op
adds one batch, and its value tensor reads the totals.
"""

from __future__ import annotations

from typing import Any

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.ops import array_ops, math_ops, reduction_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.state_ops import LOCAL_VARIABLES, Variable
from chainrule.ops.variable_scope import variable_scope

__all__ = ["accuracy", "mean"]

METRIC_VARIABLES = "metric_variables"  # cr.GraphKeys.METRIC_VARIABLES


def _metric_variable(name: str) -> Variable:
    return Variable(
        lambda: array_ops.zeros([], dtypes.float32),
        trainable=False,
        collections=[LOCAL_VARIABLES, METRIC_VARIABLES],
        name=name,
    )


def _safe_div(total: Tensor, count: Tensor, name: str) -> Tensor:
    # TensorFlow's div_no_nan(total, max(count, 0)): 0 when nothing was counted.
    positive = math_ops.greater(count, 0.0)
    return math_ops.where(positive, total / math_ops.where(positive, count, array_ops.ones_like(count)),
                          array_ops.zeros_like(total), name=name)  # fmt: skip


def _add_to(collections: Any, value: Tensor) -> None:
    if collections:
        get_default_graph().add_to_collections(collections, value)


def mean(
    values: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """The (weighted) mean of ``values`` over every batch its update op has seen.

    Returns
    -------
    ``(mean, update_op)``: ``mean`` reads ``total / count`` (0 before any update); ``update_op``
    adds the batch's ``sum(values * weights)`` and ``sum(weights)`` and outputs the new mean.
    The local variables are ``<scope>/total`` and ``<scope>/count`` (scope ``mean`` by default).
    """
    with variable_scope(name, default_name="mean", values=[values, weights]):
        v = math_ops.cast(convert_to_tensor(values), dtypes.float32)
        total = _metric_variable("total")
        count = _metric_variable("count")
        if weights is None:
            num_values = math_ops.cast(array_ops.size(v), dtypes.float32)
        else:
            w = math_ops.cast(convert_to_tensor(weights), dtypes.float32)
            w = w * array_ops.ones_like(v)  # weights broadcast to the values, as TensorFlow's
            v = v * w
            num_values = reduction_ops.reduce_sum(w)
        update_total = total.assign_add(reduction_ops.reduce_sum(v))
        with get_default_graph().control_dependencies([v]):
            update_count = count.assign_add(num_values)
        value = _safe_div(total.value(), count.value(), "value")
        update_op = _safe_div(update_total, update_count, "update_op")
    _add_to(metrics_collections, value)
    _add_to(updates_collections, update_op)
    return value, update_op


def accuracy(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """How often ``predictions`` equals ``labels``, over every batch the update op has seen.

    ``predictions`` is cast to ``labels``' dtype when they differ (as TensorFlow's); shapes must be
    compatible. Returns ``(accuracy, update_op)``; the local variables are ``accuracy/total`` and
    ``accuracy/count`` (in ``LOCAL_VARIABLES`` and ``METRIC_VARIABLES``).
    """
    y = convert_to_tensor(labels)
    p = convert_to_tensor(predictions)
    if not p.shape.is_compatible_with(y.shape):
        raise ValueError(f"accuracy: predictions shape {p.shape} is not compatible with labels shape {y.shape}")
    if p.dtype != y.dtype:
        p = math_ops.cast(p, y.dtype)
    is_correct = math_ops.cast(math_ops.equal(p, y), dtypes.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")
