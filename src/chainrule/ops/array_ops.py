"""Array ops: shapes, reshaping, packing, indexing, filling.

Shapes and indices are int32 tensors, as in TensorFlow.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.broadcast_ops import _shape_tensor, broadcast_to, sum_to_shape
from chainrule.ops.constant_op import _is_nested_with_tensors, constant, convert_n, convert_to_tensor, to_numpy
from chainrule.ops.registry import apply, constant_shape, constant_value, register_op
from chainrule.ops.shape_rules import common_dtype, normalize_axis

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
    "getitem",
    "transpose",
    "expand_dims",
    "squeeze",
    "concat",
    "unstack",
    "split",
    "slice",
    "gather",
    "gather_nd",
    "scatter_nd",
    "tile",
    "pad",
    "range",
    "one_hot",
    "reverse",
    "sparse_to_dense",
]

# --- shape queries (not differentiable: their values do not depend on the input's values) ----
register_op(
    "Shape",
    lambda xp, x, out_type: np.array(x.shape, dtype=out_type.as_numpy_dtype),
    lambda inputs, out_type: [(out_type, TensorShape([inputs[0].shape.rank]))],
    None,
)
register_op(
    "Size",
    lambda xp, x, out_type: np.array(x.size, dtype=out_type.as_numpy_dtype),
    lambda inputs, out_type: [(out_type, TensorShape([]))],
    None,
)
register_op(
    "Rank", lambda xp, x: np.array(x.ndim, dtype=np.int32), lambda inputs: [(dtypes.int32, TensorShape([]))], None
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


register_op(
    "Reshape",
    lambda xp, x, shape: xp.reshape(x, tuple(int(d) for d in shape)),
    _reshape_infer,
    lambda op, g: [reshape(g, shape(op.inputs[0])), None],
)


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """Give ``tensor`` a new shape with the same elements in row-major order; one dim may be -1."""
    return apply("Reshape", convert_to_tensor(tensor), _shape_tensor(shape), name=name)


# --- identity, stop_gradient -----------------------------------------------------------------
register_op("Identity", lambda xp, x: x, lambda inputs: [(inputs[0].dtype, inputs[0].shape)], lambda op, g: [g])
register_op("StopGradient", lambda xp, x: x, lambda inputs: [(inputs[0].dtype, inputs[0].shape)], None)


def identity(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """A new tensor with the same value (useful for naming and control dependencies)."""
    return apply("Identity", convert_to_tensor(input), name=name)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The same value, but reverse mode treats it as a constant."""
    return apply("StopGradient", convert_to_tensor(input), name=name)


# --- fill, zeros, ones -----------------------------------------------------------------------
def _fill_infer(inputs: list[Tensor]) -> list[Any]:
    dims, value = inputs
    if value.shape.rank not in (0, None):
        raise ValueError(f"value must be a scalar, got shape {value.shape}")
    return [(value.dtype, constant_shape(dims))]


register_op(
    "Fill",
    lambda xp, dims, value: xp.full(tuple(int(d) for d in dims), value, dtype=value.dtype),
    _fill_infer,
    lambda op, g: [None, _reduce_all(g)],
)


def _reduce_all(g: Tensor) -> Tensor:
    from chainrule.ops.reduction_ops import reduce_sum

    return reduce_sum(g)


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape ``dims`` with every element ``value``."""
    return apply("Fill", _shape_tensor(dims), convert_to_tensor(value), name=name)


def zeros(shape: Any, dtype: Any = dtypes.float32, name: str | None = None) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    return fill(shape, constant(0, dtype=dtype), name=name)


def ones(shape: Any, dtype: Any = dtypes.float32, name: str | None = None) -> Tensor:
    """A tensor of ones (float32 unless ``dtype`` says otherwise)."""
    return fill(shape, constant(1, dtype=dtype), name=name)


def _like(t: Tensor, value: int, dtype: Any, name: str | None) -> Tensor:
    dtype = dtypes.as_dtype(dtype) if dtype is not None else t.dtype
    if t.shape.is_fully_defined():
        return fill(t.shape.as_list(), constant(value, dtype=dtype), name=name)
    return fill(shape(t), constant(value, dtype=dtype), name=name)


def zeros_like(tensor: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Zeros with the shape (and, by default, dtype) of ``tensor``."""
    return _like(convert_to_tensor(tensor), 0, dtype, name)


def ones_like(tensor: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Ones with the shape (and, by default, dtype) of ``tensor``."""
    return _like(convert_to_tensor(tensor), 1, dtype, name)


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
    return [getitem(g, key) for key in keys]


register_op("Pack", lambda xp, *xs, axis: xp.stack(xs, axis=axis), _pack_infer, _pack_grad)


def stack(values: list[Any], axis: int = 0, name: str | None = None) -> Tensor:
    """Stack same-shaped tensors along a new axis."""
    tensors = convert_n(list(values))
    return apply("Pack", *tensors, name=name or "stack", axis=axis)


# --- indexing (TensorFlow's StridedSlice) ------------------------------------------------------
# The key is encoded as a hashable tuple; dynamic (tensor) indices are extra inputs, and the
# encoding refers to them as ("input", k).
def _encode_key(key: Any) -> tuple[tuple[Any, ...], list[Tensor]]:
    if not isinstance(key, tuple):
        key = (key,)
    dynamic: list[Tensor] = []

    def part(v: Any) -> Any:
        if v is None or isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return None if v is None else int(v)
        t = convert_to_tensor(v)
        if not t.dtype.is_integer or t.shape.rank not in (0, None):
            raise TypeError(f"tensor indices must be scalar integers, got {t.dtype.name} of shape {t.shape}")
        dynamic.append(t)
        return ("input", len(dynamic) - 1)

    spec: list[tuple[Any, ...]] = []
    for k in key:
        if isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu":
            k = int(k)
        if k is Ellipsis:
            spec.append(("ellipsis",))
        elif k is None:
            spec.append(("newaxis",))
        elif isinstance(k, builtins.slice):
            spec.append(("slice", part(k.start), part(k.stop), part(k.step)))
        elif isinstance(k, bool) or isinstance(k, (list, np.ndarray)) or (isinstance(k, Tensor) and k.shape.rank != 0):
            raise TypeError(
                f"Only integers, slices, None, Ellipsis and scalar int tensors are valid indices, got {k!r}; "
                "use cr.gather or cr.gather_nd for fancy indexing"
            )
        else:
            spec.append(("int", part(k)))
    if sum(1 for s in spec if s[0] == "ellipsis") > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    return tuple(spec), dynamic


def _decode_key(spec: tuple[Any, ...], values: tuple[Any, ...]) -> tuple[Any, ...]:
    def part(v: Any) -> Any:
        return int(values[v[1]]) if isinstance(v, tuple) else v

    out: list[Any] = []
    for s in spec:
        kind = s[0]
        if kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "newaxis":
            out.append(None)
        elif kind == "slice":
            out.append(builtins.slice(part(s[1]), part(s[2]), part(s[3])))
        else:
            out.append(part(s[1]))
    return tuple(out)


def _sliced_shape(in_shape: TensorShape, spec: tuple[Any, ...]) -> TensorShape:
    if in_shape.dims is None:
        return TensorShape(None)
    dims = list(in_shape.dims)
    consumed = sum(1 for s in spec if s[0] in ("int", "slice"))
    if consumed > len(dims):
        raise IndexError(f"too many indices ({consumed}) for a tensor of rank {len(dims)}")
    out: list[int | None] = []
    axis = 0
    for s in spec:
        kind = s[0]
        if kind == "ellipsis":
            n = len(dims) - consumed
            out.extend(dims[axis : axis + n])
            axis += n
        elif kind == "newaxis":
            out.append(1)
        elif kind == "int":
            d = dims[axis]
            i = s[1]
            if d is not None and not isinstance(i, tuple) and not -d <= i < d:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {d}")
            axis += 1
        else:
            d = dims[axis]
            if d is None or any(isinstance(v, tuple) for v in s[1:]):
                step = s[3]
                out.append(None if d is None or isinstance(step, tuple) or step not in (None, 1) else None)
            else:
                if s[3] == 0:
                    raise ValueError("slice step cannot be zero")
                out.append(len(builtins.range(*builtins.slice(s[1], s[2], s[3]).indices(d))))
            axis += 1
    out.extend(dims[axis:])
    return TensorShape(out)


def _strided_slice_infer(inputs: list[Tensor], spec: tuple[Any, ...]) -> list[Any]:
    return [(inputs[0].dtype, _sliced_shape(inputs[0].shape, spec))]


def _strided_slice_grad(op: Any, g: Tensor) -> list[Any]:
    x = op.inputs[0]
    x_shape = x.shape.as_list() if x.shape.is_fully_defined() else shape(x)
    dx = apply("StridedSliceGrad", _shape_tensor(x_shape), g, *op.inputs[1:], spec=op.get_attr("spec"))
    return [dx] + [None] * (len(op.inputs) - 1)


register_op(
    "StridedSlice",
    lambda xp, x, *index, spec: x[_decode_key(spec, index)],
    _strided_slice_infer,
    _strided_slice_grad,
)


def _strided_slice_grad_kernel(xp: Any, x_shape: Any, g: Any, *index: Any, spec: tuple[Any, ...]) -> Any:
    out = xp.zeros(tuple(int(d) for d in x_shape), dtype=g.dtype)
    # Basic indexing never repeats an element, so assignment (not accumulation) is exact.
    out[_decode_key(spec, index)] = g
    return out


register_op(
    "StridedSliceGrad",
    _strided_slice_grad_kernel,
    lambda inputs, spec: [(inputs[1].dtype, constant_shape(inputs[0]))],
    lambda op, g: [None, apply("StridedSlice", g, *op.inputs[2:], spec=op.get_attr("spec"))]
    + [None] * (len(op.inputs) - 2),
)


def getitem(tensor: Any, key: Any, name: str | None = None) -> Tensor:
    """``tensor[key]`` with ints, slices (any step), None, Ellipsis and scalar int tensors."""
    x = convert_to_tensor(tensor)
    spec, dynamic = _encode_key(key)
    return apply("StridedSlice", x, *dynamic, name=name or "strided_slice", spec=spec)


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


register_op("Transpose", lambda xp, x, perm: xp.transpose(x, perm), _transpose_infer, _transpose_grad)


def transpose(a: Any, perm: Any = None, name: str | None = None) -> Tensor:
    """Permute the axes of ``a`` (reverse them when ``perm`` is None)."""
    perm_t = None if perm is None else tuple(int(p) for p in perm)
    return apply("Transpose", convert_to_tensor(a), name=name or "transpose", perm=perm_t)


# --- helpers shared by the ops below -----------------------------------------------------------
def _math() -> Any:
    from chainrule.ops import math_ops  # math_ops imports this module: import late

    return math_ops


def _reduce_sum(x: Tensor, axis: Any = None) -> Tensor:
    from chainrule.ops.reduction_ops import reduce_sum

    return reduce_sum(x, axis=axis)


def _shape_of(t: Tensor) -> list[int] | Tensor:
    """``t``'s shape as a Python list when static (keeps gradient shapes static), else a Shape op."""
    return t.shape.as_list() if t.shape.is_fully_defined() else shape(t)


def _static_int(value: Any, what: str) -> int:
    """An integer attribute given as a Python int or a tensor whose value is known at build time."""
    if isinstance(value, Tensor) or hasattr(value, "_as_tensor"):
        known = constant_value(convert_to_tensor(value))
        if known is None:
            raise TypeError(f"{what} must be known when the graph is built, got the tensor {value}")
        value = known
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return int(arr)


def _index_tensor(value: Any, empty_shape: tuple[int, ...] | None = None) -> Tensor:
    """Indices as an int tensor; an empty Python list becomes int32 too (NumPy would make it float)."""
    if isinstance(value, (list, tuple)) and not _is_nested_with_tensors(value) and np.size(value) == 0:
        empty = np.zeros(np.shape(value), np.int32)
        return constant(empty if empty_shape is None else empty.reshape(empty_shape))
    return convert_to_tensor(value, dtype_hint=dtypes.int32)


def _value_dtype(value: Any) -> Any:
    """The dtype a non-tensor value converts to, or None."""
    if _is_nested_with_tensors(value):
        return None
    try:
        return dtypes.as_dtype(to_numpy(value).dtype)
    except TypeError:
        return None


def _check_int(t: Tensor, what: str) -> None:
    if not t.dtype.is_integer:
        raise TypeError(f"{what} must be an integer tensor, got {t.dtype.name}")


def _check_rank(t: Tensor, ranks: tuple[int, ...], what: str) -> None:
    if t.shape.rank is not None and t.shape.rank not in ranks:
        want = " or ".join(str(r) for r in ranks)
        raise ValueError(f"{what} must have rank {want}, got shape {t.shape}")


def _check_indices(indices: Any, bounds: Any, what: str = "indices") -> None:
    """Run-time bounds check: ``indices[..., j]`` must lie in ``[0, bounds[j])`` (TensorFlow raises too)."""
    if indices.size == 0:
        return
    for j, d in enumerate(bounds):
        col = indices[..., j]
        bad = (col < 0) | (col >= d)
        if bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            value = indices[pos].tolist()
            raise ValueError(f"{what}{list(pos)} = {value} is out of bounds: entry {j} must be in [0, {d})")


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


register_op(
    "ExpandDims",
    lambda xp, x, axis: xp.expand_dims(x, axis),
    _expand_dims_infer,
    lambda op, g: [reshape(g, _shape_of(op.inputs[0]))],
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


register_op(
    "Squeeze",
    lambda xp, x, axis: xp.squeeze(x, axis=axis),
    _squeeze_infer,
    lambda op, g: [reshape(g, _shape_of(op.inputs[0]))],
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


register_op("ConcatV2", lambda xp, *xs, axis: xp.concatenate(xs, axis=axis), _concat_infer, _concat_grad)


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


register_op("Split", _split_kernel, _split_infer, lambda op, *gs: [concat(list(gs), op.get_attr("axis"))])


def _resolve_sizes(sizes: list[int], dim: int | None) -> list[int | None]:
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
    return _one_or_tuple(xp.split(x, np.cumsum(sizes)[:-1], axis=axis))


register_op(
    "SplitV",
    _split_v_kernel,
    _split_v_infer,
    lambda op, *gs: [concat(list(gs), op.get_attr("axis")), None],
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
    sizes = _shape_tensor(num_or_size_splits)
    if num is None:
        if sizes.shape.rank != 1 or sizes.shape[0] is None:
            raise ValueError(f"cannot infer the number of splits from size_splits of shape {sizes.shape}; pass num=")
        num = sizes.shape[0]
    return list(_apply_multi("SplitV", [x, sizes], name, num_split=int(num), axis=axis))


def _apply_multi(op_type: str, inputs: list[Tensor], name: str | None, **attrs: Any) -> tuple[Tensor, ...]:
    from chainrule.ops.registry import apply_op

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


register_op("Unpack", _unpack_kernel, _unpack_infer, lambda op, *gs: [stack(list(gs), axis=op.get_attr("axis"))])


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str = "unstack") -> list[Tensor]:
    """Split ``value`` along ``axis`` into a list of tensors with that axis removed (the inverse of stack)."""
    x = convert_to_tensor(value)
    if num is None:
        dims = x.shape.dims
        if dims is None or not -len(dims) <= axis < len(dims) or dims[axis] is None:
            raise ValueError(f"cannot infer num from shape {x.shape} along axis {axis}; pass num=")
        num = dims[axis]
    return list(_apply_multi("Unpack", [x], name, num=int(num), axis=int(axis)))


# --- slice, pad --------------------------------------------------------------------------------
def _slice_infer(inputs: list[Tensor]) -> list[Any]:
    x, begin, size_t = inputs
    _check_int(begin, "begin")
    _check_int(size_t, "size")
    _check_rank(begin, (1,), "begin")
    _check_rank(size_t, (1,), "size")
    rank = x.shape.rank
    for t in (begin, size_t):
        n = t.shape[0] if t.shape.rank == 1 else None
        if rank is not None and n is not None and n != rank:
            raise ValueError(f"begin and size must have one entry per dimension ({rank}), got shape {t.shape}")
        rank = n if rank is None else rank
    if rank is None:
        return [(x.dtype, TensorShape(None))]
    in_dims = x.shape.dims or (None,) * rank
    b = constant_value(begin)
    s = constant_value(size_t)
    partial = constant_shape(size_t).dims
    out: list[int | None] = []
    for i in builtins.range(rank):
        d = in_dims[i]
        bi = None if b is None else int(b[i])
        si = None if s is None else int(s[i])
        if si is None and partial is not None and len(partial) == rank:
            si = partial[i]
        if bi is not None and (bi < 0 or d is not None and bi > d):
            raise ValueError(f"begin[{i}] = {bi} is out of bounds for dimension {i} of size {d}")
        if si is not None and si < -1:
            raise ValueError(f"size[{i}] = {si} must be -1 or non-negative")
        if si == -1:
            out.append(None if d is None or bi is None else d - bi)
            continue
        if si is not None and bi is not None and d is not None and bi + si > d:
            raise ValueError(f"begin[{i}] + size[{i}] = {bi + si} exceeds dimension {i} of size {d}")
        out.append(si)
    return [(x.dtype, TensorShape(out))]


def _slice_kernel(xp: Any, x: Any, begin: Any, size: Any) -> Any:
    if len(begin) != x.ndim or len(size) != x.ndim:
        raise ValueError(f"begin and size must have {x.ndim} entries, got {len(begin)} and {len(size)}")
    key = []
    for i, (b, s, d) in enumerate(zip(begin, size, x.shape, strict=True)):
        b, s = int(b), int(s)
        end = d if s == -1 else b + s
        if not (0 <= b <= d and s >= -1 and b <= end <= d):
            raise ValueError(f"begin[{i}] = {b}, size[{i}] = {s} is out of bounds for dimension {i} of size {d}")
        key.append(builtins.slice(b, end))
    return x[tuple(key)]


def _slice_grad(op: Any, g: Tensor) -> list[Any]:
    # Pad the gradient with zeros back to the input's shape: before = begin, after = rest.
    x, begin, _ = op.inputs
    y = op.outputs[0]
    b = constant_value(begin)
    if b is not None and x.shape.is_fully_defined() and y.shape.is_fully_defined():
        after = np.array(x.shape.as_list()) - b - np.array(y.shape.as_list())
        paddings: Any = np.stack([b, after], axis=1).astype(np.int32)
    else:
        m = _math()
        b32 = m.cast(begin, dtypes.int32)
        paddings = stack([b32, shape(x) - b32 - shape(y)], axis=1)
    return [pad(g, paddings), None, None]


register_op("Slice", _slice_kernel, _slice_infer, _slice_grad)


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:  # noqa: A001
    """The block of ``input_`` that starts at ``begin`` with extent ``size`` (-1: to the end of that dimension)."""
    return apply("Slice", convert_to_tensor(input_), _shape_tensor(begin), _shape_tensor(size), name=name)


def _pad_shape(x: Tensor, paddings: Tensor, sign: int = 1) -> TensorShape:
    """The padded shape (``sign=-1``: the shape before padding, for MirrorPadGrad)."""
    _check_int(paddings, "paddings")
    if paddings.shape.rank is not None and (paddings.shape.rank != 2 or paddings.shape[1] not in (None, 2)):
        raise ValueError(f"paddings must have shape [rank, 2], got {paddings.shape}")
    rank = x.shape.rank
    n = paddings.shape[0] if paddings.shape.rank == 2 else None
    if rank is not None and n is not None and rank != n:
        raise ValueError(f"paddings must have one row per dimension of the input ({rank}), got shape {paddings.shape}")
    rank = n if rank is None else rank
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
    return p[:, 0] if p is not None else getitem(paddings, (builtins.slice(None), 0))


def _pad_grad(op: Any, g: Tensor) -> list[Any]:
    x, paddings, _ = op.inputs
    dx = slice(g, _pad_begin(paddings), _shape_of(x))
    # Every output element that is not a copy of x is constant_values.
    return [dx, None, _reduce_sum(g) - _reduce_sum(dx)]


def _pad_kernel(xp: Any, x: Any, paddings: Any, c: Any) -> Any:
    if x.ndim == 0:  # np.pad rejects an empty pad width
        return x
    return xp.pad(x, [(int(a), int(b)) for a, b in paddings], mode="constant", constant_values=c)


register_op("PadV2", _pad_kernel, _pad_infer, _pad_grad)


def _mirror_pads(x_shape: tuple[int, ...], paddings: Any, mode: str) -> list[tuple[int, int]]:
    pads = [(int(a), int(b)) for a, b in paddings]
    if len(pads) != len(x_shape):
        raise ValueError(f"paddings must have one row per dimension of the input ({len(x_shape)}), got {len(pads)}")
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
)
register_op(
    "MirrorPadGrad",
    _mirror_pad_grad_kernel,
    lambda inputs, mode: [(inputs[0].dtype, _pad_shape(inputs[0], inputs[1], sign=-1))],
    lambda op, g: [apply("MirrorPad", g, op.inputs[1], mode=op.get_attr("mode")), None],
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


# --- gather, gather_nd, scatter_nd ---------------------------------------------------------------
# Gathers and scatter-adds are each other's gradients; scatter_nd adds duplicates, so the gradient
# of a gather that reads an element twice receives both contributions.
def _gather_infer(inputs: list[Tensor], axis: int) -> list[Any]:
    params, indices = inputs
    _check_int(indices, "indices")
    if params.shape.rank == 0:
        raise ValueError("params must have rank at least 1")
    if params.shape.dims is None or indices.shape.dims is None:
        return [(params.dtype, TensorShape(None))]
    dims = list(params.shape.dims)
    ax = normalize_axis(axis, len(dims))
    return [(params.dtype, TensorShape(dims[:ax] + list(indices.shape.dims) + dims[ax + 1 :]))]


def _gather_kernel(xp: Any, params: Any, indices: Any, axis: int) -> Any:
    _check_indices(indices[..., None], [params.shape[axis]])
    return xp.take(params, indices, axis=axis)


def _gather_grad(op: Any, g: Tensor) -> list[Any]:
    params, indices = op.inputs
    axis = op.get_attr("axis")
    idx = expand_dims(indices, -1)
    if axis == 0:
        return [scatter_nd(idx, g, _shape_of(params)), None]
    p, q = params.shape.rank, indices.shape.rank
    if p is None or q is None:
        raise ValueError(f"the gradient of gather along axis {axis} needs the ranks of params and indices")
    axis %= p
    # Scatter along axis 0: move the gathered axis (params) and the index axes (g) to the front.
    g_perm = [*builtins.range(axis, axis + q), *builtins.range(axis), *builtins.range(axis + q, p - 1 + q)]
    p_perm = [axis, *builtins.range(axis), *builtins.range(axis + 1, p)]
    if params.shape.is_fully_defined():
        moved_shape: Any = [params.shape[i] for i in p_perm]
    else:
        moved_shape = gather(shape(params), p_perm)
    moved = scatter_nd(idx, transpose(g, g_perm), moved_shape)
    return [transpose(moved, [int(i) for i in np.argsort(p_perm)]), None]


register_op("GatherV2", _gather_kernel, _gather_infer, _gather_grad)


def gather(
    params: Any, indices: Any, validate_indices: Any = None, name: str | None = None, axis: Any = 0
) -> Tensor:
    """Slices of ``params`` along ``axis`` at ``indices`` (any shape): the output's shape is
    ``params.shape[:axis] + indices.shape + params.shape[axis+1:]``.

    Indices out of ``[0, params.shape[axis])`` are an error when the graph runs. The gradient
    accumulates repeated indices. ``validate_indices`` is accepted for TensorFlow compatibility.
    """
    p = convert_to_tensor(params)
    i = _index_tensor(indices)
    axis = _static_int(0 if axis is None else axis, "axis")
    if p.shape.rank is not None and -p.shape.rank <= axis < p.shape.rank:
        axis %= p.shape.rank
    return apply("GatherV2", p, i, name=name, axis=axis)


def _gather_nd_infer(inputs: list[Tensor]) -> list[Any]:
    params, indices = inputs
    _check_int(indices, "indices")
    if indices.shape.rank == 0:
        raise ValueError("indices must have rank at least 1 (its last dimension indexes params)")
    if params.shape.dims is None or indices.shape.dims is None or indices.shape.dims[-1] is None:
        return [(params.dtype, TensorShape(None))]
    k = indices.shape.dims[-1]
    if k > len(params.shape.dims):
        raise ValueError(f"indices of shape {indices.shape} index {k} dimensions; params has rank {params.shape.rank}")
    return [(params.dtype, TensorShape(list(indices.shape.dims[:-1]) + list(params.shape.dims[k:])))]


def _gather_nd_kernel(xp: Any, params: Any, indices: Any) -> Any:
    k = indices.shape[-1]
    if k > params.ndim:
        raise ValueError(f"indices of shape {indices.shape} index {k} dimensions, but params has rank {params.ndim}")
    if k == 0:
        return xp.broadcast_to(params, indices.shape[:-1] + params.shape).copy()
    _check_indices(indices, params.shape[:k])
    return params[tuple(indices[..., j] for j in builtins.range(k))]


register_op(
    "GatherNd",
    _gather_nd_kernel,
    _gather_nd_infer,
    lambda op, g: [scatter_nd(op.inputs[1], g, _shape_of(op.inputs[0])), None],
)


def gather_nd(params: Any, indices: Any, name: str | None = None) -> Tensor:
    """Gather slices of ``params`` at multi-indices: ``out[i...] = params[indices[i..., :]]``.

    The last dimension of ``indices`` (k) indexes the first k dimensions of ``params``.
    """
    return apply("GatherNd", convert_to_tensor(params), _index_tensor(indices), name=name)


def _scatter_nd_infer(inputs: list[Tensor]) -> list[Any]:
    indices, updates, shape_t = inputs
    _check_int(indices, "indices")
    _check_int(shape_t, "shape")
    _check_rank(shape_t, (1,), "shape")
    if indices.shape.rank == 0:
        raise ValueError("indices must have rank at least 1 (its last dimension indexes the output)")
    out = constant_shape(shape_t)
    idx, upd = indices.shape.dims, updates.shape.dims
    if idx is not None and idx[-1] is not None and out.dims is not None and upd is not None:
        k = idx[-1]
        if k > len(out.dims):
            raise ValueError(f"indices of shape {indices.shape} index {k} dims; the output has rank {len(out.dims)}")
        expected = TensorShape(list(idx[:-1]) + list(out.dims[k:]))
        if not updates.shape.is_compatible_with(expected):
            raise ValueError(f"updates must have shape {expected} (indices.shape[:-1] + shape[k:]): {updates.shape}")
    return [(updates.dtype, out)]


def _scatter_nd_kernel(xp: Any, indices: Any, updates: Any, shape: Any) -> Any:
    out_shape = tuple(int(d) for d in shape)
    k = indices.shape[-1]
    expected = indices.shape[:-1] + out_shape[k:]
    if k > len(out_shape) or updates.shape != expected:
        raise ValueError(f"updates must have shape {expected} (indices.shape[:-1] + shape[k:]), got {updates.shape}")
    _check_indices(indices, out_shape[:k])
    out = xp.zeros(out_shape, dtype=updates.dtype)
    if k == 0:
        out += updates.reshape((-1, *out_shape)).sum(axis=0)
    else:
        xp.add.at(out, tuple(indices[..., j] for j in builtins.range(k)), updates)  # duplicates add up
    return out


register_op(
    "ScatterNd",
    _scatter_nd_kernel,
    _scatter_nd_infer,
    lambda op, g: [None, gather_nd(g, op.inputs[0]), None],
)


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Tensor:
    """Zeros of ``shape`` with ``updates`` added at ``indices`` (repeated indices add up, as TensorFlow).

    ``indices[..., :k]`` index the first k dimensions; ``updates`` has shape ``indices.shape[:-1] + shape[k:]``.
    """
    i = _index_tensor(indices)
    return apply("ScatterNd", i, convert_to_tensor(updates), _shape_tensor(shape), name=name)


# --- tile ------------------------------------------------------------------------------------------
def _tile_infer(inputs: list[Tensor]) -> list[Any]:
    x, multiples = inputs
    _check_int(multiples, "multiples")
    _check_rank(multiples, (1,), "multiples")
    rank = x.shape.rank
    n = multiples.shape[0] if multiples.shape.rank == 1 else None
    if rank is not None and n is not None and rank != n:
        raise ValueError(f"multiples must have one entry per dimension of the input ({rank}), got {n}")
    rank = n if rank is None else rank
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
        pairs = stack([_math().cast(multiples, dtypes.int32), shape(x)])
        split_shape = reshape(transpose(pairs), [-1])
    return [_reduce_sum(reshape(g, split_shape), axis=list(builtins.range(0, 2 * rank, 2))), None]


register_op("Tile", _tile_kernel, _tile_infer, _tile_grad)


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Repeat ``input`` ``multiples[i]`` times along dimension ``i``."""
    return apply("Tile", convert_to_tensor(input), _shape_tensor(multiples), name=name)


# --- reverse ---------------------------------------------------------------------------------------
def _reverse_infer(inputs: list[Tensor], axis: tuple[int, ...]) -> list[Any]:
    (x,) = inputs
    if x.shape.rank is not None:
        axes = [normalize_axis(a, x.shape.rank) for a in axis]
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {list(axis)} names a dimension twice")
    return [(x.dtype, x.shape)]


register_op(
    "ReverseV2",
    lambda xp, x, axis: xp.flip(x, axis) if axis else x,
    _reverse_infer,
    lambda op, g: [reverse(g, op.get_attr("axis"))],
)


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Tensor:
    """Reverse the order of the elements along each dimension in ``axis`` (an int or a list)."""
    axes = tuple(int(a) for a in np.ravel(axis))
    return apply("ReverseV2", convert_to_tensor(tensor), name=name, axis=axes)


# --- range, one_hot ---------------------------------------------------------------------------------
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
    values = [constant_value(t) for t in inputs]
    if all(v is not None for v in values):
        return [(dtype, TensorShape([len(_arange(np, *values, dtype))]))]
    return [(dtype, TensorShape([None]))]


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
    args = [_math().cast(t, dtype) for t in args]
    return apply("Range", *args, name=name, dtype=dtype)


def _one_hot_infer(inputs: list[Tensor], axis: int) -> list[Any]:
    indices, depth, on_value, off_value = inputs
    _check_int(indices, "indices")
    _check_int(depth, "depth")
    for t, what in ((depth, "depth"), (on_value, "on_value"), (off_value, "off_value")):
        if t.shape.rank not in (0, None):
            raise ValueError(f"{what} must be a scalar, got shape {t.shape}")
    dtype = common_dtype([on_value, off_value])
    d = constant_value(depth)
    if d is not None and int(d) < 0:
        raise ValueError(f"depth must be non-negative, got {int(d)}")
    if indices.shape.dims is None:
        return [(dtype, TensorShape(None))]
    dims: list[int | None] = list(indices.shape.dims)
    dims.insert(normalize_axis(axis, len(dims) + 1), None if d is None else int(d))
    return [(dtype, TensorShape(dims))]


def _one_hot_kernel(xp: Any, indices: Any, depth: Any, on_value: Any, off_value: Any, axis: int) -> Any:
    if int(depth) < 0:
        raise ValueError(f"depth must be non-negative, got {int(depth)}")
    # Indices outside [0, depth) match no position and give a row of off_value, as TensorFlow.
    mask = xp.moveaxis(indices[..., None] == xp.arange(int(depth)), -1, axis)
    return xp.where(mask, on_value, off_value).astype(on_value.dtype, copy=False)


def _one_hot_grad(op: Any, g: Tensor) -> list[Any]:
    indices, depth, on_value, _ = op.inputs
    mask = one_hot(indices, depth, 1, 0, axis=op.get_attr("axis"), dtype=on_value.dtype)
    return [None, None, _reduce_sum(g * mask), _reduce_sum(g) - _reduce_sum(g * mask)]


register_op("OneHot", _one_hot_kernel, _one_hot_infer, _one_hot_grad)


def one_hot(
    indices: Any,
    depth: Any,
    on_value: Any = None,
    off_value: Any = None,
    axis: int | None = None,
    dtype: Any = None,
    name: str | None = None,
) -> Tensor:
    """A one-hot encoding of ``indices`` along a new ``axis`` (default: last) of size ``depth``.

    ``on_value`` (default 1) where ``indices`` match, ``off_value`` (default 0) elsewhere, also for
    indices outside ``[0, depth)``. The dtype is ``dtype``, else that of a tensor ``on_value`` /
    ``off_value``, else float32.
    """
    if dtype is None:
        given = [v for v in (on_value, off_value) if isinstance(v, (Tensor, np.ndarray, np.generic))]
        dtype = convert_to_tensor(given[0]).dtype if given else dtypes.float32
    dtype = dtypes.as_dtype(dtype)
    on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype)
    off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype)
    return apply(
        "OneHot",
        _index_tensor(indices),
        convert_to_tensor(depth, dtype_hint=dtypes.int32),
        on,
        off,
        name=name,
        axis=-1 if axis is None else int(axis),
    )


# --- sparse_to_dense ------------------------------------------------------------------------------
def _sparse_to_dense_infer(inputs: list[Tensor], validate_indices: bool) -> list[Any]:
    indices, output_shape, values, default = inputs
    _check_int(indices, "sparse_indices")
    _check_int(output_shape, "output_shape")
    _check_rank(indices, (0, 1, 2), "sparse_indices")
    _check_rank(output_shape, (1,), "output_shape")
    _check_rank(values, (0, 1), "sparse_values")
    _check_rank(default, (0,), "default_value")
    dtype = common_dtype([values, default])
    out = constant_shape(output_shape)
    n_dims = indices.shape[1] if indices.shape.rank == 2 else 1 if indices.shape.rank in (0, 1) else None
    if n_dims is not None and out.rank is not None and n_dims != out.rank:
        raise ValueError(f"sparse_indices of shape {indices.shape} index {n_dims} dims; output_shape has {out.rank}")
    n = 1 if indices.shape.rank == 0 else indices.shape[0] if indices.shape.rank else None
    if values.shape.rank == 1 and n is not None and values.shape[0] not in (None, n):
        raise ValueError(f"sparse_values has {values.shape[0]} entries but there are {n} indices")
    return [(dtype, out)]


def _sparse_to_dense_kernel(
    xp: Any, indices: Any, output_shape: Any, values: Any, default: Any, validate_indices: bool
) -> Any:
    out_shape = tuple(int(d) for d in output_shape)
    n = 1 if indices.ndim == 0 else indices.shape[0]
    r = indices.shape[1] if indices.ndim == 2 else 1
    if r != len(out_shape):
        raise ValueError(f"sparse_indices of shape {indices.shape} index {r} dims; output_shape has {len(out_shape)}")
    if values.ndim == 1 and values.shape[0] != n:
        raise ValueError(f"sparse_values has {values.shape[0]} entries but there are {n} indices")
    idx = indices.reshape(n, r)
    _check_indices(idx, out_shape, "sparse_indices")
    if validate_indices and n > 1 and len(np.unique(idx, axis=0)) != n:
        raise ValueError("sparse_indices has a repeated index")
    out = xp.full(out_shape, default, dtype=values.dtype)
    if r:
        out[tuple(idx.T)] = values
    elif n:
        out[()] = values if values.ndim == 0 else values[-1]
    return out


def _sparse_to_dense_grad(op: Any, g: Tensor) -> list[Any]:
    indices, output_shape, values, _ = op.inputs
    # The same indices as a [N, R] matrix, for gather_nd: R = 1 for scalar and vector indices.
    if indices.shape.rank in (0, 1):
        idx = reshape(indices, [-1, 1])
    elif indices.shape.rank == 2:
        idx = indices
    else:
        idx = reshape(indices, stack([-1, size(output_shape)]))
    picked = gather_nd(g, idx)
    d_values = _reduce_sum(picked) if values.shape.rank == 0 else picked
    # Distinct indices: every element not written from sparse_values is default_value.
    return [None, None, d_values, _reduce_sum(g) - _reduce_sum(picked)]


register_op("SparseToDense", _sparse_to_dense_kernel, _sparse_to_dense_infer, _sparse_to_dense_grad)


def sparse_to_dense(
    sparse_indices: Any,
    output_shape: Any,
    sparse_values: Any,
    default_value: Any = 0,
    validate_indices: bool = True,
    name: str | None = None,
) -> Tensor:
    """A dense tensor of ``output_shape`` filled with ``default_value``, and ``sparse_values`` at ``sparse_indices``.

    ``sparse_indices`` is a scalar or vector (indices into a 1-D output) or an ``[N, rank]`` matrix;
    ``sparse_values`` is one value per index or a scalar for all. With ``validate_indices``, a repeated
    index is an error; any index out of bounds always is.
    """
    # A Python default_value takes the dtype of sparse_values (also when that is a Python float).
    values, default = convert_n([sparse_values, default_value], dtype_hint=_value_dtype(sparse_values))
    return apply(
        "SparseToDense",
        _index_tensor(sparse_indices),
        _shape_tensor(output_shape),
        values,
        default,
        name=name,
        validate_indices=bool(validate_indices),
    )
