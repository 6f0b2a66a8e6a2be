"""grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp: values, structures, caching, errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import api


def numerical_jacobian(f, x, eps=1e-6):
    """Central differences of a NumPy function: shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    y0 = np.asarray(f(x))
    jac = np.zeros(y0.shape + x.shape)
    for i in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        jac[(...,) + i] = (np.asarray(f(xp)) - np.asarray(f(xm))) / (2 * eps)
    return jac


def loss(x):  # scalar, non-quadratic, mixes elements
    return cr.reduce_sum(cr.sin(x) * x[0]) + cr.reduce_sum(x**3) / 3.0


def loss_np(x):
    return np.sum(np.sin(x) * x[0]) + np.sum(x**3) / 3.0


def vec(x):  # R^n -> R^(n+1)
    return cr.concat([cr.tanh(x) * x[-1], cr.reshape(cr.reduce_sum(x * x), [1])], axis=0)


def vec_np(x):
    return np.concatenate([np.tanh(x) * x[-1], [np.sum(x * x)]])


X = np.array([0.3, -1.2, 0.7, 2.0])


# -- grad / value_and_grad --------------------------------------------------------------------
def test_grad_matches_numerical():
    g = cr.grad(loss)(X)
    np.testing.assert_allclose(g, numerical_jacobian(loss_np, X), rtol=1e-6, atol=1e-8)


def test_grad_python_float_becomes_float64_and_float32_is_kept():
    g = cr.grad(lambda x: x * x)
    out = g(3.0)
    assert isinstance(out, np.float64) and out == 6.0
    out32 = g(np.float32(3.0))
    assert out32.dtype == np.float32
    with pytest.raises(TypeError, match="float inputs"):
        g(np.array([1, 2]))
    with pytest.raises(TypeError, match="bool"):
        g(True)


def test_grad_argnums_and_structures():
    def f(params, x, scale):
        return cr.reduce_sum((params["w"] * x + params["b"]) ** 2) * scale

    params = {"w": np.array([1.0, 2.0]), "b": np.array(0.5)}
    x = np.array([3.0, -1.0])
    gp = cr.grad(f)(params, x, 2.0)
    r = params["w"] * x + params["b"]
    assert set(gp) == {"w", "b"}
    np.testing.assert_allclose(gp["w"], 4 * r * x)
    np.testing.assert_allclose(gp["b"], np.sum(4 * r))
    gp2, gx = cr.grad(f, argnums=(0, 1))(params, x, 2.0)
    np.testing.assert_allclose(gx, 4 * r * params["w"])
    np.testing.assert_allclose(gp2["w"], gp["w"])


def test_grad_of_unconnected_argument_is_zero():
    g = cr.grad(lambda x, y: cr.reduce_sum(x), argnums=1)(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(g, np.zeros(3))


def test_value_and_grad_and_aux():
    v, g = cr.value_and_grad(loss)(X)
    assert v == pytest.approx(loss_np(X))
    np.testing.assert_allclose(g, cr.grad(loss)(X))

    def with_aux(x):
        y = cr.reduce_sum(x**2)
        return y, {"norm": cr.sqrt(y), "n": 4}

    (v, aux), g = cr.value_and_grad(with_aux, has_aux=True)(X)
    assert aux["norm"] == pytest.approx(np.linalg.norm(X)) and aux["n"] == 4
    g2, aux2 = cr.grad(with_aux, has_aux=True)(X)
    np.testing.assert_allclose(g2, 2 * X)
    np.testing.assert_allclose(g, 2 * X)


def test_grad_needs_a_scalar_output():
    with pytest.raises(TypeError, match=r"scalar \(shape \(\)\).*shape \(4,\)"):
        cr.grad(lambda x: x * 2.0)(X)
    with pytest.raises(TypeError, match="has_aux=True"):
        cr.grad(lambda x: (cr.reduce_sum(x), x))(X)
    with pytest.raises(TypeError, match="float output"):
        cr.grad(lambda x: cr.argmax(x, axis=0))(X)
    with pytest.raises(TypeError, match="out of range"):
        cr.grad(loss, argnums=1)(X)
    with pytest.raises(ValueError, match="repeated"):
        cr.grad(loss, argnums=(0, 0))


def test_grad_is_cached(op_counter):
    g = cr.grad(loss)
    g(X)
    op_counter.update(graphs=0, ops=0)
    for _ in range(3):
        g(np.random.rand(4))
    assert op_counter == {"graphs": 0, "ops": 0} and g.trace_count == 1


def test_grad_of_grad_and_nested_closure():
    d2 = cr.grad(cr.grad(lambda x: x**3))
    assert d2(2.0) == pytest.approx(12.0)

    # d/dx [ d/dy (x * y) at y = x ] = d/dx x = 1: the inner y must not be confused with x.
    def outer(x):
        return cr.grad(lambda y: x * y)(x)

    assert cr.grad(outer)(3.0) == pytest.approx(1.0)


def test_transforms_build_inline_with_tensors():
    x = cr.placeholder(cr.float64, [4])
    g = cr.grad(loss)(x)
    assert isinstance(g, cr.Tensor)
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: X}), cr.grad(loss)(X))


# -- vjp / jvp --------------------------------------------------------------------------------
def test_vjp_matches_jacobian_transpose():
    out, vjp_fn = cr.vjp(vec, X)
    np.testing.assert_allclose(out, vec_np(X))
    jac = numerical_jacobian(vec_np, X)
    for ct in (np.ones(5), np.arange(5.0)):
        (gx,) = vjp_fn(ct)
        np.testing.assert_allclose(gx, jac.T @ ct, rtol=1e-6, atol=1e-8)


def test_vjp_structures_and_several_primals():
    def f(a, b):
        return {"s": cr.reduce_sum(a * b), "p": a * 2.0}

    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, vjp_fn = cr.vjp(f, a, b)
    assert out["s"] == 11.0
    ga, gb = vjp_fn({"s": 1.0, "p": np.array([1.0, -1.0])})
    np.testing.assert_allclose(ga, b + [2.0, -2.0])
    np.testing.assert_allclose(gb, a)
    with pytest.raises(ValueError, match="structure"):
        vjp_fn((1.0, np.ones(2)))
    with pytest.raises(ValueError, match="shape"):
        vjp_fn({"s": 1.0, "p": np.ones(3)})


def test_vjp_runs_the_backward_part_only_and_is_cached(op_counter):
    calls = []

    def f(x):
        calls.append(1)
        return cr.sin(x) * 3.0

    _, vjp_fn = cr.vjp(f, X)
    op_counter.update(graphs=0, ops=0)
    out, vjp_fn = cr.vjp(f, X + 1)
    (g,) = vjp_fn(np.ones(4))
    np.testing.assert_allclose(g, 3 * np.cos(X + 1))
    assert op_counter == {"graphs": 0, "ops": 0} and len(calls) == 1


def test_vjp_inline():
    x = cr.placeholder(cr.float64, [4])
    out, vjp_fn = cr.vjp(vec, x)
    (g,) = vjp_fn(cr.ones([5], dtype=cr.float64))
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: X}), numerical_jacobian(vec_np, X).T @ np.ones(5), rtol=1e-6)


def test_jvp_matches_numerical():
    jac = numerical_jacobian(vec_np, X)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    out, tangent = cr.jvp(vec, (X,), (v,))
    np.testing.assert_allclose(out, vec_np(X))
    np.testing.assert_allclose(tangent, jac @ v, rtol=1e-6, atol=1e-8)
    # Against reverse mode: <J v, u> == <v, J^T u>.
    u = np.random.rand(5)
    (jtu,) = cr.vjp(vec, X)[1](u)
    assert tangent @ u == pytest.approx(v @ jtu)


def test_jvp_structures_identity_and_unconnected_outputs():
    def f(a, b):
        return {"ab": a * b, "a": a, "const": cr.constant(2.0, dtype=cr.float64), "i": cr.argmax(b, axis=0)}

    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, t = cr.jvp(f, (a, b), (np.ones(2), np.zeros(2)))
    np.testing.assert_allclose(t["ab"], b)
    np.testing.assert_allclose(t["a"], np.ones(2))
    assert t["const"] == 0.0 and t["i"] == 0
    with pytest.raises(ValueError, match="primals"):
        cr.jvp(f, (a, b), (np.ones(2),))
    with pytest.raises(ValueError, match="shape"):
        cr.jvp(f, (a, b), (np.ones(3), np.ones(2)))


def test_jvp_is_cached(op_counter):
    f = lambda x: cr.exp(x)  # noqa: E731
    cr.jvp(f, (X,), (X,))
    op_counter.update(graphs=0, ops=0)
    _, t = cr.jvp(f, (X,), (np.ones(4),))
    np.testing.assert_allclose(t, np.exp(X))
    assert op_counter == {"graphs": 0, "ops": 0}


# -- jacobian ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["rev", "fwd", "auto"])
def test_jacobian_modes_match_numerical(mode):
    jac = cr.jacobian(vec, mode=mode)(X)
    assert jac.shape == (5, 4)
    np.testing.assert_allclose(jac, numerical_jacobian(vec_np, X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_large_jacobians_run_the_linear_part_per_basis_vector(mode):
    n = api.MAX_STACKED + 9
    x = np.random.default_rng(0).normal(size=n)
    f = lambda x: cr.sin(x) * cr.reduce_sum(x**2)  # noqa: E731
    jf = cr.jacobian(f, mode=mode)
    jac = jf(x)
    np.testing.assert_allclose(jac, numerical_jacobian(lambda z: np.sin(z) * np.sum(z**2), x), rtol=1e-6, atol=1e-7)
    concrete = jf.get_concrete_function(x)
    assert len(concrete.programs) == 1  # not n copies of the backward graph
    small = cr.jacobian(f, mode=mode).get_concrete_function(x[:4])
    assert concrete.num_ops < 2 * small.num_ops


def test_jacobian_structures_and_argnums():
    def f(a, b):
        return {"y": a * b[0], "s": cr.reduce_sum(a)}

    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 5.0])
    jac = cr.jacobian(f, argnums=(0, 1))(a, b)
    dy_da, dy_db = jac["y"]
    np.testing.assert_allclose(dy_da, 2.0 * np.eye(3))
    np.testing.assert_allclose(dy_db, np.stack([a, np.zeros(3)], axis=1))
    ds_da, ds_db = jac["s"]
    np.testing.assert_allclose(ds_da, np.ones(3))
    np.testing.assert_allclose(ds_db, np.zeros(2))


def test_jacobian_of_matrix_function_has_output_then_input_shape():
    jac = cr.jacobian(lambda m: cr.transpose(m) * 2.0)(np.ones((2, 3)))
    assert jac.shape == (3, 2, 2, 3)
    assert jac[2, 1, 1, 2] == 2.0 and jac[2, 1, 0, 2] == 0.0


def test_jacobian_is_built_once(op_counter):
    jf = cr.jacobian(vec)
    jf(X)
    op_counter.update(graphs=0, ops=0)
    jf(X * 2)
    assert op_counter == {"graphs": 0, "ops": 0}


def test_jacobian_mode_errors():
    with pytest.raises(ValueError, match="mode"):
        cr.jacobian(vec, mode="forward")
    with pytest.raises(TypeError, match="float"):
        cr.jacobian(lambda x: cr.argmax(x, axis=0))(X)


# -- hessian / hvp ----------------------------------------------------------------------------
def numerical_hessian(x):
    return numerical_jacobian(lambda z: numerical_jacobian(loss_np, z, 1e-5), x, 1e-5)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_hessian_matches_numerical(mode):
    h = cr.hessian(loss, mode=mode)(X)
    assert h.shape == (4, 4)
    np.testing.assert_allclose(h, numerical_hessian(X), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h, h.T, atol=1e-12)


def test_hessian_graph_is_kept(op_counter):
    h = cr.hessian(loss)
    h(X)
    op_counter.update(graphs=0, ops=0)
    for _ in range(3):
        h(np.random.rand(4))
    assert op_counter == {"graphs": 0, "ops": 0} and h.trace_count == 1


def test_hessian_blocks_with_argnums():
    def f(a, b):
        return cr.reduce_sum(a * a * b)

    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    (haa, hab), (hba, hbb) = cr.hessian(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(haa, np.diag(2 * b))
    np.testing.assert_allclose(hab, np.diag(2 * a))
    np.testing.assert_allclose(hba, np.diag(2 * a))
    np.testing.assert_allclose(hbb, np.zeros((2, 2)))


def test_hvp_matches_hessian_and_never_forms_it(op_counter):
    v = np.array([1.0, 0.5, -2.0, 0.0])
    hv = cr.hvp(loss, X, v)
    np.testing.assert_allclose(hv, numerical_hessian(X) @ v, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(hv, cr.hessian(loss)(X) @ v)
    op_counter.update(graphs=0, ops=0)
    cr.hvp(loss, X, np.ones(4))
    assert op_counter == {"graphs": 0, "ops": 0}
    # Its graph does not grow with the dimension (no row per element, unlike the Hessian).
    hvp_ops = api.hvp_function(loss).get_concrete_function(np.ones(40), np.ones(40)).num_ops
    assert hvp_ops == api.hvp_function(loss).get_concrete_function(X, v).num_ops


def test_hvp_structures_and_errors():
    def f(p):
        return cr.reduce_sum(p["a"] ** 2 * p["b"])

    p = {"a": np.array([1.0, 2.0]), "b": np.array(3.0)}
    hv = cr.hvp(f, p, {"a": np.array([1.0, 0.0]), "b": np.array(1.0)})
    np.testing.assert_allclose(hv["a"], [2 * 3.0 + 2 * 1.0, 2 * 2.0])
    assert hv["b"] == pytest.approx(2 * 1.0)
    with pytest.raises(ValueError, match="structure"):
        cr.hvp(f, p, [np.ones(2), 1.0])
    with pytest.raises(ValueError, match="shape"):
        cr.hvp(loss, X, np.ones(3))


def test_vjp_results_do_not_alias_kept_residuals():
    out, vjp_fn = cr.vjp(cr.exp, X)  # exp's gradient reads its own output
    out[:] = 0.0
    (g,) = vjp_fn(np.ones(4))
    np.testing.assert_allclose(g, np.exp(X))
    g[:] = 0.0
    np.testing.assert_allclose(vjp_fn(np.ones(4))[0], np.exp(X))
