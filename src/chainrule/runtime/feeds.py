"""Fed values: converted to the fed tensor's dtype by the constants' rule, and checked against its shape.

``framework.conversion`` decides which conversions keep every value (see its docstring); a
refusal here names the fed tensor; ``runtime.reporting`` adds the line of user code that called
``Session.run``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import errors
from chainrule.framework.conversion import ConversionError, convert_value
from chainrule.framework.graph import Tensor


def convert_feed(element: Tensor, value: Any) -> np.ndarray:
    """``value`` as an array of ``element``'s dtype and a shape compatible with its static shape.

    Raises ``errors.InvalidDTypeError`` (a ``TypeError``) for a value the dtype cannot hold and
    ``ValueError`` for an incompatible shape, both naming the tensor and the ``Session.run`` line.
    """
    try:
        arr = convert_value(value, element.dtype)
    except ConversionError as e:
        raise errors.InvalidDTypeError(
            None,
            None,
            f"Cannot feed value {_short(value)} for Tensor '{element.name}' of dtype {element.dtype.name}: {e}",
        ) from None
    check_feed_shape(element, arr)
    return arr


def check_feed_shape(element: Tensor, arr: np.ndarray) -> None:
    """ValueError when ``arr``'s shape does not fit ``element``'s static shape."""
    dims = element.shape.dims
    if dims is not None and (len(dims) != arr.ndim or any(d is not None and d != a for d, a in zip(dims, arr.shape))):
        raise ValueError(
            f"Cannot feed value of shape {arr.shape} for Tensor '{element.name}', which has shape {element.shape}"
        )


def cast_device_feed(element: Tensor, value: Any, kind: str) -> Any:
    """A backend's own array (``kind``: "a CuPy array", "a dask array") in ``element``'s dtype, where
    that keeps every value (NumPy's "safe" casting); ``errors.InvalidDTypeError`` otherwise. The shape
    is left to ``check_feed_shape``: a lazy array may not know it yet."""
    want = np.dtype(element.dtype.as_numpy_dtype)
    if value.dtype == want:
        return value
    if not np.can_cast(value.dtype, want, "safe"):
        raise errors.InvalidDTypeError(
            None,
            None,
            f"Cannot feed {kind} of dtype {value.dtype} for Tensor '{element.name}' of dtype "
            f"{element.dtype.name}: the conversion would lose values.",
        )
    return value.astype(want)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
