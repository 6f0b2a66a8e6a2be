"""Functions the generated native code calls (importable by name, so Numba's disk cache can find them)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import types
from numba.extending import overload


def scalar(x: Any) -> Any:
    """A rank-0 value as a scalar: a 0-d array's element, a scalar as is (inside native code)."""
    return x[()] if hasattr(x, "shape") else x


@overload(scalar)
def _scalar(x):  # type: ignore[no-untyped-def,unused-ignore]  # Numba requires the same (unannotated) signature as the lambdas
    if isinstance(x, types.Array):
        return lambda x: x[()]
    return lambda x: x


@numba.njit(cache=True)
def grow(a):  # type: ignore[no-untyped-def,unused-ignore]
    """``a`` with twice the rows (the first ones copied): the recorded iterations of a native loop."""
    out = np.empty((2 * a.shape[0],) + a.shape[1:], a.dtype)
    out[: a.shape[0]] = a
    return out
