"""NumPy's API over array-api-strict arrays: finds the NumPy-only calls inside kernels on a CPU.

The kernels are written against an array module ``xp`` with NumPy's names (``xp.divide``,
``x.astype``), the API that CuPy and ``dask.array`` implement. ``STRICT_NUMPY`` is such a module
whose arrays are array-api-strict arrays (``array_api_strict.Array``), not NumPy arrays; each of its
functions and array methods runs NumPy's on the array's data explicitly, so a kernel that goes
through ``xp`` works. Inside ``refusing_numpy()`` an array-api-strict array refuses to become a
NumPy array implicitly (``__array__``, the buffer protocol raise, as CuPy's arrays do), so a kernel
that calls ``np.<function>`` on its data, or mixes in a NumPy array it made itself, fails there,
naming the op; a kernel that returns a NumPy array instead of one of the module's is caught by
the caller's output check (``tests/backends/test_strict_namespace.py``).

Within ``refusing_numpy()`` the arrays also take NumPy's operators, methods and dtypes (``a + b``,
``a[i]``, ``a.astype``, ``a.dtype.kind``), as CuPy's do, so what is checked is the property a GPU
module has and NumPy's arrays lack: the data is not a NumPy array. A NumPy array passed to one of
the module's functions or operators (one a kernel made with ``np.*``) is refused as CuPy refuses
it; NumPy scalars and Python numbers are accepted.

Needs the ``array-api-strict`` package (in the ``test`` extra); importing ``chainrule`` does not
import this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import array_api_strict
import numpy as np

__all__ = ["ARRAY", "STRICT_NUMPY", "StrictNumPy", "from_numpy", "refusing_numpy", "to_numpy"]

ARRAY: Any = type(array_api_strict.asarray(0.0))
_CPU = array_api_strict.Device("CPU_DEVICE")


def from_numpy(value: Any) -> Any:
    """A NumPy array or scalar as an array-api-strict array (a copy); other values as they are."""
    if isinstance(value, (np.ndarray, np.generic)):
        return ARRAY._new(np.array(value), device=_CPU)
    if isinstance(value, tuple):
        return tuple(from_numpy(v) for v in value)
    if isinstance(value, list):
        return [from_numpy(v) for v in value]
    return value


def to_numpy(value: Any) -> Any:
    """An array-api-strict array's data as a NumPy array (explicitly: not an implicit conversion)."""
    if isinstance(value, ARRAY):
        return value._array
    if isinstance(value, tuple):
        return tuple(to_numpy(v) for v in value)
    if isinstance(value, list):
        return [to_numpy(v) for v in value]
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if type(value).__module__ == "array_api_strict._dtypes":
        return np.dtype(value._np_dtype)
    return value


# Functions that take data to make an array from: a NumPy array is a fine argument to them.
_FROM_DATA = frozenset({"asarray", "array", "asanyarray", "ascontiguousarray", "from_dlpack"})


def _has_numpy_array(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_numpy_array(v) for v in value)
    if isinstance(value, dict):
        return any(_has_numpy_array(v) for v in value.values())
    return False


def _numpy_call(fn: Any, name: str = "", takes_numpy: bool = False) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if not takes_numpy and (_has_numpy_array(args) or _has_numpy_array(kwargs)):
            # CuPy's functions and operators refuse NumPy arrays too: the kernel made one with np.*.
            raise TypeError(
                f"NumPy-only: a NumPy array was passed to {name or 'an array operation'} with the module's arrays"
            )
        return from_numpy(fn(*to_numpy(args), **to_numpy(kwargs)))

    return call


class StrictNumPy:
    """A module-like namespace: NumPy's functions, taking and returning array-api-strict arrays."""

    def __init__(self, module: Any = np, name: str = "strict_numpy") -> None:
        self._module = module
        self.__name__ = name
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        cache = self.__dict__["_cache"]
        if name not in cache:
            obj = getattr(self._module, name)
            label = f"xp.{name}"
            if isinstance(obj, type(np)):
                cache[name] = StrictNumPy(obj, f"{self.__name__}.{name}")
            elif isinstance(obj, np.ufunc):
                call = _numpy_call(obj, label)
                for method in ("at", "reduce", "accumulate", "outer", "reduceat"):
                    setattr(call, method, _numpy_call(getattr(obj, method), f"{label}.{method}"))
                cache[name] = call
            elif callable(obj) and not isinstance(obj, type):
                cache[name] = _numpy_call(obj, label, takes_numpy=name in _FROM_DATA)
            else:  # dtypes, scalar types, constants (pi, inf, newaxis)
                cache[name] = obj
        return cache[name]

    def __repr__(self) -> str:
        return f"<{self.__name__}: NumPy's API over array-api-strict arrays>"


STRICT_NUMPY = StrictNumPy()


def _refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(
        "NumPy-only call: an array-API array was converted to a NumPy array implicitly "
        "(a kernel called NumPy on its data instead of the array module xp)"
    )


def _method(self: Any, name: str) -> Any:
    """NumPy's array methods and attributes (``astype``, ``reshape``, ``real``...) the standard's array lacks."""
    if name.startswith("_"):
        raise AttributeError(name)
    value = getattr(self._array, name)
    return _numpy_call(value, f".{name}") if callable(value) else from_numpy(value)


# NumPy's operators, forwarded to the data (refusing NumPy array operands, as CuPy does).
_OPERATORS = [
    f"__{op}__"
    for base in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
                 "lshift", "rshift")
    for op in (base, "r" + base)
] + [
    f"__i{base}__"
    for base in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor")
] + [f"__{op}__" for op in ("lt", "le", "gt", "ge", "eq", "ne", "neg", "pos", "abs", "invert", "getitem",
                             "setitem", "iter", "len", "bool", "float", "int", "index", "complex")]  # fmt: skip


def _operator(name: str) -> Any:
    forward = getattr(np.ndarray, name)

    def op(self: Any, *args: Any) -> Any:
        if _has_numpy_array(args):
            raise TypeError(f"NumPy-only: a NumPy array was an operand of {name} with the module's arrays")
        result = forward(self._array, *to_numpy(args))
        if name.startswith("__i") and name not in ("__iter__", "__int__", "__index__", "__invert__"):
            return self  # an in-place operator: NumPy updated the data
        if name == "__iter__":
            return iter([from_numpy(r) for r in result])
        return (
            result
            if name in ("__len__", "__bool__", "__float__", "__int__", "__index__", "__complex__")
            else (from_numpy(result))
        )

    return op


@contextlib.contextmanager
def refusing_numpy() -> Iterator[None]:
    """Within: array-api-strict arrays refuse implicit conversion to NumPy and have NumPy's API."""
    names = ["__array__", "__buffer__", "__getattr__", "dtype", "T", "mT", *_OPERATORS]
    saved = {name: ARRAY.__dict__.get(name) for name in names}
    ARRAY.__array__ = _refuse
    ARRAY.__buffer__ = _refuse
    ARRAY.__getattr__ = _method
    ARRAY.dtype = property(lambda self: self._array.dtype)
    ARRAY.T = property(lambda self: from_numpy(self._array.T))
    ARRAY.mT = property(lambda self: from_numpy(np.swapaxes(self._array, -1, -2)))
    for name in _OPERATORS:
        setattr(ARRAY, name, _operator(name))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                delattr(ARRAY, name)
            else:
                setattr(ARRAY, name, value)
