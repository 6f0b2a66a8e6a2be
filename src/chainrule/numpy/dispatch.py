"""The two paths of every ``chainrule.numpy`` function: NumPy itself, or chainrule ops.

A function of this namespace looks at its array arguments once: when none is *symbolic* (a
``cr.Tensor``, or a tensor-like object such as a ``cr.Variable``) it calls NumPy and returns
NumPy's result; otherwise it builds chainrule ops, after promoting the operands to the dtype
NumPy would compute in (Python scalars weak, NumPy arrays strong, float64 the default float).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.framework import dtypes, errors
from chainrule.framework.graph import Tensor, as_tensor_or_none, is_tensor_like
from chainrule.ops import math_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.state_ops import Variable

# The classes whose instances stand for tensors; checked with one isinstance on the eager path.
SYMBOLIC: tuple[type, ...] = (Tensor, Variable)
_PY_SCALARS = (bool, int, float, complex)
# Types that are never symbolic, looked up by ``type(x)`` first: the eager path's common arguments.
PLAIN: frozenset[type] = frozenset(
    {np.ndarray, bool, int, float, complex, str, type(None), slice, type(Ellipsis)}
    | {np.dtype(c).type for c in "?bhilqBHILQefdgFDG"}
)
_NOT_TENSOR_LIKE = (np.ndarray, np.generic, *_PY_SCALARS)


def is_symbolic(x: Any) -> bool:
    """Whether ``x`` is a Tensor or stands for one (a Variable)."""
    if type(x) in PLAIN:
        return False
    return isinstance(x, SYMBOLIC) or (not isinstance(x, _NOT_TENSOR_LIKE) and is_tensor_like(x))


def contains_symbolic(value: Any) -> bool:
    """Whether ``value`` is symbolic or a (nested) list/tuple/dict holding a symbolic value."""
    t = type(value)
    if t in PLAIN:
        return False
    if t is list or t is tuple:
        for v in value:
            if contains_symbolic(v):
                return True
        return False
    if isinstance(value, dict):
        return contains_symbolic(list(value.values()))
    return is_symbolic(value)


def eager_first(name: str, numpy_fn: Callable[..., Any], symbolic: Callable[..., Any]) -> Callable[..., Any]:
    """``numpy_fn`` when the first argument (the only one that may be a tensor) is not symbolic, else
    ``symbolic``; the eager call passes the arguments on untouched (no defaults filled in)."""

    def function(a: Any, *args: Any, **kwargs: Any) -> Any:
        if type(a) in PLAIN or not contains_symbolic(a):
            return numpy_fn(a, *args, **kwargs)
        return symbolic(a, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = symbolic.__doc__
    function.__wrapped__ = symbolic  # type: ignore[attr-defined]
    return function


def numpy_dtype_of(x: Any) -> Any:
    """What NumPy's promotion sees for ``x``: a ``numpy.dtype``, or the Python type of a weak scalar."""
    t = as_tensor_or_none(x) if isinstance(x, SYMBOLIC) else None
    if t is not None:
        return np.dtype(t.dtype.as_numpy_dtype)
    if type(x) in (int, float, complex):
        return type(x)
    if type(x) is bool:
        return np.dtype(bool)
    return np.asarray(x).dtype


def result_dtype(*values: Any) -> np.dtype:
    """NumPy's result type of ``values`` (tensors by their dtype, Python scalars weak)."""
    parts = [numpy_dtype_of(v) for v in values]
    return np.result_type(*[p if isinstance(p, np.dtype) else p(0) for p in parts])


def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    """``x`` as a tensor of ``dtype`` (a numpy dtype; None: keep its own), casting a tensor of another dtype."""
    t = as_tensor_or_none(x)
    if t is None:
        value = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
        if value.dtype == object:
            raise TypeError(f"cannot convert {type(x).__name__} to an array")
        return convert_to_tensor(value)
    if dtype is not None and np.dtype(t.dtype.as_numpy_dtype) != np.dtype(dtype):
        return math_ops.cast(t, dtypes.as_dtype(np.dtype(dtype)))
    return t


def as_tensors(values: Sequence[Any], dtype: Any) -> list[Tensor]:
    return [as_tensor(v, dtype) for v in values]


def np_dtype(t: Tensor) -> np.dtype:
    return np.dtype(t.dtype.as_numpy_dtype)


@functools.lru_cache(maxsize=4096)
def ufunc_loop(ufunc: np.ufunc, operand_dtypes: tuple[Any, ...]) -> tuple[np.dtype, ...]:
    """The dtypes NumPy's ``ufunc`` computes in for these operands: (input dtypes..., output dtype)."""
    return tuple(ufunc.resolve_dtypes((*operand_dtypes, None)))


def unsupported_argument(function: str, argument: str, value: Any) -> errors.UnimplementedError:
    return errors.UnimplementedError(
        None,
        None,
        f"chainrule.numpy.{function}: the argument {argument}={value!r} is not supported on chainrule tensors "
        "(it is on NumPy arrays, where NumPy computes the result).",
    )


def check_defaults(function: str, given: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Raise for a keyword argument that the tensor path does not implement and that was given a non-default value."""
    for key, value in given.items():
        if key not in defaults:
            raise TypeError(f"chainrule.numpy.{function}() got an unexpected keyword argument {key!r}")
        default = defaults[key]
        if value is not default and not (default is not None and value is not None and _same(value, default)):
            raise unsupported_argument(function, key, value)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an array compared with a default: not the default
        return False


def not_on_tensors(name: str, numpy_function: Callable[..., Any]) -> Callable[..., Any]:
    """A NumPy function chainrule does not differentiate: NumPy's result on arrays, an error on tensors."""

    @functools.wraps(numpy_function)
    def function(*args: Any, **kwargs: Any) -> Any:
        if contains_symbolic(args) or contains_symbolic(kwargs):
            raise errors.UnimplementedError(
                None,
                None,
                f"chainrule.numpy.{name} is not supported on chainrule tensors (it builds no op, so its result "
                "would be detached from the graph). On NumPy arrays it is NumPy's function. See "
                "chainrule.numpy.coverage for the functions that are supported.",
            )
        return numpy_function(*args, **kwargs)

    function.__chainrule_unsupported__ = True  # type: ignore[attr-defined]
    return function
