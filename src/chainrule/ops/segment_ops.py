"""Segment reductions: ``segment_sum/mean/max/min/prod`` (sorted ids) and ``unsorted_segment_*``.

``data``'s leading axes are reduced into segments: row ``i`` of the output reduces the rows of
``data`` whose segment id is ``i``. The sorted ops take 1-D ids that never decrease (an error when
run, as TensorFlow's "segment ids are not increasing") and output ``max(id) + 1`` rows, so their
static first dimension is known only for constant ids; the unsorted ops take ids of any shape
that prefixes ``data``'s, drop negative ids, and output ``num_segments`` rows.

Empty segments are filled as TensorFlow fills them: 0 for sums and means (and for the sorted
max/min), 1 for products, and the dtype's lowest (highest) finite value for the unsorted max
(min). The gradients are TensorFlow's (``math_grad.py``): a gather of the output's gradient back
to the rows, split evenly among the tied extrema of a max/min segment, and the product of the
other elements of a product segment (exact with one zero, 0 with two or more).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import array_ops, indexing_ops, math_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.jvp_forms import linear
from chainrule.ops.registry import apply, constant_value, register_op
from chainrule.ops.shape_rules import NUMERIC, check_kind

__all__ = [
    "segment_sum",
    "segment_mean",
    "segment_max",
    "segment_min",
    "segment_prod",
    "unsorted_segment_sum",
    "unsorted_segment_max",
    "unsorted_segment_min",
    "unsorted_segment_prod",
    "unsorted_segment_mean",
]

# ufunc whose ``.at`` accumulates a segment, and what an element is combined with first.
_REDUCERS = {"sum": (np.add, 0), "prod": (np.multiply, 1), "max": (np.maximum, None), "min": (np.minimum, None)}


def _check_ids(op_type: str, ids: Tensor) -> None:
    if not ids.dtype.is_integer:
        raise TypeError(f"segment_ids {ids.name} must be int32 or int64, got {ids.dtype.name}")


def _sorted_infer(op_type: str) -> Any:
    def infer(inputs: list[Tensor]) -> list[Any]:
        data, ids = inputs
        check_kind(op_type, data, NUMERIC, "data")
        _check_ids(op_type, ids)
        if ids.shape.rank not in (1, None):
            raise ValueError(f"segment_ids must be a vector, got shape {ids.shape}")
        if data.shape.rank == 0:
            raise ValueError("data must have rank at least 1")
        if data.shape.dims is not None and ids.shape.dims is not None:
            if not TensorShape(data.shape.dims[:1]).is_compatible_with(ids.shape):
                raise ValueError(f"segment_ids {ids.shape} must have data's first dimension {data.shape[0]}")
        value = constant_value(ids)
        rows = None if value is None else (int(value[-1]) + 1 if value.size else 0)
        rest = None if data.shape.dims is None else data.shape.dims[1:]
        return [(data.dtype, TensorShape(None if rest is None else [rows, *rest]))]

    return infer


def _unsorted_infer(op_type: str) -> Any:
    def infer(inputs: list[Tensor]) -> list[Any]:
        data, ids, num = inputs
        check_kind(op_type, data, NUMERIC, "data")
        _check_ids(op_type, ids)
        if not num.dtype.is_integer or num.shape.rank not in (0, None):
            raise TypeError(f"num_segments must be an integer scalar, got {num.dtype.name}{num.shape}")
        n = constant_value(num)
        if data.shape.dims is None or ids.shape.dims is None:
            return [(data.dtype, TensorShape(None))]
        k = len(ids.shape.dims)
        if k > len(data.shape.dims) or not TensorShape(data.shape.dims[:k]).is_compatible_with(ids.shape):
            raise ValueError(f"segment_ids shape {ids.shape} must be a prefix of data shape {data.shape}")
        return [(data.dtype, TensorShape([None if n is None else int(n), *data.shape.dims[k:]]))]

    return infer


def _empty_fill(kind: str, dtype: np.dtype, unsorted: bool) -> Any:
    if kind in ("sum", "mean") or (kind in ("max", "min") and not unsorted):
        return 0
    if kind == "prod":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if kind == "max" else info.max


def _reduce_segments(xp: Any, kind: str, data: Any, ids: Any, rows: int, unsorted: bool) -> Any:
    flat = ids.reshape(-1)
    values = data.reshape((flat.size, *data.shape[ids.ndim :]))
    if unsorted:
        keep = flat >= 0
        values, flat = values[keep], flat[keep]
    counts = np.bincount(flat, minlength=rows)[:rows] if flat.size else np.zeros(rows, np.int64)
    if kind == "mean":
        total = np.zeros((rows, *values.shape[1:]), data.dtype)
        np.add.at(total, flat, values)
        shape = (rows,) + (1,) * (values.ndim - 1)
        count = np.maximum(counts, 1).reshape(shape).astype(data.dtype)
        if data.dtype.kind in "iu":  # TensorFlow's integer mean truncates toward zero
            return (np.sign(total) * (np.abs(total) // count)).astype(data.dtype)
        return total / count
    ufunc, identity = _REDUCERS[kind]
    fill = _empty_fill(kind, data.dtype, unsorted)
    if identity is None:
        out = np.full((rows, *values.shape[1:]), fill, data.dtype)
        # Start each non-empty segment from one of its own elements; empty ones keep the fill.
        present, first = np.unique(flat, return_index=True)
        out[present] = values[first]
    else:
        out = np.full((rows, *values.shape[1:]), identity, data.dtype)
    ufunc.at(out, flat, values)
    return xp.asarray(out)


def _sorted_kernel(kind: str) -> Any:
    def kernel(xp: Any, data: Any, ids: Any) -> Any:
        ids = np.asarray(ids)
        if ids.shape != data.shape[:1]:
            raise ValueError(f"segment_ids shape {ids.shape} must be data's first dimension {data.shape[:1]}")
        if ids.size and ids[0] < 0:
            raise ValueError(f"segment ids must be >= 0, got {int(ids[0])}")
        if np.any(np.diff(ids) < 0):
            raise ValueError("segment ids are not increasing")
        rows = int(ids[-1]) + 1 if ids.size else 0
        return _reduce_segments(xp, kind, np.asarray(data), ids, rows, unsorted=False)

    return kernel


def _unsorted_kernel(kind: str) -> Any:
    def kernel(xp: Any, data: Any, ids: Any, num: Any) -> Any:
        ids, rows = np.asarray(ids), int(num)
        if ids.shape != data.shape[: ids.ndim]:
            raise ValueError(f"segment_ids shape {ids.shape} must be a prefix of data shape {data.shape}")
        bad = ids >= rows
        if bad.any():
            pos = [int(i) for i in np.argwhere(bad)[0]]
            raise ValueError(f"segment_ids{pos} = {int(ids[tuple(pos)])} is out of range [0, {rows})")
        return _reduce_segments(xp, kind, np.asarray(data), ids, rows, unsorted=True)

    return kernel


# --- gradients (TensorFlow's) ------------------------------------------------------------------
def _gather_rows(params: Tensor, ids: Tensor, unsorted: bool) -> Tensor:
    """``params[ids]``, and 0 for negative ids (which the unsorted ops drop)."""
    if not unsorted:
        return indexing_ops.gather(params, ids)
    gathered = indexing_ops.gather(params, math_ops.maximum(ids, 0))
    return math_ops.where(_id_is_valid(ids, gathered), gathered, array_ops.zeros_like(gathered))


def _id_is_valid(ids: Tensor, like: Tensor) -> Tensor:
    """``ids >= 0`` reshaped to broadcast against ``like`` (which has ids' shape as its prefix)."""
    valid = ids >= 0
    extra = array_ops.ones(array_ops.reshape(array_ops.rank(like) - array_ops.rank(ids), [1]), dtypes.int32)
    return array_ops.reshape(valid, array_ops.concat([array_ops.shape(ids), extra], 0))


def _ones_per_id(data: Tensor, ids: Tensor) -> Tensor:
    """Ones of shape ``ids.shape + [1] * (data.rank - ids.rank)``: segment-summed, the segments' sizes."""
    if ids.shape.is_fully_defined() and data.shape.rank is not None:
        shape: Any = ids.shape.as_list() + [1] * (data.shape.rank - ids.shape.rank)  # type: ignore[operator]
    else:
        extra = array_ops.ones(array_ops.reshape(array_ops.rank(data) - array_ops.rank(ids), [1]), dtypes.int32)
        shape = array_ops.concat([array_ops.shape(ids), extra], 0)
    return array_ops.ones(shape, data.dtype)


def _resegment(op: Any, values: Tensor) -> Tensor:
    """The same segment sum as ``op`` (sorted or not) applied to ``values``."""
    if len(op.inputs) == 3:
        return unsorted_segment_sum(values, op.inputs[1], op.inputs[2])
    return segment_sum(values, op.inputs[1])


def _sum_grad(op: Any, g: Tensor) -> list[Any]:
    return [_gather_rows(g, op.inputs[1], len(op.inputs) == 3), None] + [None] * (len(op.inputs) - 2)


def _mean_grad(op: Any, g: Tensor) -> list[Any]:
    data, ids = op.inputs[0], op.inputs[1]
    counts = _resegment(op, _ones_per_id(data, ids))
    return [_gather_rows(g / math_ops.maximum(counts, 1), ids, False), None]


def _min_or_max_grad(op: Any, g: Tensor) -> list[Any]:
    data, ids = op.inputs[0], op.inputs[1]
    unsorted = len(op.inputs) == 3
    is_selected = math_ops.equal(data, _gather_rows(op.outputs[0], ids, unsorted))
    if unsorted:
        is_selected = math_ops.logical_and(is_selected, _id_is_valid(ids, data))
    num_selected = _resegment(op, math_ops.cast(is_selected, g.dtype))
    # The segment's gradient is split evenly among its tied extrema (empty segments: 0 / 0, unused).
    gathered = _gather_rows(math_ops.div_no_nan(g, num_selected), ids, unsorted)
    return [math_ops.where(is_selected, gathered, array_ops.zeros_like(gathered)), None] + [None] * (len(op.inputs) - 2)


def _prod_grad(op: Any, g: Tensor) -> list[Any]:
    data, ids = op.inputs[0], op.inputs[1]
    unsorted = len(op.inputs) == 3
    is_zero = math_ops.equal(data, 0)
    num_zeros = _resegment(op, math_ops.cast(is_zero, data.dtype))
    # Two or more zeros: every partial derivative of the segment's product is 0.
    g = math_ops.where(num_zeros > 1, array_ops.zeros_like(g), g)
    non_zero = math_ops.where(is_zero, array_ops.ones_like(data), data)
    if unsorted:
        non_zero_prod = unsorted_segment_prod(non_zero, ids, op.inputs[2])
    else:
        non_zero_prod = segment_prod(non_zero, ids)
    gathered_prod = _gather_rows(op.outputs[0], ids, unsorted)
    partial = math_ops.where(is_zero, _gather_rows(non_zero_prod, ids, unsorted), gathered_prod / non_zero)
    return [_gather_rows(g, ids, unsorted) * partial, None] + [None] * (len(op.inputs) - 2)


_GRADS = {"sum": _sum_grad, "mean": _mean_grad, "max": _min_or_max_grad, "min": _min_or_max_grad, "prod": _prod_grad}
_LINEAR = {"sum", "mean"}
_SEGMENTS_ON_HOST = "segment ids are read and checked on the host and reduced with NumPy's ufunc.at scatter"

for _kind in ("sum", "mean", "max", "min", "prod"):
    _name = "Segment" + _kind.capitalize()
    register_op(
        _name,
        _sorted_kernel(_kind),
        _sorted_infer(_name),
        _GRADS[_kind],
        jvp=linear if _kind in _LINEAR else None,
        fresh_output=True,
        explain="segment_" + _kind,
        numpy_only=_SEGMENTS_ON_HOST,
    )
for _kind in ("sum", "max", "min", "prod"):
    _name = "UnsortedSegment" + _kind.capitalize()
    register_op(
        _name,
        _unsorted_kernel(_kind),
        _unsorted_infer(_name),
        _GRADS[_kind],
        jvp=linear if _kind in _LINEAR else None,
        fresh_output=True,
        explain="unsorted_segment_" + _kind,
        numpy_only=_SEGMENTS_ON_HOST,
    )


def _sorted(op_type: str, data: Any, segment_ids: Any, name: str | None) -> Tensor:
    return apply(op_type, convert_to_tensor(data), convert_to_tensor(segment_ids), name=name)


def _unsorted(op_type: str, data: Any, segment_ids: Any, num_segments: Any, name: str | None) -> Tensor:
    num = convert_to_tensor(num_segments)
    return apply(op_type, convert_to_tensor(data), convert_to_tensor(segment_ids), num, name=name)


_SORTED_DOC = """

    Parameters
    ----------
    data : a numeric tensor of rank >= 1.
    segment_ids : a 1-D int32/int64 tensor of ``data.shape[0]`` non-decreasing, non-negative ids
        (an InvalidArgumentError when run otherwise).
    name : name of the op.

    Returns
    -------
    A tensor of shape ``[max(segment_ids) + 1] + data.shape[1:]``.
"""
_UNSORTED_DOC = """

    Parameters
    ----------
    data : a numeric tensor.
    segment_ids : an int32/int64 tensor whose shape is a prefix of ``data``'s; negative ids are
        dropped, ids ``>= num_segments`` are an InvalidArgumentError when run.
    num_segments : an integer scalar: the number of output rows.
    name : name of the op.

    Returns
    -------
    A tensor of shape ``[num_segments] + data.shape[segment_ids.ndim:]``.
"""


def segment_sum(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _sorted("SegmentSum", data, segment_ids, name)


def segment_mean(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _sorted("SegmentMean", data, segment_ids, name)


def segment_max(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _sorted("SegmentMax", data, segment_ids, name)


def segment_min(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _sorted("SegmentMin", data, segment_ids, name)


def segment_prod(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _sorted("SegmentProd", data, segment_ids, name)


def unsorted_segment_sum(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted("UnsortedSegmentSum", data, segment_ids, num_segments, name)


def unsorted_segment_max(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted("UnsortedSegmentMax", data, segment_ids, num_segments, name)


def unsorted_segment_min(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted("UnsortedSegmentMin", data, segment_ids, num_segments, name)


def unsorted_segment_prod(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted("UnsortedSegmentProd", data, segment_ids, num_segments, name)


def unsorted_segment_mean(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    """Mean of each segment: a composite, the sum divided by the count (at least 1), as TensorFlow."""
    d, ids = convert_to_tensor(data), convert_to_tensor(segment_ids)
    counts = unsorted_segment_sum(_ones_per_id(d, ids), ids, num_segments)
    total = unsorted_segment_sum(d, ids, num_segments)
    return math_ops.divide(total, math_ops.maximum(counts, 1), name=name)


for _fn, _what, _doc in [
    (segment_sum, "Sum", _SORTED_DOC),
    (segment_mean, "Mean (integer means truncate toward zero)", _SORTED_DOC),
    (segment_max, "Maximum (0 for an empty segment; the gradient is split among tied maxima)", _SORTED_DOC),
    (segment_min, "Minimum (0 for an empty segment; the gradient is split among tied minima)", _SORTED_DOC),
    (segment_prod, "Product (1 for an empty segment)", _SORTED_DOC),
    (unsorted_segment_sum, "Sum", _UNSORTED_DOC),
    (unsorted_segment_max, "Maximum (the dtype's lowest finite value for an empty segment)", _UNSORTED_DOC),
    (unsorted_segment_min, "Minimum (the dtype's highest finite value for an empty segment)", _UNSORTED_DOC),
    (unsorted_segment_prod, "Product (1 for an empty segment)", _UNSORTED_DOC),
]:
    _fn.__doc__ = f"{_what} of each segment of ``data``." + _doc
unsorted_segment_mean.__doc__ = (unsorted_segment_mean.__doc__ or "") + _UNSORTED_DOC
