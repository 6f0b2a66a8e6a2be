"""Elementwise math: one block per op, then the Tensor operators.

Each op is declared once: its ufunc steps (the kernel is made from them, and the
compiler emits and fuses the same steps), its shape rule, its gradient, its
elementwise kind and how ``cr.explain`` prints it. A unary op's JVP is its gradient
(the Jacobian is diagonal); batching and the compiler's shape proofs follow from the
elementwise kind. Gradient rules are written in chainrule ops and never un-broadcast
by hand: ops registered with ``broadcasts=True`` have their input gradients summed
back to the input shapes by reverse mode, in one place.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, install_operators
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import array_ops
from chainrule.ops.constant_op import convert_n, convert_to_tensor
from chainrule.ops.jvp_forms import Tangent, linear, sum_tangents, zero, zero_fill
from chainrule.ops.native import helper, np_type
from chainrule.ops.registry import BROADCAST, UNARY, apply, constant_value, name_op_functions, register_op
from chainrule.ops.shape_rules import (
    ANY,
    BOOL,
    FLOAT,
    FLOAT_OR_COMPLEX,
    NUMERIC,
    NUMERIC_OR_COMPLEX,
    broadcast_shapes,
    check_kind,
    comparison,
    elementwise,
    require_equal_shapes,
    unary,
)
from chainrule.ops.ufunc_steps import ONE, PREV, ZERO_ARRAY


class _UnaryOp(Protocol):
    """A declared unary elementwise op."""

    def __call__(self, x: Any, name: str | None = None) -> Tensor: ...


class _BinaryOp(Protocol):
    """A declared binary elementwise op."""

    def __call__(self, x: Any, y: Any, name: str | None = None) -> Tensor: ...


def _unary(
    op_type: str,
    steps: Any,
    grad: Any,
    kinds: str = FLOAT,
    doc: str = "",
    explain: Any = None,
    kernel: Any = None,
    jvp: Any = None,
    numpy_only: str | None = None,
) -> _UnaryOp:
    """Declare a unary elementwise op (its JVP is its gradient: the Jacobian is diagonal).

    Ops that take complex inputs give their JVP explicitly: their gradient multiplies by the
    conjugate derivative (see ``_conj``), their JVP by the derivative itself.
    """
    register_op(
        op_type, kernel, unary(kinds), grad, elementwise=UNARY, steps=steps, explain=explain, jvp=jvp,
        numpy_only=numpy_only,
    )  # fmt: skip

    def fn(x: Any, name: str | None = None) -> Tensor:
        return apply(op_type, convert_to_tensor(x), name=name)

    fn.__doc__ = _op_doc(doc or f"Elementwise ``{op_type}`` of ``x``.", kinds, ("x",), None)
    return fn


def _binary(
    op_type: str,
    steps: Any,
    grad: Any,
    kinds: str = NUMERIC,
    doc: str = "",
    out_dtype: Any = None,
    explain: Any = None,
    jvp: Any = None,
    kernel: Any = None,
) -> _BinaryOp:
    """Declare a binary elementwise op with NumPy broadcasting; ``steps``: one ufunc's name, or ufunc steps.

    ``kernel`` (with ``steps=None``): ops whose kernel is not a chain of ufunc steps (a select
    between two results of the inputs), which the code generator calls instead of fusing.
    """
    rule = comparison(kinds) if out_dtype is dtypes.bool_ else elementwise(kinds)
    steps = [(steps, 0, 1)] if isinstance(steps, str) else steps
    register_op(
        op_type, kernel, rule, grad, broadcasts=True, elementwise=BROADCAST, steps=steps, explain=explain, jvp=jvp
    )

    def fn(x: Any, y: Any, name: str | None = None) -> Tensor:
        x, y = convert_n([x, y])
        return apply(op_type, x, y, name=name)

    summary = doc or f"Elementwise ``{op_type}`` of ``x`` and ``y`` with NumPy broadcasting."
    fn.__doc__ = _op_doc(summary, kinds, ("x", "y"), out_dtype)
    return fn


_KIND_WORDS = {"f": "floating", "iu": "integer", "iuf": "numeric", "b": "bool", "iufb": "any real or bool",
               "fc": "floating or complex", "iufc": "numeric or complex", "iufbc": "any"}  # fmt: skip


def _op_doc(summary: str, kinds: str, args: tuple[str, ...], out_dtype: Any) -> str:
    """A numpydoc docstring for a declared elementwise op (the summary, then its arguments and result)."""
    if "Parameters\n" in summary:
        return summary
    kind = _KIND_WORDS.get(kinds, "any")
    params = "".join(f"{a} : Tensor or array_like\n    A {kind} tensor, or a value converted to one.\n" for a in args)
    shape = "``x``'s shape" if len(args) == 1 else "the broadcast shape of ``x`` and ``y``"
    dtype = "``bool``" if out_dtype is dtypes.bool_ else "the inputs' dtype"
    return (
        f"{summary}\n\nParameters\n----------\n{params}name : str, optional\n    A name for the operation.\n\n"
        f"Returns\n-------\nTensor\n    The result, element by element: {shape}, {dtype}.\n"
    )


def _ufunc(name: str) -> list[Any]:
    return [(name, 0)]


def _relation(symbol: str) -> Any:
    return lambda b, op, a: b.rel(symbol, *a)


def _negated(t: Tangent) -> Tangent:
    return None if t is None else -t


def _select_between(cond: Tensor, ta: Tangent, tb: Tangent, a: Tensor, b: Tensor) -> Tensor:
    """The tangent of ``where(cond, a, b)``: each side's tangent where it is chosen."""
    return where(cond, zero_fill(a, ta), zero_fill(b, tb))


def _power_of(exponent: float) -> Any:
    return lambda b, op, a: b.pow(a[0], b.num(exponent))


# Declared further down; gradient rules above their declarations refer to them.
floor: _UnaryOp
sign: _UnaryOp
cos: _UnaryOp
cosh: _UnaryOp
div_no_nan: _BinaryOp
mul_no_nan: _BinaryOp


def _conj(x: Tensor) -> Tensor:
    """``conj(x)`` for complex ``x``; ``x`` itself otherwise (so real graphs are unchanged).

    TensorFlow's convention for complex gradients: the gradient of a real loss ``L`` with respect
    to ``z`` is ``dL/dRe(z) + i dL/dIm(z)``, so the chain rule through a holomorphic ``f`` multiplies
    the upstream gradient by ``conj(f'(z))``; forward mode multiplies the tangent by ``f'(z)``.
    """
    return conj(x) if x.dtype.is_complex else x


# --- arithmetic -----------------------------------------------------------------------------
add = _binary(
    "Add",
    "add",
    lambda op, g: [g, g],
    kinds=NUMERIC_OR_COMPLEX,
    explain=lambda b, op, a: b.add(*a),
    jvp=lambda op, ta, tb: [sum_tangents([ta, tb])],
)
subtract = _binary(
    "Sub",
    "subtract",
    lambda op, g: [g, -g],
    kinds=NUMERIC_OR_COMPLEX,
    explain=lambda b, op, a: b.sub(*a),
    jvp=lambda op, ta, tb: [sum_tangents([ta, _negated(tb)])],
)


def _mul_jvp(op: Any, ta: Tangent, tb: Tangent) -> list[Tangent]:
    a, b = op.inputs
    return [sum_tangents([None if ta is None else ta * b, None if tb is None else a * tb])]


multiply = _binary(
    "Mul",
    "multiply",
    lambda op, g: [g * _conj(op.inputs[1]), g * _conj(op.inputs[0])],
    kinds=NUMERIC_OR_COMPLEX,
    explain=lambda b, op, a: b.mul(*a),
    jvp=_mul_jvp,
)


def _div_jvp(op: Any, ta: Tangent, tb: Tangent) -> list[Tangent]:
    b, y = op.inputs[1], op.outputs[0]
    num = sum_tangents([ta, None if tb is None else -tb * y])
    return [None if num is None else num / b]


_real_div = _binary(
    "RealDiv",
    "true_divide",
    lambda op, g: [g / _conj(op.inputs[1]), -g * _conj(op.outputs[0]) / _conj(op.inputs[1])],
    kinds=FLOAT_OR_COMPLEX,
    explain=lambda b, op, a: b.div(*a),
    jvp=_div_jvp,
)


# TensorFlow's truediv casts integers to the float that holds them exactly.
_TRUEDIV_FLOAT = {
    dtypes.int8: dtypes.float32,
    dtypes.int16: dtypes.float32,
    dtypes.uint8: dtypes.float32,
    dtypes.int32: dtypes.float64,
    dtypes.int64: dtypes.float64,
}


def truediv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """True division (Python 3's ``/``); integers are cast to a float first, as TensorFlow's ``truediv``.

    int8, int16 and uint8 become float32; int32 and int64 become float64. ``x`` and ``y`` must have
    the same dtype (Python numbers take the other's).

    Parameters
    ----------
    x, y : numeric tensors (or values convertible to them) that broadcast.
    name : name of the op.
    """
    x, y = convert_n([x, y])
    target = _TRUEDIV_FLOAT.get(x.dtype)
    if target is not None and x.dtype == y.dtype:  # different dtypes: RealDiv's error names both
        x, y = cast(x, target), cast(y, target)
    return _real_div(x, y, name=name)


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """True division ``x / y``; integer inputs are cast to float first (see ``truediv``)."""
    return truediv(x, y, name=name)


def div(x: Any, y: Any, name: str | None = None) -> Tensor:
    """TensorFlow 1.x's ``tf.div``: Python 2's ``/``, floor division for integers, true division for floats.

    Parameters
    ----------
    x, y : numeric tensors of the same dtype (Python numbers take the other's) that broadcast.
    name : name of the op.
    """
    x, y = convert_n([x, y])
    if x.dtype.is_integer and y.dtype.is_integer:
        return floordiv(x, y, name=name)
    return _real_div(x, y, name=name)


floordiv = _binary(
    "FloorDiv",
    "floor_divide",
    lambda op, g: [None, None],
    explain=lambda b, op, a: b.func("floor", b.div(*a)),
    jvp=zero,
)
floor_div = floordiv  # TensorFlow's other spelling (floor(x / y), also for floats)
floormod = _binary(
    "FloorMod",
    "mod",
    lambda op, g: [g, -g * floor(op.inputs[0] / op.inputs[1])],
    jvp=lambda op, ta, tb: [sum_tangents([ta, None if tb is None else -tb * floor(op.inputs[0] / op.inputs[1])])],
)
maximum = _binary(
    "Maximum",
    "maximum",
    lambda op, g: [where(op.inputs[0] >= op.inputs[1], g, 0), where(op.inputs[0] >= op.inputs[1], 0, g)],
    doc="Elementwise maximum; where ``x == y`` the whole gradient goes to ``x``.",
    explain="max",
    jvp=lambda op, ta, tb: [_select_between(op.inputs[0] >= op.inputs[1], ta, tb, *op.inputs)],
)
minimum = _binary(
    "Minimum",
    "minimum",
    lambda op, g: [where(op.inputs[0] <= op.inputs[1], g, 0), where(op.inputs[0] <= op.inputs[1], 0, g)],
    doc="Elementwise minimum; where ``x == y`` the whole gradient goes to ``x``.",
    explain="min",
    jvp=lambda op, ta, tb: [_select_between(op.inputs[0] <= op.inputs[1], ta, tb, *op.inputs)],
)
squared_difference = _binary(
    "SquaredDifference",
    [("subtract", 0, 1), ("square", PREV)],
    lambda op, g: [2 * g * (op.inputs[0] - op.inputs[1]), -2 * g * (op.inputs[0] - op.inputs[1])],
    doc="``(x - y) ** 2`` elementwise.",
    explain=lambda b, op, a: b.pow(b.sub(*a), b.num(2)),
    jvp=lambda op, ta, tb: [2 * (op.inputs[0] - op.inputs[1]) * sum_tangents([ta, _negated(tb)])],
)


def safe_log(x: Tensor) -> Tensor:
    """log(x) where x > 0, else 0: keeps the gradient of pow finite for x <= 0 (double-where)."""
    positive = x > 0
    return where(positive, log(where(positive, x, 1)), 0)


pow = _binary(  # noqa: A001 - TensorFlow's name
    "Pow",
    "power",
    lambda op, g: [
        g * op.inputs[1] * op.inputs[0] ** (op.inputs[1] - 1),
        g * op.outputs[0] * safe_log(op.inputs[0]),
    ],
    doc="``x ** y`` elementwise; the gradient w.r.t. ``y`` is taken as 0 where ``x <= 0``.",
    explain=lambda b, op, a: b.pow(*a),
    jvp=lambda op, ta, tb: [
        sum_tangents(
            [
                None if ta is None else ta * op.inputs[1] * op.inputs[0] ** (op.inputs[1] - 1),
                None if tb is None else tb * op.outputs[0] * safe_log(op.inputs[0]),
            ]
        )
    ],
)


def _atan2_jvp(op: Any, ty: Tangent, tx: Tangent) -> list[Tangent]:
    y, x = op.inputs
    num = sum_tangents([None if ty is None else x * ty, None if tx is None else -y * tx])
    return [None if num is None else num / (x * x + y * y)]


atan2 = _binary(
    "Atan2",
    "arctan2",
    lambda op, g: [
        g * op.inputs[1] / (op.inputs[0] ** 2 + op.inputs[1] ** 2),
        -g * op.inputs[0] / (op.inputs[0] ** 2 + op.inputs[1] ** 2),
    ],
    kinds=FLOAT,
    doc="``atan2(y, x)``: the angle of the point (x, y), elementwise.",
    explain="atan2",
    jvp=_atan2_jvp,
)


# --- safe division and logs (TensorFlow's *_no_nan, xlogy, xdivy) -------------------------------
# Each is a select between a result and 0, so not a chain of ufunc steps: the kernel guards the
# unsafe operand (no warning, no nan in the branch not taken) and the code generator calls it.
def _zero_where(xp: Any, cond: Any, value: Any) -> Any:
    return xp.where(cond, xp.zeros((), value.dtype), value)


def _div_no_nan_kernel(xp: Any, x: Any, y: Any) -> Any:
    zero = y == 0
    return _zero_where(xp, zero, x / xp.where(zero, xp.ones((), y.dtype), y))


def _mul_no_nan_kernel(xp: Any, x: Any, y: Any) -> Any:
    zero = y == 0
    return _zero_where(xp, zero, xp.where(zero, xp.zeros((), x.dtype), x) * y)


def _xlogy_kernel(xp: Any, x: Any, y: Any) -> Any:
    zero = x == 0
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf where x != 0, as TensorFlow
        return _zero_where(xp, zero, x * xp.log(xp.where(zero, xp.ones((), y.dtype), y)))


def _xdivy_kernel(xp: Any, x: Any, y: Any) -> Any:
    zero = x == 0
    with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 = +-inf where x != 0, as TensorFlow
        return _zero_where(xp, zero, x / xp.where(zero, xp.ones((), y.dtype), y))


def _nonzero(x: Tensor) -> Tensor:
    """1 where ``x != 0``, else 0, in ``x``'s dtype."""
    return cast(not_equal(x, 0), x.dtype)


def _partials_jvp(partials: Any) -> Any:
    """The JVP ``px * tx + py * ty`` of a binary op whose gradient is ``[g * px, g * py]``."""

    def jvp(op: Any, tx: Tangent, ty: Tangent) -> list[Tangent]:
        px, py = partials(op)
        return [sum_tangents([None if tx is None else px * tx, None if ty is None else py * ty])]

    return jvp


def _div_no_nan_partials(op: Any) -> tuple[Tensor, Tensor]:
    x, y = op.inputs
    return div_no_nan(_nonzero(y), y), div_no_nan(div_no_nan(-x, y), y)


def _xlogy_partials(op: Any) -> tuple[Tensor, Tensor]:
    x, y = op.inputs
    return xlogy(_nonzero(x), y), xdivy(x, y)


def _xdivy_partials(op: Any) -> tuple[Tensor, Tensor]:
    x, y = op.inputs
    return xdivy(_nonzero(x), y), xdivy(-x, y * y)


def _div_no_nan_grad(g: Tensor, x: Tensor, y: Tensor) -> list[Tensor]:
    return [div_no_nan(g, y), g * div_no_nan(div_no_nan(-x, y), y)]


div_no_nan = _binary(
    "DivNoNan",
    None,
    # TensorFlow's gradient: the division's, with 0 wherever y == 0.
    lambda op, g: _div_no_nan_grad(g, *(_conj(t) for t in op.inputs)),
    kinds=FLOAT_OR_COMPLEX,
    doc="``x / y``, and 0 where ``y == 0`` (even for ``x`` inf or nan); the gradient is 0 there too.",
    explain="div_no_nan",
    jvp=_partials_jvp(_div_no_nan_partials),
    kernel=_div_no_nan_kernel,
)
mul_no_nan = _binary(
    "MulNoNan",
    None,
    lambda op, g: [mul_no_nan(g, _conj(op.inputs[1])), mul_no_nan(_conj(op.inputs[0]), g)],
    kinds=FLOAT_OR_COMPLEX,
    doc="``x * y``, and 0 where ``y == 0`` (even for ``x`` inf or nan). TensorFlow's gradient:\n"
    "    ``mul_no_nan(g, y)`` for ``x`` and ``mul_no_nan(x, g)`` for ``y``.",
    explain="mul_no_nan",
    jvp=lambda op, tx, ty: [
        sum_tangents(
            [None if tx is None else mul_no_nan(tx, op.inputs[1]), None if ty is None else mul_no_nan(op.inputs[0], ty)]
        )
    ],
    kernel=_mul_no_nan_kernel,
)
xlogy = _binary(
    "Xlogy",
    None,
    lambda op, g: [g * p for p in _xlogy_partials(op)],
    kinds=FLOAT,
    doc="``x * log(y)``, and 0 where ``x == 0`` (so ``xlogy(0, 0) = 0``).\n\n"
    "    TensorFlow's gradient: ``xlogy(x != 0, y)`` for ``x`` (0 at ``x == 0``) and ``xdivy(x, y)`` for ``y``.",
    explain="xlogy",
    jvp=_partials_jvp(_xlogy_partials),
    kernel=_xlogy_kernel,
)
xdivy = _binary(
    "Xdivy",
    None,
    lambda op, g: [g * p for p in _xdivy_partials(op)],
    kinds=FLOAT,
    doc="``x / y``, and 0 where ``x == 0`` (so ``xdivy(0, 0) = 0``); TensorFlow's gradient, 0 at ``x == 0``.",
    explain="xdivy",
    jvp=_partials_jvp(_xdivy_partials),
    kernel=_xdivy_kernel,
)


# --- truncating division (C's / and % on integers) -------------------------------------------
def _check_int_divisor(xp: Any, y: Any) -> None:
    if y.dtype.kind in "iu" and bool(xp.any(y == 0)):
        raise ValueError("Integer division by zero")


def _truncate_div_kernel(xp: Any, x: Any, y: Any) -> Any:
    if x.dtype.kind not in "iu":
        return xp.trunc(x / y)
    _check_int_divisor(xp, y)
    q = xp.floor_divide(x, y)
    # Floor division rounds a negative inexact quotient down; truncation rounds it up.
    return q + ((xp.fmod(x, y) != 0) & ((x < 0) != (y < 0))).astype(q.dtype)


def _truncate_mod_kernel(xp: Any, x: Any, y: Any) -> Any:
    _check_int_divisor(xp, y)
    return xp.fmod(x, y)


truncatediv = _binary(
    "TruncateDiv",
    None,
    lambda op, g: [None, None],
    doc="Division rounded toward zero (C's integer ``/``): ``truncatediv(-7, 2) = -3``.\n\n"
    "    Integer division by zero raises InvalidArgumentError when run; not differentiable.",
    explain=lambda b, op, a: b.func("trunc", b.div(*a)),
    jvp=zero,
    kernel=_truncate_div_kernel,
)
truncatemod = _binary(
    "TruncateMod",
    None,
    lambda op, g: [g, -g * truncatediv(op.inputs[0], op.inputs[1])],
    doc="The remainder of ``truncatediv`` (C's ``%``, NumPy's ``fmod``): it has the sign of ``x``.\n\n"
    "    Integer division by zero raises InvalidArgumentError when run. The gradient (which TensorFlow\n"
    "    does not define) is FloorMod's with truncation: ``g`` for ``x``, ``-g * truncatediv(x, y)`` for ``y``.",
    explain="fmod",
    jvp=lambda op, tx, ty: [sum_tangents([tx, None if ty is None else -ty * truncatediv(op.inputs[0], op.inputs[1])])],
    kernel=_truncate_mod_kernel,
)


negative = _unary(
    "Neg", _ufunc("negative"), lambda op, g: [-g], NUMERIC_OR_COMPLEX, explain=lambda b, op, a: b.neg(a[0])
)
_real_abs = _unary("Abs", _ufunc("absolute"), lambda op, g: [g * sign(op.inputs[0])], NUMERIC, explain="abs")
sign = _unary("Sign", _ufunc("sign"), lambda op, g: [array_ops.zeros_like(op.inputs[0])], NUMERIC, explain="sign")
square = _unary(
    "Square",
    _ufunc("square"),
    lambda op, g: [g * 2 * _conj(op.inputs[0])],
    NUMERIC_OR_COMPLEX,
    explain=_power_of(2),
    jvp=lambda op, t: [None if t is None else t * 2 * op.inputs[0]],
)
sqrt = _unary(
    "Sqrt",
    _ufunc("sqrt"),
    lambda op, g: [g * 0.5 / _conj(op.outputs[0])],
    FLOAT_OR_COMPLEX,
    explain=_power_of(0.5),
    jvp=lambda op, t: [None if t is None else t * 0.5 / op.outputs[0]],
)
rsqrt = _unary(
    "Rsqrt",
    [("sqrt", 0), ("true_divide", ONE, PREV)],
    lambda op, g: [g * -0.5 * op.outputs[0] * op.outputs[0] * op.outputs[0]],
    explain=_power_of(-0.5),
)
reciprocal = _unary(
    "Reciprocal",
    [("true_divide", ONE, 0)],
    lambda op, g: [-g * _conj(op.outputs[0]) * _conj(op.outputs[0])],
    FLOAT_OR_COMPLEX,
    explain=_power_of(-1),
    jvp=lambda op, t: [None if t is None else -t * op.outputs[0] * op.outputs[0]],
)
exp = _unary(
    "Exp",
    _ufunc("exp"),
    lambda op, g: [g * _conj(op.outputs[0])],
    FLOAT_OR_COMPLEX,
    explain="exp",
    jvp=lambda op, t: [None if t is None else t * op.outputs[0]],
)
expm1 = _unary(
    "Expm1",
    _ufunc("expm1"),
    lambda op, g: [g * (op.outputs[0] + 1)],
    explain=lambda b, op, a: b.sub(b.func("exp", a[0]), b.num(1)),
)
log = _unary(
    "Log",
    _ufunc("log"),
    lambda op, g: [g / _conj(op.inputs[0])],
    FLOAT_OR_COMPLEX,
    explain="log",
    jvp=lambda op, t: [None if t is None else t / op.inputs[0]],
)
log1p = _unary(
    "Log1p",
    _ufunc("log1p"),
    lambda op, g: [g / (1 + op.inputs[0])],
    explain=lambda b, op, a: b.func("log", b.add(b.num(1), a[0])),
)
sin = _unary("Sin", _ufunc("sin"), lambda op, g: [g * cos(op.inputs[0])], explain="sin")
cos = _unary("Cos", _ufunc("cos"), lambda op, g: [-g * sin(op.inputs[0])], explain="cos")
tan = _unary("Tan", _ufunc("tan"), lambda op, g: [g * (1 + op.outputs[0] * op.outputs[0])], explain="tan")
asin = _unary("Asin", _ufunc("arcsin"), lambda op, g: [g * rsqrt(1 - op.inputs[0] * op.inputs[0])], explain="asin")
acos = _unary("Acos", _ufunc("arccos"), lambda op, g: [-g * rsqrt(1 - op.inputs[0] * op.inputs[0])], explain="acos")
atan = _unary("Atan", _ufunc("arctan"), lambda op, g: [g / (1 + op.inputs[0] * op.inputs[0])], explain="atan")
sinh = _unary("Sinh", _ufunc("sinh"), lambda op, g: [g * cosh(op.inputs[0])], explain="sinh")
cosh = _unary("Cosh", _ufunc("cosh"), lambda op, g: [g * sinh(op.inputs[0])], explain="cosh")
tanh = _unary("Tanh", _ufunc("tanh"), lambda op, g: [g * (1 - op.outputs[0] * op.outputs[0])], explain="tanh")
asinh = _unary("Asinh", _ufunc("arcsinh"), lambda op, g: [g * rsqrt(op.inputs[0] * op.inputs[0] + 1)], explain="asinh")
acosh = _unary("Acosh", _ufunc("arccosh"), lambda op, g: [g / sinh(op.outputs[0])], explain="acosh")
atanh = _unary("Atanh", _ufunc("arctanh"), lambda op, g: [g / (1 - op.inputs[0] * op.inputs[0])], explain="atanh")
# exp(-log(1 + exp(-x))) neither overflows nor loses digits for large |x|, unlike 1/(1+exp(-x)).
sigmoid = _unary(
    "Sigmoid",
    [("negative", 0), ("logaddexp", ZERO_ARRAY, PREV), ("negative", PREV), ("exp", PREV)],
    lambda op, g: [g * op.outputs[0] * (1 - op.outputs[0])],
    doc="Logistic function ``1 / (1 + exp(-x))``, computed without overflow.",
    explain="sigmoid",
)
softplus = _unary(
    "Softplus",
    [("logaddexp", ZERO_ARRAY, 0)],
    lambda op, g: [g * sigmoid(op.inputs[0])],
    doc="``log(1 + exp(x))``, computed without overflow.",
    explain="softplus",
)


def _erf_kernel(xp: Any, x: Any) -> Any:
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # SciPy is optional; math.erf is exact but runs per element.
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return scipy_erf(x).astype(x.dtype, copy=False)


erf = _unary(
    "Erf",
    None,
    lambda op, g: [g * (2 / math.sqrt(math.pi)) * exp(-op.inputs[0] * op.inputs[0])],
    doc="The error function (SciPy's kernel when installed, else ``math.erf`` per element).",
    explain="erf",
    kernel=_erf_kernel,
    numpy_only="SciPy's erf (or math.erf per element): no NumPy-API module function",
)
floor = _unary("Floor", _ufunc("floor"), lambda op, g: [None], explain="floor")
ceil = _unary("Ceil", _ufunc("ceil"), lambda op, g: [None], explain="ceil")
round = _unary(  # noqa: A001
    "Round", _ufunc("rint"), lambda op, g: [None], doc="Round half to even, elementwise.", explain="round"
)

# --- comparisons and logic (not differentiable) ----------------------------------------------
_BOOL = dtypes.bool_
equal = _binary("Equal", "equal", None, ANY + "c", out_dtype=_BOOL, explain=_relation("=="))
not_equal = _binary("NotEqual", "not_equal", None, ANY + "c", out_dtype=_BOOL, explain=_relation("!="))
less = _binary("Less", "less", None, NUMERIC, out_dtype=_BOOL, explain=_relation("<"))
less_equal = _binary("LessEqual", "less_equal", None, NUMERIC, out_dtype=_BOOL, explain=_relation("<="))
greater = _binary("Greater", "greater", None, NUMERIC, out_dtype=_BOOL, explain=_relation(">"))
greater_equal = _binary("GreaterEqual", "greater_equal", None, NUMERIC, out_dtype=_BOOL, explain=_relation(">="))
logical_and = _binary("LogicalAnd", "logical_and", None, BOOL, out_dtype=_BOOL, explain="and")
logical_or = _binary("LogicalOr", "logical_or", None, BOOL, out_dtype=_BOOL, explain="or")
logical_not = _unary("LogicalNot", _ufunc("logical_not"), None, BOOL, explain="not")


# --- where ---------------------------------------------------------------------------------
def _select_infer(inputs: list[Tensor]) -> list[Any]:
    condition, x, y = inputs
    if not condition.dtype.is_bool:
        raise TypeError(f"condition {condition.name} must be bool, got {condition.dtype.name}")
    rule = elementwise(ANY)
    ((dtype, _),) = rule([x, y])
    return [(dtype, broadcast_shapes(condition.shape, x.shape, y.shape))]


register_op(
    "Select",
    None,
    _select_infer,
    lambda op, g: [None, where(op.inputs[0], g, 0), where(op.inputs[0], 0, g)],
    broadcasts=True,
    elementwise=BROADCAST,
    steps=[("where", 0, 1, 2)],
    explain=lambda b, op, a: b.where(*a),
    jvp=lambda op, tc, ta, tb: [
        None if ta is None and tb is None else _select_between(op.inputs[0], ta, tb, op.inputs[1], op.inputs[2])
    ],
)


def _where_indices_infer(inputs: list[Tensor]) -> list[Any]:
    (condition,) = inputs
    if not condition.dtype.is_bool:
        raise TypeError(f"condition {condition.name} must be bool, got {condition.dtype.name}")
    known = constant_value(condition)
    count = None if known is None else int(np.count_nonzero(known))
    return [(dtypes.int64, TensorShape([count, condition.shape.rank]))]


# The coordinates of the true elements, one row each in row-major order: how many is known only
# at run time (or from a constant condition), so the static first dimension is usually unknown
# (TensorFlow's one-argument ``where``).
register_op(
    "Where",
    lambda xp, c: xp.argwhere(c).astype(np.int64),
    _where_indices_infer,
    None,
    fresh_output=True,
    explain="where",
)


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """Pick ``x`` where ``condition`` is true, else ``y`` (all three broadcast).

    With ``x`` and ``y`` both None (TensorFlow 1.x's one-argument form): the coordinates of the
    true elements of ``condition``, an int64 tensor of shape ``[num_true, rank]`` (row-major order).

    The gradient sends ``g`` to the chosen side and exactly 0 to the other. A NaN
    or inf computed in the branch *not* taken does not appear in the forward
    value, but it can still poison the gradient: ``where(x > 0, log(x), 0)`` at
    ``x = 0`` gives ``0 * (1/0) = nan``. Guard the input of the unsafe branch
    too (the "double where"): ``where(x > 0, log(where(x > 0, x, 1)), 0)``.
    """
    condition = convert_to_tensor(condition)
    if x is None and y is None:
        return apply("Where", condition, name=name)
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither (for the coordinates of the true elements)")
    x, y = convert_n([x, y])
    return apply("Select", condition, x, y, name=name)


# --- casts, sums ---------------------------------------------------------------------------
def _cast_grad(op: Any, g: Tensor) -> list[Any]:
    src = op.inputs[0].dtype
    return [cast(g, src)] if src.is_floating and op.outputs[0].dtype.is_floating else [None]


def _cast_jvp(op: Any, t: Tensor | None) -> list[Any]:
    if t is None or not (op.inputs[0].dtype.is_floating and op.outputs[0].dtype.is_floating):
        return [None]
    return [cast(t, op.outputs[0].dtype)]


def _cast_infer(inputs: list[Tensor], dtype: Any) -> list[Any]:
    # Strings are held as bytes objects: casting them to or from numbers would be NumPy's object casts.
    if dtypes.string in (dtype, inputs[0].dtype):
        raise TypeError(
            f"casting {inputs[0].dtype.name} to {dtype.name} is not supported "
            "(string tensors only hold constants and feeds)"
        )
    return [(dtype, inputs[0].shape)]


def _cast_lower(lw: Any, node: Any, args: list[str]) -> str | None:
    x = node.inputs[0]
    src, dst = np_type(x.dtype), np_type(node.out.dtype)
    if src is None or dst is None or x.shape.rank is None or (x.dtype.is_complex and not node.out.dtype.is_complex):
        return None  # complex to real drops the imaginary part with a warning in NumPy: left to the kernel
    if x.shape.rank == 0:
        return helper(lw, "cast", ["x"], [f"return {dst}(as_scalar(x))"], args[:1])
    return helper(lw, "cast", ["x"], [f"return x.astype({dst})"], args[:1])


register_op(
    "Cast",
    lambda xp, x, dtype: x.astype(dtype.as_numpy_dtype, copy=False),
    _cast_infer,
    _cast_grad,
    jvp=_cast_jvp,
    elementwise=UNARY,
    explain=lambda b, op, a: a[0],
    lower={"numba": _cast_lower},
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
    require_equal_shapes("all inputs of add_n", arrays)  # TensorFlow's AddN never broadcasts
    out = arrays[0] + arrays[1] if len(arrays) > 1 else arrays[0].copy()
    for a in arrays[2:]:
        out += a
    return out


def _add_n_steps(num_inputs: int) -> list[Any] | None:
    """AddN's kernel as ufunc steps: a0 + a1, then + each further input (the same additions, in order)."""
    if num_inputs < 2:
        return None
    return [("add", 0, 1)] + [("add", PREV, i) for i in range(2, num_inputs)]


register_op(
    "AddN",
    _add_n_kernel,
    _add_n_infer,
    lambda op, g: [g] * len(op.inputs),
    steps=_add_n_steps,
    same_shape_inputs=True,
    fresh_output=True,
    explain=lambda b, op, a: b.add(*a),
    jvp=lambda op, *ts: [sum_tangents(ts)],
)


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


# --- complex numbers: parts, conjugate, modulus, argument -----------------------------------------
def _complex_of(real_dtype: Any) -> Any:
    if real_dtype == dtypes.float32:
        return dtypes.complex64
    if real_dtype == dtypes.float64:
        return dtypes.complex128
    raise TypeError(f"the parts of a complex number must be float32 or float64, got {real_dtype.name}")


def _complex_infer(inputs: list[Tensor]) -> list[Any]:
    re, im = inputs
    common = elementwise(FLOAT)([re, im])[0]
    return [(_complex_of(common[0]), common[1])]


def _complex_kernel(xp: Any, re: Any, im: Any) -> Any:
    dtype = np.complex64 if re.dtype == np.float32 else np.complex128
    return re.astype(dtype) + im.astype(dtype) * dtype(1j)


register_op(
    "Complex",
    _complex_kernel,
    _complex_infer,
    lambda op, g: [real(g), imag(g)],
    broadcasts=True,
    elementwise=BROADCAST,
    fresh_output=True,
    explain="complex",
    jvp=linear,
)


def _to_real_infer(inputs: list[Tensor]) -> list[Any]:
    (x,) = inputs
    check_kind("op", x, "c")
    return [(x.dtype.real_dtype, x.shape)]


def _complex_only(inputs: list[Tensor]) -> list[Any]:
    (x,) = inputs
    check_kind("op", x, "c")
    return [(x.dtype, x.shape)]


def _zeros_real(g: Tensor) -> Tensor:
    return array_ops.zeros_like(g)


def _as_real_part(x: Tensor) -> Tensor:
    """``complex(x, 0)``."""
    return complex(x, _zeros_real(x))


register_op(
    "Real",
    lambda xp, x: xp.real(x).copy(),
    _to_real_infer,
    lambda op, g: [_as_real_part(g)],
    elementwise=UNARY,
    fresh_output=True,
    explain="re",
    jvp=linear,
)
register_op(
    "Imag",
    lambda xp, x: xp.imag(x).copy(),
    _to_real_infer,
    lambda op, g: [complex(_zeros_real(g), g)],
    elementwise=UNARY,
    fresh_output=True,
    explain="im",
    jvp=linear,
)
register_op(
    "Conj",
    None,
    _complex_only,
    lambda op, g: [conj(g)],
    elementwise=UNARY,
    steps=[("conjugate", 0)],
    explain="conj",
    jvp=linear,
)
register_op(
    "ComplexAbs",
    None,
    _to_real_infer,
    # TensorFlow's: g * z / |z| (0 at z == 0).
    lambda op, g: [div_no_nan(_as_real_part(g) * op.inputs[0], _as_real_part(op.outputs[0]))],
    elementwise=UNARY,
    steps=[("absolute", 0)],
    explain="abs",
    jvp=lambda op, t: [None if t is None else div_no_nan(real(conj(op.inputs[0]) * t), op.outputs[0])],
)


def _angle_jvp(op: Any, t: Tangent) -> list[Tangent]:
    if t is None:
        return [None]
    z = op.inputs[0]
    return [imag(conj(z) * t) / real(z * conj(z))]


register_op(
    "Angle",
    lambda xp, x: xp.angle(x).astype(x.real.dtype, copy=False),
    _to_real_infer,
    # TensorFlow's: -g / (imag(z) + i real(z)) = g * (-imag(z) + i real(z)) / |z|^2.
    lambda op, g: [-_as_real_part(g) * reciprocal(complex(imag(op.inputs[0]), real(op.inputs[0])))],
    elementwise=UNARY,
    fresh_output=True,
    explain="arg",
    jvp=_angle_jvp,
)


def complex(real: Any, imag: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TensorFlow's name
    """``real + i * imag``: float32 parts give complex64, float64 parts complex128 (they broadcast).

    The gradient of a real loss flows back as ``(real(g), imag(g))``.
    """
    re, im = convert_n([real, imag])
    return apply("Complex", re, im, name=name)


def real(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The real part of a complex tensor (a real tensor is returned unchanged, as TensorFlow)."""
    x = convert_to_tensor(input)
    return apply("Real", x, name=name) if x.dtype.is_complex else x


def imag(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The imaginary part of a complex tensor (zeros for a real tensor, as TensorFlow)."""
    x = convert_to_tensor(input)
    return apply("Imag", x, name=name) if x.dtype.is_complex else array_ops.zeros_like(x, name=name)


def conj(x: Any, name: str | None = None) -> Tensor:
    """The complex conjugate (a real tensor is returned unchanged, as TensorFlow)."""
    t = convert_to_tensor(x)
    if t.dtype.is_complex:
        return apply("Conj", t, name=name)
    if not t.dtype.is_numeric:
        raise TypeError(f"conj: expected a numeric or complex tensor, got {t.dtype.name}")
    return t


def angle(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The argument of each complex element, in ``(-pi, pi]``; for a real tensor ``pi`` where it is negative, else 0."""
    x = convert_to_tensor(input)
    if x.dtype.is_complex:
        return apply("Angle", x, name=name)
    return where(x < 0, array_ops.fill(array_ops.shape(x), x.dtype.as_numpy_dtype(np.pi)), array_ops.zeros_like(x))


def abs(x: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TensorFlow's name
    """``|x|`` elementwise; of a complex tensor, the modulus, a real tensor (``ComplexAbs``)."""
    t = convert_to_tensor(x)
    return apply("ComplexAbs" if t.dtype.is_complex else "Abs", t, name=name)


# --- the Tensor operators ------------------------------------------------------------------
def _truediv(x: Any, y: Any) -> Tensor:
    return divide(x, y)


def _logical_or_bitwise(logical: Any, name: str) -> Any:
    def fn(x: Any, y: Any) -> Tensor:
        x, y = convert_n([x, y])
        if not (x.dtype.is_bool and y.dtype.is_bool):
            raise TypeError(f"operator {name} is defined for bool tensors only, got {x.dtype.name} and {y.dtype.name}")
        return logical(x, y)

    return fn


install_operators(
    {
        "add": add,
        "sub": subtract,
        "mul": multiply,
        "truediv": _truediv,
        "floordiv": floordiv,
        "mod": floormod,
        "pow": pow,
        "lt": less,
        "le": less_equal,
        "gt": greater,
        "ge": greater_equal,
        "and": _logical_or_bitwise(logical_and, "&"),
        "or": _logical_or_bitwise(logical_or, "|"),
        "neg": negative,
        "abs": abs,
        "invert": logical_not,
    }
)

_NOT_EXPORTED = (
    "annotations",
    "array_ops",
    "check_kind",
    "comparison",
    "dtypes",
    "Any",
    "Protocol",
    "Tensor",
    "TensorShape",
    "constant_value",
    "install_operators",
    "math",
    "name_op_functions",
    "np",
    "safe_log",
)
# The ops this module declares, not the helpers it imports (``apply``, ``register_op``, ...): they are read by
# ``from chainrule.ops.math_ops import *`` into ``cr`` and ``cr.math``.
__all__ = [
    n
    for n, v in list(globals().items())
    if not n.startswith("_") and n not in _NOT_EXPORTED and getattr(v, "__module__", None) == __name__
]
name_op_functions(globals())
