"""Broadcasting and its transpose, un-broadcasting (``SumToShape``).

``SumToShape`` is what reverse mode inserts, in one place, to sum a gradient
back to the shape of an input that was broadcast.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import raw_ops
from chainrule.ops.constant_op import convert_to_tensor, shape_tensor
from chainrule.ops.jvp_forms import linear
from chainrule.ops.native import call, helper, np_type, reduction_source, static_dims
from chainrule.ops.registry import apply, constant_shape, register_op
from chainrule.ops.shape_rules import broadcast_shapes, shapes_may_match


def summed_axes(x_shape: Sequence[int], shape: Sequence[int]) -> tuple[int, ...]:
    """The axes of ``x_shape`` that un-broadcasting to ``shape`` sums over (added or stretched ones)."""
    lead = len(x_shape) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and x_shape[lead + i] != 1)


def sum_to_shape_kernel(xp: Any, x: Any, shape: Any) -> Any:
    shape = tuple(int(d) for d in shape)
    if x.shape == shape:
        return x
    axes = summed_axes(x.shape, shape)
    # dtype=x.dtype: NumPy would sum small ints and bools into int64, unlike the static dtype.
    out = xp.sum(x, axis=axes, keepdims=True, dtype=x.dtype) if axes else x
    return out.reshape(shape)


def _sum_to_shape_infer(inputs: list[Tensor]) -> list[Any]:
    x, shape = inputs
    if not (x.dtype.is_numeric or x.dtype.is_complex):
        raise TypeError(f"sum_to_shape sums its input: {x.dtype.name} is not a numeric dtype")
    target = constant_shape(shape)
    broadcast_shapes(x.shape, target)  # the target must broadcast to x
    if x.shape.rank is not None and target.rank is not None:
        lead = x.shape.rank - target.rank
        if lead < 0 or any(
            t not in (None, 1) and d is not None and t != d
            for t, d in zip(target.dims, x.shape.dims[lead:])  # type: ignore[arg-type,index]
        ):
            raise ValueError(f"cannot sum a tensor of shape {x.shape} to shape {target}: {target} must broadcast to it")
    return [(x.dtype, target)]


def _sum_to_shape_emit(em: Any, node: Any, args: list[str], out: str | None) -> str | None:
    target = em.constant_shape(node.inputs[1])
    if target is None:
        return None
    s = em.constant(target)
    x = node.inputs[0]
    if x.shape.is_fully_defined() and tuple(x.shape.dims) != target:
        fast = em.fast_sum(x, summed_axes(x.shape.dims, target), args[0])
        if fast is not None:
            return f"{fast}.reshape({s})"
    k = em.bind("k", functools.partial(sum_to_shape_kernel, np))
    return f"{args[0]} if {args[0]}.shape == {s} else {k}({args[0]}, {s})"


def _sum_to_shape_explain(b: Any, op: Any, args: list[Any]) -> Any:
    if shapes_may_match(op.inputs[0].shape, op.outputs[0].shape):
        return args[0]
    if op.outputs[0].shape.rank == 0:
        return b.func("sum", args[0])
    return b.opaque(op.type, args)


def _sum_to_shape_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """One pass over the input summing into the target shape (the reverse pass's un-broadcasting)."""
    dims, target = static_dims(node.inputs[0]), static_dims(node.out)
    if dims is None or target is None:
        return None
    if dims == target:
        return args[0]
    made = reduction_source("sum", node.out.dtype, dims, summed_axes(dims, target), target)
    return None if made is None else call(lw, "sum_to_shape", *made, args[:1])


register_op(
    "SumToShape",
    sum_to_shape_kernel,
    _sum_to_shape_infer,
    lambda op, g: [broadcast_to(g, raw_ops.shape(op.inputs[0])), None],
    emit=_sum_to_shape_emit,
    explain=_sum_to_shape_explain,
    jvp=linear,
    lower={"numba": _sum_to_shape_lower},
)


def sum_to_shape(x: Any, shape: Any, name: str | None = None) -> Tensor:
    """Sum ``x`` over the axes that broadcasting added or stretched, to get ``shape`` back."""
    return apply("SumToShape", convert_to_tensor(x), shape_tensor(shape), name=name)


def _broadcast_to_infer(inputs: list[Tensor]) -> list[Any]:
    x, shape = inputs
    target = constant_shape(shape)
    out = broadcast_shapes(x.shape, target)
    if target.rank is not None and x.shape.rank is not None and x.shape.rank > target.rank:
        raise ValueError(f"cannot broadcast a tensor of shape {x.shape} to the lower-rank shape {target}")
    if out.dims is not None and target.dims is not None:
        out = TensorShape(t if t is not None else o for t, o in zip(target.dims, out.dims))
    return [(x.dtype, out if out.dims is not None else target)]


def _broadcast_to_emit(em: Any, node: Any, args: list[str], out: str | None) -> str | None:
    target = em.constant_shape(node.inputs[1])
    return None if target is None else f"{em.ufunc('broadcast_to')}({args[0]}, {em.constant(target)})"


def _broadcast_to_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """A read-only view, as NumPy's (a scalar input: a filled array)."""
    x, target, dt = node.inputs[0], static_dims(node.out), np_type(node.out.dtype)
    if target is None or x.shape.rank is None or dt is None:
        return None
    if static_dims(x) == target:
        return args[0]
    if x.shape.rank == 0:
        return helper(lw, "broadcast_to", ["x"], [f"return np.full({target}, as_scalar(x), {dt})"], args[:1])
    return helper(lw, "broadcast_to", ["x"], [f"return np.broadcast_to(x, {target})"], args[:1])


register_op(
    "BroadcastTo",
    lambda xp, x, shape: xp.broadcast_to(x, tuple(int(d) for d in shape)),
    _broadcast_to_infer,
    lambda op, g: [sum_to_shape(g, raw_ops.shape(op.inputs[0])), None],
    emit=_broadcast_to_emit,
    explain=lambda b, op, a: a[0],
    jvp=linear,
    lower={"numba": _broadcast_to_lower},
)


def broadcast_to(x: Any, shape: Any, name: str | None = None) -> Tensor:
    """Broadcast ``x`` to ``shape`` with NumPy rules (a read-only view at run time)."""
    return apply("BroadcastTo", convert_to_tensor(x), shape_tensor(shape), name=name)
