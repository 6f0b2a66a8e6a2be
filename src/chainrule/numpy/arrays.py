"""NumPy's array creation and manipulation on tensors: array/stack/concatenate, reshape and friends,
splits, flips, padding, diagonals, sorting. Composites of chainrule's array ops (each differentiable)."""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.framework.graph import Tensor
from chainrule.numpy.dispatch import (
    as_tensor,
    check_defaults,
    contains_symbolic,
    is_symbolic,
    np_dtype,
    result_dtype,
    unsupported_argument,
)
from chainrule.ops import array_ops, indexing_ops, linalg_ops, math_ops, reduction_ops, tf1_names

# NumPy for the eager path, untyped: its arguments are the caller's, passed on as given.
_NP: Any = np

# --- helpers -------------------------------------------------------------------------------------


def _rank(t: Tensor, what: str) -> int:
    if t.shape.rank is None:
        raise unsupported_argument(what, "a tensor of unknown rank", t.shape)
    return t.shape.rank


def _dims(t: Tensor, what: str) -> list[int]:
    dims = t.shape.as_list() if t.shape.rank is not None else None
    if dims is None or any(d is None for d in dims):
        raise unsupported_argument(what, "a tensor whose shape is not known statically", t.shape)
    return [int(d) for d in dims if d is not None]


def _norm_axis(axis: int, rank: int, what: str) -> int:
    axis = operator.index(axis)
    if not -rank <= axis < rank:
        raise np.exceptions.AxisError(axis, rank, f"chainrule.numpy.{what}")
    return axis % rank


def _slice_along(t: Tensor, axis: int, start: int | None, stop: int | None, step: int | None = None) -> Tensor:
    key: list[Any] = [builtins.slice(None)] * _rank(t, "slice")
    key[axis] = builtins.slice(start, stop, step)
    return indexing_ops.getitem(t, tuple(key))


def _leaf_dtype(x: Any) -> Any:
    """What ``numpy.array`` sees for a leaf: Python scalars are strong there (float -> float64)."""
    if is_symbolic(x):
        return np_dtype(as_tensor(x))
    return _NP.asarray(x).dtype


def _leaves(value: Any, out: list[Any]) -> list[Any]:
    if isinstance(value, (list, tuple)):
        for v in value:
            _leaves(v, out)
    else:
        out.append(value)
    return out


def _pack(value: Any, dtype: np.dtype) -> Tensor:
    if isinstance(value, (list, tuple)) and contains_symbolic(value):
        return array_ops.stack([_pack(v, dtype) for v in value], axis=0)
    return as_tensor(value, dtype)


# --- creation ------------------------------------------------------------------------------------


def array(
    object: Any,  # noqa: A002 - NumPy's name
    dtype: Any = None,
    *,
    copy: Any = True,
    order: str = "K",
    subok: bool = False,
    ndmin: int = 0,
    like: Any = None,
) -> Any:
    """NumPy's ``array``; a (nested) list mixing tensors and numbers is packed into one tensor
    (the dtype NumPy's ``array`` would give, unless ``dtype`` is given)."""
    if not contains_symbolic(object):
        kwargs = {} if like is None else {"like": like}
        return _NP.array(object, dtype=dtype, copy=copy, order=order, subok=subok, ndmin=ndmin, **kwargs)
    want = np.dtype(dtype) if dtype is not None else np.result_type(*[_leaf_dtype(v) for v in _leaves(object, [])])
    t = _pack(object, want)
    if ndmin and _rank(t, "array") < ndmin:
        t = array_ops.reshape(t, [1] * (ndmin - _rank(t, "array")) + _dims(t, "array"))
    return t


def asarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Any:
    """NumPy's ``asarray``; a tensor (or a list holding tensors) stays in the graph."""
    if not contains_symbolic(a):
        return _NP.asarray(a, dtype=dtype, order=order, **kwargs)
    return array(a, dtype=dtype)


def asanyarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Any:
    return asarray(a, dtype, order, **kwargs)


def ascontiguousarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    return _NP.ascontiguousarray(a, dtype=dtype, **kwargs) if not contains_symbolic(a) else array(a, dtype=dtype)


def copy(a: Any, order: str = "K", subok: bool = False) -> Any:
    return _NP.copy(a, order=order, subok=subok) if not contains_symbolic(a) else array_ops.identity(as_tensor(a))


def _like(name: str, numpy_fn: Callable[..., Any], value: float | None) -> Callable[..., Any]:
    def function(
        a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, **kwargs: Any
    ) -> Any:
        if not contains_symbolic(a):
            return numpy_fn(a, dtype=dtype, order=order, subok=subok, shape=shape, **kwargs)
        t = as_tensor(a)
        d = np.dtype(dtype) if dtype is not None else np_dtype(t)
        dims = list(shape) if shape is not None else array_ops.shape(t)
        return array_ops.fill(dims, as_tensor(np.asarray(value, dtype=d)))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"NumPy's ``{name}`` (not differentiable: its value does not depend on ``a``'s values)."
    return function


zeros_like = _like("zeros_like", np.zeros_like, 0)
ones_like = _like("ones_like", np.ones_like, 1)
empty_like = _like("empty_like", np.empty_like, 0)


def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C", **kwargs: Any) -> Any:
    """NumPy's ``full``; a tensor ``fill_value`` is broadcast (differentiable in it)."""
    if not contains_symbolic([shape, fill_value]):
        return _NP.full(shape, fill_value, dtype=dtype, order=order, **kwargs)
    value = as_tensor(fill_value, dtype if dtype is not None else result_dtype(fill_value))
    return array_ops.broadcast_to(value, [shape] if isinstance(shape, int) else list(shape))


def full_like(
    a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None
) -> Any:
    if not contains_symbolic([a, fill_value]):
        return _NP.full_like(a, fill_value, dtype=dtype, order=order, subok=subok, shape=shape)
    d = np.dtype(dtype) if dtype is not None else (np_dtype(as_tensor(a)) if is_symbolic(a) else np.asarray(a).dtype)
    dims = list(shape) if shape is not None else (array_ops.shape(as_tensor(a)) if is_symbolic(a) else np.shape(a))
    return array_ops.broadcast_to(as_tensor(fill_value, d), dims)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False, dtype: Any = None,
             axis: int = 0) -> Any:  # fmt: skip
    """NumPy's ``linspace``; differentiable in ``start`` and ``stop`` (``num`` is static)."""
    if not contains_symbolic([start, stop]):
        return _NP.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    if axis != 0:
        raise unsupported_argument("linspace", "axis", axis)
    d = result_dtype(start, stop, 1.0)
    lo, hi = as_tensor(start, d), as_tensor(stop, d)
    div = (num - 1) if endpoint else num
    fractions = np.arange(num, dtype=d) / (div if div > 0 else 1)
    frac = as_tensor(fractions.reshape((num,) + (1,) * (lo.shape.rank or 0)))
    out = lo + (hi - lo) * frac
    if endpoint and num > 1:
        out = array_ops.concat([out[:-1], array_ops.expand_dims(hi + 0 * lo, 0)], 0)
    out = out if dtype is None else as_tensor(out, dtype)
    if retstep:
        return out, (hi - lo) / as_tensor(np.asarray(div, d))
    return out


# --- shapes ---------------------------------------------------------------------------------------


def reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None) -> Any:
    """NumPy's ``reshape`` (C order)."""
    if shape is None:
        shape = newshape
    if not contains_symbolic(a):
        return _NP.reshape(a, shape, order=order, copy=copy)
    if order != "C":
        raise unsupported_argument("reshape", "order", order)
    return array_ops.reshape(as_tensor(a), [shape] if isinstance(shape, int) else list(shape))


def ravel(a: Any, order: str = "C") -> Any:
    if not contains_symbolic(a):
        return _NP.ravel(a, order=order)
    if order not in ("C", "K", "A"):
        raise unsupported_argument("ravel", "order", order)
    return array_ops.reshape(as_tensor(a), [-1])


def squeeze(a: Any, axis: Any = None) -> Any:
    if not contains_symbolic(a):
        return _NP.squeeze(a, axis=axis)
    t = as_tensor(a)
    if axis is None:
        dims = _dims(t, "squeeze")
        return array_ops.reshape(t, [d for d in dims if d != 1])
    return array_ops.squeeze(t, axis=list(axis) if isinstance(axis, (tuple, list)) else [axis])


def expand_dims(a: Any, axis: Any) -> Any:
    if not contains_symbolic(a):
        return _NP.expand_dims(a, axis)
    t = as_tensor(a)
    axes = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    out_rank = _rank(t, "expand_dims") + len(axes)
    for ax in sorted(_norm_axis(x, out_rank, "expand_dims") for x in axes):
        t = array_ops.expand_dims(t, ax)
    return t


def transpose(a: Any, axes: Any = None) -> Any:
    if not contains_symbolic(a):
        return _NP.transpose(a, axes)
    t = as_tensor(a)
    rank = _rank(t, "transpose")
    perm = list(range(rank))[::-1] if axes is None else [_norm_axis(x, rank, "transpose") for x in axes]
    return array_ops.transpose(t, perm)


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    if not contains_symbolic(a):
        return _NP.swapaxes(a, axis1, axis2)
    t = as_tensor(a)
    rank = _rank(t, "swapaxes")
    perm = list(range(rank))
    i, j = _norm_axis(axis1, rank, "swapaxes"), _norm_axis(axis2, rank, "swapaxes")
    perm[i], perm[j] = perm[j], perm[i]
    return array_ops.transpose(t, perm)


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    if not contains_symbolic(a):
        return _NP.moveaxis(a, source, destination)
    t = as_tensor(a)
    rank = _rank(t, "moveaxis")
    src = [_norm_axis(s, rank, "moveaxis") for s in (source if isinstance(source, (list, tuple)) else [source])]
    dst = [
        _norm_axis(s, rank, "moveaxis")
        for s in (destination if isinstance(destination, (list, tuple)) else [destination])
    ]
    order = [n for n in range(rank) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return array_ops.transpose(t, order)


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    if not contains_symbolic(a):
        return _NP.rollaxis(a, axis, start)
    t = as_tensor(a)
    rank = _rank(t, "rollaxis")
    axis = _norm_axis(axis, rank, "rollaxis")
    start = start + rank if start < 0 else start
    if axis < start:
        start -= 1
    return moveaxis(t, axis, start) if axis != start else t


def matrix_transpose(x: Any) -> Any:
    if not contains_symbolic(x):
        return _NP.matrix_transpose(x)
    return swapaxes(x, -1, -2)


def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    if not contains_symbolic(array):
        return _NP.broadcast_to(array, shape, subok=subok)
    return array_ops.broadcast_to(as_tensor(array), [shape] if isinstance(shape, int) else list(shape))


def _atleast(name: str, numpy_fn: Callable[..., Any], n: int) -> Callable[..., Any]:
    def one(x: Any) -> Tensor:
        t = as_tensor(x)
        rank = _rank(t, name)
        if rank >= n:
            return t
        dims = _dims(t, name)
        if n == 3:
            new = {0: [1, 1, 1], 1: [1, *dims, 1], 2: [*dims, 1]}[rank]
        else:
            new = [1] * (n - rank) + dims
        return array_ops.reshape(t, new)

    def function(*arys: Any) -> Any:
        if not contains_symbolic(arys):
            return numpy_fn(*arys)
        out = [one(a) for a in arys]
        return out[0] if len(out) == 1 else tuple(out)

    function.__name__ = function.__qualname__ = name
    return function


atleast_1d = _atleast("atleast_1d", np.atleast_1d, 1)
atleast_2d = _atleast("atleast_2d", np.atleast_2d, 2)
atleast_3d = _atleast("atleast_3d", np.atleast_3d, 3)


def _common(arrays: Sequence[Any], dtype: Any) -> list[Tensor]:
    d = np.dtype(dtype) if dtype is not None else np.result_type(*[_leaf_dtype(a) for a in arrays])
    return [as_tensor(a, d) for a in arrays]


def concatenate(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """NumPy's ``concatenate`` (``axis=None`` concatenates the flattened arrays)."""
    if not contains_symbolic(arrays):
        return _NP.concatenate(arrays, axis=axis, out=out, dtype=dtype, casting=casting)
    check_defaults("concatenate", {"out": out}, {"out": None})
    parts = _common(list(arrays), dtype)
    if axis is None:
        parts, axis = [array_ops.reshape(p, [-1]) for p in parts], 0
    return array_ops.concat(parts, operator.index(axis))


def stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """NumPy's ``stack``: the arrays (tensors and numbers mixed) along a new axis."""
    if not contains_symbolic(arrays):
        return _NP.stack(arrays, axis=axis, out=out, dtype=dtype, casting=casting)
    check_defaults("stack", {"out": out}, {"out": None})
    parts = _common(list(arrays), dtype)
    rank = _rank(parts[0], "stack") + 1
    return array_ops.stack(parts, axis=_norm_axis(axis, rank, "stack"))


def vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    if not contains_symbolic(tup):
        return _NP.vstack(tup, dtype=dtype, casting=casting)
    parts = atleast_2d(*tup)
    return concatenate(list(parts) if isinstance(parts, tuple) else [parts], axis=0, dtype=dtype)


row_stack = vstack


def hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    if not contains_symbolic(tup):
        return _NP.hstack(tup, dtype=dtype, casting=casting)
    parts = atleast_1d(*tup)
    parts = list(parts) if isinstance(parts, tuple) else [parts]
    return concatenate(parts, axis=0 if _rank(parts[0], "hstack") == 1 else 1, dtype=dtype)


def dstack(tup: Any) -> Any:
    if not contains_symbolic(tup):
        return _NP.dstack(tup)
    parts = atleast_3d(*tup)
    return concatenate(list(parts) if isinstance(parts, tuple) else [parts], axis=2)


def column_stack(tup: Any) -> Any:
    if not contains_symbolic(tup):
        return _NP.column_stack(tup)
    parts = []
    for v in tup:
        t = as_tensor(v) if is_symbolic(v) else as_tensor(np.asarray(v))
        parts.append(array_ops.reshape(t, [-1, 1]) if _rank(t, "column_stack") < 2 else t)
    return concatenate(parts, axis=1)


def _split_sizes(n: int, indices_or_sections: Any, exact: bool, what: str) -> list[int]:
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if exact and n % sections:
            raise ValueError("array split does not result in an equal division")
        base, extra = divmod(n, sections)
        return [base + 1] * extra + [base] * (sections - extra)
    bounds = [0, *[builtins.min(builtins.max(int(i) if i >= 0 else int(i) + n, 0), n) for i in indices_or_sections], n]
    return [builtins.max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]


def _split(name: str, numpy_fn: Callable[..., Any], exact: bool, fixed_axis: int | None) -> Callable[..., Any]:
    def function(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
        if fixed_axis is not None:
            if not contains_symbolic(ary):
                return numpy_fn(ary, indices_or_sections)
        elif not contains_symbolic(ary):
            return numpy_fn(ary, indices_or_sections, axis=axis)
        t = as_tensor(ary)
        rank = _rank(t, name)
        ax = fixed_axis if fixed_axis is not None else axis
        if name == "hsplit" and rank == 1:
            ax = 0
        ax = _norm_axis(ax, rank, name)
        n = _dims(t, name)[ax]
        out, start = [], 0
        for size in _split_sizes(n, indices_or_sections, exact, name):
            out.append(_slice_along(t, ax, start, start + size))
            start += size
        return out

    function.__name__ = function.__qualname__ = name
    return function


split = _split("split", np.split, True, None)
array_split = _split("array_split", np.array_split, False, None)
hsplit = _split("hsplit", np.hsplit, True, 1)
vsplit = _split("vsplit", np.vsplit, True, 0)
dsplit = _split("dsplit", np.dsplit, True, 2)


def tile(A: Any, reps: Any) -> Any:  # noqa: N803 - NumPy's name
    if not contains_symbolic(A):
        return _NP.tile(A, reps)
    t = as_tensor(A)
    reps = [reps] if isinstance(reps, int) else list(reps)
    rank = _rank(t, "tile")
    if rank < len(reps):
        t = array_ops.reshape(t, [1] * (len(reps) - rank) + _dims(t, "tile"))
    reps = [1] * (_rank(t, "tile") - len(reps)) + reps
    return array_ops.tile(t, reps)


def repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    """NumPy's ``repeat`` (``repeats`` static: an int or a list of ints)."""
    if not contains_symbolic(a):
        return _NP.repeat(a, repeats, axis=axis)
    t = as_tensor(a)
    if axis is None:
        t, axis = array_ops.reshape(t, [-1]), 0
    rank = _rank(t, "repeat")
    axis = _norm_axis(axis, rank, "repeat")
    n = _dims(t, "repeat")[axis]
    index = np.repeat(np.arange(n), repeats)
    return indexing_ops.gather(t, as_tensor(index.astype(np.int64)), axis=axis)


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    if not contains_symbolic(a):
        return _NP.roll(a, shift, axis=axis)
    t = as_tensor(a)
    if axis is None:
        dims = _dims(t, "roll")
        return array_ops.reshape(roll(array_ops.reshape(t, [-1]), shift, 0), dims)
    shifts = list(shift) if isinstance(shift, (list, tuple)) else [shift]
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(axes) == 1:
        axes = axes * len(shifts)
    rank = _rank(t, "roll")
    for s, ax in zip(shifts, axes):
        ax = _norm_axis(ax, rank, "roll")
        n = _dims(t, "roll")[ax]
        s = int(s) % n if n else 0
        if s:
            t = array_ops.concat([_slice_along(t, ax, n - s, None), _slice_along(t, ax, 0, n - s)], ax)
    return t


def flip(m: Any, axis: Any = None) -> Any:
    if not contains_symbolic(m):
        return _NP.flip(m, axis)
    t = as_tensor(m)
    rank = _rank(t, "flip")
    axes = (
        list(range(rank))
        if axis is None
        else [_norm_axis(a, rank, "flip") for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    )
    return array_ops.reverse(t, axes) if axes else t


def fliplr(m: Any) -> Any:
    return _NP.fliplr(m) if not contains_symbolic(m) else flip(m, 1)


def flipud(m: Any) -> Any:
    return _NP.flipud(m) if not contains_symbolic(m) else flip(m, 0)


def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    if not contains_symbolic(m):
        return _NP.rot90(m, k, axes)
    t = as_tensor(m)
    rank = _rank(t, "rot90")
    a0, a1 = (_norm_axis(a, rank, "rot90") for a in axes)
    k %= 4
    if k == 0:
        return t
    if k == 2:
        return flip(flip(t, a0), a1)
    perm = list(range(rank))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return array_ops.transpose(flip(t, a1), perm)
    return flip(array_ops.transpose(t, perm), a1)


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """NumPy's ``pad`` with modes ``constant`` (scalar ``constant_values``), ``reflect`` and ``symmetric``."""
    if not contains_symbolic(array):
        return _NP.pad(array, pad_width, mode, **kwargs)
    t = as_tensor(array)
    rank = _rank(t, "pad")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (rank, 2)).tolist()
    if mode == "constant":
        check_defaults("pad", {k: v for k, v in kwargs.items() if k != "constant_values"}, {})
        value = kwargs.get("constant_values", 0)
        if np.ndim(value):
            raise unsupported_argument("pad", "constant_values", value)
        return array_ops.pad(t, widths, constant_values=np.asarray(value).astype(np_dtype(t)).item())
    if mode in ("reflect", "symmetric"):
        check_defaults("pad", kwargs, {"reflect_type": "even"})
        return array_ops.pad(t, widths, mode=mode.upper())
    raise unsupported_argument("pad", "mode", mode)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    if not contains_symbolic(a):
        return _NP.diagonal(a, offset, axis1, axis2)
    t = as_tensor(a)
    rank = _rank(t, "diagonal")
    t = moveaxis(t, [_norm_axis(axis1, rank, "diagonal"), _norm_axis(axis2, rank, "diagonal")], [-2, -1])
    if offset > 0:
        t = _slice_along(t, rank - 1, offset, None)
    elif offset < 0:
        t = _slice_along(t, rank - 2, -offset, None)
    return linalg_ops.diag_part(t)


def diag(v: Any, k: int = 0) -> Any:
    if not contains_symbolic(v):
        return _NP.diag(v, k)
    t = as_tensor(v)
    rank = _rank(t, "diag")
    if rank == 2:
        return diagonal(t, k)
    if rank != 1:
        raise ValueError("Input must be 1- or 2-d.")
    m = linalg_ops.diag(t)
    if k > 0:
        return array_ops.pad(m, [[0, k], [k, 0]])
    if k < 0:
        return array_ops.pad(m, [[-k, 0], [0, -k]])
    return m


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    if not contains_symbolic(a):
        return _NP.trace(a, offset, axis1, axis2, dtype, out)
    d = diagonal(a, offset, axis1, axis2)
    dt = np.dtype(dtype) if dtype is not None else np_dtype(d)
    if dtype is None and (dt.kind == "b" or (dt.kind == "i" and dt.itemsize < 8)):
        dt = np.dtype(np.int64)
    return reduction_ops.reduce_sum(as_tensor(d, dt), axis=-1)


def _triangle(name: str, numpy_fn: Callable[..., Any], lower: bool) -> Callable[..., Any]:
    def function(m: Any, k: int = 0) -> Any:
        if not contains_symbolic(m):
            return numpy_fn(m, k)
        t = as_tensor(m)
        dims = _dims(t, name)
        if len(dims) < 2:
            raise unsupported_argument(name, "an array of rank below 2", t.shape)
        keep = np.tri(dims[-2], dims[-1], k, dtype=bool) if lower else ~np.tri(dims[-2], dims[-1], k - 1, dtype=bool)
        return math_ops.where(as_tensor(np.broadcast_to(keep, dims)), t, array_ops.zeros_like(t))

    function.__name__ = function.__qualname__ = name
    return function


tril = _triangle("tril", np.tril, lower=True)
triu = _triangle("triu", np.triu, lower=False)


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = np._NoValue, append: Any = np._NoValue) -> Any:
    if not contains_symbolic(
        [a, None if prepend is np._NoValue else prepend, None if append is np._NoValue else append]
    ):
        return _NP.diff(a, n, axis, prepend, append)
    t = as_tensor(a)
    rank = _rank(t, "diff")
    axis = _norm_axis(axis, rank, "diff")
    if prepend is not np._NoValue or append is not np._NoValue:
        dims = _dims(t, "diff")
        parts = []
        for extra in (prepend, None, append):
            if extra is None:
                parts.append(t)
            elif extra is not np._NoValue:
                e = as_tensor(extra, np_dtype(t))
                if e.shape.rank == 0:
                    e = array_ops.broadcast_to(e, [1 if i == axis else d for i, d in enumerate(dims)])
                parts.append(e)
        t = array_ops.concat(parts, axis)
    for _ in range(n):
        t = _slice_along(t, axis, 1, None) - _slice_along(t, axis, None, -1)
    return t


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """NumPy's ``gradient`` (second-order central differences inside, first-order at the edges;
    scalar spacings)."""
    if not contains_symbolic([f, *varargs]):
        return _NP.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    if edge_order != 1:
        raise unsupported_argument("gradient", "edge_order", edge_order)
    t = as_tensor(f)
    if not t.dtype.is_floating:
        t = as_tensor(t, np.float64)
    rank = _rank(t, "gradient")
    axes = (
        list(range(rank))
        if axis is None
        else [_norm_axis(a, rank, "gradient") for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    )
    spacing = (
        list(varargs) if len(varargs) == len(axes) else list(varargs) * len(axes) if varargs else [1.0] * len(axes)
    )
    out = []
    for ax, h in zip(axes, spacing):
        if np.ndim(h) != 0:
            raise unsupported_argument("gradient", "coordinate arrays as spacing", "array")
        hh = as_tensor(np.asarray(h, dtype=np_dtype(t)))
        inner = (_slice_along(t, ax, 2, None) - _slice_along(t, ax, None, -2)) / (hh * 2)
        first = (_slice_along(t, ax, 1, 2) - _slice_along(t, ax, 0, 1)) / hh
        last = (_slice_along(t, ax, -1, None) - _slice_along(t, ax, -2, -1)) / hh
        out.append(array_ops.concat([first, inner, last], ax))
    return out[0] if len(out) == 1 else out


def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Any:
    """NumPy's ``sort``; differentiable (the gradient goes back through the permutation)."""
    if not contains_symbolic(a):
        return _NP.sort(a, axis=axis, kind=kind, order=order, stable=stable)
    t = as_tensor(a)
    if axis is None:
        t, axis = array_ops.reshape(t, [-1]), -1
    rank = _rank(t, "sort")
    return tf1_names.sort(t, axis=_norm_axis(axis, rank, "sort"))


def argsort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Any:
    if not contains_symbolic(a):
        return _NP.argsort(a, axis=axis, kind=kind, order=order, stable=stable)
    t = as_tensor(a)
    if axis is None:
        t, axis = array_ops.reshape(t, [-1]), -1
    rank = _rank(t, "argsort")
    return math_ops.cast(tf1_names.argsort(t, axis=_norm_axis(axis, rank, "argsort"), stable=True), np.int64)


def partition(a: Any, kth: Any, axis: int = -1, kind: str = "introselect", order: Any = None) -> Any:
    """NumPy's ``partition``; on tensors the fully sorted array (a valid partition for every ``kth``)."""
    if not contains_symbolic(a):
        return _NP.partition(a, kth, axis=axis, kind=kind, order=order)
    return sort(a, axis=axis)


def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    if not contains_symbolic([condlist, choicelist, default]):
        return _NP.select(condlist, choicelist, default)
    dtype = np.result_type(*[_leaf_dtype(c) for c in choicelist]) if choicelist else result_dtype(default)
    out = as_tensor(default, np.result_type(dtype, result_dtype(default)) if not is_symbolic(default) else dtype)
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        c = as_tensor(cond)
        out = math_ops.where(
            c,
            as_tensor(choice, dtype) + array_ops.zeros_like(out),
            out + array_ops.zeros_like(as_tensor(choice, dtype)),
        )
    return out


def append(arr: Any, values: Any, axis: Any = None) -> Any:
    if not contains_symbolic([arr, values]):
        return _NP.append(arr, values, axis=axis)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def shape(a: Any) -> tuple[Any, ...]:
    """NumPy's ``shape``; of a tensor its static shape as a tuple (None for unknown dimensions)."""
    if not contains_symbolic(a):
        return _NP.shape(a)
    t = as_tensor(a) if is_symbolic(a) else array(a)
    return tuple(t.shape.as_list())


def ndim(a: Any) -> int:
    if not contains_symbolic(a):
        return _NP.ndim(a)
    return _rank(as_tensor(a) if is_symbolic(a) else array(a), "ndim")


def size(a: Any, axis: Any = None) -> int:
    if not contains_symbolic(a):
        return _NP.size(a, axis)
    dims = _dims(as_tensor(a) if is_symbolic(a) else array(a), "size")
    return int(np.prod(dims if axis is None else [dims[axis]], dtype=np.int64))


def result_type(*arrays_and_dtypes: Any) -> np.dtype:
    return _NP.result_type(*[np_dtype(as_tensor(a)) if is_symbolic(a) else a for a in arrays_and_dtypes])


FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        array, asarray, asanyarray, ascontiguousarray, copy, zeros_like, ones_like, empty_like, full, full_like,
        linspace, reshape, ravel, squeeze, expand_dims, transpose, swapaxes, moveaxis, rollaxis, matrix_transpose,
        broadcast_to, atleast_1d, atleast_2d, atleast_3d, concatenate, stack, vstack, hstack, dstack, column_stack,
        split, array_split, hsplit, vsplit, dsplit, tile, repeat, roll, flip, fliplr, flipud, rot90, pad, diagonal,
        diag, trace, tril, triu, diff, gradient, sort, argsort, partition, select, append, shape, ndim, size,
        result_type,
    )
}  # fmt: skip
FUNCTIONS["row_stack"] = vstack
FUNCTIONS["concat"] = concatenate
FUNCTIONS["permute_dims"] = transpose
