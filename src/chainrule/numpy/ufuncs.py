"""NumPy's elementwise functions: one chainrule op (or a short composite) per NumPy ufunc.

Each function calls the NumPy ufunc when no argument is a tensor. On tensors, the operands are
promoted to the dtypes NumPy's ufunc loop computes in (``ufunc.resolve_dtypes``: Python scalars
weak, integers to float64 for the transcendental functions) and the chainrule op is built.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.framework.graph import Tensor
from chainrule.numpy.dispatch import (
    PLAIN,
    SYMBOLIC,
    as_tensor,
    check_defaults,
    contains_symbolic,
    np_dtype,
    numpy_dtype_of,
    result_dtype,
    ufunc_loop,
)
from chainrule.ops import array_ops, math_ops, reduction_ops, tf1_names

Build = Callable[..., Tensor]
_NO_KWARGS: dict[str, Any] = {}


def _finish(out: Tensor, dtype: np.dtype) -> Tensor:
    return out if np_dtype(out) == dtype else math_ops.cast(out, dtype)


def unary(name: str, ufunc: np.ufunc, build: Build) -> Callable[..., Any]:
    """``name(x)``: NumPy's ``ufunc`` on arrays, ``build(tensor)`` on tensors."""

    def function(x: Any, /, *args: Any, **kwargs: Any) -> Any:
        if isinstance(x, SYMBOLIC) or (type(x) is list and contains_symbolic(x)):
            if args:
                raise TypeError(f"chainrule.numpy.{name}: an output array (out=) is not supported on tensors")
            check_defaults(name, kwargs, {"out": None, "where": True, "casting": "same_kind", "order": "K"})
            loop = ufunc_loop(ufunc, (numpy_dtype_of(x),))
            return _finish(build(as_tensor(x, loop[0])), loop[-1])
        return ufunc(x, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"NumPy's ``{ufunc.__name__}``; on chainrule tensors, a differentiable op (see chainrule.numpy)."
    return function


def binary(name: str, ufunc: np.ufunc, build: Build) -> Callable[..., Any]:
    """``name(x, y)``: NumPy's ``ufunc`` on arrays, ``build(tx, ty)`` on tensors."""

    def function(x: Any, y: Any, /, *args: Any, **kwargs: Any) -> Any:
        if (type(x) not in PLAIN or type(y) not in PLAIN) and (contains_symbolic(x) or contains_symbolic(y)):
            if args:
                raise TypeError(f"chainrule.numpy.{name}: an output array (out=) is not supported on tensors")
            check_defaults(name, kwargs, {"out": None, "where": True, "casting": "same_kind", "order": "K"})
            loop = ufunc_loop(ufunc, (numpy_dtype_of(x), numpy_dtype_of(y)))
            return _finish(build(as_tensor(x, loop[0]), as_tensor(y, loop[1])), loop[-1])
        return ufunc(x, y, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"NumPy's ``{ufunc.__name__}``; on chainrule tensors, a differentiable op (see chainrule.numpy)."
    return function


def _const(value: float, like: Tensor) -> Tensor:
    return as_tensor(np.asarray(value, dtype=np_dtype(like)))


def _as_bool(t: Tensor) -> Tensor:
    return t if t.dtype.is_bool else math_ops.not_equal(t, _const(0, t))


def _logical(op: Build) -> Build:
    return lambda x, y: op(_as_bool(x), _as_bool(y))


def _exp2(x: Tensor) -> Tensor:
    return math_ops.pow(_const(2, x), x)


def _trunc(x: Tensor) -> Tensor:
    if not x.dtype.is_floating:
        return x
    return math_ops.where(math_ops.less(x, _const(0, x)), math_ops.ceil(x), math_ops.floor(x))


def _integer_safe(build: Build, integer_value: bool | None) -> Build:
    """A float test (isnan...) that NumPy also answers for integers: a constant there."""

    def fn(x: Tensor) -> Tensor:
        if x.dtype.is_floating or x.dtype.is_complex:
            return build(x)
        return array_ops.fill(array_ops.shape(x), bool(integer_value))

    return fn


def _isfinite(x: Tensor) -> Tensor:
    if x.dtype.is_complex:
        return math_ops.logical_and(tf1_names.is_finite(math_ops.real(x)), tf1_names.is_finite(math_ops.imag(x)))
    return tf1_names.is_finite(x)


def _fmax(x: Tensor, y: Tensor) -> Tensor:
    keep_x = math_ops.logical_or(math_ops.greater_equal(x, y), tf1_names.is_nan(y))
    return math_ops.where(keep_x, x, y)


def _fmin(x: Tensor, y: Tensor) -> Tensor:
    keep_x = math_ops.logical_or(math_ops.less_equal(x, y), tf1_names.is_nan(y))
    return math_ops.where(keep_x, x, y)


def _logaddexp(x: Tensor, y: Tensor) -> Tensor:
    # Shifted by the larger operand (held constant: the result does not depend on the shift).
    m = array_ops.stop_gradient(math_ops.maximum(x, y))
    m = math_ops.where(tf1_names.is_finite(m), m, array_ops.zeros_like(m))
    return m + math_ops.log(math_ops.exp(x - m) + math_ops.exp(y - m))


def _logaddexp2(x: Tensor, y: Tensor) -> Tensor:
    ln2 = _const(math.log(2.0), x)
    return _logaddexp(x * ln2, y * ln2) / ln2


def _hypot(x: Tensor, y: Tensor) -> Tensor:
    return math_ops.sqrt(math_ops.square(x) + math_ops.square(y))


def _heaviside(x: Tensor, h0: Tensor) -> Tensor:
    zero = array_ops.zeros_like(x)
    step = math_ops.where(math_ops.greater(x, zero), array_ops.ones_like(x), zero)
    return math_ops.where(math_ops.equal(x, zero), h0 + zero, step + array_ops.zeros_like(h0))


def _copysign(x: Tensor, y: Tensor) -> Tensor:
    negative = math_ops.logical_or(
        math_ops.less(y, _const(0, y)), math_ops.less(math_ops.divide(_const(1, y), y), _const(0, y))
    )
    magnitude = math_ops.abs(x)
    return math_ops.where(negative, -magnitude, magnitude)


UNARY: dict[str, tuple[np.ufunc, Build]] = {
    "negative": (np.negative, math_ops.negative),
    "positive": (np.positive, array_ops.identity),
    "absolute": (np.absolute, math_ops.abs),
    "fabs": (np.fabs, math_ops.abs),
    "exp": (np.exp, math_ops.exp),
    "exp2": (np.exp2, _exp2),
    "expm1": (np.expm1, math_ops.expm1),
    "log": (np.log, math_ops.log),
    "log2": (np.log2, lambda x: math_ops.log(x) / _const(math.log(2.0), x)),
    "log10": (np.log10, lambda x: math_ops.log(x) / _const(math.log(10.0), x)),
    "log1p": (np.log1p, math_ops.log1p),
    "sqrt": (np.sqrt, math_ops.sqrt),
    "cbrt": (np.cbrt, lambda x: math_ops.sign(x) * math_ops.pow(math_ops.abs(x), _const(1.0 / 3.0, x))),
    "square": (np.square, math_ops.square),
    "reciprocal": (
        np.reciprocal,
        lambda x: math_ops.reciprocal(x) if not x.dtype.is_integer else math_ops.truncatediv(_const(1, x), x),
    ),
    "sin": (np.sin, math_ops.sin),
    "cos": (np.cos, math_ops.cos),
    "tan": (np.tan, math_ops.tan),
    "arcsin": (np.arcsin, math_ops.asin),
    "arccos": (np.arccos, math_ops.acos),
    "arctan": (np.arctan, math_ops.atan),
    "sinh": (np.sinh, math_ops.sinh),
    "cosh": (np.cosh, math_ops.cosh),
    "tanh": (np.tanh, math_ops.tanh),
    "arcsinh": (np.arcsinh, math_ops.asinh),
    "arccosh": (np.arccosh, math_ops.acosh),
    "arctanh": (np.arctanh, math_ops.atanh),
    "deg2rad": (np.deg2rad, lambda x: x * _const(math.pi / 180.0, x)),
    "radians": (np.radians, lambda x: x * _const(math.pi / 180.0, x)),
    "rad2deg": (np.rad2deg, lambda x: x * _const(180.0 / math.pi, x)),
    "degrees": (np.degrees, lambda x: x * _const(180.0 / math.pi, x)),
    "sign": (np.sign, math_ops.sign),
    "floor": (np.floor, lambda x: math_ops.floor(x) if x.dtype.is_floating else x),
    "ceil": (np.ceil, lambda x: math_ops.ceil(x) if x.dtype.is_floating else x),
    "rint": (np.rint, lambda x: math_ops.round(x) if x.dtype.is_floating else x),
    "trunc": (np.trunc, _trunc),
    "conjugate": (np.conjugate, math_ops.conj),
    "isfinite": (np.isfinite, _integer_safe(_isfinite, True)),
    "isinf": (np.isinf, _integer_safe(lambda x: tf1_names.is_inf(x), False)),
    "isnan": (np.isnan, _integer_safe(lambda x: tf1_names.is_nan(x), False)),
    "signbit": (np.signbit, lambda x: math_ops.less(x, _const(0, x))),
    "logical_not": (np.logical_not, lambda x: math_ops.logical_not(_as_bool(x))),
}

BINARY: dict[str, tuple[np.ufunc, Build]] = {
    "add": (np.add, math_ops.add),
    "subtract": (np.subtract, math_ops.subtract),
    "multiply": (np.multiply, math_ops.multiply),
    "divide": (np.divide, math_ops.divide),
    "true_divide": (np.true_divide, math_ops.divide),
    "floor_divide": (np.floor_divide, math_ops.floordiv),
    "power": (np.power, math_ops.pow),
    "float_power": (np.float_power, math_ops.pow),
    "mod": (np.mod, math_ops.floormod),
    "remainder": (np.remainder, math_ops.floormod),
    "fmod": (np.fmod, math_ops.truncatemod),
    "maximum": (np.maximum, math_ops.maximum),
    "minimum": (np.minimum, math_ops.minimum),
    "fmax": (np.fmax, _fmax),
    "fmin": (np.fmin, _fmin),
    "arctan2": (np.arctan2, math_ops.atan2),
    "hypot": (np.hypot, _hypot),
    "logaddexp": (np.logaddexp, _logaddexp),
    "logaddexp2": (np.logaddexp2, _logaddexp2),
    "heaviside": (np.heaviside, _heaviside),
    "copysign": (np.copysign, _copysign),
    "equal": (np.equal, math_ops.equal),
    "not_equal": (np.not_equal, math_ops.not_equal),
    "less": (np.less, math_ops.less),
    "less_equal": (np.less_equal, math_ops.less_equal),
    "greater": (np.greater, math_ops.greater),
    "greater_equal": (np.greater_equal, math_ops.greater_equal),
    "logical_and": (np.logical_and, _logical(math_ops.logical_and)),
    "logical_or": (np.logical_or, _logical(math_ops.logical_or)),
    "logical_xor": (np.logical_xor, _logical(tf1_names.logical_xor)),
}

FUNCTIONS: dict[str, Callable[..., Any]] = {}
for _name, (_ufunc, _build) in UNARY.items():
    FUNCTIONS[_name] = unary(_name, _ufunc, _build)
for _name, (_ufunc, _build) in BINARY.items():
    FUNCTIONS[_name] = binary(_name, _ufunc, _build)
# NumPy's aliases.
FUNCTIONS["abs"] = FUNCTIONS["absolute"]
FUNCTIONS["conj"] = FUNCTIONS["conjugate"]
FUNCTIONS["pow"] = FUNCTIONS["power"]
FUNCTIONS["asin"], FUNCTIONS["acos"], FUNCTIONS["atan"] = FUNCTIONS["arcsin"], FUNCTIONS["arccos"], FUNCTIONS["arctan"]
FUNCTIONS["asinh"], FUNCTIONS["acosh"] = FUNCTIONS["arcsinh"], FUNCTIONS["arccosh"]
FUNCTIONS["atanh"], FUNCTIONS["atan2"] = FUNCTIONS["arctanh"], FUNCTIONS["arctan2"]


# --- elementwise functions that are not ufuncs --------------------------------------------------
def _float_dtype(*values: Any) -> np.dtype:
    d = result_dtype(*values)
    return d if d.kind in "fc" else np.dtype(np.float64)


def sinc(x: Any) -> Any:
    """NumPy's ``sinc``: ``sin(pi x) / (pi x)``, 1 at 0; on tensors with the derivative 0 at 0."""
    if not contains_symbolic(x):
        return np.sinc(x)
    t = as_tensor(x, _float_dtype(x))
    zero = math_ops.equal(t, _const(0, t))
    safe = math_ops.where(zero, array_ops.ones_like(t), t) * _const(math.pi, t)
    return math_ops.where(zero, array_ops.ones_like(t), math_ops.sin(safe) / safe)


def fix(x: Any, out: Any = None) -> Any:
    """NumPy's ``fix``: round towards zero, keeping the dtype."""
    if not contains_symbolic(x):
        return np.fix(x, out=out)
    return _trunc(as_tensor(x))


def around(a: Any, decimals: int = 0, out: Any = None) -> Any:
    """NumPy's ``round``/``around`` (half to even), with ``decimals``."""
    if not contains_symbolic(a):
        return np.round(a, decimals, out)
    t = as_tensor(a)
    if not t.dtype.is_floating:
        return t
    if decimals == 0:
        return math_ops.round(t)
    scale = _const(10.0**decimals, t)
    return math_ops.round(t * scale) / scale


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """NumPy's ``where(condition, x, y)``; the one-argument form (``nonzero``) only on arrays."""
    if not contains_symbolic([condition, x, y]):
        return np.where(condition) if x is None and y is None else np.where(condition, x, y)
    if x is None or y is None:
        raise TypeError(
            "chainrule.numpy.where(condition) (nonzero) is not supported on tensors: its shape depends on the values"
        )
    dtype = result_dtype(x, y)
    c = _as_bool(as_tensor(condition))
    return math_ops.where(c, as_tensor(x, dtype), as_tensor(y, dtype))


def clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kwargs: Any) -> Any:
    """NumPy's ``clip``: ``minimum(maximum(a, a_min), a_max)``; a bound may be None."""
    if "min" in kwargs:
        a_min = kwargs.pop("min")
    if "max" in kwargs:
        a_max = kwargs.pop("max")
    if not contains_symbolic([a, a_min, a_max]):
        return np.clip(a, a_min, a_max, out=out, **kwargs)
    check_defaults("clip", kwargs, {})
    dtype = result_dtype(*[v for v in (a, a_min, a_max) if v is not None])
    t = as_tensor(a, dtype)
    if a_min is not None:
        t = math_ops.maximum(t, as_tensor(a_min, dtype))
    if a_max is not None:
        t = math_ops.minimum(t, as_tensor(a_max, dtype))
    return t


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    """NumPy's ``nan_to_num``: NaN to ``nan``, infinities to the largest finite values (or ``posinf``/``neginf``)."""
    if not contains_symbolic(x):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    t = as_tensor(x)
    if not t.dtype.is_floating:
        return t
    info = np.finfo(np_dtype(t))
    big = _const(info.max if posinf is None else posinf, t)
    small = _const(info.min if neginf is None else neginf, t)
    zeros = array_ops.zeros_like(t)
    t = math_ops.where(tf1_names.is_nan(t), zeros + _const(nan, t), t)
    t = math_ops.where(math_ops.logical_and(tf1_names.is_inf(t), math_ops.greater(t, zeros)), zeros + big, t)
    return math_ops.where(math_ops.logical_and(tf1_names.is_inf(t), math_ops.less(t, zeros)), zeros + small, t)


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    """NumPy's ``isclose``: ``|a - b| <= atol + rtol |b|`` (equal infinities are close)."""
    if not contains_symbolic([a, b]):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    dtype = _float_dtype(a, b)
    ta, tb = as_tensor(a, dtype), as_tensor(b, dtype)
    close = math_ops.less_equal(math_ops.abs(ta - tb), _const(atol, ta) + _const(rtol, ta) * math_ops.abs(tb))
    close = math_ops.logical_or(close, math_ops.equal(ta, tb))
    if equal_nan:
        close = math_ops.logical_or(close, math_ops.logical_and(tf1_names.is_nan(ta), tf1_names.is_nan(tb)))
    return close


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    """NumPy's ``allclose``; on tensors a bool tensor (its value exists when the graph runs)."""
    if not contains_symbolic([a, b]):
        return np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return reduction_ops.reduce_all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1: Any, a2: Any, equal_nan: bool = False) -> Any:
    """NumPy's ``array_equal``: same shape and elements (False when the static shapes differ)."""
    if not contains_symbolic([a1, a2]):
        return np.array_equal(a1, a2, equal_nan=equal_nan)
    t1, t2 = as_tensor(a1), as_tensor(a2)
    if t1.shape.is_fully_defined() and t2.shape.is_fully_defined() and t1.shape != t2.shape:
        return as_tensor(np.asarray(False))
    dtype = result_dtype(t1, t2)
    same = math_ops.equal(as_tensor(t1, dtype), as_tensor(t2, dtype))
    if equal_nan and dtype.kind in "fc":
        same = math_ops.logical_or(same, math_ops.logical_and(tf1_names.is_nan(t1), tf1_names.is_nan(t2)))
    return reduction_ops.reduce_all(same)


def array_equiv(a1: Any, a2: Any) -> Any:
    """NumPy's ``array_equiv``: equal after broadcasting."""
    if not contains_symbolic([a1, a2]):
        return np.array_equiv(a1, a2)
    dtype = result_dtype(a1, a2)
    return reduction_ops.reduce_all(math_ops.equal(as_tensor(a1, dtype), as_tensor(a2, dtype)))


def isposinf(x: Any, out: Any = None) -> Any:
    if not contains_symbolic(x):
        return np.isposinf(x, out=out)
    t = as_tensor(x)
    return math_ops.logical_and(FUNCTIONS["isinf"](t), math_ops.greater(t, _const(0, t)))


def isneginf(x: Any, out: Any = None) -> Any:
    if not contains_symbolic(x):
        return np.isneginf(x, out=out)
    t = as_tensor(x)
    return math_ops.logical_and(FUNCTIONS["isinf"](t), math_ops.less(t, _const(0, t)))


def real(val: Any) -> Any:
    if not contains_symbolic(val):
        return np.real(val)
    t = as_tensor(val)
    return math_ops.real(t) if t.dtype.is_complex else t


def imag(val: Any) -> Any:
    if not contains_symbolic(val):
        return np.imag(val)
    t = as_tensor(val)
    return math_ops.imag(t) if t.dtype.is_complex else array_ops.zeros_like(t)


def angle(z: Any, deg: bool = False) -> Any:
    if not contains_symbolic(z):
        return np.angle(z, deg=deg)
    t = as_tensor(z, _float_dtype(z) if numpy_dtype_of(z) not in (complex,) else None)
    out = math_ops.angle(t)
    return out * _const(180.0 / math.pi, out) if deg else out


def real_if_close(a: Any, tol: float = 100) -> Any:
    """NumPy's ``real_if_close``: on a real tensor the tensor; a complex tensor is refused (the result's
    dtype would depend on its values)."""
    if not contains_symbolic(a):
        return np.real_if_close(a, tol=tol)
    t = as_tensor(a)
    if t.dtype.is_complex:
        raise TypeError(
            "chainrule.numpy.real_if_close of a complex tensor: its dtype would depend on the values; use real()"
        )
    return t


def iscomplex(x: Any) -> Any:
    if not contains_symbolic(x):
        return np.iscomplex(x)
    t = as_tensor(x)
    return (
        math_ops.not_equal(imag(t), _const(0, imag(t)))
        if t.dtype.is_complex
        else array_ops.fill(array_ops.shape(t), False)
    )


def isreal(x: Any) -> Any:
    if not contains_symbolic(x):
        return np.isreal(x)
    t = as_tensor(x)
    return (
        math_ops.equal(imag(t), _const(0, imag(t))) if t.dtype.is_complex else array_ops.fill(array_ops.shape(t), True)
    )


def iscomplexobj(x: Any) -> bool:
    if not contains_symbolic(x):
        return np.iscomplexobj(x)
    return as_tensor(x).dtype.is_complex


def isrealobj(x: Any) -> bool:
    return not iscomplexobj(x)


for _fn in (sinc, fix, around, where, clip, nan_to_num, isclose, allclose, array_equal, array_equiv, isposinf,
            isneginf, real, imag, angle, real_if_close, iscomplex, isreal, iscomplexobj, isrealobj):  # fmt: skip
    FUNCTIONS[_fn.__name__] = _fn
FUNCTIONS["round"] = around
