"""Samples for the elementwise math ops (``chainrule.ops.math_ops``)."""

from __future__ import annotations

import math

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, positive, rand, sample

# Shapes every binary op is checked on: equal, broadcast both ways, size-1, scalar, size-0.
BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 3)), ((1,), (2, 2)), ((), (3,)), ((0, 3), (3,))]
UNARY_SHAPES = [(2, 3), (1,), (), (0, 2)]


def _unary(name, fn, ref, domain=(-2.0, 2.0), order=2, **kw):
    lo, hi = domain
    return [
        sample(
            name,
            fn,
            rand(*s, low=lo, high=hi, seed=i),
            ref=ref,
            label="x".join(map(str, s)) or "scalar",
            order=order,
            **kw,
        )
        for i, s in enumerate(UNARY_SHAPES)
    ]


def _binary(name, fn, ref, x_domain=(-2.0, 2.0), y_domain=(-2.0, 2.0), order=2, **kw):
    out = []
    for i, (sx, sy) in enumerate(BINARY_SHAPES):
        x = rand(*sx, low=x_domain[0], high=x_domain[1], seed=i)
        y = rand(*sy, low=y_domain[0], high=y_domain[1], seed=100 + i)
        out.append(sample(name, fn, x, y, ref=ref, label=f"{sx}+{sy}", order=order, **kw))
    return out


def _erf_ref(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(np.asarray(x).dtype)


def _sigmoid_ref(x):
    return 1 / (1 + np.exp(-x))


SAMPLES: list[OpSample] = [
    *_binary("add", cr.add, np.add),
    *_binary("subtract", cr.subtract, np.subtract),
    *_binary("multiply", cr.multiply, np.multiply),
    *_binary("divide", cr.divide, np.divide, y_domain=(0.5, 2.0)),
    *_binary("maximum", cr.maximum, np.maximum),
    *_binary("minimum", cr.minimum, np.minimum),
    *_binary("squared_difference", cr.squared_difference, lambda x, y: (x - y) ** 2),
    *_binary("pow", cr.pow, np.power, x_domain=(0.5, 2.0)),
    *_binary("atan2", cr.atan2, np.arctan2, y_domain=(0.5, 2.0)),
    *_binary("floordiv", lambda x, y: x // y, np.floor_divide, y_domain=(0.5, 2.0), order=0),
    *_binary("floormod", lambda x, y: x % y, np.mod, x_domain=(0.1, 0.9), y_domain=(1.0, 2.0)),
    *_unary("negative", cr.negative, np.negative),
    *_unary("abs", cr.abs, np.abs),
    *_unary("sign", cr.sign, np.sign),
    *_unary("square", cr.square, np.square),
    *_unary("sqrt", cr.sqrt, np.sqrt, domain=(0.5, 2.0)),
    *_unary("rsqrt", cr.rsqrt, lambda x: 1 / np.sqrt(x), domain=(0.5, 2.0)),
    *_unary("reciprocal", cr.reciprocal, np.reciprocal, domain=(0.5, 2.0)),
    *_unary("exp", cr.exp, np.exp),
    *_unary("expm1", cr.expm1, np.expm1),
    *_unary("log", cr.log, np.log, domain=(0.5, 2.0)),
    *_unary("log1p", cr.log1p, np.log1p, domain=(-0.5, 2.0)),
    *_unary("sin", cr.sin, np.sin),
    *_unary("cos", cr.cos, np.cos),
    *_unary("tan", cr.tan, np.tan, domain=(-1.2, 1.2)),
    *_unary("asin", cr.asin, np.arcsin, domain=(-0.9, 0.9)),
    *_unary("acos", cr.acos, np.arccos, domain=(-0.9, 0.9)),
    *_unary("atan", cr.atan, np.arctan),
    *_unary("sinh", cr.sinh, np.sinh),
    *_unary("cosh", cr.cosh, np.cosh),
    *_unary("tanh", cr.tanh, np.tanh),
    *_unary("asinh", cr.asinh, np.arcsinh),
    *_unary("acosh", cr.acosh, np.arccosh, domain=(1.2, 3.0)),
    *_unary("atanh", cr.atanh, np.arctanh, domain=(-0.8, 0.8)),
    *_unary("sigmoid", cr.sigmoid, _sigmoid_ref, rtol=1e-6),
    *_unary("softplus", cr.softplus, lambda x: np.log1p(np.exp(x))),
    *_unary("erf", cr.erf, _erf_ref),
    *_unary("floor", cr.floor, np.floor, order=0),
    *_unary("ceil", cr.ceil, np.ceil, order=0),
    *_unary("round", cr.round, np.round, order=0),
    *_unary("operator_neg", lambda x: -x, np.negative),
    *_unary("operator_abs", lambda x: abs(x), np.abs),
    *_binary("operator_add", lambda x, y: x + 2.0 * y, lambda x, y: x + 2.0 * y),
    *_binary("operator_sub", lambda x, y: x - y, np.subtract),
    *_binary("operator_mul", lambda x, y: x * y, np.multiply),
    *_binary("operator_div", lambda x, y: x / y, np.divide, y_domain=(0.5, 2.0)),
    *_binary("operator_pow", lambda x, y: x**y, np.power, x_domain=(0.5, 2.0)),
    sample("operator_pow", lambda x: x**3, rand(5), ref=lambda x: x**3, label="int exponent"),
    sample("operator_rsub", lambda x: 1.0 - x, rand(3), ref=lambda x: 1.0 - x),
    sample("operator_rdiv", lambda x: 1.0 / x, positive(3), ref=lambda x: 1.0 / x),
    sample(
        "cast",
        lambda x: cr.cast(x, cr.float32),
        rand(2, 3),
        ref=lambda x: x.astype(np.float32),
        float32=False,
        grad_delta=1e-2,
        grad_rtol=1e-5,
    ),
    sample("cast", lambda x: cr.cast(x, cr.int32), rand(4), ref=lambda x: x.astype(np.int32), label="to int", order=0),
    sample(
        "add_n",
        lambda a, b, c: cr.add_n([a, b, c]),
        rand(2, 3),
        rand(2, 3, seed=1),
        rand(2, 3, seed=2),
        ref=lambda a, b, c: a + b + c,
    ),
    sample("add_n", lambda a: cr.add_n([a]), rand(0, 3), ref=lambda a: a, label="single"),
    sample(
        "clip_by_value",
        lambda x: cr.clip_by_value(x, -0.5, 0.75),
        np.array([-1.3, -0.2, 0.1, 0.6, 1.7]),
        ref=lambda x: np.clip(x, -0.5, 0.75),
    ),
    sample(
        "where",
        lambda c, x, y: cr.where(c, x, y),
        np.array([[True, False, True]]),
        rand(2, 3),
        rand(2, 1, seed=1),
        ref=np.where,
    ),
    sample(
        "where",
        lambda c, x, y: cr.where(c, x, y),
        np.array(True),
        rand(3),
        rand(3, seed=1),
        ref=np.where,
        label="scalar cond",
    ),
]

_cmp_x = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
_cmp_y = np.array([2.0, 2.0, 2.0])
for _name, _ref in [
    ("equal", np.equal),
    ("not_equal", np.not_equal),
    ("less", np.less),
    ("less_equal", np.less_equal),
    ("greater", np.greater),
    ("greater_equal", np.greater_equal),
]:
    SAMPLES.append(sample(_name, getattr(cr, _name), _cmp_x, _cmp_y, ref=_ref, order=0))
_bx = np.array([[True, False], [True, True]])
_by = np.array([True, False])
SAMPLES += [
    sample("logical_and", cr.logical_and, _bx, _by, ref=np.logical_and, order=0),
    sample("logical_or", cr.logical_or, _bx, _by, ref=np.logical_or, order=0),
    sample("logical_not", cr.logical_not, _bx, ref=np.logical_not, order=0),
    sample("operator_and", lambda x, y: x & y, _bx, _by, ref=np.logical_and, order=0),
    sample("operator_lt", lambda x, y: x < y, _cmp_x, _cmp_y, ref=np.less, order=0),
]

ERRORS: list[ErrorSample] = [
    error(
        "add",
        cr.add,
        rand(2, 3),
        rand(4),
        error=cr.errors.InvalidArgumentError,
        match=r"Add.*Incompatible shapes.*\(2, 3\).*\(4,\)",
    ),
    error(
        "multiply",
        cr.multiply,
        rand(2, 3),
        np.ones(3, np.float32),
        error=cr.errors.InvalidDTypeError,
        match="Mul.*same dtype.*float64.*float32",
    ),
    error("sin", cr.sin, np.array([1, 2], np.int32), error=TypeError, match="Sin.*int32.*floating"),
    error("logical_and", cr.logical_and, rand(2), rand(2), error=TypeError, match="LogicalAnd.*bool"),
    error("where", cr.where, rand(2), rand(2), rand(2), error=TypeError, match="Select.*must be bool"),
    error("add_n", lambda a, b: cr.add_n([a, b]), rand(2), rand(3), error=ValueError, match="AddN.*same shape"),
]

# --- TensorFlow 1.x's divisions, the *_no_nan ops, xlogy and xdivy --------------------------------
_ints_x = np.array([-7, 7, -8, 9, 0, -1], np.int32)
_ints_y = np.array([2, -2, 3, 4, -3, 5], np.int32)


def _trunc_div_ref(x, y):
    return (np.trunc(x / y)).astype(np.result_type(x, y))


def _xlogy_ref(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, x * np.log(np.where(x == 0, 1, y))).astype(x.dtype)


def _xdivy_ref(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, x / np.where(x == 0, 1, y)).astype(x.dtype)


def _div_no_nan_ref(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y == 0, 0, x / np.where(y == 0, 1, y)).astype(x.dtype)


def _mul_no_nan_ref(x, y):
    return np.where(y == 0, 0, x * y).astype(x.dtype)


_with_zeros = np.array([[0.5, 0.0, -1.5], [0.0, 2.0, 0.7]])
SAMPLES += [
    *_binary("div", cr.div, np.divide, y_domain=(0.5, 2.0)),
    sample("div", cr.div, _ints_x, _ints_y, ref=np.floor_divide, label="int floors", order=0),
    *_binary("truediv", cr.truediv, np.divide, y_domain=(0.5, 2.0)),
    sample("truediv", cr.truediv, _ints_x, _ints_y, ref=np.divide, label="int32 to float64", order=0),
    sample(
        "truediv",
        cr.truediv,
        _ints_x.astype(np.int16),
        _ints_y.astype(np.int16),
        ref=lambda x, y: (x / y).astype(np.float32),
        label="int16 to float32",
        order=0,
        rtol=1e-6,
    ),
    sample("floor_div", cr.floor_div, rand(2, 3), positive(3), ref=np.floor_divide, order=0),
    sample("truncatediv", cr.truncatediv, _ints_x, _ints_y, ref=_trunc_div_ref, label="int", order=0),
    sample("truncatediv", cr.truncatediv, rand(2, 3), positive(3), ref=lambda x, y: np.trunc(x / y), order=0),
    sample("truncatemod", cr.truncatemod, _ints_x, _ints_y, ref=np.fmod, label="int", order=0),
    *_binary("truncatemod", cr.truncatemod, np.fmod, x_domain=(-0.9, 0.9), y_domain=(1.0, 2.0)),
    sample(
        "truncatemod",
        cr.truncatemod,
        np.array([2.5, -3.7, 5.3]),
        np.array([2.0, 1.5, -2.0]),
        ref=np.fmod,
        label="nonzero quotients",
    ),
    *_binary("div_no_nan", cr.div_no_nan, _div_no_nan_ref, y_domain=(0.5, 2.0)),
    # Where y == 0 the value and the gradient are 0 (d/dx is then truly 0; d/dy is TensorFlow's 0).
    sample("div_no_nan", cr.div_no_nan, rand(2, 3), _with_zeros, ref=_div_no_nan_ref, label="y zeros", wrt=(0,)),
    *_binary("mul_no_nan", cr.mul_no_nan, _mul_no_nan_ref),
    sample("mul_no_nan", cr.mul_no_nan, rand(2, 3), _with_zeros, ref=_mul_no_nan_ref, label="y zeros"),
    *_binary("xlogy", cr.xlogy, _xlogy_ref, y_domain=(0.5, 2.0)),
    # x == 0 gives 0 for any y (even 0); TensorFlow's gradient there is 0 for x too, so only y is checked.
    sample("xlogy", cr.xlogy, _with_zeros, positive(2, 3), ref=_xlogy_ref, label="x zeros", wrt=(1,)),
    sample("xlogy", cr.xlogy, np.zeros(3), np.array([0.0, 1.0, 2.0]), ref=_xlogy_ref, label="0 log 0", order=0),
    *_binary("xdivy", cr.xdivy, _xdivy_ref, y_domain=(0.5, 2.0)),
    sample("xdivy", cr.xdivy, _with_zeros, positive(2, 3), ref=_xdivy_ref, label="x zeros", wrt=(1,)),
    sample("xdivy", cr.xdivy, np.zeros(3), np.array([0.0, 1.0, 2.0]), ref=_xdivy_ref, label="0 / 0", order=0),
    sample(
        "where",
        lambda: cr.where(cr.constant([[False, True], [True, True]])),
        ref=lambda: np.argwhere(np.array([[False, True], [True, True]])),
        label="constant condition: static count",
        order=0,
    ),
]

# --- clip_by_norm, clip_by_global_norm, global_norm ------------------------------------------------


def _clip_by_norm_ref(t, clip, axes=None):
    norm = np.sqrt(np.sum(t * t, axis=axes, keepdims=True))
    return t * clip / np.maximum(norm, clip)


def _global_norm_ref(*ts):
    return np.sqrt(sum(np.sum(t * t) for t in ts))


def _clip_by_global_norm_ref(clip, *ts):
    norm = _global_norm_ref(*ts)
    return [t * clip / max(norm, clip) for t in ts] + [norm]


SAMPLES += [
    sample("clip_by_norm", lambda t: cr.clip_by_norm(t, 1.0), rand(2, 3), ref=lambda t: _clip_by_norm_ref(t, 1.0)),
    sample(
        "clip_by_norm",
        lambda t: cr.clip_by_norm(t, 10.0),
        rand(2, 3),
        ref=lambda t: _clip_by_norm_ref(t, 10.0),
        label="inside: unchanged",
    ),
    sample(
        "clip_by_norm",
        lambda t: cr.clip_by_norm(t, 1.5, axes=[1]),
        rand(3, 4, seed=1),
        ref=lambda t: _clip_by_norm_ref(t, 1.5, axes=1),
        label="per row",
    ),
    sample("clip_by_norm", lambda t: cr.clip_by_norm(t, 1.0), np.zeros((2, 2)), ref=lambda t: t, label="zeros"),
    sample("global_norm", lambda a, b: cr.global_norm([a, b]), rand(2, 3), rand(4, seed=1), ref=_global_norm_ref),
    sample(
        "clip_by_global_norm",
        lambda a, b: (lambda r: [*r[0], r[1]])(cr.clip_by_global_norm([a, b], 1.0)),
        rand(2, 3),
        rand(4, seed=1),
        ref=lambda a, b: _clip_by_global_norm_ref(1.0, a, b),
    ),
    sample(
        "clip_by_global_norm",
        lambda a, b: (lambda r: [*r[0], r[1]])(cr.clip_by_global_norm([a, b], 100.0)),
        rand(2, 3),
        rand(4, seed=1),
        ref=lambda a, b: _clip_by_global_norm_ref(100.0, a, b),
        label="inside: unchanged",
    ),
]

ERRORS += [
    error(
        "truncatediv",
        cr.truncatediv,
        np.array([1, 2], np.int32),
        np.array([1, 0], np.int32),
        error=cr.errors.InvalidArgumentError,
        match="Integer division by zero.*TruncateDiv",
        at_run=True,
    ),
    error(
        "truncatemod",
        cr.truncatemod,
        np.array([1, 2], np.int64),
        np.array([0, 1], np.int64),
        error=cr.errors.InvalidArgumentError,
        match="Integer division by zero.*TruncateMod",
        at_run=True,
    ),
    error(
        "xlogy", cr.xlogy, np.array([1, 2], np.int32), np.array([1, 2], np.int32), error=TypeError, match="Xlogy.*int32"
    ),
    error("div_no_nan", cr.div_no_nan, rand(2), rand(3), error=ValueError, match="DivNoNan.*Incompatible shapes"),
    error("where", lambda c: cr.where(c), rand(2), error=TypeError, match="Where.*must be bool"),
]

# --- complex numbers ----------------------------------------------------------------------------------
# Real inputs and real outputs around complex intermediates: the table's real central differences then
# check TensorFlow's complex gradient convention (and forward mode) through every complex op.
_z = (rand(2, 3, seed=5) + 1j * rand(2, 3, seed=6)).astype(np.complex128)


def _parts(f):
    """``f`` on ``complex(x, y)``, seen through its real and imaginary parts."""

    def fn(x, y):
        z = f(cr.complex(x, y))
        return [cr.real(z), cr.imag(z)] if z.dtype.is_complex else z

    return fn


def _parts_ref(f):
    def ref(x, y):
        z = f(x + 1j * y)
        return [z.real, z.imag] if np.iscomplexobj(z) else z

    return ref


_W = rand(3, 2, seed=7) - 0.5j * rand(3, 2, seed=8)
for _name, _f, _npf in [
    ("complex", lambda z: z, lambda z: z),
    ("complex_exp", cr.exp, np.exp),
    ("complex_log", cr.log, np.log),
    ("complex_sqrt", cr.sqrt, np.sqrt),
    ("complex_square", cr.square, np.square),
    ("complex_negative", cr.negative, np.negative),
    ("complex_conj", cr.conj, np.conj),
    ("complex_mul", lambda z: z * z * (0.5 - 2j), lambda z: z * z * (0.5 - 2j)),
    ("complex_div", lambda z: (1.5 + 1j) / z, lambda z: (1.5 + 1j) / z),
    ("complex_add", lambda z: z + cr.conj(z) * 1j - 2.0, lambda z: z + np.conj(z) * 1j - 2.0),
    ("complex_matmul", lambda z: cr.matmul(z, cr.constant(_W)), lambda z: z @ _W),
    ("complex_reduce_sum", lambda z: cr.reduce_sum(z * z, axis=1), lambda z: np.sum(z * z, axis=1)),
    ("complex_reduce_mean", lambda z: cr.reduce_mean(z * z), lambda z: np.mean(z * z)),
    ("complex_abs", cr.abs, np.abs),
    ("complex_angle", cr.angle, np.angle),
    ("complex_div_no_nan", lambda z: cr.div_no_nan(z, z * z), lambda z: 1 / z),
]:
    SAMPLES.append(
        sample(
            _name,
            _parts(_f),
            np.real(_z) + np.sign(np.real(_z)) * 0.3,  # away from 0 (log, sqrt, abs and angle have kinks there)
            np.imag(_z),
            ref=_parts_ref(_npf),
            float32=False,
        )
    )
SAMPLES += [
    sample("real", cr.real, _z, ref=np.real, label="complex128", order=0),
    sample("imag", cr.imag, _z.astype(np.complex64), ref=np.imag, label="complex64", order=0),
    sample("real", cr.real, rand(3), ref=lambda x: x, label="of a real tensor: itself"),
    sample("imag", cr.imag, rand(3), ref=np.zeros_like, label="of a real tensor: zeros"),
    sample("conj", cr.conj, _z, ref=np.conj, order=0),
    sample("angle", cr.angle, _z, ref=np.angle, order=0),
    sample("angle", cr.angle, np.array([-1.5, 0.0, 2.0]), ref=np.angle, label="real", order=0),
    sample("abs", cr.abs, _z.astype(np.complex64), ref=np.abs, label="complex64", order=0),
    sample("multiply", cr.multiply, _z, _z[0], ref=np.multiply, label="complex broadcast", order=0),
    sample("matmul", cr.matmul, _z, _W, ref=np.matmul, label="complex", order=0),
]
ERRORS += [
    error("complex", cr.complex, rand(2), np.ones(2, np.float32), error=TypeError, match="Complex.*same dtype"),
    error(
        "complex",
        cr.complex,
        np.ones(2, np.int32),
        np.ones(2, np.int32),
        error=TypeError,
        match="Complex.*floating",
        label="int parts",
    ),
    error("maximum", cr.maximum, _z, _z, error=TypeError, match="Maximum.*complex128.*numeric", label="complex"),
    error("real", lambda z: cr.add(z, 1j), rand(2), error=TypeError, match="complex value.*float64", label="lossy"),
]
