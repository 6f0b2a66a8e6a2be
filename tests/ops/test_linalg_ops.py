"""Linear algebra checks beyond the op table: namespaces, static shapes, broadcasting gradients,
einsum against NumPy, the SciPy/NumPy triangular-solve paths, and gradient identities."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from ops_helpers import run

import chainrule as cr
from chainrule.testing.samples import rand

la = cr.linalg


# --- namespaces -------------------------------------------------------------------------------
def test_top_level_and_linalg_namespaces():
    for name in ("matmul", "tensordot", "einsum"):
        assert getattr(cr, name) is getattr(la, name)
    expected = {
        "matmul",
        "tensordot",
        "einsum",
        "inv",
        "solve",
        "cholesky",
        "det",
        "triangular_solve",
        "slogdet",
        "logdet",
    }
    assert expected <= set(la.__all__)
    assert cr.cholesky is la.cholesky and cr.matrix_solve is la.solve  # TF 1.x's top-level names too


def test_matmul_op_and_hashable_attrs():
    c = cr.matmul(cr.constant(rand(2, 3)), cr.constant(rand(3, 2)), transpose_b=False)
    assert c.op.type == "MatMul"
    assert hash(tuple(sorted(c.op._attrs.items())))
    e = cr.einsum("ij, jk -> ik", cr.constant(rand(2, 3)), cr.constant(rand(3, 2)))
    assert e.op.get_attr("equation") == "ij,jk->ik"


def test_matmul_operator_with_numpy_operands():
    a, b = rand(2, 3), rand(3, 2, seed=1)
    t = cr.constant(b)
    left, right = a @ t, cr.constant(a) @ b
    got_left, got_right = run([left, right])
    np.testing.assert_allclose(got_left, a @ b)
    np.testing.assert_allclose(got_right, a @ b)


# --- static shapes ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sa, sb, kw, expected",
    [
        ([None, 3, 4], [4, None], {}, [None, 3, None]),
        ([None, 1, 2, 3], [5, 3, 4], {}, [None, 5, 2, 4]),
        ([2, 3], [None, None], {"transpose_b": True}, [2, None]),
        ([3, 2], [3, 4], {"transpose_a": True}, [2, 4]),
        (None, [3, 4], {}, None),
    ],
)
def test_matmul_static_shapes(sa, sb, kw, expected):
    a = cr.placeholder(cr.float64, sa)
    b = cr.placeholder(cr.float64, sb)
    assert cr.matmul(a, b, **kw).shape == cr.TensorShape(expected)


def test_einsum_static_shapes_and_unknown_rank():
    a = cr.placeholder(cr.float32, [None, 3])
    b = cr.placeholder(cr.float32, [3, None])
    assert cr.einsum("ij,jk->ki", a, b).shape == cr.TensorShape([None, None])
    assert cr.einsum("ij,jk->ik", cr.placeholder(cr.float32, [2, None]), b).shape == cr.TensorShape([2, None])
    u = cr.placeholder(cr.float64, None)
    out = cr.einsum("...ij->...ji", u)
    assert out.shape.rank is None
    value = rand(2, 3, 4)
    np.testing.assert_allclose(run(out, {u: value}), np.swapaxes(value, -1, -2))
    with pytest.raises(ValueError, match="needs the ranks"):
        cr.gradients(cr.reduce_sum(out), [u])


def test_linalg_static_shapes():
    x = cr.placeholder(cr.float64, [None, 3, None])
    assert la.inv(x).shape == cr.TensorShape([None, 3, 3])
    assert la.det(x).shape == cr.TensorShape([None])
    assert la.cholesky(x).shape == cr.TensorShape([None, 3, 3])
    rhs = cr.placeholder(cr.float64, [4, None, 2])
    assert la.solve(x, rhs).shape == cr.TensorShape([4, 3, 2])
    assert la.diag_part(cr.placeholder(cr.float64, [2, 5])).shape == cr.TensorShape([2])
    assert la.trace(x).shape == cr.TensorShape([None])


# --- batch broadcasting: gradients come back in each operand's own shape ---------------------
@pytest.mark.parametrize("unknown", [False, True])
def test_matmul_broadcast_gradients_sum_over_batch(unknown):
    av, bv = rand(2, 1, 2, 3), rand(4, 3, 2, seed=1)
    a = cr.placeholder(cr.float64, [None] * 4 if unknown else av.shape)
    b = cr.placeholder(cr.float64, [None] * 3 if unknown else bv.shape)
    ga, gb = cr.gradients(cr.reduce_sum(cr.matmul(a, b)), [a, b])
    got_a, got_b = run([ga, gb], {a: av, b: bv})
    ones = np.ones((2, 4, 2, 2))
    np.testing.assert_allclose(got_a, (ones @ np.swapaxes(bv, -1, -2)).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got_b, (np.swapaxes(av, -1, -2) @ ones).sum(axis=0))


def test_solve_broadcast_rhs_gradients():
    cr.test.check_gradients(la.solve, [rand(2, 2) + 3 * np.eye(2), rand(3, 2, 1, seed=1)], order=2)
    cr.test.check_gradients(
        lambda a, b: la.triangular_solve(a, b, lower=False, adjoint=True),
        [rand(2, 1, 2, 2) + 3 * np.eye(2), rand(3, 2, 1, seed=1)],
        order=1,
    )


# --- einsum against NumPy ---------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk", [(2, 3), (3, 4)]),
    ("Ab,bC", [(2, 3), (3, 4)]),  # implicit output: uppercase sorts before lowercase, as NumPy
    ("ji", [(2, 3)]),
    ("i...j->j...i", [(2, 3, 4, 5)]),
    ("...i,i", [(2, 3), (3,)]),
    ("i...,i...->...", [(2, 3), (2, 1)]),
    ("bi,bi->b", [(4, 3), (4, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("iii->i", [(2, 2, 2)]),
    ("ij,ij,ij->", [(2, 3), (2, 3), (2, 3)]),
    ("i,i,i", [(3,), (3,), (3,)]),
    ("", [()]),
    (",->", [(), ()]),
    ("i->", [(0,)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES, ids=[c[0] or "scalar" for c in EINSUM_CASES])
def test_einsum_matches_numpy_and_gradients(equation, shapes):
    args = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    phs = [cr.placeholder(cr.float64, [None] * len(s)) for s in shapes]
    out = cr.einsum(equation, *phs)
    got = run(out, dict(zip(phs, args, strict=True)))
    want = np.einsum(equation, *args)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want)
    cr.test.check_gradients(lambda *xs: cr.einsum(equation, *xs), args, order=2)


def test_einsum_list_operands_and_integer_inputs():
    a = cr.constant(np.arange(6, dtype=np.int32).reshape(2, 3))
    b = cr.constant(np.arange(3, dtype=np.int32))
    out = cr.einsum("ij,j", [a, b])
    assert out.dtype == cr.int32
    np.testing.assert_array_equal(run(out), np.arange(6).reshape(2, 3) @ np.arange(3))


def test_einsum_rejects_non_string():
    with pytest.raises(TypeError, match="equation must be a string"):
        cr.einsum(3, cr.constant(rand(2)))


# --- tensordot --------------------------------------------------------------------------------
def test_tensordot_needs_known_rank():
    with pytest.raises(ValueError, match="known rank"):
        cr.tensordot(cr.placeholder(cr.float32, None), cr.placeholder(cr.float32, [2]), 1)


def test_tensordot_axes_pair_of_ints_and_constant_tensor():
    av, bv = rand(2, 3, 4), rand(4, 3, seed=1)
    a, b = cr.constant(av), cr.constant(bv)
    out1 = cr.tensordot(a, b, [2, 0])
    out2 = cr.tensordot(a, b, cr.constant([[1, 2], [1, 0]]))
    got1, got2 = run([out1, out2])
    np.testing.assert_allclose(got1, np.tensordot(av, bv, [2, 0]))
    np.testing.assert_allclose(got2, np.tensordot(av, bv, [[1, 2], [1, 0]]))


# --- triangular_solve: SciPy and NumPy paths, and the ignored triangle ------------------------
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_triangular_solve_scipy_and_numpy_paths_agree(monkeypatch, lower, adjoint):
    pytest.importorskip("scipy")
    a = rand(4, 4, seed=3) + 4 * np.eye(4)
    b = rand(4, 2, seed=4)
    tri = np.tril(a) if lower else np.triu(a)
    want = np.linalg.solve(tri.T if adjoint else tri, b)
    out = la.triangular_solve(cr.constant(a), cr.constant(b), lower=lower, adjoint=adjoint)
    with_scipy = run(out)
    monkeypatch.setitem(sys.modules, "scipy.linalg", None)  # makes `from scipy.linalg import ...` fail
    without_scipy = run(out)
    np.testing.assert_allclose(with_scipy, want)
    np.testing.assert_allclose(without_scipy, want)


def test_triangular_solve_reads_one_triangle_and_keeps_float32():
    a = np.tril(rand(3, 3) + 3 * np.eye(3)).astype(np.float32)
    garbage = a + np.triu(np.full((3, 3), 100.0, np.float32), 1)
    b = rand(3, 2, seed=1).astype(np.float32)
    out = la.triangular_solve(cr.constant(garbage), cr.constant(b))
    got = run(out)
    assert got.dtype == np.float32 and out.dtype == cr.float32
    np.testing.assert_allclose(got, np.linalg.solve(a, b), rtol=1e-5)


# --- gradient identities ----------------------------------------------------------------------
def test_det_gradient_and_hessian_2x2():
    x = cr.placeholder(cr.float64, [2, 2])
    d = la.det(x)
    (g,) = cr.gradients(d, [x])
    (h,) = cr.hessians(d, [x])
    value = rand(2, 2) + 2 * np.eye(2)
    got_g, got_h = run([g, h], {x: value})
    np.testing.assert_allclose(got_g, np.linalg.det(value) * np.linalg.inv(value).T)
    # det = x00 x11 - x01 x10, so its Hessian is constant.
    want_h = np.zeros((2, 2, 2, 2))
    want_h[0, 0, 1, 1] = want_h[1, 1, 0, 0] = 1
    want_h[0, 1, 1, 0] = want_h[1, 0, 0, 1] = -1
    np.testing.assert_allclose(got_h, want_h, atol=1e-12)


def test_slogdet_sign_has_no_gradient():
    x = cr.placeholder(cr.float64, [3, 3])
    sign, logabs = la.slogdet(x)
    (g_sign,) = cr.gradients(sign, [x], unconnected_gradients="zero")
    (g_log,) = cr.gradients(logabs, [x])
    value = -(rand(3, 3) + 3 * np.eye(3))
    got_sign, got_log = run([g_sign, g_log], {x: value})
    np.testing.assert_allclose(got_sign, 0)
    np.testing.assert_allclose(got_log, np.linalg.inv(value).T)


def test_cholesky_gradient_is_symmetric_and_matches_symmetric_differences():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((3, 3))
    a_value = m @ m.T + 3 * np.eye(3)
    w = rng.standard_normal((3, 3))
    a = cr.placeholder(cr.float64, [3, 3])
    loss = cr.reduce_sum(la.cholesky(a) * w)
    (g,) = cr.gradients(loss, [a])
    got = run(g, {a: a_value})
    np.testing.assert_allclose(got, got.T, atol=1e-12)
    e = rng.standard_normal((3, 3))
    e = e + e.T  # symmetric direction: stays in the SPD set

    def f(v):
        return float(np.sum(np.linalg.cholesky(v) * w))

    h = 1e-6
    numeric = (f(a_value + h * e) - f(a_value - h * e)) / (2 * h)
    np.testing.assert_allclose(np.sum(got * e), numeric, rtol=1e-6)


def test_quadratic_form_hessian():
    av = rand(3, 3)
    x = cr.placeholder(cr.float64, [3, 1])
    q = cr.matmul(x, cr.matmul(cr.constant(av), x), transpose_a=True)
    (h,) = cr.hessians(q, [x])
    np.testing.assert_allclose(run(h, {x: rand(3, 1, seed=1)}).reshape(3, 3), av + av.T)


def test_logdet_gradient_is_inverse_for_spd():
    m = rand(3, 3)
    spd = m @ m.T + 3 * np.eye(3)
    x = cr.placeholder(cr.float64, [3, 3])
    (g,) = cr.gradients(la.logdet(x), [x])
    np.testing.assert_allclose(run(g, {x: spd}), np.linalg.inv(spd))


def test_eye_variants():
    n = cr.placeholder(cr.int32, [])
    dynamic = la.eye(n, dtype=cr.float64)
    np.testing.assert_array_equal(run(dynamic, {n: 3}), np.eye(3))
    static = la.eye(2, 3, batch_shape=[2], dtype=cr.float64)
    assert static.shape == cr.TensorShape([2, 2, 3])
    np.testing.assert_array_equal(run(static), np.broadcast_to(np.eye(2, 3), (2, 2, 3)))


def test_matrix_transpose_unknown_rank():
    x = cr.placeholder(cr.float64, None)
    y = la.matrix_transpose(x)
    assert y.op.type == "LinalgMatrixTranspose"
    (g,) = cr.gradients(cr.reduce_sum(y * cr.constant(rand(2, 4, 3))), [x])
    got_y, got_g = run([y, g], {x: rand(2, 3, 4)})
    np.testing.assert_allclose(got_y, np.swapaxes(rand(2, 3, 4), -1, -2))
    np.testing.assert_allclose(got_g, np.swapaxes(rand(2, 4, 3), -1, -2))
