"""cr.optimize.minimize: SciPy's methods with the gradient, Hessian-vector product or Hessian from the graph."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import api

scipy_optimize = pytest.importorskip("scipy.optimize")


def rosen(x):
    return cr.reduce_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


X0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])  # SciPy tutorial start (5-D Rosenbrock also has a local minimum)


@pytest.mark.parametrize(
    "method", ["BFGS", "L-BFGS-B", "Newton-CG", "trust-ncg", "trust-krylov", "trust-constr", "trust-exact", "CG"]
)
def test_rosenbrock_reaches_the_optimum(method):
    options = {"gtol": 1e-10} if method == "trust-constr" else {}
    res = cr.optimize.minimize(rosen, X0, method=method, tol=1e-10, options=options)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-4)
    assert res.fun < 1e-8


def test_gradient_and_hessp_match_scipy_and_numerical_values():
    rng = np.random.default_rng(1)
    for _ in range(3):
        x, p = rng.normal(size=5), rng.normal(size=5)
        value, g = cr.value_and_grad(rosen)(x)
        assert value == pytest.approx(scipy_optimize.rosen(x))
        np.testing.assert_allclose(g, scipy_optimize.rosen_der(x), rtol=1e-10)
        np.testing.assert_allclose(g, scipy_optimize.approx_fprime(x, scipy_optimize.rosen, 1e-7), rtol=1e-4, atol=1e-4)
        hp = cr.hvp(rosen, x, p)
        np.testing.assert_allclose(hp, scipy_optimize.rosen_hess_prod(x, p), rtol=1e-10)
        numerical = (scipy_optimize.rosen_der(x + 1e-6 * p) - scipy_optimize.rosen_der(x - 1e-6 * p)) / 2e-6
        np.testing.assert_allclose(hp, numerical, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(cr.hessian(rosen)(x), scipy_optimize.rosen_hess(x), rtol=1e-10)


def test_derivatives_passed_to_scipy(monkeypatch):
    seen = {}
    real = scipy_optimize.minimize

    def spy(fun, x0, **kwargs):
        seen.update(kwargs)
        return real(fun, x0, **kwargs)

    monkeypatch.setattr(scipy_optimize, "minimize", spy)
    cr.optimize.minimize(rosen, X0, method="Newton-CG")
    assert seen["jac"] is True and callable(seen["hessp"]) and "hess" not in seen
    seen.clear()
    cr.optimize.minimize(rosen, X0, method="dogleg")
    assert callable(seen["hess"]) and "hessp" not in seen
    seen.clear()
    cr.optimize.minimize(rosen, X0, method="Nelder-Mead", options={"maxiter": 10})
    assert "jac" not in seen and "hessp" not in seen


def test_any_shape_args_and_no_retrace():
    target = np.arange(6.0).reshape(2, 3)

    def fun(w, t, scale):
        return cr.reduce_sum(cr.square(w - t)) * scale + cr.reduce_sum(w**4) * 1e-3

    res = cr.optimize.minimize(fun, np.zeros((2, 3)), args=(target, 2.0), method="Newton-CG", tol=1e-10)
    assert res.success and res.x.shape == (2, 3)
    np.testing.assert_allclose(cr.grad(fun)(res.x, target, 2.0), np.zeros((2, 3)), atol=1e-7)
    # Minimizing the same function again traces nothing new.
    cache = fun._chainrule_transforms
    traces = {k: t.trace_count for k, t in cache.items()}
    cr.optimize.minimize(fun, np.ones((2, 3)), args=(target + 1, 2.0), method="Newton-CG")
    assert {k: t.trace_count for k, t in cache.items()} == traces


def test_bounds_and_constraints_pass_through():
    res = cr.optimize.minimize(rosen, X0, method="L-BFGS-B", bounds=[(-2, 0.5)] * 5)
    assert res.success and np.all(res.x <= 0.5 + 1e-9)
    cons = {"type": "ineq", "fun": lambda x: 1.0 - np.sum(x**2)}
    res = cr.optimize.minimize(rosen, np.zeros(5), method="SLSQP", constraints=[cons])
    assert res.success and np.sum(res.x**2) <= 1.0 + 1e-6


def test_user_jac_is_respected():
    calls = []

    def jac(x):
        calls.append(1)
        return scipy_optimize.rosen_der(x)

    res = cr.optimize.minimize(rosen, X0, method="BFGS", jac=jac)
    assert res.success and calls


def test_hvp_graph_size_does_not_depend_on_dimension():
    small = api.hvp_function(rosen).get_concrete_function(np.ones(5), np.ones(5)).num_ops
    large = api.hvp_function(rosen).get_concrete_function(np.ones(500), np.ones(500)).num_ops
    assert small == large
