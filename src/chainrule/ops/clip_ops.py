"""Clipping by norm (TensorFlow's ``clip_ops``): composites of reductions and elementwise math.

``clip_by_norm`` guards its square root with a double ``where`` (as TensorFlow), so an all-zero
tensor gets a zero gradient instead of nan. ``clip_by_global_norm`` scales every tensor of a
list by one factor, ``clip_norm / max(global_norm, clip_norm)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.framework.graph import Tensor
from chainrule.ops import array_ops, math_ops, reduction_ops
from chainrule.ops.constant_op import convert_to_tensor

__all__ = ["clip_by_norm", "clip_by_global_norm", "global_norm"]


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """``t * clip_norm / max(l2norm(t), clip_norm)``: ``t`` rescaled so its L2 norm is at most ``clip_norm``.

    Parameters
    ----------
    t : a floating tensor.
    clip_norm : a positive scalar (or a tensor that broadcasts against the norm).
    axes : the axes the L2 norm is taken over (all when None), kept for broadcasting.
    name : name of the op.
    """
    values = convert_to_tensor(t)
    clip = math_ops.cast(clip_norm, values.dtype) if isinstance(clip_norm, Tensor) else clip_norm
    l2sum = reduction_ops.reduce_sum(values * values, axis=axes, keepdims=True)
    positive = l2sum > 0
    # sqrt is not differentiable at 0: take it only where the sum is positive (the double where).
    l2norm = math_ops.where(positive, math_ops.sqrt(math_ops.where(positive, l2sum, array_ops.ones_like(l2sum))), l2sum)
    return array_ops.identity(values * clip / math_ops.maximum(l2norm, clip), name=name)


def global_norm(t_list: Sequence[Any], name: str | None = None) -> Tensor:
    """``sqrt(sum(sum(t ** 2) for t in t_list))``, None entries skipped (TensorFlow's ``global_norm``)."""
    if isinstance(t_list, (Tensor, str)) or not isinstance(t_list, Sequence):
        raise TypeError("global_norm: t_list must be a sequence of tensors")
    values = [convert_to_tensor(t) for t in t_list if t is not None]
    if not values:
        raise ValueError("global_norm: t_list has no tensors")
    squares = [reduction_ops.reduce_sum(v * v) for v in values]
    return math_ops.sqrt(math_ops.add_n(squares), name=name or "global_norm")


def clip_by_global_norm(
    t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None, name: str | None = None
) -> tuple[list[Any], Tensor]:
    """Scale every tensor of ``t_list`` by ``clip_norm / max(global_norm, clip_norm)``.

    Parameters
    ----------
    t_list : a list of floating tensors (None entries stay None).
    clip_norm : a positive scalar.
    use_norm : the global norm to use, if already computed.
    name : name of the ops.

    Returns
    -------
    ``(list_clipped, global_norm)``. As in TensorFlow, an infinite global norm makes every
    clipped tensor nan.
    """
    if isinstance(t_list, (Tensor, str)) or not isinstance(t_list, Sequence):
        raise TypeError("clip_by_global_norm: t_list must be a sequence of tensors")
    norm = global_norm(t_list) if use_norm is None else convert_to_tensor(use_norm)
    clip = math_ops.cast(clip_norm, norm.dtype)
    scale_for_finite = clip * math_ops.minimum(1.0 / norm, 1.0 / clip)
    scale = scale_for_finite + (norm - norm)  # nan where the norm is inf, as TensorFlow
    clipped: list[Any] = []
    for i, t in enumerate(t_list):
        if t is None:
            clipped.append(None)
            continue
        v = convert_to_tensor(t)
        clipped.append(array_ops.identity(v * math_ops.cast(scale, v.dtype), name=f"{name}_{i}" if name else None))
    return clipped, norm
