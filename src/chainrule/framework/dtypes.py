"""Data types: a thin, hashable wrapper over NumPy dtypes with TensorFlow's names."""

from __future__ import annotations

from typing import Any

import numpy as np


class DType:
    """A tensor element type (``cr.float32``, ``cr.int64``, ...)."""

    __slots__ = ("_np", "name")

    def __init__(self, np_dtype: Any) -> None:
        self._np = np.dtype(np_dtype)
        self.name = "bool" if self._np == np.bool_ else self._np.name

    @property
    def as_numpy_dtype(self) -> type[Any]:
        """The NumPy scalar type, as in TensorFlow: ``cr.float32.as_numpy_dtype`` is ``numpy.float32``.

        It is callable (``cr.float32.as_numpy_dtype(1.0)``) and NumPy takes it wherever a dtype goes;
        ``numpy.dtype(d.as_numpy_dtype)`` gives the ``numpy.dtype`` object.
        """
        return self._np.type

    @property
    def is_floating(self) -> bool:
        return self._np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self._np.kind in "iu"

    @property
    def is_complex(self) -> bool:
        return self._np.kind == "c"

    @property
    def real_dtype(self) -> DType:
        """The dtype of the real and imaginary parts (the dtype itself for non-complex types)."""
        if self._np.kind != "c":
            return self
        return float32 if self._np == np.complex64 else float64

    @property
    def is_bool(self) -> bool:
        return self._np.kind == "b"

    @property
    def is_numeric(self) -> bool:
        return self._np.kind in "iuf"

    def __eq__(self, other: object) -> bool:
        try:
            return self._np == as_dtype(other)._np
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self._np)

    def __repr__(self) -> str:
        return f"cr.{self.name}"


float16 = DType(np.float16)
float32 = DType(np.float32)
float64 = DType(np.float64)
int8 = DType(np.int8)
int16 = DType(np.int16)
int32 = DType(np.int32)
int64 = DType(np.int64)
uint8 = DType(np.uint8)
bool_ = DType(np.bool_)
complex64 = DType(np.complex64)
complex128 = DType(np.complex128)
# Byte strings (serialized summaries), held as Python ``bytes`` in NumPy object arrays.
string = DType(np.object_)
string.name = "string"

_SUPPORTED = {
    d._np: d
    for d in (float16, float32, float64, int8, int16, int32, int64, uint8, bool_, string, complex64, complex128)
}
_BY_NAME = {d.name: d for d in _SUPPORTED.values()}
# TensorFlow's C type names: "float" is float32 (NumPy would read it as float64), "double" float64.
_BY_NAME.update({"float": float32, "double": float64, "half": float16})


def as_dtype(value: Any) -> DType:
    """Convert a DType, NumPy dtype, Python type or name into a chainrule ``DType``."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    if value is complex:
        return complex128
    try:
        np_dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert {value!r} to a chainrule dtype") from None
    if np_dtype not in _SUPPORTED:
        raise TypeError(f"Unsupported dtype {np_dtype}; chainrule supports {sorted(_BY_NAME)}")
    return _SUPPORTED[np_dtype]
