"""grad of a one-element output (autograd's rule), cr.elementwise_grad (autograd's), cr.linearize (JAX's)."""

import numpy as np
import pytest

import chainrule as cr

X = np.array([0.3, -1.2, 0.7])


@pytest.mark.parametrize("shape", [[1], [1, 1], [1, 1, 1]])
def test_grad_of_a_one_element_output(shape):
    f = lambda x: cr.reshape(cr.reduce_sum(cr.sin(x) * x), shape)  # noqa: E731
    np.testing.assert_allclose(cr.grad(f)(X), np.cos(X) * X + np.sin(X))
    value, g = cr.value_and_grad(f)(X)
    assert value.shape == tuple(shape)  # the value as the function returned it
    np.testing.assert_allclose(value.ravel(), [np.sum(np.sin(X) * X)])
    np.testing.assert_allclose(g, np.cos(X) * X + np.sin(X))
    np.testing.assert_allclose(cr.hessian(f)(X), cr.hessian(lambda x: cr.reduce_sum(cr.sin(x) * x))(X))


@pytest.mark.parametrize("shape", [(2,), (0,), (1, 2)])
def test_grad_of_a_larger_output_names_the_transform_and_shape(shape):
    x = np.ones(shape)
    with pytest.raises(TypeError, match=rf"cr\.grad\(double\) needs .* one element .* returned shape \({shape[0]}"):

        def double(x):
            return x * 2.0

        cr.grad(double)(x)


def test_elementwise_grad_values_and_shapes():
    np.testing.assert_allclose(cr.elementwise_grad(cr.tanh)(X), 1 - np.tanh(X) ** 2)
    x2 = np.linspace(-1, 1, 6).reshape(2, 3)
    np.testing.assert_allclose(cr.elementwise_grad(lambda x: cr.exp(x) * x)(x2), np.exp(x2) * (1 + x2))
    # a non-diagonal Jacobian: the sum of each column
    a, b = np.array([[1.0], [2.0], [3.0]]), np.array([[0.5, -1.0, 2.0, 4.0]])
    ga, gb = cr.elementwise_grad(lambda a, b: a * b, argnum=(0, 1))(a, b)  # broadcast to (3, 4)
    np.testing.assert_allclose(ga, np.broadcast_to(b.sum(), (3, 1)))
    np.testing.assert_allclose(gb, np.broadcast_to(a.sum(), (1, 4)))
    # structures out: the sum of every output; size-0 and size-1 inputs
    np.testing.assert_allclose(cr.elementwise_grad(lambda x: {"s": cr.sin(x), "q": (x * x,)})(X), np.cos(X) + 2 * X)
    assert cr.elementwise_grad(cr.sin)(np.zeros((0, 2))).shape == (0, 2)
    np.testing.assert_allclose(cr.elementwise_grad(cr.sin)(np.array([0.5])), np.cos([0.5]))
    # second order: elementwise_grad of elementwise_grad (central differences of cos)
    eps = 1e-5
    d2 = cr.elementwise_grad(cr.elementwise_grad(cr.sin))(X)
    np.testing.assert_allclose(d2, (np.cos(X + eps) - np.cos(X - eps)) / (2 * eps), rtol=1e-7)


def test_elementwise_grad_errors():
    with pytest.raises(TypeError, match=r"cr\.elementwise_grad\(<lambda>\) needs the function to return float tensors"):
        cr.elementwise_grad(lambda x: cr.cast(x, cr.int32))(X)
    with pytest.raises(TypeError, match="derivatives need float inputs"):
        cr.elementwise_grad(cr.sin)(np.array([1, 2]))


def f_np(x, y):
    return np.sin(x) * y


def test_linearize_values_and_linearity():
    y = np.array([2.0, 0.5, -1.0])
    out, f_jvp = cr.linearize(lambda x, y: cr.sin(x) * y, X, y)
    np.testing.assert_allclose(out, f_np(X, y))
    tx, ty = np.array([1.0, 2.0, -1.0]), np.array([0.5, 0.0, 1.0])
    want = np.cos(X) * y * tx + np.sin(X) * ty
    np.testing.assert_allclose(f_jvp(tx, ty), want)
    np.testing.assert_allclose(f_jvp(2 * tx, 2 * ty), 2 * want)
    np.testing.assert_allclose(f_jvp(tx, ty), cr.jvp(lambda x, y: cr.sin(x) * y, (X, y), (tx, ty))[1])
    # central differences
    eps = 1e-6
    numeric = (f_np(X + eps * tx, y + eps * ty) - f_np(X - eps * tx, y - eps * ty)) / (2 * eps)
    np.testing.assert_allclose(f_jvp(tx, ty), numeric, rtol=1e-7)


def test_linearize_structures_shapes_and_inline():
    p = {"a": X, "b": (np.array(2.0),)}
    out, f_jvp = cr.linearize(lambda p: [p["a"] * p["b"][0], cr.cast(p["a"], cr.int32)], p)
    assert isinstance(out, list)
    t = f_jvp({"a": np.ones(3), "b": (np.array(0.5),)})
    np.testing.assert_allclose(t[0], 2.0 + 0.5 * X)
    np.testing.assert_array_equal(t[1], np.zeros(3, dtype=np.int32))
    out0, f0 = cr.linearize(cr.sin, np.zeros((0, 3)))
    assert out0.shape == f0(np.zeros((0, 3))).shape == (0, 3)
    # with tensors: ops built inline in the caller's graph
    x = cr.placeholder(cr.float64, [3])
    y, fj = cr.linearize(cr.exp, x)
    t = fj(cr.ones([3], cr.float64))
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(t, {x: X}), np.exp(X))


def test_linearize_errors():
    _, f_jvp = cr.linearize(lambda x, y: x * y, X, X)
    with pytest.raises(TypeError, match=r"cr\.linearize\(<lambda>\): f_jvp takes 2 tangents .* got 1"):
        f_jvp(X)
    with pytest.raises(
        ValueError, match=r"cr\.linearize\(<lambda>\): tangent of shape \(2,\) for a primal of shape \(3,\)"
    ):
        f_jvp(np.ones(2), X)
    _, g_jvp = cr.linearize(lambda p: p["a"], {"a": X})
    with pytest.raises(ValueError, match=r"structure \(\*,\) does not match the expected \{'a': \*\}"):
        g_jvp((X,))
