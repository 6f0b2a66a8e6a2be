"""``cr.losses``: TensorFlow 1.x's ``tf.losses`` (weighted, reduced, and collected in the graph).

Every loss is a composite: a per-element loss from existing ops, multiplied by ``weights`` and
reduced as ``reduction`` says (``compute_weighted_loss``), then added to the graph collection
``loss_collection`` (``"losses"``), where ``get_losses`` and ``get_total_loss`` find it.

Two differences from TensorFlow, on purpose: TensorFlow computes every loss in float32 and casts
the result back (a float64 loss loses precision); here a loss is computed in its inputs' dtype.
And integer or bool labels are cast to the predictions' dtype, as TensorFlow does, but float
labels of another float dtype are an error rather than a silent rounding.
"""

from __future__ import annotations

import re
from typing import Any

from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.framework.graph_keys import GraphKeys
from chainrule.ops import array_ops, math_ops, nn_ops, reduction_ops
from chainrule.ops.constant_op import constant, convert_to_tensor

__all__ = [
    "Reduction",
    "absolute_difference",
    "add_loss",
    "compute_weighted_loss",
    "get_losses",
    "get_regularization_loss",
    "get_regularization_losses",
    "get_total_loss",
    "hinge_loss",
    "huber_loss",
    "log_loss",
    "mean_squared_error",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]

LOSSES = GraphKeys.LOSSES
REGULARIZATION_LOSSES = GraphKeys.REGULARIZATION_LOSSES


class Reduction:
    """How ``compute_weighted_loss`` reduces the weighted losses (TensorFlow's ``tf.losses.Reduction``).

    ``NONE``: the weighted losses, unreduced. ``SUM``: their sum. ``MEAN``: the sum divided by the
    sum of the weights. ``SUM_OVER_BATCH_SIZE``: the sum divided by the number of elements of the
    losses. ``SUM_BY_NONZERO_WEIGHTS`` (the default; also ``SUM_OVER_NONZERO_WEIGHTS``): the sum
    divided by the number of elements with a nonzero weight. A division by zero gives 0.
    """

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: str) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key!r}; expected one of {cls.all()}")


# --- the collections ----------------------------------------------------------------------
def add_loss(loss: Any, loss_collection: str | None = LOSSES) -> None:
    """Add ``loss`` to the collection ``loss_collection`` of its graph (nothing when it is None or empty)."""
    if loss_collection:
        graph = loss.graph if isinstance(loss, Tensor) else get_default_graph()
        graph.add_to_collection(loss_collection, loss)


def _collection(name: str, scope: str | None) -> list[Any]:
    items = get_default_graph().get_collection(name)
    if scope is None:
        return items
    pattern = re.compile(scope)
    return [t for t in items if hasattr(t, "name") and pattern.match(t.name)]


def get_losses(scope: str | None = None, loss_collection: str = LOSSES) -> list[Tensor]:
    """The losses in ``loss_collection`` of the default graph, those whose names match ``scope`` (a regex) if given."""
    return _collection(loss_collection, scope)


def get_regularization_losses(scope: str | None = None) -> list[Tensor]:
    """The tensors in the default graph's ``"regularization_losses"`` collection (matching ``scope``)."""
    return _collection(REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: str | None = None, name: str = "total_regularization_loss") -> Tensor:
    """The sum of ``get_regularization_losses(scope)``, or a float32 0 when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return constant(0.0, name=name)


def get_total_loss(
    add_regularization_losses: bool = True, name: str = "total_loss", scope: str | None = None
) -> Tensor:
    """The sum of ``get_losses(scope)`` and (by default) of ``get_regularization_losses(scope)``.

    Raises
    ------
    ValueError
        When there are no losses to add.
    """
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("get_total_loss: no losses in the graph's collections (did a cr.losses function run?)")
    return math_ops.add_n(losses, name=name)


# --- weighting and reduction ----------------------------------------------------------------
def _check_broadcastable(weights: Tensor, losses: Tensor) -> None:
    """TensorFlow's rule: ``weights`` is a scalar, or has the losses' rank with each dim 1 or equal."""
    w, v = weights.shape, losses.shape
    if w.dims is None or v.dims is None or w.rank == 0:
        return
    ok = w.rank == v.rank and all(a is None or b is None or a in (1, b) for a, b in zip(w.dims, v.dims, strict=True))
    if not ok:
        raise ValueError(
            f"weights can not be broadcast to values: weights shape {w}, values shape {v} "
            "(weights must be a scalar or have the values' rank with each dimension 1 or equal)"
        )


def _div_no_nan(total: Tensor, count: Tensor) -> Tensor:
    positive = count > 0
    return math_ops.where(positive, total / math_ops.where(positive, count, array_ops.ones_like(count)), 0.0 * total)


def _num_present(losses: Tensor, weights: Any, weights_t: Tensor) -> Tensor:
    """The number of elements of ``losses`` with a nonzero weight (TensorFlow's ``_num_present``)."""
    if isinstance(weights, (int, float)) and not isinstance(weights, bool) and weights != 0:
        return math_ops.cast(array_ops.size(losses), losses.dtype)
    present = math_ops.where(
        math_ops.equal(weights_t, 0), array_ops.zeros_like(weights_t), array_ops.ones_like(weights_t)
    )
    return reduction_ops.reduce_sum(present * array_ops.ones_like(losses))


def compute_weighted_loss(
    losses: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """``losses * weights``, reduced by ``reduction`` and added to ``loss_collection``.

    Parameters
    ----------
    losses : floating tensor of per-element losses.
    weights : a scalar, or a tensor of the losses' rank whose dims are 1 or the losses' (broadcast).
    scope : name scope of the ops.
    loss_collection : the graph collection the result is added to (None: none).
    reduction : a ``Reduction`` value.

    Returns
    -------
    A scalar, or the losses' shape for ``Reduction.NONE``, in the losses' dtype.
    """
    Reduction.validate(reduction)
    with get_default_graph().name_scope(scope or "weighted_loss"):
        losses_t = convert_to_tensor(losses)
        if not losses_t.dtype.is_floating:
            raise TypeError(f"losses {losses_t.name} must be floating, got {losses_t.dtype.name}")
        weights_t = convert_to_tensor(weights, dtype_hint=losses_t.dtype)
        if weights_t.dtype != losses_t.dtype:
            weights_t = _labels_like(weights_t, losses_t, "weights")
        _check_broadcastable(weights_t, losses_t)
        weighted = math_ops.multiply(losses_t, weights_t)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduction_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                loss = _div_no_nan(loss, reduction_ops.reduce_sum(array_ops.ones_like(losses_t) * weights_t))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _div_no_nan(loss, _num_present(losses_t, weights, weights_t))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _div_no_nan(loss, math_ops.cast(array_ops.size(losses_t), losses_t.dtype))
        loss = array_ops.identity(loss, name="value")
        add_loss(loss, loss_collection)
        return loss


# --- the losses -----------------------------------------------------------------------------
def _labels_like(labels: Tensor, like: Tensor, what: str) -> Tensor:
    """``labels`` in ``like``'s dtype: integer and bool labels are cast (as TensorFlow); other floats must match."""
    if labels.dtype == like.dtype:
        return labels
    if labels.dtype.is_integer or labels.dtype.is_bool:
        return math_ops.cast(labels, like.dtype)
    raise TypeError(
        f"{what} {labels.name} has dtype {labels.dtype.name} but the predictions are {like.dtype.name}; "
        "cast one of them (no silent rounding)"
    )


def _pair(
    labels: Any, predictions: Any, fn: str, names: tuple[str, str] = ("labels", "predictions")
) -> tuple[Tensor, Tensor]:
    if labels is None:
        raise ValueError(f"{fn}: {names[0]} must not be None.")
    if predictions is None:
        raise ValueError(f"{fn}: {names[1]} must not be None.")
    predictions_t = convert_to_tensor(predictions)
    if not predictions_t.dtype.is_floating:
        raise TypeError(f"{fn}: {names[1]} {predictions_t.name} must be floating, got {predictions_t.dtype.name}")
    labels_t = _labels_like(convert_to_tensor(labels, dtype_hint=predictions_t.dtype), predictions_t, names[0])
    if not predictions_t.shape.is_compatible_with(labels_t.shape):
        raise ValueError(f"{fn}: {names[0]} shape {labels_t.shape} and {names[1]} shape {predictions_t.shape} differ")
    return labels_t, predictions_t


_WEIGHTED_DOC = """
    weights : a scalar, or a tensor of the losses' rank with dims 1 or equal (see ``compute_weighted_loss``).
    scope : name scope of the ops.
    loss_collection : the graph collection the loss is added to (``"losses"``; None: none).
    reduction : a ``Reduction`` value; by default the weighted sum over the nonzero weights' count.

    Returns
    -------
    The weighted loss: a scalar, or the per-element losses for ``Reduction.NONE``.
"""


def absolute_difference(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    with get_default_graph().name_scope(scope or "absolute_difference"):
        labels_t, predictions_t = _pair(labels, predictions, "absolute_difference")
        losses = math_ops.abs(predictions_t - labels_t)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


absolute_difference.__doc__ = (
    """The absolute error ``|predictions - labels|``, weighted and reduced.

    Parameters
    ----------
    labels, predictions : tensors of one shape."""
    + _WEIGHTED_DOC
)


def mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    with get_default_graph().name_scope(scope or "mean_squared_error"):
        labels_t, predictions_t = _pair(labels, predictions, "mean_squared_error")
        losses = math_ops.squared_difference(predictions_t, labels_t)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


mean_squared_error.__doc__ = (
    """The squared error ``(predictions - labels)^2``, weighted and reduced (by default, its mean).

    Parameters
    ----------
    labels, predictions : tensors of one shape."""
    + _WEIGHTED_DOC
)


def huber_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    delta: float = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    with get_default_graph().name_scope(scope or "huber_loss"):
        labels_t, predictions_t = _pair(labels, predictions, "huber_loss")
        abs_error = math_ops.abs(predictions_t - labels_t)
        quadratic = math_ops.minimum(abs_error, delta)
        linear = abs_error - quadratic  # |e| - min(|e|, delta): 0 inside, the excess outside
        losses = 0.5 * quadratic * quadratic + delta * linear
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


huber_loss.__doc__ = (
    """The Huber loss: ``0.5 * e^2`` for ``|e| <= delta``, else ``0.5 * delta^2 + delta * (|e| - delta)``.

    Parameters
    ----------
    labels, predictions : tensors of one shape (``e = predictions - labels``).
    delta : where the loss turns from quadratic to linear."""
    + _WEIGHTED_DOC
)


def log_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    epsilon: float = 1e-7,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    with get_default_graph().name_scope(scope or "log_loss"):
        labels_t, p = _pair(labels, predictions, "log_loss")
        losses = -labels_t * math_ops.log(p + epsilon) - (1 - labels_t) * math_ops.log(1 - p + epsilon)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


log_loss.__doc__ = (
    """The log loss ``-y log(p + eps) - (1 - y) log(1 - p + eps)`` of probabilities ``p = predictions``.

    Parameters
    ----------
    labels, predictions : tensors of one shape; predictions in [0, 1].
    epsilon : keeps the logarithms finite at 0 and 1."""
    + _WEIGHTED_DOC
)


def hinge_loss(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    with get_default_graph().name_scope(scope or "hinge_loss"):
        labels_t, logits_t = _pair(labels, logits, "hinge_loss", ("labels", "logits"))
        signs = 2 * labels_t - 1  # {0, 1} -> {-1, 1}
        losses = nn_ops.relu(1 - signs * logits_t)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


hinge_loss.__doc__ = (
    """The hinge loss ``max(0, 1 - (2 * labels - 1) * logits)``.

    Parameters
    ----------
    labels : 0 or 1 (the classes -1 and 1), the logits' shape.
    logits : the classifier's raw outputs."""
    + _WEIGHTED_DOC
)


def sigmoid_cross_entropy(
    multi_class_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    with get_default_graph().name_scope(scope or "sigmoid_cross_entropy_loss"):
        labels_t, logits_t = _pair(
            multi_class_labels, logits, "sigmoid_cross_entropy", ("multi_class_labels", "logits")
        )
        if label_smoothing > 0:
            labels_t = labels_t * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=labels_t, logits=logits_t)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


sigmoid_cross_entropy.__doc__ = (
    """The logistic loss of independent binary labels, ``sigmoid_cross_entropy_with_logits``, weighted and reduced.

    Parameters
    ----------
    multi_class_labels : 0/1 (or soft) labels, the logits' shape; integers are cast.
    logits : the logits.
    label_smoothing : if positive, labels become ``labels * (1 - label_smoothing) + 0.5 * label_smoothing``."""
    + _WEIGHTED_DOC
)


def softmax_cross_entropy(
    onehot_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    with get_default_graph().name_scope(scope or "softmax_cross_entropy_loss"):
        labels_t, logits_t = _pair(onehot_labels, logits, "softmax_cross_entropy", ("onehot_labels", "logits"))
        if label_smoothing > 0:
            num_classes = math_ops.cast(array_ops.shape(labels_t)[-1], logits_t.dtype)
            labels_t = labels_t * (1 - label_smoothing) + label_smoothing / num_classes
        labels_t = array_ops.stop_gradient(labels_t, name="labels_stop_gradient")
        losses = nn_ops.softmax_cross_entropy_with_logits_v2(labels=labels_t, logits=logits_t)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


softmax_cross_entropy.__doc__ = (
    """The softmax cross-entropy of one-hot (or soft) labels over the last axis, weighted and reduced.

    No gradient flows into the labels (as TensorFlow).

    Parameters
    ----------
    onehot_labels : ``[batch, num_classes]``, the logits' shape; integers are cast.
    logits : ``[batch, num_classes]``.
    weights : a scalar or ``[batch]``-shaped (per example) weights.
    label_smoothing : if positive, labels become ``labels * (1 - label_smoothing) + label_smoothing / num_classes``."""
    + _WEIGHTED_DOC
)


def _squeeze_last(t: Tensor, rank: int | None) -> Tensor:
    """``t`` without a trailing size-1 axis when it has one axis more than ``rank`` (TF's squeezable dims)."""
    shape = t.shape
    if rank is not None and shape.rank == rank + 1 and shape.dims is not None and shape.dims[-1] in (1, None):
        return array_ops.squeeze(t, [-1])
    return t


def sparse_softmax_cross_entropy(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: str | None = None,
    loss_collection: str | None = LOSSES,
    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    if labels is None:
        raise ValueError("sparse_softmax_cross_entropy: labels must not be None.")
    if logits is None:
        raise ValueError("sparse_softmax_cross_entropy: logits must not be None.")
    with get_default_graph().name_scope(scope or "sparse_softmax_cross_entropy_loss"):
        logits_t = convert_to_tensor(logits)
        labels_t = convert_to_tensor(labels)
        rank = None if logits_t.shape.rank is None else logits_t.shape.rank - 1
        labels_t = _squeeze_last(labels_t, rank)
        weights_t = convert_to_tensor(weights, dtype_hint=logits_t.dtype)
        if weights_t.shape.rank not in (None, 0):
            weights = _squeeze_last(weights_t, rank)
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels_t, logits=logits_t)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


sparse_softmax_cross_entropy.__doc__ = (
    """The softmax cross-entropy of integer class ``labels``, weighted and reduced.

    Parameters
    ----------
    labels : int32/int64 ``[batch]`` (or ``[batch, 1]``, squeezed) class ids in ``[0, num_classes)``.
    logits : ``[batch, num_classes]``."""
    + _WEIGHTED_DOC
)
