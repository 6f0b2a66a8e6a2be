"""NumPy's indexing on tensors: ``x[key]`` with int arrays, bool masks, Ellipsis, None, slices of any
step, and mixtures (NumPy's advanced-indexing rules).

The basic part of a key (slices, None, Ellipsis, plain ints when no array index is present) is one
``StridedSlice``. Array indices (ints, or static bool masks turned into their nonzero positions) are
broadcast together and read with one ``GatherNd`` after moving the indexed axes to the front; the
result's axes are then placed where NumPy puts them (at the first indexed axis when the array
indices are adjacent, else in front). Both ops have gradients, JVPs and batching rules.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule.framework.graph import Tensor
from chainrule.numpy.dispatch import as_tensor, is_symbolic
from chainrule.ops import array_ops, indexing_ops, math_ops, selection_ops

# NumPy for the eager path, untyped: its arguments are the caller's, passed on as given.
_NP: Any = np


def _is_basic(k: Any) -> bool:
    if k is None or k is Ellipsis or isinstance(k, builtins.slice):
        return True
    if isinstance(k, (bool, np.bool_)):
        return False
    if isinstance(k, (int, np.integer)):
        return True
    if isinstance(k, np.ndarray):
        return k.ndim == 0 and k.dtype.kind in "iu"
    if is_symbolic(k):
        t = as_tensor(k)
        return t.shape.rank == 0 and t.dtype.is_integer
    return False


def getitem(x: Any, key: Any) -> Tensor:
    """``x[key]`` with NumPy's semantics (see the module docstring)."""
    t = as_tensor(x)
    parts = list(key) if isinstance(key, tuple) else [key]
    if builtins.all(_is_basic(k) for k in parts):
        return indexing_ops.getitem(t, key)
    if len(parts) == 1 and is_symbolic(parts[0]) and as_tensor(parts[0]).dtype.is_bool:
        return selection_ops.boolean_mask(t, as_tensor(parts[0]))
    return _advanced(t, parts)


def _expand(t: Tensor, parts: list[Any]) -> list[Any]:
    """The key with the Ellipsis written out and each static bool mask as its nonzero int arrays."""
    out: list[Any] = []
    for k in parts:
        if isinstance(k, (bool, np.bool_)):
            raise TypeError(
                "a scalar bool index (x[True]) is not supported on tensors; index with int arrays (or use "
                "cr.gather) or with a bool mask of the indexed dimensions"
            )
        if is_symbolic(k):
            kt = as_tensor(k)
            if kt.dtype.is_bool:
                raise IndexError(
                    "chainrule.numpy: a bool tensor mask can only be the whole index (x[mask]); the shape of a "
                    "mixed index would depend on the mask's values"
                )
            out.append(kt)
            continue
        if isinstance(k, (list, tuple, np.ndarray)):
            arr = np.asarray(k)
            if arr.dtype.kind == "b":
                out.extend(np.nonzero(arr))
                continue
            if arr.dtype.kind not in "iu" and arr.size:
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            out.append(arr.astype(np.int64))
            continue
        out.append(k)
    rank = t.shape.rank
    if rank is None:
        raise IndexError("chainrule.numpy: advanced indexing needs a tensor of known rank")
    consumed = builtins.sum(1 for k in out if k is not None and k is not Ellipsis)
    if consumed > rank:
        raise IndexError(f"too many indices for array: array is {rank}-dimensional, but {consumed} were indexed")
    if builtins.sum(1 for k in out if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if Ellipsis in [k for k in out if not isinstance(k, (np.ndarray, Tensor))]:
        i = next(i for i, k in enumerate(out) if k is Ellipsis)
        out[i : i + 1] = [builtins.slice(None)] * (rank - consumed)
    else:
        out += [builtins.slice(None)] * (rank - consumed)
    return out


def _advanced(t: Tensor, parts: list[Any]) -> Tensor:
    key = _expand(t, parts)
    basic: list[Any] = []
    arrays: list[tuple[int, Any]] = []  # (axis of the basic-sliced tensor, index array)
    axis = 0
    for k in key:
        if k is None or isinstance(k, builtins.slice):
            basic.append(k)
            axis += 1
        else:  # an int or an int array: both are array indices in an advanced key
            basic.append(builtins.slice(None))
            arrays.append((axis, k))
            axis += 1
    sliced = builtins.any(k is None or k != builtins.slice(None) for k in basic)
    y = indexing_ops.getitem(t, tuple(basic)) if sliced else t
    dims = y.shape.as_list()
    positions = [p for p, _ in arrays]
    indices: list[Any] = []
    for p, k in arrays:
        n = dims[p]
        if is_symbolic(k):
            idx = math_ops.cast(as_tensor(k), np.int64)
            if n is not None:
                idx = math_ops.where(math_ops.less(idx, as_tensor(np.int64(0))), idx + as_tensor(np.int64(n)), idx)
            indices.append(idx)
        else:
            arr = np.asarray(k, dtype=np.int64)
            if n is not None:
                if arr.size and (arr.max() >= n or arr.min() < -n):
                    bad = int(arr.max() if arr.max() >= n else arr.min())
                    raise IndexError(f"index {bad} is out of bounds for axis {p} with size {n}")
                arr = np.where(arr < 0, arr + n, arr)
            indices.append(arr)
    static = [i for i in indices if not isinstance(i, Tensor)]
    shapes = [tuple(i.shape) for i in static] + [tuple(i.shape.as_list()) for i in indices if isinstance(i, Tensor)]
    batch = list(_NP.broadcast_shapes(*shapes))
    stacked = [
        as_tensor(np.broadcast_to(i, batch)) if not isinstance(i, Tensor) else array_ops.broadcast_to(i, batch)
        for i in indices
    ]
    rest = [a for a in range(len(dims)) if a not in positions]
    moved = array_ops.transpose(y, positions + rest) if positions + rest != list(range(len(dims))) else y
    out = indexing_ops.gather_nd(moved, array_ops.stack(stacked, axis=-1))
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    first = positions[0]
    if adjacent and first > 0:
        b = len(batch)
        perm = list(range(b, b + first)) + list(range(b)) + list(range(b + first, b + len(rest)))
        out = array_ops.transpose(out, perm)
    return out


def take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    """NumPy's ``take`` (``mode="raise"``)."""
    if not (is_symbolic(a) or is_symbolic(indices)):
        return _NP.take(a, indices, axis=axis, out=out, mode=mode)
    t = as_tensor(a)
    if axis is None:
        t, axis = array_ops.reshape(t, [-1]), 0
    idx = indices if is_symbolic(indices) else np.asarray(indices, dtype=np.int64)
    key: list[Any] = [builtins.slice(None)] * (t.shape.rank or 0)
    key[axis] = idx
    return getitem(t, tuple(key))
