"""Every chainrule.numpy function, table-driven: NumPy's values on arrays (the eager path), the same
values and dtype on tensors (the graph path), gradients by central differences to second order,
vmap against a loop; broadcast, size-1, size-0 and integer inputs."""

from __future__ import annotations

import numpy as onp
import pytest
from numpy_cases import Case, assert_same, float_args, run_graph, values

import chainrule as cr
import chainrule.numpy as cnp

# --- the table ---------------------------------------------------------------------------------
UNARY_DOMAINS = {
    "negative": "any", "positive": "any", "absolute": "any", "abs": "any", "fabs": "any", "exp": "any",
    "exp2": "any", "expm1": "any", "log": "pos", "log2": "pos", "log10": "pos", "log1p": "pos", "sqrt": "pos",
    "cbrt": "any", "square": "any", "reciprocal": "pos", "sin": "any", "cos": "any", "tan": "unit",
    "arcsin": "unit", "arccos": "unit", "arctan": "any", "sinh": "any", "cosh": "any", "tanh": "any",
    "arcsinh": "any", "arccosh": "gt1", "arctanh": "unit", "deg2rad": "any", "radians": "any",
    "rad2deg": "any", "degrees": "any", "conjugate": "any", "conj": "any", "sinc": "any", "real": "any",
    "imag": "any", "angle": "any",
}  # fmt: skip
NOT_DIFFERENTIABLE = [
    "sign", "floor", "ceil", "rint", "trunc", "fix", "round", "around", "isfinite", "isinf", "isnan",
    "signbit", "logical_not", "isposinf", "isneginf", "iscomplex", "isreal",
]  # fmt: skip
BINARY_DOMAINS = {
    "add": ("any", "any"), "subtract": ("any", "any"), "multiply": ("any", "any"), "divide": ("any", "pos"),
    "true_divide": ("any", "pos"), "power": ("pos", "any"), "float_power": ("pos", "any"),
    "maximum": ("any", "any"), "minimum": ("any", "any"), "fmax": ("any", "any"), "fmin": ("any", "any"),
    "arctan2": ("any", "any"), "hypot": ("any", "any"), "logaddexp": ("any", "any"),
    "logaddexp2": ("any", "any"), "mod": ("any", "pos"), "remainder": ("any", "pos"), "fmod": ("any", "pos"),
    "copysign": ("any", "any"),
}  # fmt: skip
NOT_DIFFERENTIABLE_BINARY = [
    "floor_divide", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_xor", "heaviside",
]  # fmt: skip
SHAPES_1 = [(2, 3), (1,), (0, 3), ()]
SHAPES_2 = [((2, 3), (3,)), ((2, 1), (1, 3)), ((1,), (1,)), ((0, 3), (1, 3))]


def _u(name):
    return lambda m, x: getattr(m, name)(x)


def _b(name):
    return lambda m, x, y: getattr(m, name)(x, y)


CASES: list[Case] = []
for name, domain in UNARY_DOMAINS.items():
    for shape in SHAPES_1:
        CASES.append(Case(f"{name}{list(shape)}", _u(name), [values(shape, domain)], vmap=shape == (2, 3)))
    ints = {"any": [-3, 0, 2, 4], "pos": [1, 2, 3, 5], "unit": [0, 0, 0, 0], "gt1": [2, 3, 4, 5]}[domain]
    CASES.append(Case(f"{name}[int]", _u(name), [onp.array(ints, dtype=onp.int32)], grad=False))
for name in NOT_DIFFERENTIABLE:
    for shape in SHAPES_1:
        CASES.append(Case(f"{name}{list(shape)}", _u(name), [onp.asarray(values(shape) * 3)], grad=False))
    CASES.append(Case(f"{name}[int]", _u(name), [values((4,), "int", onp.int64)], grad=False))
for name, (dx, dy) in BINARY_DOMAINS.items():
    for sx, sy in SHAPES_2:
        CASES.append(Case(f"{name}{list(sx)}{list(sy)}", _b(name), [values(sx, dx), values(sy, dy)],
                          vmap=sx == (2, 3)))  # fmt: skip
    CASES.append(
        Case(f"{name}[weak scalar]", lambda m, x, n=name: getattr(m, n)(x, 1.5), [values((3,), dx, onp.float32)])
    )
    ints = [values((3,), "int", onp.int32) + 5, values((3,), "int", onp.int32) + 5]
    CASES.append(Case(f"{name}[int,int]", _b(name), ints, grad=False))
    CASES.append(Case(f"{name}[f32,f64]", _b(name), [values((3,), dx, onp.float32), values((3,), dy)], grad=False))
for name in NOT_DIFFERENTIABLE_BINARY:
    x, y = values((2, 3), "int"), values((3,), "int")
    CASES.append(Case(f"{name}", _b(name), [x, y], grad=False))
    CASES.append(Case(f"{name}[int]", _b(name), [x.astype(onp.int32), y.astype(onp.int64)], grad=False))
    CASES.append(Case(f"{name}[size0]", _b(name), [values((0, 3)), y], grad=False))

A = values((3, 4))
B = values((4, 2))
V3 = values((3,))
V4 = values((4,))
SQ = values((3, 3))
T3 = values((2, 3, 4))
I4 = onp.arange(12, dtype=onp.int32).reshape(3, 4)
E = onp.zeros((0, 4))


def case(name, fn, *args, **kw):
    CASES.append(Case(name, fn, list(args), **kw))


# reductions
for red in ("sum", "mean", "prod", "max", "min", "amax", "amin", "std", "var"):
    case(f"{red}", lambda m, x, r=red: getattr(m, r)(x), A, vmap=True)
    case(f"{red}[axis=0]", lambda m, x, r=red: getattr(m, r)(x, axis=0), A)
    case(f"{red}[axis=(0,2),keepdims]", lambda m, x, r=red: getattr(m, r)(x, axis=(0, 2), keepdims=True), T3)
    # std over one element is sqrt(0): not differentiable there (in NumPy's autograd neither)
    case(f"{red}[axis=-1,size1]", lambda m, x, r=red: getattr(m, r)(x, axis=-1), values((3, 1)), grad=red != "std")
    case(f"{red}[int]", lambda m, x, r=red: getattr(m, r)(x, axis=1), I4, grad=False)
    if red not in ("max", "min", "amax", "amin"):
        case(f"{red}[size0 axis=0]", lambda m, x, r=red: getattr(m, r)(x, axis=1), E, grad=red in ("sum", "prod"))
case("std[ddof=1]", lambda m, x: m.std(x, ddof=1, axis=0), A)
case("var[ddof=1]", lambda m, x: m.var(x, ddof=1), A)
case("sum[dtype]", lambda m, x: m.sum(x, dtype=m.float32), I4, grad=False)
case("sum[bool]", lambda m, x: m.sum(x > 3), I4, grad=False)
case("mean[bool]", lambda m, x: m.mean(x > 3, axis=0), I4, grad=False)
case("max[ties]", lambda m, x: m.max(x, axis=1), onp.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]]), order=1)
for scan in ("cumsum", "cumprod"):
    case(f"{scan}", lambda m, x, s=scan: getattr(m, s)(x), A)
    case(f"{scan}[axis=1]", lambda m, x, s=scan: getattr(m, s)(x, axis=1), A, vmap=True)
    case(f"{scan}[int32]", lambda m, x, s=scan: getattr(m, s)(x, axis=0), I4, grad=False)
    case(f"{scan}[size0]", lambda m, x, s=scan: getattr(m, s)(x, axis=0), E)
for arg in ("argmax", "argmin"):
    case(f"{arg}", lambda m, x, a=arg: getattr(m, a)(x), A, grad=False)
    case(f"{arg}[axis=0]", lambda m, x, a=arg: getattr(m, a)(x, axis=0), A, grad=False)
    case(f"{arg}[keepdims]", lambda m, x, a=arg: getattr(m, a)(x, axis=1, keepdims=True), I4, grad=False)
for logical in ("all", "any", "count_nonzero"):
    case(f"{logical}", lambda m, x, f=logical: getattr(m, f)(x), I4 % 3, grad=False)
    case(f"{logical}[axis=0]", lambda m, x, f=logical: getattr(m, f)(x, axis=0), I4 % 3, grad=False)
case("ptp", lambda m, x: m.ptp(x, axis=0), A)

# elementwise non-ufuncs
case("where", lambda m, c, x, y: m.where(c, x, y), A > 0, A, values((4,)), vmap=False)
case("where[weak]", lambda m, c, x: m.where(c, x, 0.0), A > 0, A.astype(onp.float32))
case("clip", lambda m, x: m.clip(x, -0.5, 0.7), A)
case("clip[tensor bounds]", lambda m, x, lo, hi: m.clip(x, lo, hi), A, values((4,)) - 2, values((4,)) + 2)
case("clip[None]", lambda m, x: m.clip(x, None, 0.2), A)
case("clip[int]", lambda m, x: m.clip(x, 2, 7), I4, grad=False)
case("nan_to_num", lambda m, x: m.nan_to_num(x * onp.array([1, onp.nan, onp.inf, -onp.inf])), A, grad=False)
case("nan_to_num[finite]", lambda m, x: m.nan_to_num(x), A)
case("isclose", lambda m, x, y: m.isclose(x, y), A, A + 1e-9, grad=False)
case("allclose", lambda m, x, y: m.allclose(x, y), A, A + 1e-3, grad=False)
case("array_equal", lambda m, x, y: m.array_equal(x, y), I4, I4, grad=False)
case("array_equiv", lambda m, x, y: m.array_equiv(x, y), I4, I4[:1], grad=False)
case("round[decimals=2]", lambda m, x: m.round(x, 2), A, grad=False)
case("around", lambda m, x: m.around(x), A * 3, grad=False)
case("real_if_close", lambda m, x: m.real_if_close(x) * 2, A)

# shapes
case("reshape", lambda m, x: m.reshape(x, (4, 3)), A, vmap=True)
case("reshape[-1]", lambda m, x: m.reshape(x, -1), A)
case("reshape[size0]", lambda m, x: m.reshape(x, (2, 0, 2)), E)
case("ravel", lambda m, x: m.ravel(x), T3)
case("squeeze", lambda m, x: m.squeeze(x), values((1, 3, 1)))
case("squeeze[axis]", lambda m, x: m.squeeze(x, axis=2), values((1, 3, 1)))
case("expand_dims", lambda m, x: m.expand_dims(x, 1), A)
case("expand_dims[tuple]", lambda m, x: m.expand_dims(x, (0, -1)), A)
case("transpose", lambda m, x: m.transpose(x), T3, vmap=True)
case("transpose[axes]", lambda m, x: m.transpose(x, (1, 0, 2)), T3)
case("swapaxes", lambda m, x: m.swapaxes(x, 0, 2), T3)
case("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), T3)
case("moveaxis[lists]", lambda m, x: m.moveaxis(x, [0, 1], [2, 0]), T3)
case("rollaxis", lambda m, x: m.rollaxis(x, 2), T3)
case("rollaxis[start]", lambda m, x: m.rollaxis(x, 0, 2), T3)
case("matrix_transpose", lambda m, x: m.matrix_transpose(x), T3)
case("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), V4)
for k in ("atleast_1d", "atleast_2d", "atleast_3d"):
    for shape in [(), (3,), (2, 3), (2, 3, 4)]:
        case(f"{k}{list(shape)}", lambda m, x, f=k: getattr(m, f)(x), values(shape))
case("atleast_2d[two]", lambda m, x, y: m.atleast_2d(x, y), V3, A)
case("concatenate", lambda m, x, y: m.concatenate([x, y], axis=1), A, values((3, 2)))
case("concatenate[axis=None]", lambda m, x, y: m.concatenate((x, y), axis=None), A, V3)
case("concatenate[f32,f64]", lambda m, x, y: m.concatenate([x, y]), V3.astype(onp.float32), V4)
case("concatenate[size0]", lambda m, x, y: m.concatenate([x, y]), E, values((2, 4)))
case("stack", lambda m, x, y: m.stack([x, y]), A, A * 2)
case("stack[axis=-1]", lambda m, x, y: m.stack([x, y], axis=-1), A, A * 2)
case("stack[numbers]", lambda m, x: m.stack([x, 1.0, 2.0]), values(()))
case("vstack", lambda m, x, y: m.vstack([x, y]), V4, A)
case("hstack", lambda m, x, y: m.hstack([x, y]), V3, V4)
case("hstack[2d]", lambda m, x, y: m.hstack([x, y]), A, values((3, 1)))
case("dstack", lambda m, x, y: m.dstack([x, y]), A, A)
case("column_stack", lambda m, x, y: m.column_stack([x, y]), V3, values((3, 2)))
case("split", lambda m, x: m.split(x, 2, axis=1), A)
case("split[indices]", lambda m, x: m.split(x, [1, 3], axis=1), A)
case("array_split", lambda m, x: m.array_split(x, 3, axis=1), A)
case("hsplit", lambda m, x: m.hsplit(x, 2), A)
case("vsplit", lambda m, x: m.vsplit(x, [1]), A)
case("dsplit", lambda m, x: m.dsplit(x, 2), T3)
case("tile", lambda m, x: m.tile(x, (2, 1)), A)
case("tile[int]", lambda m, x: m.tile(x, 3), V3)
case("tile[more reps]", lambda m, x: m.tile(x, (2, 1, 2)), A)
case("repeat", lambda m, x: m.repeat(x, 2), A)
case("repeat[axis]", lambda m, x: m.repeat(x, [1, 0, 2], axis=0), A)
case("roll", lambda m, x: m.roll(x, 1), A)
case("roll[axis]", lambda m, x: m.roll(x, -1, axis=1), A)
case("roll[two axes]", lambda m, x: m.roll(x, (1, 2), axis=(0, 1)), A)
case("flip", lambda m, x: m.flip(x), A)
case("flip[axis]", lambda m, x: m.flip(x, 1), A)
case("fliplr", lambda m, x: m.fliplr(x), A)
case("flipud", lambda m, x: m.flipud(x), A)
for k in (1, 2, 3, -1):
    case(f"rot90[k={k}]", lambda m, x, k=k: m.rot90(x, k), A)
case("rot90[axes]", lambda m, x: m.rot90(x, 1, axes=(1, 2)), T3)
case("pad", lambda m, x: m.pad(x, 1), A)
case("pad[widths,value]", lambda m, x: m.pad(x, ((1, 0), (0, 2)), constant_values=3.0), A)
case("pad[reflect]", lambda m, x: m.pad(x, 1, mode="reflect"), A)
case("pad[symmetric]", lambda m, x: m.pad(x, ((0, 1), (2, 0)), mode="symmetric"), A)
case("diagonal", lambda m, x: m.diagonal(x), A)
case("diagonal[offset]", lambda m, x: m.diagonal(x, 1), A)
case("diagonal[negative offset]", lambda m, x: m.diagonal(x, -1), A)
case("diagonal[axes]", lambda m, x: m.diagonal(x, 0, 1, 2), T3)
case("diag[1d]", lambda m, x: m.diag(x), V3)
case("diag[1d,k]", lambda m, x: m.diag(x, 1), V3)
case("diag[1d,-k]", lambda m, x: m.diag(x, -2), V3)
case("diag[2d]", lambda m, x: m.diag(x), A)
case("trace", lambda m, x: m.trace(x), A)
case("trace[offset]", lambda m, x: m.trace(x, 1), A)
case("trace[int]", lambda m, x: m.trace(x), I4, grad=False)
for t in ("tril", "triu"):
    for k in (0, 1, -1):
        case(f"{t}[k={k}]", lambda m, x, f=t, k=k: getattr(m, f)(x, k), A)
    case(f"{t}[batched]", lambda m, x, f=t: getattr(m, f)(x), T3)
case("diff", lambda m, x: m.diff(x), A)
case("diff[n=2,axis=0]", lambda m, x: m.diff(x, 2, axis=0), A)
case("diff[prepend]", lambda m, x: m.diff(x, prepend=0.0), A)
case("diff[int]", lambda m, x: m.diff(x), I4, grad=False)
case("gradient[1d]", lambda m, x: m.gradient(x), V4)
case("gradient[2d]", lambda m, x: m.gradient(x), A)
case("gradient[spacing,axis]", lambda m, x: m.gradient(x, 0.5, axis=1), A)
case("full", lambda m, v: m.full((2, 3), v), values(()))
case("full_like", lambda m, x, v: m.full_like(x, v), A, values(()))
case("zeros_like", lambda m, x: m.zeros_like(x), A, grad=False)
case("ones_like", lambda m, x: m.ones_like(x, dtype=m.int32), A, grad=False)
case("empty_like[shape only]", lambda m, x: m.empty_like(x).shape, A, grad=False)
case("linspace", lambda m, a, b: m.linspace(a, b, 5), values(()), values(()) + 3)
case("linspace[no endpoint]", lambda m, a, b: m.linspace(a, b, 4, endpoint=False), values(()), values(()) + 3)
case("linspace[vector]", lambda m, a, b: m.linspace(a, b, 3), V3, V3 + 1)
case("sort", lambda m, x: m.sort(x), A)
case("sort[axis=0]", lambda m, x: m.sort(x, axis=0), A)
case("sort[None]", lambda m, x: m.sort(x, axis=None), A)
case("argsort", lambda m, x: m.argsort(x), A, grad=False)
case("partition", lambda m, x: m.sort(m.partition(x, 2)), A)
case("select", lambda m, x: m.select([x < -1, x > 1], [x * 2, x**2], 0.0), A)
case("append", lambda m, x, y: m.append(x, y), A, V3)
case("append[axis]", lambda m, x, y: m.append(x, y, axis=0), A, values((1, 4)))
case("take", lambda m, x: m.take(x, [0, 2, 2]), A)
case("take[axis]", lambda m, x: m.take(x, [[0], [3]], axis=1), A)

# products
case("dot[2d,2d]", lambda m, a, b: m.dot(a, b), A, B, vmap=True)
case("dot[1d,1d]", lambda m, a, b: m.dot(a, b), V4, V4)
case("dot[2d,1d]", lambda m, a, b: m.dot(a, b), A, V4)
case("dot[1d,2d]", lambda m, a, b: m.dot(a, b), V3, A)
case("dot[3d,2d]", lambda m, a, b: m.dot(a, b), T3, B)
case("dot[3d,3d]", lambda m, a, b: m.dot(a, b), T3, values((2, 4, 2)))
case("dot[scalar]", lambda m, a, b: m.dot(a, b), values(()), A)
case("dot[int]", lambda m, a, b: m.dot(a, b), I4, I4.T.copy(), grad=False)
case("matmul", lambda m, a, b: m.matmul(a, b), A, B)
case("matmul[batched broadcast]", lambda m, a, b: m.matmul(a, b), T3, B)
case("matmul[1d,2d]", lambda m, a, b: m.matmul(a, b), V3, A)
case("matmul[2d,1d]", lambda m, a, b: m.matmul(a, b), A, V4)
case("matmul[1d,1d]", lambda m, a, b: m.matmul(a, b), V4, V4)
case("matmul[size0]", lambda m, a, b: m.matmul(a, b), E, B)
case("inner", lambda m, a, b: m.inner(a, b), A, values((2, 4)))
case("inner[1d]", lambda m, a, b: m.inner(a, b), V4, V4)
case("vdot", lambda m, a, b: m.vdot(a, b), A, A * 2)
case("outer", lambda m, a, b: m.outer(a, b), V3, V4)
case("outer[2d]", lambda m, a, b: m.outer(a, b), A, V3)
case("tensordot", lambda m, a, b: m.tensordot(a, b, 1), A, B)
case("tensordot[axes pairs]", lambda m, a, b: m.tensordot(a, b, ([1, 2], [0, 1])), T3, values((3, 4, 2)))
case("tensordot[0]", lambda m, a, b: m.tensordot(a, b, 0), V3, V4)
case("einsum", lambda m, a, b: m.einsum("ij,jk->ik", a, b), A, B)
case("einsum[implicit]", lambda m, a, b: m.einsum("ij,jk", a, b), A, B)
case("einsum[trace]", lambda m, a: m.einsum("ii", a), SQ)
case("einsum[ellipsis]", lambda m, a, b: m.einsum("...ij,jk->...ik", a, b), T3, B)
case("kron", lambda m, a, b: m.kron(a, b), values((2, 2)), values((2, 3)))
case("kron[1d]", lambda m, a, b: m.kron(a, b), V3, V4)
case("cross", lambda m, a, b: m.cross(a, b), values((2, 3)), values((3,)))

# creation from lists mixing tensors and numbers
case("array[mixed]", lambda m, x: m.array([[x, 1.0], [2.0, x * 3]]), values(()))
case("array[vectors]", lambda m, x, y: m.array([x, y]), V3, V3)
case("array[int with float tensor]", lambda m, x: m.array([x, 1, 2]), values(()))
case("array[dtype]", lambda m, x: m.array([x, 1.0], dtype=m.float32), values(()), grad=False)
case("asarray[tensor]", lambda m, x: m.asarray(x) * 2, A)
case("asarray[list]", lambda m, x: m.asarray([x, x]), V3)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_numpy_values_on_arrays(case):
    expected = case.fn(onp, *case.args)
    got = case.fn(cnp, *case.args)
    assert_same(expected, got, exact=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_same_values_and_dtype_on_tensors(case):
    expected = case.fn(onp, *case.args)
    if isinstance(expected, tuple) and all(isinstance(d, int) for d in expected):  # a static shape
        graph = cr.Graph()
        with graph.as_default():
            got = case.fn(cnp, *[cr.placeholder(a.dtype, a.shape) for a in case.args])
        assert tuple(got) == expected
        return
    assert_same(expected, run_graph(case.fn, case.args), rtol=case.rtol, exact=case.exact)


GRAD_CASES = [c for c in CASES if c.grad and float_args(c) and all(getattr(a, "size", 1) for a in c.args)]


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c.id)
def test_gradients_by_central_differences(case):
    wrt = float_args(case)

    def f(*ts):
        out = case.fn(cnp, *ts)
        return list(out) if isinstance(out, tuple) else out

    cr.test.check_gradients(f, case.args, order=case.order, wrt=wrt)


@pytest.mark.parametrize("case", [c for c in CASES if c.vmap], ids=lambda c: c.id)
def test_vmap_matches_a_loop(case):
    first, *rest = case.args
    batch = onp.stack([first, first * 0.5 + 0.25, first * 1.5])
    expected = onp.stack([case.fn(onp, b, *rest) for b in batch])
    got = cr.vmap(lambda b, *r: case.fn(cnp, b, *r), in_axes=[0] + [None] * len(rest))(batch, *rest)
    assert_same(expected, got)


@pytest.mark.parametrize("case", [c for c in GRAD_CASES if c.vmap], ids=lambda c: c.id)
def test_jvp_matches_central_differences(case):
    x, *rest = case.args
    v = values(x.shape)
    _, tangent = cr.jvp(lambda t: case.fn(cnp, t, *rest), (x,), (v,))
    h = 1e-6
    numeric = (case.fn(onp, x + h * v, *rest) - case.fn(onp, x - h * v, *rest)) / (2 * h)
    onp.testing.assert_allclose(tangent, numeric, rtol=1e-5, atol=1e-6)
