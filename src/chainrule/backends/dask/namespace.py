"""The array module the Dask backend's kernels run with: dask.array where a value is lazy, NumPy elsewhere.

A kernel's call ``xp.f(*args)`` goes to ``dask.array.f`` when one of its arguments (looked for in
lists and tuples too, as ``concatenate`` takes them) is a dask array, and to ``numpy.f`` otherwise.
So what depends on the data (a feed) is built lazily and computed once per run, while constants,
shapes and arithmetic on the variables alone stay small eager NumPy values: a shape that a later
kernel reads with ``int()`` is never a dask array to compute. Names dask does not have raise
AttributeError on lazy arguments; the backend then runs the op's kernel as one task. Arrays made
from a shape alone are lazy too when they are large (``LARGE`` elements).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np

__all__ = ["DASK_NUMPY", "LARGE", "Namespace", "is_lazy"]

# Arrays made from a shape alone (``broadcast_to(g, shape)``, ``full(shape, v)``: a gradient spread
# over the batch) with at least this many elements are made lazily, chunked by dask, so a
# batch-sized array is neither built on the client nor sent with the graph.
LARGE = 1 << 20
_FROM_SHAPE = {"broadcast_to": 1, "full": 0, "ones": 0, "zeros": 0, "empty": 0}  # name: the shape argument


def is_lazy(value: Any) -> bool:
    """Whether ``value`` is a dask array, or a list or tuple holding one."""
    if isinstance(value, da.Array):
        return True
    if isinstance(value, (list, tuple)):
        return any(is_lazy(v) for v in value)
    return False


class Namespace:
    """``dask.array`` and NumPy behind NumPy's names, dispatching each call on its arguments."""

    def __init__(self, lazy: Any = da, eager: Any = np, name: str = "") -> None:
        self._lazy = lazy
        self._eager = eager
        self.__name__ = name
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        cache = self.__dict__["_cache"]
        if name not in cache:
            cache[name] = self._resolve(name)
        return cache[name]

    def _resolve(self, name: str) -> Any:
        eager = getattr(self._eager, name)
        lazy = getattr(self._lazy, name, None) if self._lazy is not None else None
        if isinstance(eager, type(np)):  # a sub-namespace: linalg, fft
            if name == "linalg":
                # dask's linalg needs square chunks and differs from NumPy's (its cholesky is upper
                # triangular): on lazy values these kernels run as one task (``DaskBackend.wrap_kernel``).
                lazy = None
            return Namespace(lazy, eager, f"{self.__name__}.{name}" if self.__name__ else name)
        if not callable(eager) or isinstance(eager, type):  # dtypes, constants (pi, newaxis, inf)
            return eager
        return _dispatcher(name, eager, lazy)

    def __reduce__(self) -> Any:  # a kernel sent to a worker refers to the worker's own namespace
        return (_namespace, (self.__name__,))

    def __repr__(self) -> str:
        return f"<array namespace {self.__name__ or 'xp'}: dask.array on lazy values, NumPy otherwise>"


def _namespace(name: str) -> Namespace:
    """``DASK_NUMPY`` or its sub-namespace ``name`` (``"linalg"``)."""
    namespace = DASK_NUMPY
    for part in filter(None, name.split(".")):
        namespace = getattr(namespace, part)
    return namespace


def _large(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a call making an array from a shape (``_FROM_SHAPE``) makes a large one."""
    position = _FROM_SHAPE.get(name)
    if position is None:
        return False
    shape = args[position] if len(args) > position else kwargs.get("shape")
    if shape is None:
        return False
    try:
        return int(np.prod(shape)) >= LARGE
    except (TypeError, ValueError):
        return False


def _dispatcher(name: str, eager: Callable[..., Any], lazy: Callable[..., Any] | None) -> Callable[..., Any]:
    @functools.wraps(eager)
    def call(*args: Any, **kwargs: Any) -> Any:
        if not (any(is_lazy(a) for a in args) or any(is_lazy(v) for v in kwargs.values())):
            if lazy is not None and _large(name, args, kwargs):
                return lazy(*args, **kwargs)
            return eager(*args, **kwargs)
        if lazy is None:
            raise AttributeError(f"dask.array has no {name!r}: this op cannot run on chunked (dask) arrays")
        return lazy(*args, **kwargs)

    # ufunc methods (``xp.add.at``, ``xp.maximum.reduce``) are NumPy's; on lazy arrays they raise.
    for method in ("at", "reduce", "accumulate", "outer", "reduceat"):
        if hasattr(eager, method):
            setattr(call, method, getattr(eager, method))
    return call


DASK_NUMPY = Namespace()
