"""Elementwise math: one block per op (kernel, shape rule, gradient), then the Tensor operators.

Gradient rules are written in chainrule ops and never un-broadcast by hand: ops
registered with ``broadcasts=True`` have their input gradients summed back to
the input shapes by reverse mode, in one place.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor
from chainrule.ops import array_ops
from chainrule.ops.constant_op import convert_n, convert_to_tensor
from chainrule.ops.registry import apply, register_op
from chainrule.ops.shape_rules import ANY, BOOL, FLOAT, NUMERIC, comparison, elementwise, unary


def _unary(op_type: str, kernel: Any, grad: Any, kinds: str = FLOAT, doc: str = "") -> Any:
    register_op(op_type, kernel, unary(kinds), grad)

    def fn(x: Any, name: str | None = None) -> Tensor:
        return apply(op_type, convert_to_tensor(x), name=name)

    fn.__doc__ = doc or f"Elementwise ``{op_type}`` of ``x``."
    return fn


def _binary(op_type: str, kernel: Any, grad: Any, kinds: str = NUMERIC, doc: str = "", out_dtype: Any = None) -> Any:
    rule = comparison(kinds) if out_dtype is dtypes.bool_ else elementwise(kinds)
    register_op(op_type, kernel, rule, grad, broadcasts=True)

    def fn(x: Any, y: Any, name: str | None = None) -> Tensor:
        x, y = convert_n([x, y])
        return apply(op_type, x, y, name=name)

    fn.__doc__ = doc or f"Elementwise ``{op_type}`` of ``x`` and ``y`` with NumPy broadcasting."
    return fn


# --- arithmetic -----------------------------------------------------------------------------
add = _binary("Add", lambda xp, x, y: xp.add(x, y), lambda op, g: [g, g], kinds=NUMERIC)
subtract = _binary("Sub", lambda xp, x, y: xp.subtract(x, y), lambda op, g: [g, -g])
multiply = _binary("Mul", lambda xp, x, y: xp.multiply(x, y), lambda op, g: [g * op.inputs[1], g * op.inputs[0]])
_real_div = _binary(
    "RealDiv",
    lambda xp, x, y: xp.true_divide(x, y),
    lambda op, g: [g / op.inputs[1], -g * op.outputs[0] / op.inputs[1]],
    kinds=FLOAT,
)


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """True division; integer inputs are cast to float64 first (as TensorFlow's truediv)."""
    x, y = convert_n([x, y])
    if x.dtype.is_integer and y.dtype.is_integer:
        x, y = cast(x, dtypes.float64), cast(y, dtypes.float64)
    return _real_div(x, y, name=name)


floordiv = _binary("FloorDiv", lambda xp, x, y: xp.floor_divide(x, y), lambda op, g: [None, None])
floormod = _binary(
    "FloorMod",
    lambda xp, x, y: xp.mod(x, y),
    lambda op, g: [g, -g * floor(op.inputs[0] / op.inputs[1])],
)
maximum = _binary(
    "Maximum",
    lambda xp, x, y: xp.maximum(x, y),
    lambda op, g: [where(op.inputs[0] >= op.inputs[1], g, 0), where(op.inputs[0] >= op.inputs[1], 0, g)],
    doc="Elementwise maximum; where ``x == y`` the whole gradient goes to ``x``.",
)
minimum = _binary(
    "Minimum",
    lambda xp, x, y: xp.minimum(x, y),
    lambda op, g: [where(op.inputs[0] <= op.inputs[1], g, 0), where(op.inputs[0] <= op.inputs[1], 0, g)],
    doc="Elementwise minimum; where ``x == y`` the whole gradient goes to ``x``.",
)
squared_difference = _binary(
    "SquaredDifference",
    lambda xp, x, y: xp.square(xp.subtract(x, y)),
    lambda op, g: [2 * g * (op.inputs[0] - op.inputs[1]), -2 * g * (op.inputs[0] - op.inputs[1])],
    doc="``(x - y) ** 2`` elementwise.",
)


def _safe_log(x: Tensor) -> Tensor:
    """log(x) where x > 0, else 0: keeps the gradient of pow finite for x <= 0 (double-where)."""
    positive = x > 0
    return where(positive, log(where(positive, x, 1)), 0)


pow = _binary(  # noqa: A001 - TensorFlow's name
    "Pow",
    lambda xp, x, y: xp.power(x, y),
    lambda op, g: [
        g * op.inputs[1] * op.inputs[0] ** (op.inputs[1] - 1),
        g * op.outputs[0] * _safe_log(op.inputs[0]),
    ],
    doc="``x ** y`` elementwise; the gradient w.r.t. ``y`` is taken as 0 where ``x <= 0``.",
)
atan2 = _binary(
    "Atan2",
    lambda xp, y, x: xp.arctan2(y, x),
    lambda op, g: [
        g * op.inputs[1] / (op.inputs[0] ** 2 + op.inputs[1] ** 2),
        -g * op.inputs[0] / (op.inputs[0] ** 2 + op.inputs[1] ** 2),
    ],
    kinds=FLOAT,
    doc="``atan2(y, x)``: the angle of the point (x, y), elementwise.",
)

negative = _unary("Neg", lambda xp, x: xp.negative(x), lambda op, g: [-g], NUMERIC)
abs = _unary("Abs", lambda xp, x: xp.abs(x), lambda op, g: [g * sign(op.inputs[0])], NUMERIC)  # noqa: A001
sign = _unary("Sign", lambda xp, x: xp.sign(x), lambda op, g: [array_ops.zeros_like(op.inputs[0])], NUMERIC)
square = _unary("Square", lambda xp, x: xp.square(x), lambda op, g: [g * 2 * op.inputs[0]], NUMERIC)
sqrt = _unary("Sqrt", lambda xp, x: xp.sqrt(x), lambda op, g: [g * 0.5 / op.outputs[0]])
rsqrt = _unary(
    "Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda op, g: [g * -0.5 * op.outputs[0] * op.outputs[0] * op.outputs[0]]
)
reciprocal = _unary("Reciprocal", lambda xp, x: 1 / x, lambda op, g: [-g * op.outputs[0] * op.outputs[0]])
exp = _unary("Exp", lambda xp, x: xp.exp(x), lambda op, g: [g * op.outputs[0]])
expm1 = _unary("Expm1", lambda xp, x: xp.expm1(x), lambda op, g: [g * (op.outputs[0] + 1)])
log = _unary("Log", lambda xp, x: xp.log(x), lambda op, g: [g / op.inputs[0]])
log1p = _unary("Log1p", lambda xp, x: xp.log1p(x), lambda op, g: [g / (1 + op.inputs[0])])
sin = _unary("Sin", lambda xp, x: xp.sin(x), lambda op, g: [g * cos(op.inputs[0])])
cos = _unary("Cos", lambda xp, x: xp.cos(x), lambda op, g: [-g * sin(op.inputs[0])])
tan = _unary("Tan", lambda xp, x: xp.tan(x), lambda op, g: [g * (1 + op.outputs[0] * op.outputs[0])])
asin = _unary("Asin", lambda xp, x: xp.arcsin(x), lambda op, g: [g * rsqrt(1 - op.inputs[0] * op.inputs[0])])
acos = _unary("Acos", lambda xp, x: xp.arccos(x), lambda op, g: [-g * rsqrt(1 - op.inputs[0] * op.inputs[0])])
atan = _unary("Atan", lambda xp, x: xp.arctan(x), lambda op, g: [g / (1 + op.inputs[0] * op.inputs[0])])
sinh = _unary("Sinh", lambda xp, x: xp.sinh(x), lambda op, g: [g * cosh(op.inputs[0])])
cosh = _unary("Cosh", lambda xp, x: xp.cosh(x), lambda op, g: [g * sinh(op.inputs[0])])
tanh = _unary("Tanh", lambda xp, x: xp.tanh(x), lambda op, g: [g * (1 - op.outputs[0] * op.outputs[0])])
# exp(-log(1 + exp(-x))) neither overflows nor loses digits for large |x|, unlike 1/(1+exp(-x)).
sigmoid = _unary(
    "Sigmoid",
    lambda xp, x: xp.exp(-xp.logaddexp(xp.zeros((), x.dtype), -x)),
    lambda op, g: [g * op.outputs[0] * (1 - op.outputs[0])],
    doc="Logistic function ``1 / (1 + exp(-x))``, computed without overflow.",
)
softplus = _unary(
    "Softplus",
    lambda xp, x: xp.logaddexp(xp.zeros((), x.dtype), x),
    lambda op, g: [g * sigmoid(op.inputs[0])],
    doc="``log(1 + exp(x))``, computed without overflow.",
)


def _erf_kernel(xp: Any, x: Any) -> Any:
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # SciPy is optional; math.erf is exact but runs per element.
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return scipy_erf(x).astype(x.dtype, copy=False)


erf = _unary(
    "Erf",
    _erf_kernel,
    lambda op, g: [g * (2 / math.sqrt(math.pi)) * exp(-op.inputs[0] * op.inputs[0])],
    doc="The error function (SciPy's kernel when installed, else ``math.erf`` per element).",
)
floor = _unary("Floor", lambda xp, x: xp.floor(x), lambda op, g: [None])
ceil = _unary("Ceil", lambda xp, x: xp.ceil(x), lambda op, g: [None])
round = _unary("Round", lambda xp, x: xp.round(x), lambda op, g: [None], doc="Round half to even, elementwise.")  # noqa: A001

# --- comparisons and logic (not differentiable) ----------------------------------------------
equal = _binary("Equal", lambda xp, x, y: xp.equal(x, y), None, ANY, out_dtype=dtypes.bool_)
not_equal = _binary("NotEqual", lambda xp, x, y: xp.not_equal(x, y), None, ANY, out_dtype=dtypes.bool_)
less = _binary("Less", lambda xp, x, y: xp.less(x, y), None, NUMERIC, out_dtype=dtypes.bool_)
less_equal = _binary("LessEqual", lambda xp, x, y: xp.less_equal(x, y), None, NUMERIC, out_dtype=dtypes.bool_)
greater = _binary("Greater", lambda xp, x, y: xp.greater(x, y), None, NUMERIC, out_dtype=dtypes.bool_)
greater_equal = _binary("GreaterEqual", lambda xp, x, y: xp.greater_equal(x, y), None, NUMERIC, out_dtype=dtypes.bool_)
logical_and = _binary("LogicalAnd", lambda xp, x, y: xp.logical_and(x, y), None, BOOL, out_dtype=dtypes.bool_)
logical_or = _binary("LogicalOr", lambda xp, x, y: xp.logical_or(x, y), None, BOOL, out_dtype=dtypes.bool_)
logical_not = _unary("LogicalNot", lambda xp, x: xp.logical_not(x), None, BOOL)


# --- where ---------------------------------------------------------------------------------
def _select_infer(inputs: list[Tensor]) -> list[Any]:
    condition, x, y = inputs
    if not condition.dtype.is_bool:
        raise TypeError(f"condition {condition.name} must be bool, got {condition.dtype.name}")
    rule = elementwise(ANY)
    ((dtype, _),) = rule([x, y])
    from chainrule.ops.shape_rules import broadcast_shapes

    return [(dtype, broadcast_shapes(condition.shape, x.shape, y.shape))]


register_op(
    "Select",
    lambda xp, c, x, y: xp.where(c, x, y),
    _select_infer,
    lambda op, g: [None, where(op.inputs[0], g, 0), where(op.inputs[0], 0, g)],
    broadcasts=True,
)


def where(condition: Any, x: Any, y: Any, name: str | None = None) -> Tensor:
    """Pick ``x`` where ``condition`` is true, else ``y`` (all three broadcast).

    The gradient sends ``g`` to the chosen side and exactly 0 to the other. A NaN
    or inf computed in the branch *not* taken does not appear in the forward
    value, but it can still poison the gradient: ``where(x > 0, log(x), 0)`` at
    ``x = 0`` gives ``0 * (1/0) = nan``. Guard the input of the unsafe branch
    too (the "double where"): ``where(x > 0, log(where(x > 0, x, 1)), 0)``.
    """
    condition = convert_to_tensor(condition)
    x, y = convert_n([x, y])
    return apply("Select", condition, x, y, name=name)


# --- casts, sums ---------------------------------------------------------------------------
def _cast_grad(op: Any, g: Tensor) -> list[Any]:
    src = op.inputs[0].dtype
    return [cast(g, src)] if src.is_floating and op.outputs[0].dtype.is_floating else [None]


register_op(
    "Cast",
    lambda xp, x, dtype: x.astype(dtype.as_numpy_dtype, copy=False),
    lambda inputs, dtype: [(dtype, inputs[0].shape)],
    _cast_grad,
)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """Convert ``x`` to ``dtype`` (float to int truncates toward zero, as NumPy)."""
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return apply("Cast", x, name=name, dtype=dtype)


def _add_n_infer(inputs: list[Tensor]) -> list[Any]:
    if not inputs:
        raise ValueError("add_n needs at least one input")
    dtype = inputs[0].dtype
    shape = inputs[0].shape
    for t in inputs[1:]:
        if t.dtype != dtype:
            raise TypeError(
                f"all inputs must have the same dtype: {inputs[0].name} is {dtype.name}, {t.name} is {t.dtype.name}"
            )
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"all inputs must have the same shape: {shape} vs {t.shape}")
        shape = shape.merge_with(t.shape)
    return [(dtype, shape)]


def _add_n_kernel(xp: Any, *arrays: Any) -> Any:
    out = arrays[0] + arrays[1] if len(arrays) > 1 else arrays[0].copy()
    for a in arrays[2:]:
        out += a
    return out


register_op("AddN", _add_n_kernel, _add_n_infer, lambda op, g: [g] * len(op.inputs))


def add_n(inputs: list[Any], name: str | None = None) -> Tensor:
    """Sum of a list of tensors of the same shape and dtype."""
    tensors = convert_n(list(inputs))
    if len(tensors) == 1:
        return array_ops.identity(tensors[0], name=name)
    return apply("AddN", *tensors, name=name)


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None) -> Tensor:
    """Clamp ``t`` to ``[min, max]``; composed of maximum/minimum, so the gradient is ``g`` inside and 0 outside."""
    t, lo, hi = convert_n([t, clip_value_min, clip_value_max])
    return minimum(maximum(t, lo), hi, name=name)


# --- the Tensor operators ------------------------------------------------------------------
def _reflected(fn: Any) -> Any:
    return lambda self, other: fn(other, self)


def _truediv(x: Any, y: Any) -> Tensor:
    return divide(x, y)


def _matmul(x: Any, y: Any) -> Tensor:
    from chainrule.ops.linalg_ops import matmul

    return matmul(x, y)


def _getitem(x: Any, key: Any) -> Tensor:
    return array_ops.getitem(x, key)


def _logical_or_bitwise(logical: Any, name: str) -> Any:
    def fn(x: Any, y: Any) -> Tensor:
        x, y = convert_n([x, y])
        if not (x.dtype.is_bool and y.dtype.is_bool):
            raise TypeError(f"operator {name} is defined for bool tensors only, got {x.dtype.name} and {y.dtype.name}")
        return logical(x, y)

    return fn


_OPERATORS = {
    "__add__": add,
    "__sub__": subtract,
    "__mul__": multiply,
    "__truediv__": _truediv,
    "__floordiv__": floordiv,
    "__mod__": floormod,
    "__pow__": pow,
    "__matmul__": _matmul,
    "__lt__": less,
    "__le__": less_equal,
    "__gt__": greater,
    "__ge__": greater_equal,
    "__and__": _logical_or_bitwise(logical_and, "&"),
    "__or__": _logical_or_bitwise(logical_or, "|"),
}
for _name, _fn in _OPERATORS.items():
    Tensor._override_operator(_name, lambda self, other, _fn=_fn: _fn(self, other))
    if _name not in ("__lt__", "__le__", "__gt__", "__ge__"):
        Tensor._override_operator(_name.replace("__", "__r", 1), _reflected(_fn))
Tensor._override_operator("__neg__", lambda self: negative(self))
Tensor._override_operator("__abs__", lambda self: abs(self))
Tensor._override_operator("__invert__", lambda self: logical_not(self))
Tensor._override_operator("__getitem__", _getitem)

__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "Any", "Tensor", "math", "np")]
