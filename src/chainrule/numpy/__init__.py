"""``import chainrule.numpy as np``: NumPy's namespace over chainrule's graph.

Every function here gives NumPy's own result on NumPy arrays and Python scalars (it calls NumPy),
and on chainrule tensors (in a graph, or under ``cr.grad``/``cr.vjp``/``cr.jvp``/``cr.vmap``/
``cr.function``) builds chainrule ops, which have gradients, JVPs and batching rules. NumPy's dtype
promotion holds on tensors too: Python scalars are weak, NumPy arrays and tensors strong, and
integers become float64 where NumPy's functions compute in floats.

A NumPy function chainrule does not implement on tensors is still here: on arrays it is NumPy's,
and given a tensor it raises ``cr.errors.UnimplementedError`` naming it, so a result never leaves
the graph silently. ``chainrule.numpy.coverage`` lists which of HIPS autograd's functions are covered.

Examples
--------
>>> import chainrule as cr
>>> import chainrule.numpy as np
>>> def loss(w):
...     return np.sum(np.tanh(w) ** 2) + w.T.dot(w).mean()
>>> cr.grad(loss)(np.ones(3))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as _np

from chainrule.numpy import arrays as _arrays
from chainrule.numpy import indexing as _indexing
from chainrule.numpy import linear as _linear
from chainrule.numpy import methods as _methods
from chainrule.numpy import reductions as _reductions
from chainrule.numpy import ufuncs as _ufuncs
from chainrule.numpy.dispatch import not_on_tensors as _not_on_tensors

# Constants, dtypes and types: NumPy's own objects.
pi = math.pi  # (NumPy's pi and e are these floats)
e = math.e
inf = _np.inf
nan = _np.nan
euler_gamma = _np.euler_gamma
newaxis = _np.newaxis
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
complex64, complex128 = _np.complex64, _np.complex128
bool_ = _np.bool_
dtype, ndarray, finfo, iinfo = _np.dtype, _np.ndarray, _np.finfo, _np.iinfo
integer, floating, complexfloating, number, generic = (
    _np.integer,
    _np.floating,
    _np.complexfloating,
    _np.number,
    _np.generic,
)
isscalar = _np.isscalar
random = _np.random  # sampling builds constants, as in autograd (its numpy.random is NumPy's)

# Array creation from shapes: NumPy's (no tensor argument makes sense; a tensor shape is refused).
zeros = _not_on_tensors("zeros", _np.zeros)
ones = _not_on_tensors("ones", _np.ones)
empty = _not_on_tensors("empty", _np.empty)
arange = _not_on_tensors("arange", _np.arange)
eye = _not_on_tensors("eye", _np.eye)
identity = _not_on_tensors("identity", _np.identity)

FUNCTIONS: dict[str, Any] = {
    **_ufuncs.FUNCTIONS,
    **_reductions.FUNCTIONS,
    **_arrays.FUNCTIONS,
    **_linear.FUNCTIONS,
    "take": _indexing.take,
}
globals().update(FUNCTIONS)

_methods.install()


class _Submodule(types.ModuleType):
    """A NumPy submodule (``linalg``, ``fft``...) not yet implemented on tensors: NumPy's on arrays."""

    def __init__(self, name: str, module: types.ModuleType) -> None:
        super().__init__(f"chainrule.numpy.{name}")
        self._module = module
        self._prefix = name

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if callable(value) and not isinstance(value, type):
            value = _not_on_tensors(f"{self._prefix}.{name}", value)
        setattr(self, name, value)
        return value


def __getattr__(name: str) -> Any:
    """Any other NumPy name: types and constants as NumPy's; functions NumPy's on arrays, refused on tensors."""
    if name.startswith("__") or not hasattr(_np, name):
        raise AttributeError(f"module 'chainrule.numpy' has no attribute {name!r} (NumPy has none either)")
    value = getattr(_np, name)
    if isinstance(value, types.ModuleType):
        value = _Submodule(name, value)
    elif callable(value) and not isinstance(value, type):
        value = _not_on_tensors(name, value)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | {n for n in dir(_np) if not n.startswith("_")})
