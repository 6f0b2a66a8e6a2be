"""Array ops: shapes, reshaping, filling, packing, transposing, concatenating, splitting, padding.

Shapes and indices are int32 tensors, as in TensorFlow. The indexing ops (``getitem``, ``slice``,
``gather``, ``gather_nd``, ``scatter_nd``, ``one_hot``, ``sparse_to_dense``) live in ``indexing_ops``
and are re-exported here.
"""

from __future__ import annotations

import builtins
import itertools
from typing import Any, overload

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, is_tensor_like
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import raw_ops
from chainrule.ops.broadcast_ops import broadcast_to, sum_to_shape
from chainrule.ops.constant_op import _is_nested_with_tensors, constant, convert_n, convert_to_tensor, shape_tensor
from chainrule.ops.jvp_forms import linear
from chainrule.ops.native import helper, np_type, slice_text, static_dims
from chainrule.ops.registry import UNARY, apply, apply_op, constant_shape, constant_value, register_op
from chainrule.ops.shape_rules import common_dtype, known_dims, normalize_axis, shapes_may_match

__all__ = [
    "broadcast_to",
    "sum_to_shape",
    "shape",
    "size",
    "rank",
    "reshape",
    "identity",
    "stop_gradient",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "fill",
    "stack",
    "transpose",
    "expand_dims",
    "squeeze",
    "concat",
    "unstack",
    "split",
    "tile",
    "pad",
    "range",
    "reverse",
]


# --- shape queries (not differentiable: their values do not depend on the input's values) ----
def _explain_static(b: Any, op: Any, args: list[Any]) -> Any:
    """Shape/Size/Rank: the value when the input's static shape gives it, else ``Shape(x)``."""
    value = constant_value(op.outputs[0])
    if value is None:
        return b.opaque(op.type, args)
    value = np.asarray(value)
    return b.num(value.item()) if value.ndim == 0 else b.sym(np.array2string(value, separator=", "))


def _shape_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    dims, dt = static_dims(node.inputs[0]), np_type(node.out.dtype)
    if dims is None or dt is None:
        return None
    value = f"np.array({list(dims)}, {dt})" if dims else f"np.empty(0, {dt})"
    return helper(lw, "shape", ["x"], [f"return {value}"], args)


register_op(
    "Shape",
    # In the array module (not NumPy), so a GPU module's kernels can combine it with their arrays.
    lambda xp, x, out_type: xp.asarray(np.array(x.shape, dtype=out_type.as_numpy_dtype)),
    lambda inputs, out_type: [(out_type, TensorShape([inputs[0].shape.rank]))],
    None,
    explain=_explain_static,
    lower={"numba": _shape_lower},
)
register_op(
    "Size",
    lambda xp, x, out_type: xp.asarray(np.array(x.size, dtype=out_type.as_numpy_dtype)),
    lambda inputs, out_type: [(out_type, TensorShape([]))],
    None,
    explain=_explain_static,
)
register_op(
    "Rank",
    lambda xp, x: xp.asarray(np.array(x.ndim, dtype=np.int32)),
    lambda inputs: [(dtypes.int32, TensorShape([]))],
    None,
    explain=_explain_static,
)


def shape(input: Any, out_type: Any = dtypes.int32, name: str | None = None) -> Tensor:  # noqa: A002
    """The dynamic shape of ``input`` as a 1-D int tensor."""
    return apply("Shape", convert_to_tensor(input), name=name, out_type=dtypes.as_dtype(out_type))


def size(input: Any, out_type: Any = dtypes.int32, name: str | None = None) -> Tensor:  # noqa: A002
    """The number of elements of ``input`` as a scalar int tensor."""
    return apply("Size", convert_to_tensor(input), name=name, out_type=dtypes.as_dtype(out_type))


def rank(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The number of dimensions of ``input`` as a scalar int32 tensor."""
    return apply("Rank", convert_to_tensor(input), name=name)


# --- reshape ---------------------------------------------------------------------------------
def _reshape_infer(inputs: list[Tensor]) -> list[Any]:
    x, new_shape = inputs
    if not new_shape.dtype.is_integer:
        raise TypeError(f"shape must be an integer tensor, got {new_shape.dtype.name}")
    if new_shape.shape.rank is not None and new_shape.shape.rank != 1:  # TensorFlow's shape rule too
        raise ValueError(
            f"Shape must be rank 1 but is rank {new_shape.shape.rank}: the new shape is a 1-D list of sizes"
        )
    value = constant_value(new_shape)
    if value is None:
        return [(x.dtype, constant_shape(new_shape))]
    dims = [int(d) for d in np.ravel(value)]
    if dims.count(-1) > 1:
        raise ValueError(f"at most one dimension of the new shape may be -1, got {dims}")
    if any(d < -1 for d in dims):
        raise ValueError(f"invalid dimension in new shape {dims}")
    total = x.shape.num_elements()
    known = int(np.prod([d for d in dims if d != -1]))
    if -1 in dims:
        if total is None:
            return [(x.dtype, TensorShape([d if d != -1 else None for d in dims]))]
        if known == 0 or total % known:
            raise ValueError(f"cannot reshape a tensor of shape {x.shape} ({total} elements) into shape {dims}")
        dims = [total // known if d == -1 else d for d in dims]
    elif total is not None and total != known:
        raise ValueError(f"cannot reshape a tensor of shape {x.shape} ({total} elements) into shape {dims}")
    return [(x.dtype, TensorShape(dims))]


def _reshape_emit(em: Any, node: Any, args: list[str], out: str | None) -> str | None:
    new_shape = em.constant_shape(node.inputs[1])
    return None if new_shape is None else f"{em.ufunc('reshape')}({args[0]}, {em.constant(new_shape)})"


def _reshape_explain(b: Any, op: Any, args: list[Any]) -> Any:
    x, out = op.inputs[0].shape, op.outputs[0].shape
    if x.rank is not None and x.rank == out.rank and shapes_may_match(x, out):
        return args[0]
    return b.opaque(op.type, args)


def _reshape_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """A view of a C-contiguous input (Numba reshapes only those), else of a contiguous copy (as NumPy)."""
    x, out, dt = node.inputs[0], static_dims(node.out), np_type(node.out.dtype)
    rank = x.shape.rank
    if out is None or rank is None or dt is None:
        return None
    if rank == 0:
        return helper(lw, "reshape", ["x"], [f"return np.full({out}, as_scalar(x), {dt})"], args[:1])
    if not out:
        return helper(lw, "reshape", ["x"], [f"return x[{', '.join(['0'] * rank)}]"], args[:1])
    return helper(lw, "reshape", ["x"], [f"return np.ascontiguousarray(x).reshape({out})"], args[:1])


register_op(
    "Reshape",
    lambda xp, x, shape: xp.reshape(x, tuple(int(d) for d in shape)),
    _reshape_infer,
    lambda op, g: [reshape(g, shape(op.inputs[0])), None],
    emit=_reshape_emit,
    explain=_reshape_explain,
    jvp=linear,
    lower={"numba": _reshape_lower},
)


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """Give ``tensor`` a new shape with the same elements in row-major order; one dim may be -1."""
    return apply("Reshape", convert_to_tensor(tensor), shape_tensor(shape), name=name)


# --- identity, stop_gradient -----------------------------------------------------------------
def _same_value(em: Any, node: Any, args: list[str], out: str | None) -> str:
    return args[0]


for _type, _grad in (("Identity", lambda op, g: [g]), ("StopGradient", None)):
    register_op(
        _type,
        lambda xp, x: x,
        lambda inputs: [(inputs[0].dtype, inputs[0].shape)],
        _grad,
        elementwise=UNARY,
        emit=_same_value,
        explain=lambda b, op, a: a[0],
        lower={"numba": lambda lw, node, args: args[0]},
    )


def identity(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """A new tensor with the same value (useful for naming and control dependencies)."""
    return apply("Identity", convert_to_tensor(input), name=name)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The same value, but reverse mode treats it as a constant."""
    return apply("StopGradient", convert_to_tensor(input), name=name)


# --- fill, zeros, ones -----------------------------------------------------------------------
def _fill_infer(inputs: list[Tensor]) -> list[Any]:
    dims, value = inputs
    if not dims.dtype.is_integer:  # a float 2.5 would have been truncated to 2 (and inf overflowed)
        raise TypeError(f"dims must be an int32 or int64 tensor, got {dims.dtype.name}")
    if value.shape.rank not in (0, None):
        raise ValueError(f"value must be a scalar, got shape {value.shape}")
    if value.dtype == dtypes.string:
        raise TypeError(
            "filling a tensor with a string is not supported (string tensors only hold constants and feeds)"
        )
    return [(value.dtype, constant_shape(dims))]


def _fill_emit(em: Any, node: Any, args: list[str], out: str | None) -> str | None:
    dims = em.constant_shape(node.inputs[0])
    return None if dims is None else f"{em.ufunc('full')}({em.constant(dims)}, {args[1]}, dtype={args[1]}.dtype)"


def _fill_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    out, dt = static_dims(node.out), np_type(node.out.dtype)
    if out is None or dt is None:
        return None
    return helper(lw, "fill", ["value"], [f"return np.full({out}, as_scalar(value), {dt})"], args[1:2])


register_op(
    "Fill",
    lambda xp, dims, value: xp.full(tuple(int(d) for d in dims), value, dtype=value.dtype),
    _fill_infer,
    lambda op, g: [None, raw_ops.reduce_sum(g)],
    emit=_fill_emit,
    explain=lambda b, op, a: a[1],
    jvp=linear,
    lower={"numba": _fill_lower},
)


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape ``dims`` with every element ``value``."""
    return apply("Fill", shape_tensor(dims), convert_to_tensor(value), name=name)


def zeros(shape: Any, dtype: Any = dtypes.float32, name: str | None = None) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    return fill(shape, raw_ops.fill_value(0, dtype), name=name)


def ones(shape: Any, dtype: Any = dtypes.float32, name: str | None = None) -> Tensor:
    """A tensor of ones (float32 unless ``dtype`` says otherwise)."""
    return fill(shape, raw_ops.fill_value(1, dtype), name=name)


def zeros_like(tensor: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Zeros with the shape (and, by default, dtype) of ``tensor``."""
    return raw_ops.filled_like(convert_to_tensor(tensor), 0, dtype, name)


def ones_like(tensor: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Ones with the shape (and, by default, dtype) of ``tensor``."""
    return raw_ops.filled_like(convert_to_tensor(tensor), 1, dtype, name)


# --- stack (TensorFlow's Pack) --------------------------------------------------------------
def _pack_infer(inputs: list[Tensor], axis: int) -> list[Any]:
    if not inputs:
        raise ValueError("stack needs at least one tensor")
    dtype = common_dtype(inputs)
    merged = inputs[0].shape
    for t in inputs[1:]:
        if not merged.is_compatible_with(t.shape):
            raise ValueError(f"all tensors must have the same shape, got {inputs[0].shape} and {t.shape}")
        merged = merged.merge_with(t.shape)
    if merged.dims is None:
        return [(dtype, TensorShape(None))]
    axis = normalize_axis(axis, len(merged.dims) + 1)
    dims = list(merged.dims)
    dims.insert(axis, len(inputs))
    return [(dtype, TensorShape(dims))]


def _pack_grad(op: Any, g: Tensor) -> list[Tensor]:
    axis = op.get_attr("axis")
    if axis >= 0:
        keys = [(builtins.slice(None),) * axis + (i,) for i in builtins.range(len(op.inputs))]
    else:
        keys = [(Ellipsis, i) + (builtins.slice(None),) * (-axis - 1) for i in builtins.range(len(op.inputs))]
    return [g[key] for key in keys]


def _pack_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    out, dt = static_dims(node.out), np_type(node.out.dtype)
    if out is None or dt is None:
        return None
    axis = node.attrs["axis"] % len(out)
    rank = len(out) - 1
    params = [f"a{i}" for i in builtins.range(len(args))]
    body = [f"out = np.empty({out}, {dt})"]
    for i, a in enumerate(params):
        where = [":"] * axis + [str(i)] + [":"] * (rank - axis)
        body.append(f"out[{', '.join(where)}] = {a if rank else f'as_scalar({a})'}")
    return helper(lw, "pack", params, [*body, "return out"], args)


register_op(
    "Pack",
    lambda xp, *xs, axis: xp.stack(xs, axis=axis),
    _pack_infer,
    _pack_grad,
    fresh_output=True,
    jvp=linear,
    lower={"numba": _pack_lower},
)


def stack(values: list[Any], axis: int = 0, name: str | None = None) -> Tensor:
    """Stack same-shaped tensors along a new axis."""
    tensors = convert_n(list(values))
    return apply("Pack", *tensors, name=name or "stack", axis=axis)


# --- transpose -------------------------------------------------------------------------------
def _transpose_infer(inputs: list[Tensor], perm: tuple[int, ...] | None) -> list[Any]:
    (x,) = inputs
    if x.shape.dims is None:
        return [(x.dtype, TensorShape(None if perm is None else [None] * len(perm)))]
    rank = len(x.shape.dims)
    if perm is None:
        return [(x.dtype, TensorShape(reversed(x.shape.dims)))]
    if sorted(p % rank if rank else p for p in perm) != list(builtins.range(rank)) or len(perm) != rank:
        raise ValueError(f"perm {list(perm)} is not a permutation of the axes of a rank-{rank} tensor")
    return [(x.dtype, TensorShape(x.shape.dims[p] for p in perm))]


def _transpose_grad(op: Any, g: Tensor) -> list[Tensor]:
    perm = op.get_attr("perm")
    if perm is None:
        return [transpose(g)]
    rank = len(perm)
    return [transpose(g, [int(i) for i in np.argsort([p % rank for p in perm])])]


def _transpose_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    rank = node.inputs[0].shape.rank
    if rank is None:
        return None
    if rank < 2:
        return args[0]
    perm = node.attrs.get("perm")
    perm = tuple(builtins.range(rank - 1, -1, -1)) if perm is None else tuple(int(p) % rank for p in perm)
    return helper(lw, "transpose", ["x"], [f"return np.transpose(x, {perm})"], args[:1])


register_op(
    "Transpose",
    lambda xp, x, perm: xp.transpose(x, perm),
    _transpose_infer,
    _transpose_grad,
    explain="transpose",
    jvp=linear,
    lower={"numba": _transpose_lower},
)


def transpose(a: Any, perm: Any = None, name: str | None = None) -> Tensor:
    """Permute the axes of ``a`` (reverse them when ``perm`` is None)."""
    perm_t = None if perm is None else tuple(int(p) for p in perm)
    return apply("Transpose", convert_to_tensor(a), name=name or "transpose", perm=perm_t)


# --- helpers shared by the ops below and by indexing_ops ---------------------------------------
def _shape_of(t: Tensor) -> list[int] | Tensor:
    """``t``'s shape as a Python list when static (keeps gradient shapes static), else a Shape op."""
    dims = known_dims(t.shape)
    return dims if dims is not None else shape(t)


def _static_int(value: Any, what: str) -> int:
    """An integer attribute given as a Python int or a tensor whose value is known at build time."""
    if is_tensor_like(value):
        known = constant_value(convert_to_tensor(value))
        if known is None:
            raise TypeError(f"{what} must be known when the graph is built, got the tensor {value}")
        value = known
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return int(arr)


def _ragged(value: list[Any] | tuple[Any, ...]) -> bool:
    """Whether a nested list has rows of different lengths (NumPy raises deep inside for those)."""
    try:
        np.shape(value)
    except ValueError:
        return True
    return False


def _index_tensor(value: Any, empty_shape: tuple[int, ...] | None = None) -> Tensor:
    """Indices as an int tensor; an empty Python list becomes int32 too (NumPy would make it float)."""
    if isinstance(value, (list, tuple)) and not _is_nested_with_tensors(value) and _ragged(value):
        raise ValueError(f"indices must be a rectangular nested list, got the ragged {value!r}")
    if isinstance(value, (list, tuple)) and not _is_nested_with_tensors(value) and np.size(value) == 0:
        empty = np.zeros(np.shape(value), np.int32)
        return constant(empty if empty_shape is None else empty.reshape(empty_shape))
    return convert_to_tensor(value, dtype_hint=dtypes.int32)


def _check_int(t: Tensor, what: str) -> None:
    if not t.dtype.is_integer:
        raise TypeError(f"{what} must be an integer tensor, got {t.dtype.name}")


def _check_rank(t: Tensor, ranks: tuple[int, ...], what: str) -> None:
    if t.shape.rank is not None and t.shape.rank not in ranks:
        want = " or ".join(str(r) for r in ranks)
        raise ValueError(f"{what} must have rank {want}, got shape {t.shape}")


def _merge_rank(rank: int | None, t: Tensor, t_rank: int, message: str) -> int | None:
    """``rank`` merged with the length of ``t``, a tensor with one entry (or row) per dimension.

    ``t`` has rank ``t_rank`` (1: begin, size, multiples; 2: paddings). When both are known and
    differ, ValueError with ``message`` formatted with ``rank``, ``n`` (t's length) and ``shape``.
    """
    n = t.shape[0] if t.shape.rank == t_rank else None
    if rank is not None and n is not None and n != rank:
        raise ValueError(message.format(rank=rank, n=n, shape=t.shape))
    return n if rank is None else rank


def _one_or_tuple(parts: list[Any]) -> Any:
    # The executor stores a kernel's result as is for a single-output op, and unpacks a tuple otherwise.
    return parts[0] if len(parts) == 1 else tuple(parts)


# --- expand_dims, squeeze ------------------------------------------------------------------------
def _expand_dims_infer(inputs: list[Tensor], axis: int) -> list[Any]:
    (x,) = inputs
    if x.shape.dims is None:
        return [(x.dtype, TensorShape(None))]
    rank = len(x.shape.dims)
    if not -rank - 1 <= axis <= rank:
        raise ValueError(f"axis {axis} is out of range [{-rank - 1}, {rank}] for a tensor of rank {rank}")
    dims = list(x.shape.dims)
    dims.insert(axis % (rank + 1), 1)
    return [(x.dtype, TensorShape(dims))]


def _expand_dims_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """A view: the input indexed with a new axis (no reshape, so any layout)."""
    rank, dt = node.inputs[0].shape.rank, np_type(node.out.dtype)
    if rank is None or dt is None:
        return None
    if rank == 0:
        return helper(lw, "expand_dims", ["x"], [f"return np.full((1,), as_scalar(x), {dt})"], args[:1])
    axis = node.attrs["axis"] % (rank + 1)
    where = [":"] * axis + ["None"] + [":"] * (rank - axis)
    return helper(lw, "expand_dims", ["x"], [f"return x[{', '.join(where)}]"], args[:1])


register_op(
    "ExpandDims",
    lambda xp, x, axis: xp.expand_dims(x, axis),
    _expand_dims_infer,
    lambda op, g: [reshape(g, _shape_of(op.inputs[0]))],
    jvp=linear,
    lower={"numba": _expand_dims_lower},
)


def expand_dims(input: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:  # noqa: A002
    """Insert a dimension of size 1 at ``axis`` (``-1`` appends one); ``dim`` is the deprecated alias."""
    if axis is None:
        if dim is None:
            raise ValueError("expand_dims needs an axis")
        axis = dim
    return apply("ExpandDims", convert_to_tensor(input), name=name, axis=_static_int(axis, "axis"))


def _squeeze_infer(inputs: list[Tensor], axis: tuple[int, ...] | None) -> list[Any]:
    (x,) = inputs
    dims = x.shape.dims
    if dims is None:
        return [(x.dtype, TensorShape(None))]
    if axis is None:
        if any(d is None for d in dims):
            return [(x.dtype, TensorShape(None))]  # which dims are 1 is known only at run time
        return [(x.dtype, TensorShape(d for d in dims if d != 1))]
    axes = {normalize_axis(a, len(dims)) for a in axis}
    for a in sorted(axes):
        if dims[a] not in (1, None):
            raise ValueError(f"cannot squeeze axis {a}: its size is {dims[a]}, not 1")
    return [(x.dtype, TensorShape(d for i, d in enumerate(dims) if i not in axes))]


def _squeeze_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """A view: the squeezed axes indexed at 0 (a scalar when every axis goes)."""
    x = node.inputs[0]
    rank, out_rank = x.shape.rank, node.out.shape.rank
    if rank is None or out_rank is None or x.shape.dims is None:
        return None
    axis = node.attrs.get("axis")
    if axis is None:
        if any(d is None for d in x.shape.dims):
            return None
        squeezed = {i for i, d in enumerate(x.shape.dims) if d == 1}
    else:
        squeezed = {int(a) % rank for a in axis}
    if rank - len(squeezed) != out_rank:
        return None
    if not squeezed:
        return args[0]
    where = ["0" if i in squeezed else ":" for i in builtins.range(rank)]
    return helper(lw, "squeeze", ["x"], [f"return x[{', '.join(where)}]"], args[:1])


register_op(
    "Squeeze",
    lambda xp, x, axis: xp.squeeze(x, axis=axis),
    _squeeze_infer,
    lambda op, g: [reshape(g, _shape_of(op.inputs[0]))],
    jvp=linear,
    lower={"numba": _squeeze_lower},
)


def squeeze(input: Any, axis: Any = None, name: str | None = None, squeeze_dims: Any = None) -> Tensor:  # noqa: A002
    """Remove dimensions of size 1: all of them, or only those in ``axis`` (an int or a list)."""
    axis = squeeze_dims if axis is None else axis
    axes = None if axis is None else tuple(int(a) for a in np.ravel(axis))
    return apply("Squeeze", convert_to_tensor(input), name=name, axis=axes)


# --- concat, split, unstack --------------------------------------------------------------------
def _concat_infer(inputs: list[Tensor], axis: int) -> list[Any]:
    if not inputs:
        raise ValueError("concat needs at least one tensor")
    dtype = common_dtype(inputs)
    ranks = {t.shape.rank for t in inputs if t.shape.rank is not None}
    if not ranks:
        return [(dtype, TensorShape(None))]
    if len(ranks) > 1:
        raise ValueError("all tensors must have the same rank, got shapes " + ", ".join(str(t.shape) for t in inputs))
    rank = ranks.pop()
    if rank == 0:
        raise ValueError("cannot concatenate scalars; use cr.stack to make a vector")
    ax = normalize_axis(axis, rank)
    merged = TensorShape([None] * rank)
    total: int | None = 0
    for t in inputs:
        if t.shape.dims is None:
            total = None
            continue
        other = [None if i == ax else d for i, d in enumerate(t.shape.dims)]
        if not merged.is_compatible_with(other):
            raise ValueError(
                f"dimensions other than axis {ax} must match, got shapes " + ", ".join(str(t.shape) for t in inputs)
            )
        merged = merged.merge_with(other)
        d = t.shape.dims[ax]
        total = None if total is None or d is None else total + d
    dims = list(merged.dims)  # type: ignore[arg-type]
    dims[ax] = total
    return [(dtype, TensorShape(dims))]


def _concat_grad(op: Any, g: Tensor) -> list[Tensor]:
    axis = op.get_attr("axis")
    sizes = [
        x.shape[axis] if x.shape.rank is not None and x.shape[axis] is not None else shape(x)[axis] for x in op.inputs
    ]
    return list(split(g, sizes, axis=axis, num=len(sizes)))


def _concat_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    rank = node.out.shape.rank
    if not rank or np_type(node.out.dtype) is None or any(v.shape.rank != rank for v in node.inputs):
        return None
    axis = node.attrs["axis"] % rank
    # NumPy's function bound as the region's global: Numba compiles the call inline (no helper to type).
    return f"{lw.bind('concatenate', np.concatenate)}(({', '.join(args)},), axis={axis})"


register_op(
    "ConcatV2",
    lambda xp, *xs, axis: xp.concatenate(xs, axis=axis),
    _concat_infer,
    _concat_grad,
    fresh_output=True,
    jvp=linear,
    lower={"numba": _concat_lower},
)


def concat(values: list[Any], axis: Any, name: str = "concat") -> Tensor:
    """Join tensors along an existing ``axis``; all other dimensions must match."""
    tensors = convert_n(list(values))
    axis = _static_int(axis, "axis")
    if len(tensors) == 1:
        return identity(tensors[0], name=name)  # as TensorFlow: nothing to join
    return apply("ConcatV2", *tensors, name=name, axis=axis)


def _split_infer(inputs: list[Tensor], num_split: int, axis: int) -> list[Any]:
    (x,) = inputs
    if num_split < 1:
        raise ValueError(f"num_split must be at least 1, got {num_split}")
    if x.shape.dims is None:
        return [(x.dtype, TensorShape(None))] * num_split
    dims = list(x.shape.dims)
    ax = normalize_axis(axis, len(dims))
    d = dims[ax]
    if d is not None and d % num_split:
        raise ValueError(f"dimension {ax} of size {d} cannot be split into {num_split} equal parts")
    dims[ax] = None if d is None else d // num_split
    return [(x.dtype, TensorShape(dims))] * num_split


def _split_kernel(xp: Any, x: Any, num_split: int, axis: int) -> Any:
    if x.shape[axis] % num_split:
        raise ValueError(f"dimension {axis} of size {x.shape[axis]} cannot be split into {num_split} equal parts")
    return _one_or_tuple(xp.split(x, num_split, axis=axis))


def _split_parts_lower(node: Any, arg: str) -> str | None:
    """The outputs of a split as slices of ``arg`` along the axis (views), from their static sizes."""
    rank = node.inputs[0].shape.rank
    if not rank:
        return None
    axis = node.attrs["axis"] % rank
    sizes = [v.shape.dims[axis] if v.shape.dims else None for v in node.outputs]
    parts: list[str] = []
    start = 0
    for size in sizes:
        if size is None:
            return None
        where = [":"] * axis + [slice_text(start, start + size, None)]
        parts.append(f"{arg}[{', '.join(where)}]")
        start += size
    return parts[0] if len(parts) == 1 else f"({', '.join(parts)},)"


register_op(
    "Split",
    _split_kernel,
    _split_infer,
    lambda op, *gs: [concat(list(gs), op.get_attr("axis"))],
    jvp=linear,
    lower={"numba": lambda lw, node, args: _split_parts_lower(node, args[0])},
)


@overload
def _resolve_sizes(sizes: list[int], dim: int) -> list[int]: ...
@overload
def _resolve_sizes(sizes: list[int], dim: int | None) -> list[int | None]: ...
def _resolve_sizes(sizes: list[int], dim: int | None) -> list[int] | list[int | None]:
    """Size splits with the one -1 filled in where ``dim`` is known; ValueError when they cannot fit."""
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"size splits must be non-negative, with at most one -1, got {sizes}")
    known = sum(s for s in sizes if s != -1)
    if dim is None:
        return [None if s == -1 else s for s in sizes]
    if -1 in sizes:
        if known > dim:
            raise ValueError(f"size splits {sizes} add up to more than the dimension's size {dim}")
        return [dim - known if s == -1 else s for s in sizes]
    if known != dim:
        raise ValueError(f"size splits {sizes} must add up to the dimension's size {dim}")
    return list(sizes)


def _split_v_infer(inputs: list[Tensor], num_split: int, axis: int) -> list[Any]:
    x, size_splits = inputs
    _check_int(size_splits, "size_splits")
    _check_rank(size_splits, (1,), "size_splits")
    if size_splits.shape.rank == 1 and size_splits.shape[0] not in (None, num_split):
        raise ValueError(f"size_splits has {size_splits.shape[0]} entries but num_split is {num_split}")
    if x.shape.dims is None:
        return [(x.dtype, TensorShape(None))] * num_split
    dims = list(x.shape.dims)
    ax = normalize_axis(axis, len(dims))
    value = constant_value(size_splits)
    if value is not None:
        sizes = _resolve_sizes([int(v) for v in np.ravel(value)], dims[ax])
    else:
        partial = constant_shape(size_splits).dims
        sizes = list(partial) if partial is not None and len(partial) == num_split else [None] * num_split
    return [(x.dtype, TensorShape(dims[:ax] + [s] + dims[ax + 1 :])) for s in sizes]


def _split_v_kernel(xp: Any, x: Any, size_splits: Any, num_split: int, axis: int) -> Any:
    sizes = _resolve_sizes([int(s) for s in size_splits], x.shape[axis])
    return _one_or_tuple(xp.split(x, list(itertools.accumulate(sizes))[:-1], axis=axis))


register_op(
    "SplitV",
    _split_v_kernel,
    _split_v_infer,
    lambda op, *gs: [concat(list(gs), op.get_attr("axis")), None],
    jvp=linear,
    lower={"numba": lambda lw, node, args: _split_parts_lower(node, args[0])},
)


def split(
    value: Any, num_or_size_splits: Any, axis: Any = 0, num: int | None = None, name: str = "split"
) -> list[Tensor]:
    """Split ``value`` along ``axis`` into ``num_or_size_splits`` equal parts, or parts of the given sizes.

    A list of sizes may contain one -1 (the rest of the dimension); ``num`` is needed only when the
    sizes are a tensor of statically unknown length.
    """
    x = convert_to_tensor(value)
    axis = _static_int(axis, "axis")
    if isinstance(num_or_size_splits, (int, np.integer)) and not isinstance(num_or_size_splits, bool):
        return list(_apply_multi("Split", [x], name, num_split=int(num_or_size_splits), axis=axis))
    sizes = shape_tensor(num_or_size_splits)
    if num is None:
        if sizes.shape.rank != 1 or sizes.shape[0] is None:
            raise ValueError(f"cannot infer the number of splits from size_splits of shape {sizes.shape}; pass num=")
        num = sizes.shape[0]
    return list(_apply_multi("SplitV", [x, sizes], name, num_split=int(num), axis=axis))


def _apply_multi(op_type: str, inputs: list[Tensor], name: str | None, **attrs: Any) -> tuple[Tensor, ...]:
    return apply_op(op_type, inputs, attrs, name).outputs


def _unpack_infer(inputs: list[Tensor], num: int, axis: int) -> list[Any]:
    (x,) = inputs
    if x.shape.dims is None:
        return [(x.dtype, TensorShape(None))] * num
    dims = list(x.shape.dims)
    if not dims:
        raise ValueError("cannot unstack a scalar")
    ax = normalize_axis(axis, len(dims))
    if dims[ax] is not None and dims[ax] != num:
        raise ValueError(f"num is {num} but dimension {ax} has size {dims[ax]}")
    return [(x.dtype, TensorShape(dims[:ax] + dims[ax + 1 :]))] * num


def _unpack_kernel(xp: Any, x: Any, num: int, axis: int) -> Any:
    if x.shape[axis] != num:
        raise ValueError(f"num is {num} but dimension {axis} has size {x.shape[axis]}")
    return _one_or_tuple([xp.asarray(p) for p in xp.moveaxis(x, axis, 0)])


def _unpack_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """Views of the input's slices along the axis (scalars from a vector)."""
    rank = node.inputs[0].shape.rank
    if not rank:
        return None
    axis = node.attrs["axis"] % rank
    parts = [f"{args[0]}[{', '.join([':'] * axis + [str(i)])}]" for i in builtins.range(node.attrs["num"])]
    return parts[0] if len(parts) == 1 else f"({', '.join(parts)},)"


register_op(
    "Unpack",
    _unpack_kernel,
    _unpack_infer,
    lambda op, *gs: [stack(list(gs), axis=op.get_attr("axis"))],
    jvp=linear,
    lower={"numba": _unpack_lower},
)


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str = "unstack") -> list[Tensor]:
    """Split ``value`` along ``axis`` into a list of tensors with that axis removed (the inverse of stack)."""
    x = convert_to_tensor(value)
    if num is None:
        dims = x.shape.dims
        known = dims[axis] if dims is not None and -len(dims) <= axis < len(dims) else None
        if known is None:
            raise ValueError(f"cannot infer num from shape {x.shape} along axis {axis}; pass num=")
        num = known
    return list(_apply_multi("Unpack", [x], name, num=int(num), axis=int(axis)))


# --- pad ---------------------------------------------------------------------------------------
def _pad_shape(x: Tensor, paddings: Tensor, sign: int = 1) -> TensorShape:
    """The padded shape (``sign=-1``: the shape before padding, for MirrorPadGrad)."""
    _check_int(paddings, "paddings")
    if paddings.shape.rank is not None and (paddings.shape.rank != 2 or paddings.shape[1] not in (None, 2)):
        raise ValueError(f"paddings must have shape [rank, 2], got {paddings.shape}")
    message = "paddings must have one row per dimension of the input ({rank}), got shape {shape}"
    rank = _merge_rank(x.shape.rank, paddings, 2, message)
    if rank is None:
        return TensorShape(None)
    p = constant_value(paddings)
    if p is None:
        return TensorShape([None] * rank)
    if (p < 0).any():
        raise ValueError(f"paddings must be non-negative, got {p.tolist()}")
    dims = x.shape.dims or (None,) * rank
    out = [None if d is None else d + sign * int(a + b) for d, (a, b) in zip(dims, p, strict=True)]
    if any(d is not None and d < 0 for d in out):
        raise ValueError(f"paddings {p.tolist()} are larger than the input of shape {x.shape}")
    return TensorShape(out)


def _pad_infer(inputs: list[Tensor]) -> list[Any]:
    x, paddings, constant_values = inputs
    if constant_values.shape.rank not in (0, None):
        raise ValueError(f"constant_values must be a scalar, got shape {constant_values.shape}")
    common_dtype([x, constant_values])
    return [(x.dtype, _pad_shape(x, paddings))]


def _pad_begin(paddings: Tensor) -> Any:
    p = constant_value(paddings)
    return p[:, 0] if p is not None else paddings[:, 0]


def _pad_grad(op: Any, g: Tensor) -> list[Any]:
    x, paddings, _ = op.inputs
    dx = raw_ops.slice(g, _pad_begin(paddings), _shape_of(x))
    # Every output element that is not a copy of x is constant_values.
    return [dx, None, raw_ops.reduce_sum(g) - raw_ops.reduce_sum(dx)]


def _runtime_pads(x_shape: tuple[int, ...], paddings: Any) -> list[tuple[int, int]]:
    """``paddings`` as pairs, checked at run time (np.pad would broadcast a list of the wrong length)."""
    if np.ndim(paddings) != 2 or np.shape(paddings)[0] != len(x_shape) or np.shape(paddings)[1] != 2:
        raise ValueError(
            f"paddings must have shape [{len(x_shape)}, 2] (one row per dimension of the input of shape "
            f"{list(x_shape)}), got shape {list(np.shape(paddings))}"
        )
    pads = [(int(a), int(b)) for a, b in paddings]
    if any(a < 0 or b < 0 for a, b in pads):
        raise ValueError(f"paddings must be non-negative, got {[list(p) for p in pads]}")
    return pads


def _pad_kernel(xp: Any, x: Any, paddings: Any, c: Any) -> Any:
    pads = _runtime_pads(x.shape, paddings)
    if x.ndim == 0:  # np.pad rejects an empty pad width
        return x
    return xp.pad(x, pads, mode="constant", constant_values=c)


register_op("PadV2", _pad_kernel, _pad_infer, _pad_grad, jvp=linear)


def _mirror_pads(x_shape: tuple[int, ...], paddings: Any, mode: str) -> list[tuple[int, int]]:
    pads = _runtime_pads(x_shape, paddings)
    limit_offset = 1 if mode == "REFLECT" else 0
    for i, ((a, b), d) in enumerate(zip(pads, x_shape, strict=True)):
        if a < 0 or b < 0 or max(a, b) > d - limit_offset:
            raise ValueError(f"{mode} paddings of dimension {i} must be in [0, {d - limit_offset}], got ({a}, {b})")
    return pads


def _mirror_pad_kernel(xp: Any, x: Any, paddings: Any, mode: str) -> Any:
    if x.ndim == 0:
        return x
    return xp.pad(x, _mirror_pads(x.shape, paddings, mode), mode=mode.lower())


def _mirror_pad_grad_kernel(xp: Any, g: Any, paddings: Any, mode: str) -> Any:
    """The adjoint of MirrorPad: fold each mirrored border back onto the elements it copies."""
    offset = 1 if mode == "REFLECT" else 0  # REFLECT does not repeat the edge element
    out = g
    for axis, (a, b) in enumerate((int(a), int(b)) for a, b in paddings):
        moved = xp.moveaxis(out, axis, 0)
        n = moved.shape[0] - a - b
        core = moved[a : a + n].copy()
        if a:
            core[offset : offset + a] += moved[:a][::-1]
        if b:
            core[n - offset - b : n - offset] += moved[a + n :][::-1]
        out = xp.moveaxis(core, 0, axis)
    return out


def _mirror_pad_infer(inputs: list[Tensor], mode: str) -> list[Any]:
    x, paddings = inputs
    p = constant_value(paddings)
    if p is not None and x.shape.dims is not None and None not in x.shape.dims and len(p) == x.shape.rank:
        _mirror_pads(tuple(x.shape.as_list()), p, mode)  # type: ignore[arg-type]
    return [(x.dtype, _pad_shape(x, paddings))]


register_op(
    "MirrorPad",
    _mirror_pad_kernel,
    _mirror_pad_infer,
    lambda op, g: [apply("MirrorPadGrad", g, op.inputs[1], mode=op.get_attr("mode")), None],
    jvp=linear,
)
register_op(
    "MirrorPadGrad",
    _mirror_pad_grad_kernel,
    lambda inputs, mode: [(inputs[0].dtype, _pad_shape(inputs[0], inputs[1], sign=-1))],
    lambda op, g: [apply("MirrorPad", g, op.inputs[1], mode=op.get_attr("mode")), None],
    jvp=linear,
)


def pad(
    tensor: Any, paddings: Any, mode: str = "CONSTANT", name: str | None = None, constant_values: Any = 0
) -> Tensor:
    """Pad ``tensor``: ``paddings[i] = [before, after]`` elements for dimension ``i``.

    ``mode`` is ``"CONSTANT"`` (fill with ``constant_values``), ``"REFLECT"`` (mirror without the edge,
    so paddings must be smaller than the dimension) or ``"SYMMETRIC"`` (mirror with the edge).
    """
    x = convert_to_tensor(tensor)
    p = _index_tensor(paddings, (-1, 2))
    mode = mode.upper()
    if mode == "CONSTANT":
        return apply("PadV2", x, p, convert_to_tensor(constant_values, dtype_hint=x.dtype), name=name)
    if mode in ("REFLECT", "SYMMETRIC"):
        return apply("MirrorPad", x, p, name=name, mode=mode)
    raise ValueError(f"pad mode must be 'CONSTANT', 'REFLECT' or 'SYMMETRIC', got {mode!r}")


# --- tile ------------------------------------------------------------------------------------------
def _tile_infer(inputs: list[Tensor]) -> list[Any]:
    x, multiples = inputs
    _check_int(multiples, "multiples")
    _check_rank(multiples, (1,), "multiples")
    message = "multiples must have one entry per dimension of the input ({rank}), got {n}"
    rank = _merge_rank(x.shape.rank, multiples, 1, message)
    if rank is None:
        return [(x.dtype, TensorShape(None))]
    m = constant_value(multiples)
    if m is not None and (m < 0).any():
        raise ValueError(f"multiples must be non-negative, got {m.tolist()}")
    ms = constant_shape(multiples).dims if m is None else tuple(int(v) for v in m)
    ms = ms if ms is not None and len(ms) == rank else (None,) * rank
    dims = x.shape.dims or (None,) * rank
    out = [0 if k == 0 else (None if d is None or k is None else d * k) for d, k in zip(dims, ms, strict=True)]
    return [(x.dtype, TensorShape(out))]


def _tile_kernel(xp: Any, x: Any, multiples: Any) -> Any:
    reps = tuple(int(m) for m in multiples)
    if len(reps) != x.ndim or any(r < 0 for r in reps):
        raise ValueError(f"multiples {list(reps)} must have one non-negative entry per input dimension ({x.ndim})")
    return xp.tile(x, reps)


def _tile_grad(op: Any, g: Tensor) -> list[Any]:
    # View the output as [m0, d0, m1, d1, ...] and sum over the copies (the even axes).
    x, multiples = op.inputs
    rank = x.shape.rank if x.shape.rank is not None else multiples.shape[0]
    if rank is None:
        raise ValueError("the gradient of tile needs the rank of its input")
    m = constant_value(multiples)
    if m is not None and x.shape.is_fully_defined():
        split_shape: Any = [int(v) for pair in zip(m, x.shape.as_list(), strict=True) for v in pair]
    else:
        pairs = stack([raw_ops.cast(multiples, dtypes.int32), shape(x)])
        split_shape = reshape(transpose(pairs), [-1])
    return [raw_ops.reduce_sum(reshape(g, split_shape), axis=list(builtins.range(0, 2 * rank, 2))), None]


def _tile_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    dims, out, dt = static_dims(node.inputs[0]), static_dims(node.out), np_type(node.out.dtype)
    if dims is None or out is None or dt is None:
        return None
    if dims == out:
        return args[0]
    v = [f"i{k}" for k in builtins.range(len(out))]
    body = [f"out = np.empty({out}, {dt})"]
    for depth, (d, name) in enumerate(zip(out, v)):
        body.append("    " * depth + f"for {name} in range({d}):")
    read = ", ".join(f"{name} % {d}" for name, d in zip(v, dims))
    body.append("    " * len(out) + f"out[{', '.join(v)}] = x[{read}]")
    return helper(lw, "tile", ["x"], [*body, "return out"], args[:1])


register_op(
    "Tile",
    _tile_kernel,
    _tile_infer,
    _tile_grad,
    jvp=linear,
    lower={"numba": _tile_lower},
)


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Repeat ``input`` ``multiples[i]`` times along dimension ``i``."""
    return apply("Tile", convert_to_tensor(input), shape_tensor(multiples), name=name)


# --- reverse ---------------------------------------------------------------------------------------
def _reverse_infer(inputs: list[Tensor], axis: tuple[int, ...]) -> list[Any]:
    (x,) = inputs
    if x.shape.rank is not None:
        axes = [normalize_axis(a, x.shape.rank) for a in axis]
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {list(axis)} names a dimension twice")
    return [(x.dtype, x.shape)]


def _reverse_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    rank = node.inputs[0].shape.rank
    axes = {int(a) % rank for a in node.attrs["axis"]} if rank else set()
    if rank is None or (rank == 0 and node.attrs["axis"]):
        return None
    if not axes:
        return args[0]
    where = ["::-1" if i in axes else ":" for i in builtins.range(rank)]
    return helper(lw, "reverse", ["x"], [f"return x[{', '.join(where)}]"], args[:1])


register_op(
    "ReverseV2",
    lambda xp, x, axis: xp.flip(x, axis) if axis else x,
    _reverse_infer,
    lambda op, g: [reverse(g, op.get_attr("axis"))],
    jvp=linear,
    lower={"numba": _reverse_lower},
)


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Tensor:
    """Reverse the order of the elements along each dimension in ``axis`` (an int or a list)."""
    axes = tuple(int(a) for a in np.ravel(axis))
    return apply("ReverseV2", convert_to_tensor(tensor), name=name, axis=axes)


# --- range ---------------------------------------------------------------------------------------
def _arange(xp: Any, start: Any, limit: Any, delta: Any, dtype: Any) -> Any:
    if delta == 0:
        raise ValueError("delta must not be 0")
    if delta > 0 and start > limit or delta < 0 and start < limit:
        raise ValueError(f"with delta = {delta}, start ({start}) must not lie beyond limit ({limit})")
    return xp.arange(start, limit, delta, dtype=dtype.as_numpy_dtype)


def _range_infer(inputs: list[Tensor], dtype: Any) -> list[Any]:
    for t, what in zip(inputs, ("start", "limit", "delta"), strict=True):
        if t.shape.rank not in (0, None):
            raise ValueError(f"{what} must be a scalar, got shape {t.shape}")
    start, limit, delta = (constant_value(t) for t in inputs)
    if start is not None and limit is not None and delta is not None:
        return [(dtype, TensorShape([_range_length(start, limit, delta, dtype)]))]
    return [(dtype, TensorShape([None]))]


def _range_length(start: Any, limit: Any, delta: Any, dtype: Any) -> int:
    """The length of Range's output, computed without allocating it (a range may be huge)."""
    if delta == 0:
        raise ValueError("delta must not be 0")
    if not all(np.isfinite(v) for v in (start, limit, delta)):
        raise ValueError(f"start, limit and delta must be finite, got {start}, {limit}, {delta}")
    if delta > 0 and start > limit or delta < 0 and start < limit:
        raise ValueError(f"with delta = {delta}, start ({start}) must not lie beyond limit ({limit})")
    if dtype.is_integer:
        return int(-((int(start) - int(limit)) // int(delta)))
    estimate = builtins.abs((float(limit) - float(start)) / float(delta))
    if estimate <= 1 << 16:  # NumPy's own count, bit for bit, when cheap
        return len(np.arange(start, limit, delta, dtype=dtype.as_numpy_dtype))
    return int(np.ceil(estimate))


register_op("Range", _arange, _range_infer, None)

_RANGE_DTYPES = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str = "range") -> Tensor:  # noqa: A001
    """``[start, start + delta, ...]`` up to but excluding ``limit``; ``range(n)`` counts from 0.

    The dtype is ``dtype`` if given, else the widest of the arguments' (int32 < int64 < float32 <
    float64; Python ints are int32, floats float32). Not differentiable.
    """
    if limit is None:
        start, limit = 0, start
    args = [convert_to_tensor(v) for v in (start, limit, delta)]
    if dtype is None:
        ranked = [t.dtype for t in args if t.dtype in _RANGE_DTYPES]
        dtype = max(ranked, key=_RANGE_DTYPES.index) if ranked else dtypes.int32
    dtype = dtypes.as_dtype(dtype)
    args = [raw_ops.cast(t, dtype) for t in args]
    return apply("Range", *args, name=name, dtype=dtype)
