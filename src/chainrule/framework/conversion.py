"""One rule for turning a Python/NumPy value into an array of a chainrule dtype: never silently.

Constants (``cr.constant``, ``convert_to_tensor``, the Python values packed with tensors) and
feeds (``Session.run``'s ``feed_dict``) both convert through ``convert_value``. A conversion
happens only when the target holds the value:

- integers (and bools' absence: see below) go to an integer type when every value is in its
  range, and to a floating or complex type when every value is represented exactly
  (``int32`` into ``float64`` always is; ``2**24 + 1`` into ``float32`` is not);
- floating values go to an integer type when every value is finite, integral and in range;
- floating values go to a narrower floating type (``float64`` into ``float32``) rounded to the
  nearest, as TensorFlow does (``0.1`` is no more exact in float64 than in float32); a finite
  value that would become infinite (``1e300`` into ``float32``) is refused. NaN and infinities
  stay what they are. The same holds for the parts of complex values;
- complex values go only to complex types, bools only to ``bool``, strings only to ``string``;
  datetimes, timedeltas, structured and object arrays (other than strings) are refused.

A refusal is a ``ConversionError`` (a ``TypeError``, as TensorFlow's) whose message says why;
callers add which op or placeholder it concerns and the user's line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.dtypes import DType


class ConversionError(TypeError):
    """A value that a dtype cannot hold without changing it."""


def default_dtype(value: Any) -> DType | None:
    """TensorFlow's default for Python values: float -> float32, int -> int32 (int64 when out of range).

    None for NumPy values (they keep their dtype) and for anything else.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        return None
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return dtypes.float32
    if arr.dtype.kind in "iu":
        if arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min):
            return dtypes.int64
        return dtypes.int32
    return None


def convert_value(value: Any, dtype: DType | None = None) -> np.ndarray:
    """``value`` as an array of ``dtype`` (its default dtype when None), or ``ConversionError``.

    The array may be ``value`` itself when it already has the dtype.
    """
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as e:  # ragged lists, unconvertible objects
        raise ConversionError(f"cannot convert {_short(value)} to an array: {e}") from None
    if arr.dtype.kind in "OUS":
        return _string_array(value, arr, dtype)
    if arr.dtype.kind not in "biufc":
        raise ConversionError(f"values of NumPy dtype {arr.dtype} ({_kind_name(arr.dtype)}) are not supported")
    target = dtype or default_dtype(value) or dtypes.as_dtype(arr.dtype)
    if target == dtypes.string:
        raise ConversionError(f"cannot convert the non-string value {_short(value)} to dtype string")
    np_target = np.dtype(target.as_numpy_dtype)
    if arr.dtype == np_target:
        return arr
    reason = _kind_refusal(arr, np_target)
    if reason is None:
        with np.errstate(all="ignore"):  # overflow is checked on the result; rounding is the rule
            out = arr.astype(np_target)
        reason = _value_refusal(arr, out)
    if reason is not None:
        kind = {"b": "bool", "i": "integer", "u": "integer", "f": "floating", "c": "complex"}[arr.dtype.kind]
        raise ConversionError(
            f"cannot convert the {kind} value {_short(value)} to dtype {target.name} without changing it: {reason}"
        )
    return out


def _kind_refusal(arr: np.ndarray, target: np.dtype) -> str | None:
    """Why no value of ``arr``'s kind converts to ``target`` (None: values may)."""
    src, dst = arr.dtype.kind, target.kind
    if (src == "b") != (dst == "b"):
        return "bool and numbers do not convert into one another (use cr.cast)"
    if src == "c" and dst != "c":
        return "a complex value has no real dtype (take cr.math.real or cr.abs)"
    return None


def _value_refusal(arr: np.ndarray, out: np.ndarray) -> str | None:
    """Why ``out`` (``arr`` cast to the target) does not hold ``arr``'s values (None: it does)."""
    src, dst = arr.dtype.kind, out.dtype.kind
    if src == "b":
        return None
    if dst in "iu":
        return _integer_refusal(arr, out.dtype)
    if src in "iu":
        return _integer_to_float_refusal(arr, out)
    return _float_refusal(arr, out)


def _integer_refusal(arr: np.ndarray, target: np.dtype) -> str | None:
    if arr.size == 0:
        return None
    info = np.iinfo(target)
    if arr.dtype.kind in "fc":
        if not np.all(np.isfinite(arr)):
            return "it is not finite"
        if not np.array_equal(arr, np.trunc(arr)):
            return "it is not a whole number"
        low, high = arr.min(), arr.max()
        # The bounds of int64/uint64 are not floats; compare in float64, with the exact powers of 2.
        if low < float(info.min) or high >= float(info.max) + 1.0:
            return f"it is outside the range of {target.name} [{info.min}, {info.max}]"
        return None
    low, high = int(arr.min()), int(arr.max())
    if low < info.min or high > info.max:
        return f"it is outside the range of {target.name} [{info.min}, {info.max}]"
    return None


def _integer_to_float_refusal(arr: np.ndarray, rounded: np.ndarray) -> str | None:
    target = rounded.dtype
    if arr.size == 0 or (arr.dtype.itemsize < target.itemsize and target.kind == "f"):
        return None  # int8/16 into float32/64, int32 into float64: exact
    with np.errstate(all="ignore"):
        real = (rounded.real if target.kind == "c" else rounded).astype(np.float64)
        if not np.all(np.isfinite(real)):
            return f"it is outside the range of {target.name}"
        # 2**63 (int64) or 2**64 (uint64): a rounded value that reaches it was not an integer of the type.
        limit = float(np.iinfo(arr.dtype).max) + 1.0
        exact = not np.any(real >= limit) and np.array_equal(real.astype(arr.dtype), arr)
    if not exact:
        bits = int(np.finfo(np.dtype(target.char.lower()) if target.kind == "c" else target).nmant) + 1
        return f"{target.name} holds the integers exactly only up to 2**{bits}"
    return None


def _float_refusal(arr: np.ndarray, out: np.ndarray) -> str | None:
    """Floating (or complex) to a floating or complex type: rounding is allowed, overflow is not."""
    target = out.dtype
    parts = [(arr.real, out.real), (arr.imag, out.imag)] if arr.dtype.kind == "c" else [(arr, out.real)]
    for before, after in parts:
        if np.any(np.isinf(after) & np.isfinite(before)):
            return f"a finite value is beyond the range of {target.name} (it would become inf)"
    return None


def _kind_name(dt: np.dtype) -> str:
    return {"M": "datetime", "m": "timedelta", "V": "structured or void"}.get(dt.kind, dt.kind)


def _string_array(value: Any, arr: np.ndarray, dtype: DType | None) -> np.ndarray:
    """Strings as TensorFlow holds them: ``bytes`` (``str`` encoded as UTF-8) in an object array of dtype string."""
    items = arr.ravel().tolist()
    if not all(isinstance(v, (str, bytes)) for v in items):
        kinds = sorted({type(v).__name__ for v in items if not isinstance(v, (str, bytes))})
        raise ConversionError(
            f"cannot convert {_short(value)}: unsupported type object "
            f"(an object array may hold only strings, not {', '.join(kinds)})"
        )
    if dtype is not None and dtype != dtypes.string:
        raise ConversionError(f"cannot convert the string value {_short(value)} to a tensor of dtype {dtype.name}")
    encoded = np.empty(arr.shape, dtype=object)
    encoded.ravel()[:] = [v.encode("utf-8") if isinstance(v, str) else v for v in items]
    return encoded


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
