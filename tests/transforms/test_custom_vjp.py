"""cr.custom_vjp (JAX's decorator): the rule is used, under every transform, in graph code, to second order."""

import functools

import numpy as np
import pytest

import chainrule as cr

X = np.array([0.3, -1.2, 0.7])
Y = np.array([2.0, 0.5, -1.5])


def make_f(scale=1.0):
    """sin(x) * y with a VJP rule; ``scale`` != 1 makes the rule deliberately differ from the derivative."""

    @cr.custom_vjp
    def f(x, y):
        return cr.sin(x) * y

    def f_fwd(x, y):
        return f(x, y), (cr.cos(x), cr.sin(x), y)

    def f_bwd(res, g):
        cos_x, sin_x, y = res
        return (scale * cos_x * g * y, scale * sin_x * g)

    f.defvjp(f_fwd, f_bwd)
    return f


def test_value_numpy_in_numpy_out():
    f = make_f()
    out = f(X, Y)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, np.sin(X) * Y)


def test_reverse_mode_calls_the_rule():
    f = make_f(scale=3.0)  # not the true derivative: only the rule can give these numbers
    gx, gy = cr.grad(lambda x, y: cr.reduce_sum(f(x, y)), argnums=(0, 1))(X, Y)
    np.testing.assert_allclose(gx, 3 * np.cos(X) * Y)
    np.testing.assert_allclose(gy, 3 * np.sin(X))
    out, pull = cr.vjp(f, X, Y)
    ct = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(out, np.sin(X) * Y)
    np.testing.assert_allclose(pull(ct)[0], 3 * np.cos(X) * Y * ct)


def test_forward_mode_transposes_the_rule():
    f = make_f(scale=3.0)
    tx, ty = np.array([1.0, 0.5, -2.0]), np.array([0.1, 0.2, 0.3])
    out, tangent = cr.jvp(f, (X, Y), (tx, ty))
    np.testing.assert_allclose(out, np.sin(X) * Y)
    np.testing.assert_allclose(tangent, 3 * (np.cos(X) * Y * tx + np.sin(X) * ty))
    _, f_jvp = cr.linearize(f, X, Y)
    np.testing.assert_allclose(f_jvp(tx, ty), tangent)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian_both_modes(mode):
    f = make_f()
    jac = cr.jacobian(f, mode=mode)(X, Y)
    np.testing.assert_allclose(jac, np.diag(np.cos(X) * Y))


def test_second_order_differentiates_the_rule_through_the_residuals():
    f = make_f()
    hess = cr.hessian(lambda x: cr.reduce_sum(f(x, Y)))(X)
    np.testing.assert_allclose(hess, np.diag(-np.sin(X) * Y), atol=1e-12)
    hv = cr.hvp(lambda x: cr.reduce_sum(f(x, Y)), X, np.ones(3))
    np.testing.assert_allclose(hv, -np.sin(X) * Y)
    # graph code, central differences to second order
    cr.test.check_gradients(lambda x, y: f(x, y), [X, Y], order=2)


def test_vmap_both_ways():
    f = make_f(scale=2.0)
    xs, ys = np.stack([X, X + 1.0]), np.stack([Y, -Y])
    per_example = cr.vmap(cr.grad(lambda x, y: cr.reduce_sum(f(x, y))))(xs, ys)
    np.testing.assert_allclose(per_example, 2 * np.cos(xs) * ys)
    # the gradient of a batched custom op is the per-example rule, batched
    g = cr.grad(lambda x, y: cr.reduce_sum(cr.vmap(f)(x, y)))(xs, ys)
    np.testing.assert_allclose(g, 2 * np.cos(xs) * ys)
    # an argument shared by every example gets the sum of the per-example gradients
    gy = cr.grad(lambda x, y: cr.reduce_sum(cr.vmap(f, in_axes=(0, None))(x, y)), argnums=1)(xs, Y)
    np.testing.assert_allclose(gy, 2 * np.sum(np.sin(xs), axis=0))


def test_graph_code_with_gradients_and_session():
    f = make_f(scale=3.0)
    x = cr.placeholder(cr.float64, [3])
    y = cr.constant(Y)
    out = f(x, y)
    (gx,) = cr.gradients(cr.reduce_sum(out), [x])
    with cr.Session() as sess:
        v, g = sess.run([out, gx], {x: X})
    np.testing.assert_allclose(v, np.sin(X) * Y)
    np.testing.assert_allclose(g, 3 * np.cos(X) * Y)


def test_nondiff_argnums_function_argument():
    # JAX's documented example: the nondiff argument comes first in bwd
    @functools.partial(cr.custom_vjp, nondiff_argnums=(0,))
    def app(fn, x):
        return fn(x)

    def app_fwd(fn, x):
        return app(fn, x), x

    def app_bwd(fn, x, g):
        return (5 * g,)

    app.defvjp(app_fwd, app_bwd)
    np.testing.assert_allclose(app(cr.sin, X), np.sin(X))
    g = cr.grad(lambda x: cr.reduce_sum(app(cr.sin, x)))(X)
    np.testing.assert_allclose(g, 5 * np.ones(3))

    # a Python number in a nondiff position is static
    @functools.partial(cr.custom_vjp, nondiff_argnums=(1,))
    def power(x, n):
        return x**n

    power.defvjp(lambda x, n: (power(x, n), x), lambda n, x, g: (n * x ** (n - 1) * g,))
    np.testing.assert_allclose(cr.grad(lambda x: cr.reduce_sum(power(x, 3)))(X), 3 * X**2)


def test_pytrees_in_residuals_and_outputs():
    @cr.custom_vjp
    def f(p):
        return {"u": p["a"] * p["b"], "v": (cr.exp(p["a"]),)}

    def f_fwd(p):
        e = cr.exp(p["a"])
        return f(p), {"p": p, "e": e, "k": 2.0, "nothing": None}

    def f_bwd(res, ct):
        p, e = res["p"], res["e"]
        assert res["k"] == 2.0 and res["nothing"] is None
        return ({"a": ct["u"] * p["b"] + ct["v"][0] * e, "b": ct["u"] * p["a"]},)

    f.defvjp(f_fwd, f_bwd)
    p = {"a": X, "b": Y}
    out = f(p)
    assert set(out) == {"u", "v"} and isinstance(out["v"], tuple)
    np.testing.assert_allclose(out["u"], X * Y)
    g = cr.grad(lambda p: cr.reduce_sum(f(p)["u"]) + cr.reduce_sum(f(p)["v"][0]))(p)
    np.testing.assert_allclose(g["a"], Y + np.exp(X))
    np.testing.assert_allclose(g["b"], X)


def test_none_cotangent_is_zero_and_keywords_bind_to_positions():
    @cr.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (f(x, y), y), lambda y, g: (g * y, None))
    gx, gy = cr.grad(lambda x, y: cr.reduce_sum(f(x, y=y)), argnums=(0, 1))(X, Y)
    np.testing.assert_allclose(gx, Y)
    np.testing.assert_allclose(gy, np.zeros(3))


@pytest.mark.parametrize("shape", [(0,), (1,), (2, 1, 3)])
def test_size_zero_size_one_and_nd_shapes(shape):
    f = make_f()
    x = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
    y = np.ones(shape) * 2.0
    g = cr.grad(lambda x: cr.reduce_sum(f(x, y)))(x)
    assert g.shape == shape
    np.testing.assert_allclose(g, 2 * np.cos(x))


def test_errors_name_the_transform_and_the_shape():
    @cr.custom_vjp
    def undefined(x):
        return x

    with pytest.raises(AttributeError, match="No VJP defined for custom_vjp function undefined"):
        undefined(X)

    @cr.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (f(x, y), (x, y)), lambda res, g: (g * res[1],))  # one cotangent for two arguments
    with pytest.raises(TypeError, match=r"cr\.custom_vjp\(f\): bwd must return a tuple with one cotangent per .*\(2\)"):
        cr.grad(lambda x: cr.reduce_sum(f(x, Y)))(X)

    # a broadcasting argument must get a cotangent of its own shape (bwd's job, as in JAX)
    @cr.custom_vjp
    def h(x, b):
        return x * b

    h.defvjp(lambda x, b: (h(x, b), (x, b)), lambda res, g: (g * res[1], g * res[0]))
    with pytest.raises(ValueError, match=r"cr\.custom_vjp\(h\).*shape \(3,\) for .* of shape \(\)"):
        cr.grad(lambda x, b: cr.reduce_sum(h(x, b)), argnums=1)(X, 2.0)

    @cr.custom_vjp
    def k(p):
        return p["a"]

    k.defvjp(lambda p: (k(p), None), lambda res, g: ((g,),))
    with pytest.raises(TypeError, match=r"structure \(\*,\) for argument 0 of structure \{'a': \*\}"):
        cr.grad(lambda a: cr.reduce_sum(k({"a": a})))(X)
    with pytest.raises(TypeError, match="fwd must return a pair"):
        bad = cr.custom_vjp(lambda x: x)
        bad.defvjp(lambda x: x, lambda res, g: (g,))
        bad(X)


def test_integer_outputs_get_no_cotangent_also_after_vmap():
    @cr.custom_vjp
    def f(x):
        return cr.sin(x), cr.cast(cr.sign(x), cr.int32)

    def f_bwd(x, ct):
        g, g_int = ct
        assert g_int is None
        return (cr.cos(x) * g,)

    f.defvjp(lambda x: (f(x), x), f_bwd)
    xs = np.stack([X, -X])
    np.testing.assert_allclose(cr.grad(lambda x: cr.reduce_sum(f(x)[0]))(X), np.cos(X))
    np.testing.assert_allclose(cr.grad(lambda x: cr.reduce_sum(cr.vmap(f)(x)[0]))(xs), np.cos(xs))
