"""cr.custom_jvp (JAX's decorator): forward rule used in forward mode, transposed in reverse mode, second order."""

import functools

import numpy as np
import pytest

import chainrule as cr

X = np.array([0.3, -1.2, 0.7])


def make_sin(scale=1.0):
    """sin with a JVP rule; ``scale`` != 1 makes the rule deliberately differ from the derivative."""

    @cr.custom_jvp
    def f(x):
        return cr.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), scale * cr.cos(x) * t

    return f


def test_value_and_the_rule_in_both_modes():
    f = make_sin(scale=3.0)
    np.testing.assert_allclose(f(X), np.sin(X))
    t = np.array([1.0, -2.0, 0.5])
    out, tangent = cr.jvp(f, (X,), (t,))
    np.testing.assert_allclose(out, np.sin(X))
    np.testing.assert_allclose(tangent, 3 * np.cos(X) * t)
    np.testing.assert_allclose(cr.grad(lambda x: cr.reduce_sum(f(x)))(X), 3 * np.cos(X))
    np.testing.assert_allclose(cr.vjp(f, X)[1](t)[0], 3 * np.cos(X) * t)
    np.testing.assert_allclose(cr.linearize(f, X)[1](t), 3 * np.cos(X) * t)
    np.testing.assert_allclose(cr.elementwise_grad(f)(X), 3 * np.cos(X))
    for mode in ("rev", "fwd"):
        np.testing.assert_allclose(cr.jacobian(f, mode=mode)(X), np.diag(3 * np.cos(X)))


def log1pexp_pair():
    @cr.custom_jvp
    def log1pexp(x):
        return cr.log(1.0 + cr.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * cr.sigmoid(x)

    return log1pexp


def test_jax_log1pexp_example_is_stable_where_plain_autodiff_is_not():
    log1pexp = log1pexp_pair()
    x = np.array([0.0, 2.0, 800.0])
    g = cr.grad(lambda x: cr.reduce_sum(log1pexp(x)))(x)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-x)))  # [0.5, 0.88, 1.0]
    with np.errstate(all="ignore"):
        plain = cr.grad(lambda x: cr.reduce_sum(cr.log(1.0 + cr.exp(x))))(x)
    assert np.isnan(plain[2])  # exp(800) / (1 + exp(800)) = inf / inf


def test_second_order_differentiates_the_rule():
    log1pexp = log1pexp_pair()
    s = 1 / (1 + np.exp(-X))
    np.testing.assert_allclose(cr.hessian(lambda x: cr.reduce_sum(log1pexp(x)))(X), np.diag(s * (1 - s)), atol=1e-12)
    cr.test.check_gradients(lambda x: log1pexp(x), [X], order=2)
    f = make_sin()
    cr.test.check_gradients(lambda x: f(x) * x, [X], order=2)


def test_vmap_both_ways():
    f = make_sin(scale=2.0)
    xs = np.stack([X, X + 1.0])
    np.testing.assert_allclose(cr.vmap(cr.grad(lambda x: cr.reduce_sum(f(x))))(xs), 2 * np.cos(xs))
    np.testing.assert_allclose(cr.grad(lambda x: cr.reduce_sum(cr.vmap(f)(x)))(xs), 2 * np.cos(xs))
    _, t = cr.jvp(cr.vmap(f), (xs,), (np.ones_like(xs),))
    np.testing.assert_allclose(t, 2 * np.cos(xs))


def test_graph_code_with_gradients():
    f = make_sin(scale=3.0)
    x = cr.placeholder(cr.float64, [3])
    y = f(x)
    (g,) = cr.gradients(cr.reduce_sum(y), [x])
    with cr.Session() as sess:
        v, gv = sess.run([y, g], {x: X})
    np.testing.assert_allclose(v, np.sin(X))
    np.testing.assert_allclose(gv, 3 * np.cos(X))


def test_nondiff_argnums_and_pytrees():
    # JAX's documented example
    @functools.partial(cr.custom_jvp, nondiff_argnums=(0,))
    def app(fn, x):
        return fn(x)

    @app.defjvp
    def app_jvp(fn, primals, tangents):
        (x,), (x_dot,) = primals, tangents
        return fn(x), 2.0 * x_dot

    np.testing.assert_allclose(app(cr.sin, X), np.sin(X))
    np.testing.assert_allclose(cr.grad(lambda x: cr.reduce_sum(app(cr.sin, x)))(X), 2 * np.ones(3))

    @cr.custom_jvp
    def f(p):
        return (p["a"] * p["b"], {"e": cr.exp(p["a"])})

    @f.defjvp
    def f_jvp(primals, tangents):
        (p,), (t,) = primals, tangents
        out = f(p)
        return out, (t["a"] * p["b"] + p["a"] * t["b"], {"e": out[1]["e"] * t["a"]})

    p = {"a": X, "b": X**2}
    g = cr.grad(lambda p: cr.reduce_sum(f(p)[0]) + cr.reduce_sum(f(p)[1]["e"]))(p)
    np.testing.assert_allclose(g["a"], X**2 + np.exp(X))
    np.testing.assert_allclose(g["b"], X)
    _, (t0, t1) = cr.jvp(f, (p,), ({"a": np.ones(3), "b": np.zeros(3)},))
    np.testing.assert_allclose(t0, X**2)
    np.testing.assert_allclose(t1["e"], np.exp(X))


def test_defjvps_one_rule_per_argument():
    @cr.custom_jvp
    def f(x, y):
        return cr.sin(x) * y

    f.defjvps(lambda x_dot, ans, x, y: cr.cos(x) * x_dot * y, lambda y_dot, ans, x, y: cr.sin(x) * y_dot)
    y = np.array([2.0, 1.0, -1.0])
    gx, gy = cr.grad(lambda x, y: cr.reduce_sum(f(x, y)), argnums=(0, 1))(X, y)
    np.testing.assert_allclose(gx, np.cos(X) * y)
    np.testing.assert_allclose(gy, np.sin(X))


@pytest.mark.parametrize("shape", [(0,), (1, 1), (2, 3)])
def test_shapes(shape):
    f = make_sin()
    x = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
    g = cr.grad(lambda x: cr.reduce_sum(f(x)))(x)
    assert g.shape == shape
    np.testing.assert_allclose(g, np.cos(x))


def test_errors():
    @cr.custom_jvp
    def undefined(x):
        return x

    with pytest.raises(AttributeError, match="No JVP defined for custom_jvp function undefined"):
        undefined(X)

    @cr.custom_jvp
    def f(x):
        return (x, x)

    f.defjvp(lambda primals, tangents: (f(*primals), tangents[0]))  # one tangent for a pair
    with pytest.raises(TypeError, match=r"cr\.custom_jvp\(f\): the JVP rule's tangent output has structure \*"):
        cr.grad(lambda x: cr.reduce_sum(f(x)[0]))(X)

    @cr.custom_jvp
    def h(x):
        return cr.reduce_sum(x)

    h.defjvp(lambda primals, tangents: (h(*primals), tangents[0]))  # shape (3,) for a scalar
    with pytest.raises(ValueError, match=r"cr\.custom_jvp\(h\).*shape \(3,\) for .* of shape \(\)"):
        cr.grad(h)(X)
