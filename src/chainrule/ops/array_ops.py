"""Array ops: shapes, reshaping, packing, indexing, filling.

Shapes and indices are int32 tensors, as in TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.broadcast_ops import _shape_tensor, broadcast_to, sum_to_shape
from chainrule.ops.constant_op import constant, convert_n, convert_to_tensor
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
register_op("Rank", lambda xp, x: np.array(x.ndim, dtype=np.int32), lambda inputs: [(dtypes.int32, TensorShape([]))], None)


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
        keys = [(slice(None),) * axis + (i,) for i in range(len(op.inputs))]
    else:
        keys = [(Ellipsis, i) + (slice(None),) * (-axis - 1) for i in range(len(op.inputs))]
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
        if k is Ellipsis:
            spec.append(("ellipsis",))
        elif k is None:
            spec.append(("newaxis",))
        elif isinstance(k, slice):
            spec.append(("slice", part(k.start), part(k.stop), part(k.step)))
        elif isinstance(k, bool) or isinstance(k, (list, np.ndarray)) or (isinstance(k, Tensor) and k.shape.rank != 0):
            raise TypeError(
                f"Only integers, slices, None, Ellipsis and scalar int tensors are valid indices, got {k!r}; "
                "use cr.gather or cr.boolean_mask for fancy indexing"
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
            out.append(slice(part(s[1]), part(s[2]), part(s[3])))
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
                out.append(len(range(*slice(s[1], s[2], s[3]).indices(d))))
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
    lambda op, g: [None, apply("StridedSlice", g, *op.inputs[2:], spec=op.get_attr("spec"))] + [None] * (len(op.inputs) - 2),
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
    if sorted(p % rank if rank else p for p in perm) != list(range(rank)) or len(perm) != rank:
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
