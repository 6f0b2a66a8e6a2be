"""Reductions over axes: sum, mean, max, min, prod, logsumexp, argmax, argmin.

The gradient of a reduction re-inserts the reduced axes (as size 1) and
broadcasts back to the input's shape with ``broadcast_to``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import array_ops, math_ops
from chainrule.ops.broadcast_ops import broadcast_to
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import apply, register_op
from chainrule.ops.shape_rules import NUMERIC, check_kind


def _axes_tuple(axis: Any, rank: int | None) -> tuple[int, ...] | None:
    """Normalized reduction axes; None means all axes."""
    if axis is None:
        return None
    axes = [int(a) for a in np.ravel(axis)]
    if rank is not None:
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"axis {a} is out of bounds for a tensor of rank {rank}")
        axes = [a % rank for a in axes]
        if len(set(axes)) != len(axes):
            raise ValueError(f"duplicate axes in {axis}")
    return tuple(sorted(axes))


def _reduced_shape(shape: TensorShape, axes: tuple[int, ...] | None, keepdims: bool) -> TensorShape:
    if shape.dims is None:
        return TensorShape(None)
    rank = len(shape.dims)
    axes_set = set(range(rank)) if axes is None else {a % rank for a in axes}
    if keepdims:
        return TensorShape(1 if i in axes_set else d for i, d in enumerate(shape.dims))
    return TensorShape(d for i, d in enumerate(shape.dims) if i not in axes_set)


def _reduce_infer(kinds: str = NUMERIC, out_dtype: Any = None):
    def infer(inputs: list[Tensor], axis: Any, keepdims: bool) -> list[Any]:
        (x,) = inputs
        check_kind("op", x, kinds)
        _axes_tuple(axis, x.shape.rank)
        return [(out_dtype or x.dtype, _reduced_shape(x.shape, axis, keepdims))]

    return infer


def _kept_dims_shape(op: Any) -> list[int] | Tensor:
    """The output shape with reduced axes kept as 1 (for broadcasting gradients back)."""
    x = op.inputs[0]
    axis = op.get_attr("axis")
    if x.shape.rank is not None:
        rank = x.shape.rank
        axes = set(range(rank)) if axis is None else {a % rank for a in axis}
        if x.shape.is_fully_defined():
            return [1 if i in axes else d for i, d in enumerate(x.shape.as_list())]
    full = array_ops.shape(x)
    if axis is None:
        return array_ops.ones_like(full)
    return apply("KeepDimsShape", full, axis=axis)


register_op(
    "KeepDimsShape",
    lambda xp, shape, axis: np.array([1 if i in {a % len(shape) for a in axis} else d for i, d in enumerate(shape)], dtype=shape.dtype),
    lambda inputs, axis: [(inputs[0].dtype, inputs[0].shape)],
    None,
)


def _grad_to_input(op: Any, g: Tensor) -> Tensor:
    """Broadcast the gradient of a reduction back to the input's shape."""
    x = op.inputs[0]
    if not op.get_attr("keepdims"):
        g = array_ops.reshape(g, _kept_dims_shape(op))
    target = x.shape.as_list() if x.shape.is_fully_defined() else array_ops.shape(x)
    return broadcast_to(g, target)


def _reduction(op_type: str, np_fn: Any, grad: Any, kinds: str = NUMERIC, doc: str = "") -> Any:
    register_op(op_type, lambda xp, x, axis, keepdims: np_fn(xp, x, axis, keepdims), _reduce_infer(kinds), grad)

    def fn(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
        x = convert_to_tensor(input_tensor)
        try:
            axes = _axes_tuple(axis, x.shape.rank)
        except ValueError:
            axes = tuple(int(a) for a in np.ravel(axis))  # let apply_op report it with the op's context
        return apply(op_type, x, name=name, axis=axes, keepdims=bool(keepdims))

    fn.__doc__ = doc
    return fn


def _max_min_grad(op: Any, g: Tensor) -> list[Tensor]:
    """Split the gradient evenly among the elements that attain the extremum (ties share)."""
    x, y = op.inputs[0], op.outputs[0]
    if not op.get_attr("keepdims"):
        y = array_ops.reshape(y, _kept_dims_shape(op))
    is_extremum = math_ops.cast(math_ops.equal(x, y), x.dtype)
    count = reduce_sum(is_extremum, axis=op.get_attr("axis"), keepdims=op.get_attr("keepdims"))
    return [_grad_to_input(op, g / count) * is_extremum]


def _prod_grad(op: Any, g: Tensor) -> list[Tensor]:
    # prod / x fails at zeros, so use the product of all the *other* elements: exclusive
    # cumulative products from the left times those from the right (TensorFlow's method).
    x = op.inputs[0]
    axis = op.get_attr("axis")
    rank = x.shape.rank
    if rank is None:
        raise ValueError(f"the gradient of {op.name} needs the input's rank to be known")
    from chainrule.ops.array_ops import transpose

    axes = list(range(rank)) if axis is None else list(axis)
    perm = [i for i in range(rank) if i not in axes] + axes
    xt = transpose(x, perm)
    kept = rank - len(axes)
    flat = array_ops.reshape(xt, _shape_prefix(xt, kept) + [-1])
    others = cumprod(flat, axis=-1, exclusive=True) * cumprod(flat, axis=-1, exclusive=True, reverse=True)
    dx = transpose(array_ops.reshape(others, array_ops.shape(xt)), [int(i) for i in np.argsort(perm)])
    return [_grad_to_input(op, g) * dx]


def _shape_prefix(t: Tensor, n: int) -> list[Any]:
    dims = t.shape.as_list()[:n]
    if all(d is not None for d in dims):
        return dims
    dynamic = array_ops.shape(t)
    return [d if d is not None else dynamic[i] for i, d in enumerate(dims)]


def _cumulative(np_fn: Any) -> Any:
    def kernel(xp: Any, x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
        if reverse:
            x = xp.flip(x, axis)
        out = np_fn(xp, x, axis)
        if exclusive:
            identity = xp.zeros_like if np_fn is _np_cumsum else xp.ones_like
            head = identity(xp.take(x, [0], axis=axis)) if x.shape[axis] else xp.take(x, [], axis=axis)
            out = xp.concatenate([head, xp.take(out, range(x.shape[axis] - 1), axis=axis)], axis=axis)
        return xp.flip(out, axis) if reverse else out

    return kernel


def _np_cumsum(xp: Any, x: Any, axis: int) -> Any:
    return xp.cumsum(x, axis=axis)


def _np_cumprod(xp: Any, x: Any, axis: int) -> Any:
    return xp.cumprod(x, axis=axis)


def _cum_infer(inputs: list[Tensor], axis: int, exclusive: bool, reverse: bool) -> list[Any]:
    (x,) = inputs
    check_kind("op", x, NUMERIC)
    if x.shape.rank is not None and not -x.shape.rank <= axis < x.shape.rank:
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {x.shape.rank}")
    return [(x.dtype, x.shape)]


register_op(
    "Cumsum",
    _cumulative(_np_cumsum),
    _cum_infer,
    lambda op, g: [cumsum(g, op.get_attr("axis"), op.get_attr("exclusive"), not op.get_attr("reverse"))],
)


def _cumprod_grad(op: Any, g: Tensor) -> list[Tensor]:
    # TensorFlow's rule: exact where x != 0 (it divides by x); at zeros use reduce_prod's gradient.
    x, y = op.inputs[0], op.outputs[0]
    a = op.get_attr
    return [cumsum(y * g, a("axis"), a("exclusive"), not a("reverse")) / x]


register_op("Cumprod", _cumulative(_np_cumprod), _cum_infer, _cumprod_grad)


def cumsum(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None) -> Tensor:
    """Cumulative sum along ``axis``; ``exclusive`` starts from 0, ``reverse`` runs from the end."""
    return apply("Cumsum", convert_to_tensor(x), name=name, axis=int(axis), exclusive=bool(exclusive), reverse=bool(reverse))


def cumprod(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None) -> Tensor:
    """Cumulative product along ``axis``; its gradient divides by ``x`` (inexact at zeros)."""
    return apply("Cumprod", convert_to_tensor(x), name=name, axis=int(axis), exclusive=bool(exclusive), reverse=bool(reverse))


reduce_sum = _reduction(
    "Sum",
    lambda xp, x, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims),
    lambda op, g: [_grad_to_input(op, g)],
    doc="Sum of elements over ``axis`` (all axes when None).",
)
reduce_max = _reduction(
    "Max",
    lambda xp, x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
    _max_min_grad,
    doc="Maximum over ``axis``; the gradient is split evenly among tied maxima.",
)
reduce_min = _reduction(
    "Min",
    lambda xp, x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
    _max_min_grad,
    doc="Minimum over ``axis``; the gradient is split evenly among tied minima.",
)
reduce_prod = _reduction(
    "Prod",
    lambda xp, x, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims),
    _prod_grad,
    doc="Product over ``axis``; the gradient is exact even where elements are zero.",
)


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """Mean over ``axis`` (composite: sum divided by the count; integer inputs use integer division)."""
    x = convert_to_tensor(input_tensor)
    total = reduce_sum(x, axis=axis, keepdims=keepdims)
    count = math_ops.cast(array_ops.size(x), x.dtype) / math_ops.cast(array_ops.size(total), x.dtype)
    if x.dtype.is_integer:
        return math_ops.floordiv(total, count, name=name)
    return math_ops.divide(total, count, name=name)


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, shifted by the (gradient-stopped) max so it never overflows."""
    x = convert_to_tensor(input_tensor)
    shift = array_ops.stop_gradient(reduce_max(x, axis=axis, keepdims=True))
    # An all -inf slice has max -inf; shift by 0 there so the result is -inf, not nan.
    shift = math_ops.where(math_ops.equal(shift, -np.inf), array_ops.zeros_like(shift), shift)
    out = math_ops.log(reduce_sum(math_ops.exp(x - shift), axis=axis, keepdims=True)) + shift
    if not keepdims:
        out = array_ops.reshape(out, _reduced_static_or_dynamic(x, axis))
    return array_ops.identity(out, name=name)


def _reduced_static_or_dynamic(x: Tensor, axis: Any) -> Any:
    axes = _axes_tuple(axis, x.shape.rank)
    shape = _reduced_shape(x.shape, axes, keepdims=False)
    if shape.is_fully_defined():
        return shape.as_list()
    return apply("ReducedShape", array_ops.shape(x), axis=axes)


register_op(
    "ReducedShape",
    lambda xp, shape, axis: np.array(
        [] if axis is None else [d for i, d in enumerate(shape) if i not in {a % len(shape) for a in axis}], dtype=shape.dtype
    ),
    lambda inputs, axis: [(inputs[0].dtype, TensorShape([None]))],
    None,
)


def _arg_infer(inputs: list[Tensor], axis: int, output_type: Any) -> list[Any]:
    (x,) = inputs
    check_kind("op", x, NUMERIC)
    rank = x.shape.rank
    if rank is not None and not -rank <= axis < max(rank, 1):
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {rank}")
    return [(output_type, _reduced_shape(x.shape, (axis,), keepdims=False) if rank else TensorShape([]))]


register_op(
    "ArgMax",
    lambda xp, x, axis, output_type: xp.argmax(x, axis=axis).astype(output_type.as_numpy_dtype),
    _arg_infer,
    None,
)
register_op(
    "ArgMin",
    lambda xp, x, axis, output_type: xp.argmin(x, axis=axis).astype(output_type.as_numpy_dtype),
    _arg_infer,
    None,
)


def argmax(input: Any, axis: int = 0, output_type: Any = dtypes.int64, name: str | None = None) -> Tensor:  # noqa: A002
    """Index of the largest element along ``axis`` (the first one on ties)."""
    return apply("ArgMax", convert_to_tensor(input), name=name, axis=int(axis), output_type=dtypes.as_dtype(output_type))


def argmin(input: Any, axis: int = 0, output_type: Any = dtypes.int64, name: str | None = None) -> Tensor:  # noqa: A002
    """Index of the smallest element along ``axis`` (the first one on ties)."""
    return apply("ArgMin", convert_to_tensor(input), name=name, axis=int(axis), output_type=dtypes.as_dtype(output_type))
