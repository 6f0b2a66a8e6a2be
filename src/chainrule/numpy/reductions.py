"""NumPy's reductions and scans on tensors: sum, mean, prod, max, min, std, var, cumsum, arg*, all, any."""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.framework.graph import Tensor
from chainrule.numpy.dispatch import (
    as_tensor,
    check_defaults,
    contains_symbolic,
    eager_first,
    np_dtype,
    unsupported_argument,
)
from chainrule.ops import array_ops, math_ops, reduction_ops

_REDUCE_DEFAULTS = {"out": None, "initial": np._NoValue, "where": True}


def _axis(axis: Any) -> Any:
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        return [operator.index(a) for a in axis]
    return operator.index(axis)


def _accumulating_dtype(t: Tensor, dtype: Any) -> np.dtype:
    """The dtype NumPy's sum/prod/cumsum accumulate in: ``dtype``, else bools and small ints widened."""
    if dtype is not None:
        return np.dtype(dtype)
    d = np_dtype(t)
    if d.kind == "b" or (d.kind == "i" and d.itemsize < 8):
        return np.dtype(np.int64)
    if d.kind == "u" and d.itemsize < 8:
        return np.dtype(np.uint64)
    return d


def _mean_dtype(t: Tensor, dtype: Any) -> np.dtype:
    if dtype is not None:
        return np.dtype(dtype)
    d = np_dtype(t)
    return d if d.kind in "fc" else np.dtype(np.float64)


def _reduction(
    name: str, numpy_fn: Callable[..., Any], build: Callable[..., Tensor], accumulate: bool
) -> Callable[..., Any]:
    def function(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any
    ) -> Any:
        if not contains_symbolic(a):
            extra = {"keepdims": keepdims} if keepdims else {}
            return numpy_fn(a, axis=axis, dtype=dtype, out=out, **extra, **kwargs)
        check_defaults(name, {"out": out, **kwargs}, _REDUCE_DEFAULTS)
        t = as_tensor(a)
        t = as_tensor(t, _accumulating_dtype(t, dtype) if accumulate else _mean_dtype(t, dtype))
        return build(t, axis=_axis(axis), keepdims=bool(keepdims))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"NumPy's ``{name}``; on chainrule tensors, a differentiable reduction."
    return eager_first(name, numpy_fn, function)


sum = _reduction("sum", np.sum, reduction_ops.reduce_sum, accumulate=True)  # noqa: A001 - NumPy's name
prod = _reduction("prod", np.prod, reduction_ops.reduce_prod, accumulate=True)
mean = _reduction("mean", np.mean, reduction_ops.reduce_mean, accumulate=False)


def _extremum(name: str, numpy_fn: Callable[..., Any], build: Callable[..., Tensor]) -> Callable[..., Any]:
    def function(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        if not contains_symbolic(a):
            extra = {"keepdims": keepdims} if keepdims else {}
            return numpy_fn(a, axis=axis, out=out, **extra, **kwargs)
        check_defaults(name, {"out": out, **kwargs}, _REDUCE_DEFAULTS)
        t = as_tensor(a)
        if t.dtype.is_bool:
            t = math_ops.cast(t, np.int8)
            return math_ops.cast(build(t, axis=_axis(axis), keepdims=bool(keepdims)), np.bool_)
        return build(t, axis=_axis(axis), keepdims=bool(keepdims))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"NumPy's ``{name}``; on tensors the gradient is shared evenly among tied maxima (autograd's rule)."
    )
    return eager_first(name, numpy_fn, function)


max = _extremum("max", np.max, reduction_ops.reduce_max)  # noqa: A001 - NumPy's name
min = _extremum("min", np.min, reduction_ops.reduce_min)  # noqa: A001 - NumPy's name
amax = _extremum("amax", np.amax, reduction_ops.reduce_max)
amin = _extremum("amin", np.amin, reduction_ops.reduce_min)


def _moment(name: str, numpy_fn: Callable[..., Any], root: bool) -> Callable[..., Any]:
    def function(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        ddof: int = 0,
        keepdims: bool = False,
        **kwargs: Any,
    ) -> Any:
        if not contains_symbolic(a):
            extra = {"keepdims": keepdims} if keepdims else {}
            return numpy_fn(a, axis=axis, dtype=dtype, out=out, ddof=ddof, **extra, **kwargs)
        check_defaults(
            name, {"out": out, **kwargs}, {**_REDUCE_DEFAULTS, "mean": np._NoValue, "correction": np._NoValue}
        )
        t = as_tensor(as_tensor(a), _mean_dtype(as_tensor(a), dtype))
        ax = _axis(axis)
        centered = t - reduction_ops.reduce_mean(t, axis=ax, keepdims=True)
        if t.dtype.is_complex:
            squares = math_ops.real(centered * math_ops.conj(centered))
        else:
            squares = math_ops.square(centered)
        total = reduction_ops.reduce_sum(squares, axis=ax, keepdims=bool(keepdims))
        count = _count(t, ax)
        var = total / as_tensor(np.asarray(count - ddof, dtype=np_dtype(total)))
        return math_ops.sqrt(var) if root else var

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"NumPy's ``{name}`` (``ddof`` supported); on tensors, differentiable."
    return eager_first(name, numpy_fn, function)


def _count(t: Tensor, axis: Any) -> int:
    dims = t.shape.as_list() if t.shape.rank is not None else None
    if dims is None or builtins.any(d is None for d in dims):
        raise unsupported_argument("var", "a of unknown shape", t.shape)
    known = [int(d) for d in dims if d is not None]
    if axis is None:
        return int(np.prod(known, dtype=np.int64))
    axes = [axis] if isinstance(axis, int) else axis
    return int(np.prod([known[a] for a in axes], dtype=np.int64))


var = _moment("var", np.var, root=False)
std = _moment("std", np.std, root=True)


def _scan(name: str, numpy_fn: Callable[..., Any], build: Callable[..., Tensor]) -> Callable[..., Any]:
    def function(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        if not contains_symbolic(a):
            return numpy_fn(a, axis=axis, dtype=dtype, out=out)
        check_defaults(name, {"out": out}, {"out": None})
        t = as_tensor(a)
        t = as_tensor(t, _accumulating_dtype(t, dtype))
        if axis is None:
            t, axis = array_ops.reshape(t, [-1]), 0
        return build(t, axis=operator.index(axis))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"NumPy's ``{name}``; ``axis=None`` scans the flattened array."
    return eager_first(name, numpy_fn, function)


cumsum = _scan("cumsum", np.cumsum, reduction_ops.cumsum)
cumprod = _scan("cumprod", np.cumprod, reduction_ops.cumprod)


def _arg(name: str, numpy_fn: Callable[..., Any], build: Callable[..., Tensor]) -> Callable[..., Any]:
    def function(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        if not contains_symbolic(a):
            return numpy_fn(a, axis=axis, out=out, keepdims=keepdims)
        check_defaults(name, {"out": out}, {"out": None})
        t = as_tensor(a)
        if axis is None:
            result = build(array_ops.reshape(t, [-1]), axis=0)
            return array_ops.reshape(result, [1] * t.shape.rank) if keepdims and t.shape.rank is not None else result
        result = build(t, axis=operator.index(axis))
        return array_ops.expand_dims(result, operator.index(axis)) if keepdims else result

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"NumPy's ``{name}`` (int64 indices; not differentiable)."
    return eager_first(name, numpy_fn, function)


argmax = _arg("argmax", np.argmax, reduction_ops.argmax)
argmin = _arg("argmin", np.argmin, reduction_ops.argmin)


def _logical_reduction(name: str, numpy_fn: Callable[..., Any], build: Callable[..., Tensor]) -> Callable[..., Any]:
    def function(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        if not contains_symbolic(a):
            extra = {"keepdims": keepdims} if keepdims else {}
            return numpy_fn(a, axis=axis, out=out, **extra, **kwargs)
        check_defaults(name, {"out": out, **kwargs}, {"out": None, "where": True})
        t = as_tensor(a)
        if not t.dtype.is_bool:
            t = math_ops.not_equal(t, as_tensor(np.zeros((), np_dtype(t))))
        return build(t, axis=_axis(axis), keepdims=bool(keepdims))

    function.__name__ = function.__qualname__ = name
    return eager_first(name, numpy_fn, function)


all = _logical_reduction("all", np.all, reduction_ops.reduce_all)  # noqa: A001 - NumPy's name
any = _logical_reduction("any", np.any, reduction_ops.reduce_any)  # noqa: A001 - NumPy's name


def count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    """NumPy's ``count_nonzero`` (int64 counts)."""
    if not contains_symbolic(a):
        return np.count_nonzero(a, axis=axis, keepdims=keepdims)
    t = as_tensor(a)
    nonzero = t if t.dtype.is_bool else math_ops.not_equal(t, as_tensor(np.zeros((), np_dtype(t))))
    return reduction_ops.reduce_sum(math_ops.cast(nonzero, np.int64), axis=_axis(axis), keepdims=keepdims)


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """NumPy's ``ptp``: ``max - min``."""
    if not contains_symbolic(a):
        return np.ptp(a, axis=axis, out=out, keepdims=keepdims)
    return max(a, axis=axis, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        sum,
        prod,
        mean,
        max,
        min,
        amax,
        amin,
        var,
        std,
        cumsum,
        cumprod,
        argmax,
        argmin,
        all,
        any,
        count_nonzero,
        ptp,
    )  # fmt: skip
}
