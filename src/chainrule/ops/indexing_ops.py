"""Indexing ops: ``tensor[key]`` (TensorFlow's StridedSlice), slice, gather, gather_nd, scatter_nd,
one_hot and sparse_to_dense.

Gathers and scatter-adds are each other's gradients. Every public name here is also importable
from ``chainrule.ops.array_ops``, where these ops lived first.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, install_operators
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import raw_ops
from chainrule.ops.array_ops import (
    _check_int,
    _check_rank,
    _index_tensor,
    _merge_rank,
    _shape_of,
    _static_int,
    expand_dims,
    pad,
    reshape,
    shape,
    size,
    stack,
    transpose,
)
from chainrule.ops.constant_op import _is_nested_with_tensors, convert_n, convert_to_tensor, shape_tensor, to_numpy
from chainrule.ops.jvp_forms import linear
from chainrule.ops.native import helper, index, loop_nest, np_type, slice_text, static_dims
from chainrule.ops.registry import apply, constant_shape, constant_value, register_op
from chainrule.ops.shape_rules import common_dtype, normalize_axis

__all__ = [
    "getitem",
    "slice",
    "gather",
    "gather_nd",
    "scatter_nd",
    "one_hot",
    "sparse_to_dense",
]


# --- helpers -------------------------------------------------------------------------------------
def _value_dtype(value: Any) -> Any:
    """The dtype a non-tensor value converts to, or None."""
    if _is_nested_with_tensors(value):
        return None
    try:
        return dtypes.as_dtype(to_numpy(value).dtype)
    except TypeError:
        return None


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
    dx = apply("StridedSliceGrad", shape_tensor(x_shape), g, *op.inputs[1:], spec=op.get_attr("spec"))
    return [dx] + [None] * (len(op.inputs) - 1)


def _strided_slice_emit(em: Any, node: Any, args: list[str], out: str | None) -> str | None:
    """A slice with no tensor index: the decoded key is bound once."""
    if len(args) != 1:
        return None
    return f"{args[0]}[{em.bind('key', _decode_key(node.attrs['spec'], ()))}]"


def _native_key(spec: tuple[Any, ...], rank: int | None) -> tuple[list[str], list[str]] | None:
    """The key of a slice in index syntax (the ellipsis spelled out), and the lines that read its tensor parts.

    A tensor part ``("input", k)`` reads as ``t<k>`` (a parameter after ``x``); an integer one is
    bounds-checked as NumPy does (IndexError). None when an ellipsis needs an unknown rank.
    """
    consumed = sum(1 for s in spec if s[0] in ("int", "slice"))
    parts: list[str] = []
    reads: list[str] = []
    axis = 0

    def value(v: Any) -> Any:
        if isinstance(v, tuple):
            reads.append(f"v{v[1]} = as_scalar(t{v[1]})")
            return f"v{v[1]}"
        return v

    for s in spec:
        if s[0] == "ellipsis":
            if rank is None:
                return None
            parts += [":"] * (rank - consumed)
            axis += rank - consumed
        elif s[0] == "newaxis":
            parts.append("None")
        elif s[0] == "int":
            i = value(s[1])
            if isinstance(s[1], tuple):
                reads += [
                    f"if not -x.shape[{axis}] <= {i} < x.shape[{axis}]:",
                    f"    raise IndexError('index out of bounds for axis {axis}')",
                ]
            parts.append(str(i))
            axis += 1
        else:
            parts.append(slice_text(*(value(v) for v in s[1:])))
            axis += 1
    return parts, reads


def _index_params(node: Any) -> list[str]:
    return ["x", *(f"t{k}" for k in builtins.range(len(node.inputs) - 1))]


def _strided_slice_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """A view: the input indexed with the key (a scalar when every axis is indexed by an int)."""
    rank = node.inputs[0].shape.rank
    key = _native_key(node.attrs["spec"], rank)
    if key is None or not rank or np_type(node.out.dtype) is None:
        return None
    parts, reads = key
    if not reads:  # a constant key: the index expression itself (a view), no helper call to compile
        return f"{args[0]}[{', '.join(parts)}]"
    return helper(lw, "strided_slice", _index_params(node), [*reads, f"return x[{', '.join(parts)}]"], args)


register_op(
    "StridedSlice",
    lambda xp, x, *index, spec: x[_decode_key(spec, index)],
    _strided_slice_infer,
    _strided_slice_grad,
    emit=_strided_slice_emit,
    jvp=linear,
    lower={"numba": _strided_slice_lower},
)


def _strided_slice_grad_kernel(xp: Any, x_shape: Any, g: Any, *index: Any, spec: tuple[Any, ...]) -> Any:
    out = xp.zeros(tuple(int(d) for d in x_shape), dtype=g.dtype)
    # Basic indexing never repeats an element, so assignment (not accumulation) is exact.
    out[_decode_key(spec, index)] = g
    return out


def _strided_slice_grad_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """Zeros of the input's shape with the gradient written where the slice read."""
    out, dt = static_dims(node.out), np_type(node.out.dtype)
    key = _native_key(node.attrs["spec"], None if out is None else len(out))
    if out is None or dt is None or not key or not key[0] or not out:
        return None
    parts, reads = key
    g = "g" if node.inputs[1].shape.rank else "as_scalar(g)"
    body = [f"out = np.zeros({out}, {dt})", "x = out", *reads, f"out[{', '.join(parts)}] = {g}", "return out"]
    params = ["shape", "g", *(f"t{k}" for k in builtins.range(len(node.inputs) - 2))]
    return helper(lw, "strided_slice_grad", params, body, args)


register_op(
    "StridedSliceGrad",
    _strided_slice_grad_kernel,
    lambda inputs, spec: [(inputs[1].dtype, constant_shape(inputs[0]))],
    lambda op, g: (
        [None, apply("StridedSlice", g, *op.inputs[2:], spec=op.get_attr("spec"))] + [None] * (len(op.inputs) - 2)
    ),
    jvp=linear,
    lower={"numba": _strided_slice_grad_lower},
)


def getitem(tensor: Any, key: Any, name: str | None = None) -> Tensor:
    """``tensor[key]`` with ints, slices (any step), None, Ellipsis and scalar int tensors."""
    x = convert_to_tensor(tensor)
    spec, dynamic = _encode_key(key)
    return apply("StridedSlice", x, *dynamic, name=name or "strided_slice", spec=spec)


install_operators({"getitem": lambda x, key: getitem(x, key)})  # x[key]


# --- slice --------------------------------------------------------------------------------------
def _slice_infer(inputs: list[Tensor]) -> list[Any]:
    x, begin, size_t = inputs
    _check_int(begin, "begin")
    _check_int(size_t, "size")
    _check_rank(begin, (1,), "begin")
    _check_rank(size_t, (1,), "size")
    rank = x.shape.rank
    for t in (begin, size_t):
        rank = _merge_rank(rank, t, 1, "begin and size must have one entry per dimension ({rank}), got shape {shape}")
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
        b32 = raw_ops.cast(begin, dtypes.int32)
        paddings = stack([b32, shape(x) - b32 - shape(y)], axis=1)
    return [pad(g, paddings), None, None]


def _slice_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """A view, after the kernel's checks of ``begin`` and ``size`` (constants or tensors alike)."""
    rank = node.inputs[0].shape.rank
    if rank is None or np_type(node.out.dtype) is None:
        return None
    if rank == 0:
        return args[0]
    body = [
        f"if begin.shape[0] != {rank} or size.shape[0] != {rank}:",
        f"    raise ValueError('begin and size must have {rank} entries')",
    ]
    key = []
    for i in builtins.range(rank):
        body += [
            f"b{i} = begin[{i}]",
            f"s{i} = size[{i}]",
            f"e{i} = x.shape[{i}] if s{i} == -1 else b{i} + s{i}",
            f"if not (0 <= b{i} <= x.shape[{i}] and s{i} >= -1 and b{i} <= e{i} <= x.shape[{i}]):",
            f"    raise ValueError('begin[{i}], size[{i}] are out of bounds for dimension {i}')",
        ]
        key.append(f"b{i}:e{i}")
    return helper(lw, "slice", ["x", "begin", "size"], [*body, f"return x[{', '.join(key)}]"], args[:3])


register_op(
    "Slice",
    _slice_kernel,
    _slice_infer,
    _slice_grad,
    jvp=linear,
    lower={"numba": _slice_lower},
)


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:  # noqa: A001
    """The block of ``input_`` that starts at ``begin`` with extent ``size`` (-1: to the end of that dimension)."""
    return apply("Slice", convert_to_tensor(input_), shape_tensor(begin), shape_tensor(size), name=name)


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


def _bounds_check(indices: str, dims: tuple[int, ...], bound: int, what: str) -> list[str]:
    """Lines raising ValueError (as the kernel) when an entry of ``indices`` is outside ``[0, bound)``."""
    v = [f"c{k}" for k in builtins.range(len(dims))]
    read = f"{indices}{index(v)}" if dims else f"as_scalar({indices})"
    message = f"{what} out of bounds: entries must be in [0, {bound})"
    return [
        line[4:]
        for line in loop_nest(dims, v, [f"if not 0 <= {read} < {bound}:", f"    raise ValueError({message!r})"])
    ]


def _gather_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """Explicit loops over the output, after the kernel's bounds check (Numba's ``np.take`` has no axis)."""
    params, indices = node.inputs
    p_dims, i_dims, out, dt = static_dims(params), static_dims(indices), static_dims(node.out), np_type(node.out.dtype)
    if p_dims is None or i_dims is None or out is None or dt is None or not p_dims:
        return None
    axis = node.attrs["axis"] % len(p_dims)
    outer = [f"o{k}" for k in builtins.range(axis)]
    mid = [f"j{k}" for k in builtins.range(len(i_dims))]
    inner = [f"n{k}" for k in builtins.range(len(p_dims) - axis - 1)]
    picked = f"indices{index(mid)}" if mid else "as_scalar(indices)"
    read = f"params{index([*outer, picked, *inner])}"
    body = _bounds_check("indices", i_dims, p_dims[axis], "gather: indices")
    body.append(f"out = np.empty({out}, {dt})")
    body += [
        line[4:] for line in loop_nest(out, [*outer, *mid, *inner], [f"out{index([*outer, *mid, *inner])} = {read}"])
    ]
    return helper(lw, "gather", ["params", "indices"], [*body, "return out"], args[:2])


register_op(
    "GatherV2",
    _gather_kernel,
    _gather_infer,
    _gather_grad,
    jvp=linear,
    lower={"numba": _gather_lower},
)


def gather(params: Any, indices: Any, validate_indices: Any = None, name: str | None = None, axis: Any = 0) -> Tensor:
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
    if indices.ndim == 0:
        raise ValueError("indices must have rank >= 1 (the last axis holds the multi-indices), got a scalar")
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
    jvp=linear,
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


def _scatter_nd_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """Zeros, then each update added at its index (duplicates add up), after the kernel's bounds check."""
    indices, updates = node.inputs[0], node.inputs[1]
    i_dims, u_dims, out, dt = static_dims(indices), static_dims(updates), static_dims(node.out), np_type(node.out.dtype)
    if i_dims is None or u_dims is None or out is None or dt is None or not i_dims or not i_dims[-1]:
        return None
    k = i_dims[-1]
    lead, rest = list(i_dims[:-1]), list(out[k:])
    if k > len(out) or tuple(u_dims) != tuple(lead + rest):
        return None  # the kernel raises the shape error
    body = []
    for j in builtins.range(k):
        body += _bounds_check(f"indices[..., {j}]", tuple(lead), out[j], "scatter_nd: indices")
    body.append(f"out = np.zeros({out}, {dt})")
    lv = [f"l{m}" for m in builtins.range(len(lead))]
    rv = [f"r{m}" for m in builtins.range(len(rest))]
    target = [f"indices{index([*lv, str(j)])}" for j in builtins.range(k)]
    update = [f"out{index(target + rv)} += updates{index(lv + rv)}"]
    body += [line[4:] for line in loop_nest(lead + rest, lv + rv, update)]
    return helper(lw, "scatter_nd", ["indices", "updates"], [*body, "return out"], args[:2])


register_op(
    "ScatterNd",
    _scatter_nd_kernel,
    _scatter_nd_infer,
    lambda op, g: [None, gather_nd(g, op.inputs[0]), None],
    jvp=linear,
    lower={"numba": _scatter_nd_lower},
)


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Tensor:
    """Zeros of ``shape`` with ``updates`` added at ``indices`` (repeated indices add up, as TensorFlow).

    ``indices[..., :k]`` index the first k dimensions; ``updates`` has shape ``indices.shape[:-1] + shape[k:]``.
    """
    i = _index_tensor(indices)
    return apply("ScatterNd", i, convert_to_tensor(updates), shape_tensor(shape), name=name)


# --- one_hot ---------------------------------------------------------------------------------------
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
    return [None, None, raw_ops.reduce_sum(g * mask), raw_ops.reduce_sum(g) - raw_ops.reduce_sum(g * mask)]


def _one_hot_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    """``off_value`` everywhere, ``on_value`` where an index in ``[0, depth)`` points (others: all off, as NumPy)."""
    i_dims, out, dt = static_dims(node.inputs[0]), static_dims(node.out), np_type(node.out.dtype)
    if i_dims is None or out is None or dt is None:
        return None
    axis = node.attrs["axis"] % len(out)
    depth = out[axis]
    v = [f"j{m}" for m in builtins.range(len(i_dims))]
    where = [*v[:axis], "int(c)", *v[axis:]]
    read = f"indices{index(v)}" if v else "as_scalar(indices)"
    body = [f"out = np.full({out}, as_scalar(off), {dt})", "on_ = as_scalar(on)"]
    body += [
        line[4:]
        for line in loop_nest(i_dims, v, [f"c = {read}", f"if 0 <= c < {depth}:", f"    out{index(where)} = on_"])
    ]
    return helper(lw, "one_hot", ["indices", "on", "off"], [*body, "return out"], [args[0], args[2], args[3]])


register_op(
    "OneHot",
    _one_hot_kernel,
    _one_hot_infer,
    _one_hot_grad,
    jvp=linear,
    lower={"numba": _one_hot_lower},
)


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
    d_values = raw_ops.reduce_sum(picked) if values.shape.rank == 0 else picked
    # Distinct indices: every element not written from sparse_values is default_value.
    return [None, None, d_values, raw_ops.reduce_sum(g) - raw_ops.reduce_sum(picked)]


register_op(
    "SparseToDense", _sparse_to_dense_kernel, _sparse_to_dense_infer, _sparse_to_dense_grad, jvp=linear,
    numpy_only="validates the indices with np.unique(axis=0), which dask.array lacks",
)  # fmt: skip


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
        shape_tensor(output_shape),
        values,
        default,
        name=name,
        validate_indices=bool(validate_indices),
    )
