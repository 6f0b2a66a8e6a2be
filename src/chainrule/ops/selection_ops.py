"""Selecting elements: ``top_k`` (the k largest along the last axis) and ``boolean_mask``.

``TopKV2`` is a primitive whose gradient sends each value's gradient back to the position it
came from (a one-hot scatter along the last axis, linear in the gradient, so differentiable
again); ``boolean_mask`` is TensorFlow's composite: a reshape and a gather at the coordinates of
the true elements, so its gradient is the gather's (a scatter) and its output's masked dimension
is unknown until run time.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import array_ops, indexing_ops, math_ops, reduction_ops
from chainrule.ops.constant_op import constant, convert_to_tensor
from chainrule.ops.jvp_forms import Tangent
from chainrule.ops.registry import apply_op, constant_value, register_op
from chainrule.ops.shape_rules import NUMERIC, check_kind

__all__ = ["top_k", "boolean_mask"]

TopKV2 = namedtuple("TopKV2", ["values", "indices"])


# --- top_k -----------------------------------------------------------------------------------
def _top_k_infer(inputs: list[Tensor], sorted: bool) -> list[Any]:  # noqa: A002 - TensorFlow's name
    x, k = inputs
    check_kind("TopKV2", x, NUMERIC)
    if not k.dtype.is_integer or k.shape.rank not in (0, None):
        raise TypeError(f"k must be an integer scalar, got {k.dtype.name}{k.shape}")
    if x.shape.rank == 0:
        raise ValueError("input must have rank at least 1")
    kv = constant_value(k)
    if kv is not None:
        if int(kv) < 0:
            raise ValueError(f"k must be non-negative, got {int(kv)}")
        last = x.shape.dims[-1] if x.shape.dims is not None else None
        if last is not None and int(kv) > last:
            raise ValueError(f"input must have at least k = {int(kv)} columns, has {last}")
    if x.shape.dims is None:
        shape = TensorShape(None)
    else:
        shape = TensorShape([*x.shape.dims[:-1], None if kv is None else int(kv)])
    return [(x.dtype, shape), (dtypes.int32, shape)]


def _top_k_kernel(xp: Any, x: Any, k: Any, sorted: bool) -> tuple[Any, Any]:  # noqa: A002
    k = int(k)
    n = x.shape[-1]
    if not 0 <= k <= n:
        raise ValueError(f"input must have at least k = {k} columns, has {n}" if k > n else f"k = {k} < 0")
    # Descending by value; a stable sort keeps equal values in index order (lower index first).
    keys = -x if x.dtype.kind in "fi" else -x.astype(np.int64)
    indices = xp.argsort(keys, axis=-1, kind="stable")[..., :k]
    return xp.take_along_axis(x, indices, axis=-1), indices.astype(np.int32)


def _positions(op: Any) -> Tensor:
    """``[..., k, n]``: 1 where value j came from position i of the last axis."""
    x, indices = op.inputs[0], op.outputs[1]
    n = x.shape.dims[-1] if x.shape.dims is not None and x.shape.dims[-1] is not None else array_ops.shape(x)[-1]
    return indexing_ops.one_hot(indices, n, dtype=x.dtype)


def _top_k_grad(op: Any, g_values: Tensor | None, g_indices: Tensor | None) -> list[Any]:
    if g_values is None:
        return [None, None]
    return [reduction_ops.reduce_sum(_positions(op) * array_ops.expand_dims(g_values, -1), axis=-2), None]


def _top_k_jvp(op: Any, t: Tangent, t_k: Tangent) -> list[Tangent]:
    if t is None:
        return [None, None]
    return [reduction_ops.reduce_sum(_positions(op) * array_ops.expand_dims(t, -2), axis=-1), None]


register_op("TopKV2", _top_k_kernel, _top_k_infer, _top_k_grad, jvp=_top_k_jvp, fresh_output=True)


def top_k(input: Any, k: Any = 1, sorted: bool = True, name: str | None = None) -> Any:  # noqa: A002
    """The ``k`` largest entries along the last axis and their indices: ``(values, indices)``.

    Parameters
    ----------
    input : a numeric tensor of rank >= 1.
    k : a 0-D int (or int tensor): how many entries, at most ``input.shape[-1]``.
    sorted : accepted; the result is always sorted in descending order (TensorFlow leaves the
        order unspecified when False, so this is one of its allowed orders).
    name : name of the op.

    Returns
    -------
    A namedtuple ``(values, indices)``: ``values`` of ``input``'s dtype, ``indices`` int32, both of
    shape ``input.shape[:-1] + [k]``. Equal values come in index order (lower index first), as in
    TensorFlow. The gradient of ``values`` goes back to the positions they came from.
    """
    x = convert_to_tensor(input)
    kt = convert_to_tensor(k, dtype=dtypes.int32) if not isinstance(k, Tensor) else k
    values, indices = apply_op("TopKV2", [x, kt], {"sorted": bool(sorted)}, name).outputs
    return TopKV2(values, indices)


# --- boolean_mask (TensorFlow's composite) ---------------------------------------------------
def _merged_shape(t: Tensor, axis: int, k: int) -> Any:
    """``t``'s shape with the ``k`` axes from ``axis`` merged into one (static where it is known)."""
    dims = t.shape.dims
    if dims is not None and all(d is not None for d in dims):
        lead = int(np.prod([int(d) for d in dims[axis : axis + k]], dtype=np.int64))  # type: ignore[arg-type]
        return [*dims[:axis], lead, *dims[axis + k :]]
    full = array_ops.shape(t)
    lead_t = reduction_ops.reduce_prod(full[axis : axis + k], axis=[0], keepdims=True)
    return array_ops.concat([full[:axis], lead_t, full[axis + k :]], 0)


def boolean_mask(tensor: Any, mask: Any, name: str = "boolean_mask", axis: Any = None) -> Tensor:
    """The elements (or slices) of ``tensor`` where ``mask`` is true.

    Parameters
    ----------
    tensor : N-D tensor.
    mask : K-D bool tensor, K <= N, with a known rank; its shape must match
        ``tensor.shape[axis:axis + K]``.
    name : name of the op.
    axis : the first axis of ``tensor`` that ``mask`` covers (0 when None).

    Returns
    -------
    ``tensor`` with the K masked axes replaced by one axis of the true positions (row-major
    order): shape ``tensor.shape[:axis] + [num_true] + tensor.shape[axis + K:]``, whose
    ``num_true`` is unknown until the graph runs. The gradient scatters back into the masked
    positions (zeros elsewhere), as the gather it is made of.
    """
    t = convert_to_tensor(tensor)
    m = convert_to_tensor(mask)
    if not m.dtype.is_bool:
        raise TypeError(f"boolean_mask: mask must be bool, got {m.dtype.name}")
    k = m.shape.rank
    if k is None:
        raise ValueError("boolean_mask: the rank of mask must be known when the graph is built")
    if k == 0:
        raise ValueError("boolean_mask: mask cannot be a scalar")
    axis = 0 if axis is None else int(axis)
    n = t.shape.rank
    if n is not None:
        if axis < 0:
            axis += n
        if not 0 <= axis <= n - k:
            raise ValueError(f"boolean_mask: mask of rank {k} does not fit tensor of rank {n} at axis {axis}")
        covered = TensorShape(t.shape.dims[axis : axis + k])  # type: ignore[index]
        if not covered.is_compatible_with(m.shape):
            raise ValueError(f"boolean_mask: mask shape {m.shape} is incompatible with tensor shape {t.shape}")
    elif axis < 0:
        raise ValueError("boolean_mask: a negative axis needs the rank of tensor to be known")
    flat = t if k == 1 else array_ops.reshape(t, _merged_shape(t, axis, k))
    known = constant_value(m)  # a constant mask gives a static output shape
    flat_mask = array_ops.reshape(m, [-1]) if known is None else constant(np.ravel(known))
    indices = array_ops.squeeze(math_ops.where(flat_mask), axis=[1])
    return indexing_ops.gather(flat, indices, axis=axis, name=name)
