"""Reductions over axes (sum, mean, max, min, prod, logsumexp, argmax, argmin) and cumulative sums/products.

The gradient of a reduction re-inserts the reduced axes (as size 1) and
broadcasts back to the input's shape with ``broadcast_to``. Axes are attributes
(Python ints known at graph-construction time), normalized to sorted
non-negative values when the input's rank is known, so equal reductions compare
equal. NumPy semantics at the edges: a sum over an empty axis is 0, a product 1,
a mean nan, and a max/min of an empty slice is an error at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.framework import dtypes, errors
from chainrule.framework.graph import Tensor, is_tensor_like
from chainrule.framework.source import composite_call, user_frame
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import array_ops, math_ops
from chainrule.ops.axes import axes_tuple, axis_attr, deprecated_alias, given_axes
from chainrule.ops.broadcast_ops import broadcast_to
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.jvp_forms import Tangent, linear
from chainrule.ops.native import (
    call,
    helper,
    index,
    loop_nest,
    lower_reduction,
    np_type,
    reduction_axes,
    reduction_source,
    static_dims,
)
from chainrule.ops.registry import apply, describe_inputs, name_op_functions, register_op
from chainrule.ops.shape_rules import BOOL, FLOAT, NUMERIC, NUMERIC_OR_COMPLEX, check_kind, known_dims

__all__ = [
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_prod",
    "reduce_logsumexp",
    "argmax",
    "argmin",
    "cumsum",
    "cumprod",
    "reduce_all",
    "reduce_any",
    "count_nonzero",
    "arg_max",
    "arg_min",
]


def _reduced_shape(shape: TensorShape, axes: tuple[int, ...] | None, keepdims: bool) -> TensorShape:
    if shape.dims is None:
        # Reducing every axis of a tensor of unknown rank still gives a scalar.
        return TensorShape([]) if axes is None and not keepdims else TensorShape(None)
    rank = len(shape.dims)
    axes_set = set(range(rank)) if axes is None else {a % rank for a in axes}
    if keepdims:
        return TensorShape(1 if i in axes_set else d for i, d in enumerate(shape.dims))
    return TensorShape(d for i, d in enumerate(shape.dims) if i not in axes_set)


def _reduce_infer(op_type: str, kinds: str = NUMERIC):
    def infer(inputs: list[Tensor], axis: Any, keepdims: bool) -> list[Any]:
        (x,) = inputs
        check_kind(op_type, x, kinds)
        axes = axes_tuple(axis, x.shape.rank)
        return [(x.dtype, _reduced_shape(x.shape, axes, keepdims))]

    return infer


def _checked_axes(fn_name: str, x: Tensor, axis: Any, kinds: str = NUMERIC) -> tuple[int, ...] | None:
    """Validate a composite reduction's input and axes, raising errors that name it (as ``apply_op`` does)."""
    try:
        check_kind(fn_name, x, kinds)
        return axes_tuple(axis_attr(axis, x.shape.rank), x.shape.rank)
    except (TypeError, ValueError) as e:
        where = user_frame(2)
        cls = errors.InvalidDTypeError if isinstance(e, TypeError) else errors.InvalidArgumentError
        msg = f"{fn_name}: {e}\n  inputs: {describe_inputs([x])}" + (f"\n  created at {where}" if where else "")
        raise cls(None, None, msg) from None


# --- the way back: broadcast a reduced gradient to the input's shape ------------------------
def kept_dims_shape(op: Any) -> list[int] | Tensor:
    """The output shape with reduced axes kept as 1 (for broadcasting gradients back)."""
    x = op.inputs[0]
    axis = op.get_attr("axis")
    dims = known_dims(x.shape)
    if dims is not None:
        axes = axes_tuple(axis, len(dims))
        reduced = set(range(len(dims))) if axes is None else set(axes)
        return [1 if i in reduced else d for i, d in enumerate(dims)]
    full = array_ops.shape(x)
    if axis is None:
        return array_ops.ones_like(full)
    return apply("KeepDimsShape", full, axis=axis)


# The shape with the reduced axes set to 1, at run time (for inputs whose dims are not all known).
register_op(
    "KeepDimsShape",
    lambda xp, shape, axis: np.array(
        [1 if i in {a % len(shape) for a in axis} else d for i, d in enumerate(shape)], dtype=shape.dtype
    ),
    lambda inputs, axis: [(inputs[0].dtype, inputs[0].shape)],
    None,
)


def _grad_to_input(op: Any, g: Tensor) -> Tensor:
    """Broadcast the gradient of a reduction back to the input's shape."""
    x = op.inputs[0]
    if not op.get_attr("keepdims"):
        g = array_ops.reshape(g, kept_dims_shape(op))
    target = x.shape.as_list() if x.shape.is_fully_defined() else array_ops.shape(x)
    return broadcast_to(g, target)


def _public_reduction(public_name: str, body: Callable[[Tensor, Any, bool, str | None], Tensor], doc: str) -> Any:
    """A public reduction with TensorFlow 1.x's signature: ``body(x, axis, keepdims, name)`` does the work.

    The signature (with the deprecated ``reduction_indices`` / ``keep_dims`` spellings) is written once
    here for every reduction, primitive or composite.
    """

    def fn(
        input_tensor: Any,
        axis: Any = None,
        keepdims: bool | None = None,
        name: str | None = None,
        reduction_indices: Any = None,
        keep_dims: bool | None = None,
    ) -> Tensor:
        x = convert_to_tensor(input_tensor)
        axis = deprecated_alias(axis, reduction_indices, "axis", "reduction_indices")
        keepdims = bool(deprecated_alias(keepdims, keep_dims, "keepdims", "keep_dims"))
        return body(x, axis, keepdims, name)

    fn.__doc__ = doc
    fn.__name__ = fn.__qualname__ = public_name
    return fn


def _explain_reduction(name: str) -> Callable[..., Any]:
    def rule(b: Any, op: Any, args: list[Any]) -> Any:
        axis = op.get_attr("axis")
        kwargs: dict[str, Any] = {}
        if axis is not None:
            kwargs["axis"] = axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis
        if op.get_attr("keepdims"):
            kwargs["keepdims"] = True
        return b.func(name, args[0], **kwargs)

    return rule


def _sum_emit(em: Any, node: Any, args: list[str], out: str | None) -> str | None:
    """``np.sum`` as a short einsum (``Options(fast_reductions=True)``), else None (the kernel)."""
    x = node.inputs[0]
    rank = x.shape.rank
    if rank is None:
        return None
    axis = node.attrs.get("axis")
    axes = tuple(range(rank)) if axis is None else tuple(a % rank for a in axis) if rank else ()
    fast = em.fast_sum(x, axes, args[0])
    if fast is None or not node.attrs.get("keepdims"):
        return fast
    if node.out.shape.is_fully_defined():
        return f"{fast}.reshape({em.constant(tuple(node.out.shape.dims))})"
    return None


def _reduction(
    op_type: str,
    public_name: str,
    np_fn: Any,
    grad: Any,
    doc: str,
    emit: Any = None,
    jvp: Any = None,
    kinds: str = NUMERIC,
    lower: Any = None,
) -> Any:
    register_op(
        op_type,
        lambda xp, x, axis, keepdims: np_fn(xp, x, axis, keepdims),
        _reduce_infer(op_type, kinds),
        grad,
        jvp=jvp,
        emit=emit,
        fresh_output=True,
        explain=_explain_reduction(public_name.removeprefix("reduce_")),
        lower=lower,
    )
    return _public_reduction(
        public_name,
        lambda x, axis, keepdims, name: apply(
            op_type, x, name=name, axis=axis_attr(axis, x.shape.rank), keepdims=keepdims
        ),
        doc,
    )


_REDUCE_DOC = """

    Parameters
    ----------
    input_tensor : the tensor to reduce.
    axis : int, list of ints, or None (all axes); negative values count from the end.
    keepdims : keep the reduced axes with size 1.
    name : name of the op.
    reduction_indices, keep_dims : TensorFlow 1.x's deprecated spellings of ``axis`` and ``keepdims``.
"""


# --- sum ----------------------------------------------------------------------------------------
reduce_sum = _reduction(
    "Sum",
    "reduce_sum",
    lambda xp, x, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype),
    lambda op, g: [_grad_to_input(op, g)],
    doc="Sum of elements over ``axis`` (0 over an empty axis)." + _REDUCE_DOC,
    emit=_sum_emit,
    jvp=linear,
    kinds=NUMERIC_OR_COMPLEX,
    lower={"numba": lower_reduction("sum")},
)


# --- max, min: the gradient is split evenly among the elements that attain the extremum --------
def _max_min_grad(op: Any, g: Tensor) -> list[Tensor]:
    x, y = op.inputs[0], op.outputs[0]
    if not op.get_attr("keepdims"):
        y = array_ops.reshape(y, kept_dims_shape(op))
    is_extremum = math_ops.cast(math_ops.equal(x, y), x.dtype)
    count = reduce_sum(is_extremum, axis=op.get_attr("axis"), keepdims=op.get_attr("keepdims"))
    return [_grad_to_input(op, g / count) * is_extremum]


def _max_min_jvp(op: Any, t: Tangent) -> list[Tangent]:
    # The gradient's convention: tied extrema share the derivative evenly.
    x, y = op.inputs[0], op.outputs[0]
    axis, keepdims = op.get_attr("axis"), op.get_attr("keepdims")
    if not keepdims:
        y = array_ops.reshape(y, kept_dims_shape(op))
    is_extremum = math_ops.cast(math_ops.equal(x, y), x.dtype)
    total = reduce_sum(t * is_extremum, axis=axis, keepdims=keepdims)
    return [total / reduce_sum(is_extremum, axis=axis, keepdims=keepdims)]


reduce_max = _reduction(
    "Max",
    "reduce_max",
    lambda xp, x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
    _max_min_grad,
    doc="Maximum over ``axis``; the gradient is split evenly among tied maxima.\n\n"
    "    A maximum over an empty axis raises InvalidArgumentError when run (as NumPy)." + _REDUCE_DOC,
    jvp=_max_min_jvp,
    lower={"numba": lower_reduction("max")},
)
reduce_min = _reduction(
    "Min",
    "reduce_min",
    lambda xp, x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
    _max_min_grad,
    doc="Minimum over ``axis``; the gradient is split evenly among tied minima.\n\n"
    "    A minimum over an empty axis raises InvalidArgumentError when run (as NumPy)." + _REDUCE_DOC,
    jvp=_max_min_jvp,
    lower={"numba": lower_reduction("min")},
)


# --- prod ---------------------------------------------------------------------------------------
def _prod_grad(op: Any, g: Tensor) -> list[Tensor]:
    # prod / x fails at zeros, so use the product of all the *other* elements: the exclusive
    # cumulative products from the left times those from the right, over the reduced axes
    # moved to the end and flattened into one (TensorFlow's method). Exact at zeros, and so is
    # the second order, because Cumprod's own gradient is.
    x = op.inputs[0]
    rank = x.shape.rank
    if rank is None:
        raise ValueError(f"the gradient of {op.name} needs the rank of its input to be known")
    axis = op.get_attr("axis")
    axes = list(range(rank)) if axis is None else list(given_axes(axis, rank))
    perm = [i for i in range(rank) if i not in axes] + axes
    identity_perm = perm == list(range(rank))
    xt = x if identity_perm else array_ops.transpose(x, perm)
    kept = rank - len(axes)
    dims = xt.shape.as_list()
    static = known_dims(xt.shape)
    if static is not None:
        flat_shape: list[Any] = static[:kept] + [int(np.prod(static[kept:], dtype=np.int64))]
        xt_shape: Any = static
    else:
        xt_shape = array_ops.shape(xt)
        flat_shape = [d if d is not None else xt_shape[i] for i, d in enumerate(dims[:kept])]
        flat_shape.append(reduce_prod(xt_shape[kept:]))
    flat = array_ops.reshape(xt, flat_shape)
    others = cumprod(flat, axis=-1, exclusive=True) * cumprod(flat, axis=-1, exclusive=True, reverse=True)
    dx = array_ops.reshape(others, xt_shape)
    if not identity_perm:
        dx = array_ops.transpose(dx, [int(i) for i in np.argsort(perm)])
    return [_grad_to_input(op, g) * dx]


reduce_prod = _reduction(
    "Prod",
    "reduce_prod",
    lambda xp, x, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype),
    _prod_grad,
    doc="Product over ``axis`` (1 over an empty axis); the gradient is exact at zeros." + _REDUCE_DOC,
    lower={"numba": lower_reduction("prod")},
)


# --- mean (composite: sum / count) ------------------------------------------------------------
@composite_call("reduce_mean")
def _mean(x: Tensor, axis: Any, keepdims: bool, name: str | None) -> Tensor:
    axes = _checked_axes("reduce_mean", x, axis, NUMERIC_OR_COMPLEX)
    total = reduce_sum(x, axis=axes, keepdims=keepdims)
    dims = x.shape.dims
    reduced: list[int] | None = None
    if dims is not None:
        reduced = known_dims(TensorShape([dims[a] for a in (range(len(dims)) if axes is None else axes)]))
    if reduced is not None:
        count: Any = int(np.prod(reduced, dtype=np.int64))
        count = max(count, 1) if x.dtype.is_integer else count
    else:
        # size(x) / size(total); the guard only matters when total is empty, and then so is the mean.
        count = math_ops.floordiv(array_ops.size(x), math_ops.maximum(array_ops.size(total), 1))
        count = math_ops.cast(math_ops.maximum(count, 1) if x.dtype.is_integer else count, x.dtype)
    if x.dtype.is_integer:
        # Truncating division (TensorFlow's integer mean): floor division of |total|, sign put back.
        return math_ops.multiply(math_ops.sign(total), math_ops.floordiv(math_ops.abs(total), count), name=name)
    return math_ops.divide(total, count, name=name)


reduce_mean = _public_reduction(
    "reduce_mean",
    _mean,
    doc="Mean over ``axis``: a composite, the sum divided by the number of reduced elements.\n\n"
    "    Integer inputs give an integer mean, truncated toward zero as TensorFlow's (and 0 for an\n"
    "    empty slice, where there is no nan to return); a floating mean over an empty axis is nan." + _REDUCE_DOC,
)


# --- logsumexp (composite, shifted by the max) --------------------------------------------------
def _logsumexp_shift_kernel(xp: Any, x: Any, axis: Any) -> Any:
    shift = xp.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return xp.where(xp.isfinite(shift), shift, xp.zeros((), shift.dtype))


def _logsumexp_shift_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    dims, out = static_dims(node.inputs[0]), static_dims(node.out)
    if dims is None or out is None:
        return None
    axes = reduction_axes(node.attrs.get("axis"), len(dims))
    made = reduction_source("max", node.out.dtype, dims, axes, out, finite_or_zero=True)
    return None if made is None else call(lw, "lse_shift", *made, args[:1])


# The max over ``axis`` (kept as size 1), or 0 where it is not finite: all -inf, +inf, nan or an
# empty slice. Not differentiable: log(sum(exp(x - c))) + c has the same value for any c.
register_op(
    "LogSumExpShift",
    _logsumexp_shift_kernel,
    lambda inputs, axis: [
        (check_kind("LogSumExpShift", inputs[0], FLOAT), _reduced_shape(inputs[0].shape, axis, keepdims=True))
    ],
    None,
    lower={"numba": _logsumexp_shift_lower},
)


@composite_call("reduce_logsumexp")
def _logsumexp(x: Tensor, axis: Any, keepdims: bool, name: str | None) -> Tensor:
    axes = _checked_axes("reduce_logsumexp", x, axis, FLOAT)
    shift = apply("LogSumExpShift", x, axis=axes)
    total = reduce_sum(math_ops.exp(x - shift), axis=axes, keepdims=keepdims)
    # Summing the size-1 axes of the shift just drops them when keepdims is False.
    shift = shift if keepdims else reduce_sum(shift, axis=axes)
    return math_ops.add(math_ops.log(total), shift, name=name)


reduce_logsumexp = _public_reduction(
    "reduce_logsumexp",
    _logsumexp,
    doc="``log(sum(exp(x)))`` over ``axis``, shifted by the max so it neither overflows nor underflows.\n\n"
    "    A composite (its gradient, ``softmax(x) * g``, comes out of the pieces): an all ``-inf``\n"
    "    slice gives ``-inf`` and an empty slice ``-inf`` too." + _REDUCE_DOC,
)


# --- argmax, argmin -------------------------------------------------------------------------
def _arg_infer(op_type: str):
    def infer(inputs: list[Tensor], axis: Any, output_type: Any) -> list[Any]:
        (x,) = inputs
        check_kind(op_type, x, NUMERIC)
        if output_type not in (dtypes.int32, dtypes.int64):
            raise TypeError(f"output_type must be int32 or int64, got {output_type.name}")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"axis must be an int, got {axis!r}")
        rank = x.shape.rank
        if rank is not None and not -rank <= axis < rank:
            raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {rank}")
        return [(output_type, _reduced_shape(x.shape, (axis,), keepdims=False))]

    return infer


def _arg_lower(largest: bool) -> Any:
    """The index of the first extremum along the axis, row by row (a nan counts as the extremum, as NumPy)."""

    def rule(lw: Any, node: Any, args: list[str]) -> str | None:
        dims, out, dt = static_dims(node.inputs[0]), static_dims(node.out), np_type(node.out.dtype)
        axis = node.attrs.get("axis")
        if dims is None or out is None or dt is None or not isinstance(axis, int) or not dims:
            return None
        axis %= len(dims)
        if dims[axis] == 0 or node.inputs[0].dtype.is_complex:
            return None  # NumPy raises on an empty axis: the kernel gives that error
        v = [f"i{k}" for k in range(len(dims))]
        v[axis] = "j"
        others = [k for k in range(len(dims)) if k != axis]
        kept = [v[k] for k in others]
        first = index([("0" if k == axis else name) for k, name in enumerate(v)])
        cmp = ">" if largest else "<"
        row = [
            f"best = x{first}",
            "at = 0",
            f"for j in range(1, {dims[axis]}):",
            "    if best != best:",
            "        break",
            f"    if x{index(v)} {cmp} best or x{index(v)} != x{index(v)}:",
            f"        best = x{index(v)}",
            "        at = j",
            f"out{index(kept)} = at",
        ]
        body = [f"out = np.empty({out}, {dt})"]
        body += [line[4:] for line in loop_nest([dims[k] for k in others], kept, row)]
        result = "out" if out else "out[()]"
        return helper(lw, "argmax" if largest else "argmin", ["x"], [*body, f"return {result}"], args[:1])

    return rule


def _arg_op(op_type: str, np_fn: Any, doc: str) -> Any:
    register_op(
        op_type,
        lambda xp, x, axis, output_type: np_fn(xp, x, axis).astype(output_type.as_numpy_dtype),
        _arg_infer(op_type),
        None,
        lower={"numba": _arg_lower(op_type == "ArgMax")},
    )

    def fn(
        input: Any,  # noqa: A002 - TensorFlow's name
        axis: Any = None,
        name: str | None = None,
        dimension: Any = None,
        output_type: Any = dtypes.int64,
    ) -> Tensor:
        x = convert_to_tensor(input)
        axis = deprecated_alias(axis, dimension, "axis", "dimension")
        axis = 0 if axis is None else axis
        if is_tensor_like(axis):
            axis = axis_attr(axis, None)
            axis = axis[0] if len(axis) == 1 else axis
        elif isinstance(axis, np.integer):
            axis = int(axis)
        rank = x.shape.rank
        if rank and isinstance(axis, int) and not isinstance(axis, bool) and -rank <= axis < rank:
            axis %= rank
        return apply(op_type, x, name=name, axis=axis, output_type=dtypes.as_dtype(output_type))

    fn.__doc__ = doc
    return fn


_ARG_DOC = """

    Parameters
    ----------
    input : a numeric tensor of rank >= 1.
    axis : the axis to reduce (0 when None); ``dimension`` is its deprecated TF 1.x spelling.
    name : name of the op.
    output_type : int64 (the default, as TensorFlow) or int32.
"""
argmax = _arg_op(
    "ArgMax",
    lambda xp, x, axis: xp.argmax(x, axis=axis),
    "Index of the largest element along ``axis`` (the first one on ties)." + _ARG_DOC,
)
argmin = _arg_op(
    "ArgMin",
    lambda xp, x, axis: xp.argmin(x, axis=axis),
    "Index of the smallest element along ``axis`` (the first one on ties)." + _ARG_DOC,
)


# --- cumsum, cumprod --------------------------------------------------------------------------
def _cumulative(np_fn: Any, identity: int) -> Any:
    def kernel(xp: Any, x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
        if reverse:
            x = xp.flip(x, axis)
        out = np_fn(x, axis=axis, dtype=x.dtype)
        if exclusive:
            # Shift by one along the axis, starting from the identity (0 for sums, 1 for products).
            n = x.shape[axis]
            head_shape = list(x.shape)
            head_shape[axis] = min(n, 1)
            body = [slice(None)] * x.ndim
            body[axis] = slice(0, max(n - 1, 0))
            out = xp.concatenate([xp.full(head_shape, identity, dtype=x.dtype), out[tuple(body)]], axis=axis)
        return xp.flip(out, axis) if reverse else out

    return kernel


def _cum_infer(op_type: str):
    def infer(inputs: list[Tensor], axis: int, reverse: bool, exclusive: bool = False) -> list[Any]:
        (x,) = inputs
        check_kind(op_type, x, NUMERIC)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"axis must be an int, got {axis!r}")
        if x.shape.rank is not None and not -x.shape.rank <= axis < x.shape.rank:
            raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {x.shape.rank}")
        return [(x.dtype, x.shape)]

    return infer


def _cum_attrs(x: Tensor, axis: Any, exclusive: bool, reverse: bool) -> dict[str, Any]:
    if is_tensor_like(axis):
        (axis,) = axis_attr(axis, None) or (None,)
    elif isinstance(axis, np.integer):
        axis = int(axis)
    rank = x.shape.rank
    if rank and isinstance(axis, int) and not isinstance(axis, bool) and -rank <= axis < rank:
        axis %= rank
    return {"axis": axis, "exclusive": bool(exclusive), "reverse": bool(reverse)}


register_op(
    "Cumsum",
    _cumulative(np.cumsum, 0),
    _cum_infer("Cumsum"),
    lambda op, g: [cumsum(g, op.get_attr("axis"), op.get_attr("exclusive"), not op.get_attr("reverse"))],
    jvp=linear,
)


# Two helpers of Cumprod's gradient, exact everywhere (no division by x, so no nan at zeros).
# Shift: move one step along the axis, filling with 0: out[k] = x[k-1] (reverse: x[k+1]).
def _shift_kernel(xp: Any, x: Any, axis: int, reverse: bool) -> Any:
    out = xp.zeros_like(x)
    n = x.shape[axis]
    src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    src[axis], dst[axis] = (slice(1, n), slice(0, max(n - 1, 0))) if reverse else (slice(0, max(n - 1, 0)), slice(1, n))
    out[tuple(dst)] = x[tuple(src)]
    return out


register_op(
    "ShiftAlongAxis",
    _shift_kernel,
    _cum_infer("ShiftAlongAxis"),
    lambda op, g: [_shift(g, op.get_attr("axis"), not op.get_attr("reverse"))],
    jvp=linear,
)


def _shift(x: Tensor, axis: int, reverse: bool) -> Tensor:
    return apply("ShiftAlongAxis", x, axis=axis, reverse=reverse)


# LinearScan: the first-order linear recurrence
#   forward: r[k] = a[k] * r[k-1] + b[k]    (r[k] = sum_{m<=k} b[m] * prod_{m<j<=k} a[j])
#   reverse: r[k] = a[k+1] * r[k+1] + b[k]  (r[k] = sum_{m>=k} b[m] * prod_{k<j<=m} a[j])
# a[0] is never used. The reverse scan is the transpose of the forward one in b, so each is the
# other's gradient; d/da multiplies by the result shifted one step (a product of two scans).
def _linear_scan_kernel(xp: Any, a: Any, b: Any, axis: int, reverse: bool) -> Any:
    a_k, b_k = xp.moveaxis(a, axis, 0), xp.moveaxis(b, axis, 0)
    out = xp.empty_like(b_k)
    n = b_k.shape[0]
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i, k in enumerate(steps):
        if i == 0:
            out[k] = b_k[k]
        else:
            out[k] = (a_k[k + 1] * out[k + 1] if reverse else a_k[k] * out[k - 1]) + b_k[k]
    return xp.moveaxis(out, 0, axis)


def _linear_scan_infer(inputs: list[Tensor], axis: int, reverse: bool) -> list[Any]:
    a, b = inputs
    if a.dtype != b.dtype or not a.dtype.is_floating:
        raise TypeError(f"a and b must have the same floating dtype, got {a.dtype.name} and {b.dtype.name}")
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return [(b.dtype, a.shape.merge_with(b.shape))]


def _linear_scan_grad(op: Any, g: Tensor) -> list[Tensor]:
    a, r = op.inputs[0], op.outputs[0]
    axis, reverse = op.get_attr("axis"), op.get_attr("reverse")
    s = _linear_scan(a, g, axis, not reverse)
    da = s * _shift(r, axis, False) if not reverse else _shift(s, axis, False) * r
    return [da, s]


register_op("LinearScan", _linear_scan_kernel, _linear_scan_infer, _linear_scan_grad)


def _linear_scan(a: Tensor, b: Tensor, axis: int, reverse: bool) -> Tensor:
    return apply("LinearScan", a, b, axis=axis, reverse=reverse)


def _cumprod_grad(op: Any, g: Tensor) -> list[Tensor]:
    # d y[i] / d x[k] is the product of the other factors of y[i]: those before k (an exclusive
    # cumprod) times those between k and i, which a reverse LinearScan sums against g.
    # TensorFlow divides y by x instead, which is nan at zeros; this is exact at every order.
    x = op.inputs[0]
    axis, exclusive, reverse = op.get_attr("axis"), op.get_attr("exclusive"), op.get_attr("reverse")
    before = cumprod(x, axis, exclusive=True, reverse=reverse)
    a = _shift(x, axis, False) if reverse else x
    b = _shift(g, axis, not reverse) if exclusive else g
    return [before * _linear_scan(a, b, axis, not reverse)]


register_op("Cumprod", _cumulative(np.cumprod, 1), _cum_infer("Cumprod"), _cumprod_grad)


def cumsum(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None) -> Tensor:
    """Cumulative sum along ``axis``.

    ``exclusive`` starts from 0 (each element is the sum of those strictly before it);
    ``reverse`` runs from the end of the axis.
    """
    x = convert_to_tensor(x)
    return apply("Cumsum", x, name=name, **_cum_attrs(x, axis, exclusive, reverse))


def cumprod(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None) -> Tensor:
    """Cumulative product along ``axis`` (``exclusive`` starts from 1); its gradient is exact at zeros."""
    x = convert_to_tensor(x)
    return apply("Cumprod", x, name=name, **_cum_attrs(x, axis, exclusive, reverse))


# --- all, any (logical reductions of bool tensors; not differentiable) ------------------------
def _logical_reduction(op_type: str, public_name: str, np_name: str, doc: str) -> Any:
    register_op(
        op_type,
        lambda xp, x, axis, keepdims: getattr(xp, np_name)(x, axis=axis, keepdims=keepdims),
        _reduce_infer(op_type, BOOL),
        None,
        fresh_output=True,
        explain=_explain_reduction(np_name),
        lower={"numba": lower_reduction(np_name)},
    )
    return _public_reduction(
        public_name,
        lambda x, axis, keepdims, name: apply(
            op_type, x, name=name, axis=axis_attr(axis, x.shape.rank), keepdims=keepdims
        ),
        doc,
    )


reduce_all = _logical_reduction(
    "All", "reduce_all", "all", "Logical and of a bool tensor over ``axis`` (True over an empty axis)." + _REDUCE_DOC
)
reduce_any = _logical_reduction(
    "Any", "reduce_any", "any", "Logical or of a bool tensor over ``axis`` (False over an empty axis)." + _REDUCE_DOC
)


def count_nonzero(
    input_tensor: Any = None,
    axis: Any = None,
    keepdims: bool | None = None,
    dtype: Any = dtypes.int64,
    name: str | None = None,
    reduction_indices: Any = None,
    keep_dims: bool | None = None,
    input: Any = None,  # noqa: A002 - TensorFlow's name
) -> Tensor:
    """The number of non-zero elements over ``axis`` (a composite: the sum of ``x != 0`` cast to ``dtype``).

    Parameters
    ----------
    input_tensor : a numeric or bool tensor; ``input`` is TensorFlow's other spelling.
    axis, keepdims, reduction_indices, keep_dims : as ``reduce_sum``.
    dtype : the integer (or float) dtype of the count, int64 by default as TensorFlow.
    name : name of the op.
    """
    x = convert_to_tensor(deprecated_alias(input_tensor, input, "input_tensor", "input"))
    axis = deprecated_alias(axis, reduction_indices, "axis", "reduction_indices")
    keepdims = bool(deprecated_alias(keepdims, keep_dims, "keepdims", "keep_dims"))
    nonzero = math_ops.not_equal(x, False if x.dtype.is_bool else 0)
    return reduce_sum(math_ops.cast(nonzero, dtype), axis=axis, keepdims=keepdims, name=name)


def arg_max(
    input: Any,  # noqa: A002 - TensorFlow's name
    dimension: Any,
    output_type: Any = dtypes.int64,
    name: str | None = None,
) -> Tensor:
    """TensorFlow 1.x's ``tf.arg_max(input, dimension)``: ``argmax`` along ``dimension``."""
    return argmax(input, axis=dimension, name=name, output_type=output_type)


def arg_min(
    input: Any,  # noqa: A002 - TensorFlow's name
    dimension: Any,
    output_type: Any = dtypes.int64,
    name: str | None = None,
) -> Tensor:
    """TensorFlow 1.x's ``tf.arg_min(input, dimension)``: ``argmin`` along ``dimension``."""
    return argmin(input, axis=dimension, name=name, output_type=output_type)


name_op_functions(globals())
