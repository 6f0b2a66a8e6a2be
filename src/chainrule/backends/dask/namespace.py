"""The array module the Dask backend's kernels run with: dask.array where a value is lazy, NumPy elsewhere.

A kernel's call ``xp.f(*args)`` goes to ``dask.array.f`` when one of its arguments (looked for in
lists and tuples too, as ``concatenate`` takes them) is a dask array, and to ``numpy.f`` otherwise.
So what depends on the data (a feed) is built lazily and computed once per run, while constants,
shapes and arithmetic on the variables alone stay small eager NumPy values: a shape that a later
kernel reads with ``int()`` is never a dask array to compute. Names dask does not have raise
AttributeError on lazy arguments, which the plan reports naming the op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np

__all__ = ["DASK_NUMPY", "Namespace", "is_lazy"]


def is_lazy(value: Any) -> bool:
    """Whether ``value`` is a dask array, or a list or tuple holding one."""
    if isinstance(value, da.Array):
        return True
    if isinstance(value, (list, tuple)):
        return any(is_lazy(v) for v in value)
    return False


class Namespace:
    """``dask.array`` and NumPy behind NumPy's names, dispatching each call on its arguments."""

    def __init__(self, lazy: Any = da, eager: Any = np, name: str = "chainrule.backends.dask.namespace") -> None:
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
        lazy = getattr(self._lazy, name, None)
        if isinstance(eager, type(np)):  # a sub-namespace: linalg, fft
            return Namespace(lazy if lazy is not None else _Missing(name), eager, f"{self.__name__}.{name}")
        if not callable(eager) or isinstance(eager, type):  # dtypes, constants (pi, newaxis, inf)
            return eager
        return _dispatcher(name, eager, lazy)

    def __repr__(self) -> str:
        return f"<array namespace {self.__name__}: dask.array on lazy values, NumPy otherwise>"


class _Missing:
    """A sub-namespace dask does not have (every name missing)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, name: str) -> Any:
        return None


def _dispatcher(name: str, eager: Callable[..., Any], lazy: Callable[..., Any] | None) -> Callable[..., Any]:
    @functools.wraps(eager)
    def call(*args: Any, **kwargs: Any) -> Any:
        if not (any(is_lazy(a) for a in args) or any(is_lazy(v) for v in kwargs.values())):
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
