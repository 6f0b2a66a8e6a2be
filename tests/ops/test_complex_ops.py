"""Complex dtypes: values, TensorFlow's gradient convention, and numerical checks with complex inputs.

TensorFlow's convention: the gradient of a real loss ``L`` with respect to a complex ``z`` is
``dL/dRe(z) + i dL/dIm(z)``. The numerical check below perturbs the real and the imaginary parts
separately (the table's checker perturbs real inputs only; its complex samples go through real
parts). Numbers marked "TF" were recorded once with TensorFlow 2.21's ``tf.compat.v1`` in graph
mode, z = [1+2j, -0.5+0.3j], w = [0.7-1j, 2+0.5j]:
``tf1.gradients(tf1.reduce_sum(f(z)), [z])``.
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_helpers import run

import chainrule as cr

pytestmark = pytest.mark.usefixtures("fresh_graph")

Z = np.array([1 + 2j, -0.5 + 0.3j])
W = np.array([0.7 - 1j, 2 + 0.5j])


def complex_numeric_gradient(loss, z0, delta=1e-6):
    """``dL/dRe + i dL/dIm`` by central differences of the real loss ``loss(z)`` (a NumPy function)."""
    grad = np.zeros_like(z0)
    for idx in np.ndindex(z0.shape):
        for unit in (1.0, 1j):
            zp, zm = z0.copy(), z0.copy()
            zp[idx] += unit * delta
            zm[idx] -= unit * delta
            grad[idx] += unit * (loss(zp) - loss(zm)) / (2 * delta)
    return grad


def check_complex_gradient(build, z0, order=2, rtol=1e-6, atol=1e-8):
    """The gradient of the real scalar ``build(z)`` (and, for order 2, of a real function of that
    gradient) against central differences over the real and imaginary parts."""
    graph = cr.Graph()
    with graph.as_default():
        z = cr.placeholder(cr.complex128, z0.shape)
        loss = build(z)
        (g,) = cr.gradients(loss, [z])
        weights = np.linspace(0.5, 1.5, z0.size).reshape(z0.shape)
        second = cr.reduce_sum(cr.real(g) * weights - cr.imag(g) * weights[::-1])
        (gg,) = cr.gradients(second, [z], unconnected_gradients="zero")
        sess = cr.Session(graph=graph)
        analytic, analytic2 = sess.run([g, gg], {z: z0})
        numeric = complex_numeric_gradient(lambda v: float(sess.run(loss, {z: v})), z0)
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)
        if order >= 2:
            numeric2 = complex_numeric_gradient(lambda v: float(sess.run(second, {z: v})), z0)
            np.testing.assert_allclose(analytic2, numeric2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "f", "tf_grad"),
    [
        ("abs", cr.abs, [0.4472136 + 0.89442719j, -0.85749293 + 0.51449576j]),
        ("angle", cr.angle, [-0.4 + 0.2j, -0.88235294 - 1.47058824j]),
        ("real zw", lambda z: cr.real(z * W), [0.7 + 1.0j, 2.0 - 0.5j]),
        ("imag exp", lambda z: cr.imag(cr.exp(z)), [2.47172667 - 1.13120438j, 0.17924207 + 0.57944087j]),
        ("abs log", lambda z: cr.abs(cr.log(z) * W), [-0.25142174 + 0.48454836j, -1.16553844 - 3.33789157j]),
        ("real sqrt/", lambda z: cr.real(cr.sqrt(z) / W), [0.25160494 - 0.10830878j, 0.00801301 + 0.31751742j]),
    ],
)
def test_gradients_match_tensorflow_and_central_differences(name, f, tf_grad):
    z = cr.constant(Z)
    (g,) = cr.gradients(cr.reduce_sum(f(z)), [z])
    np.testing.assert_allclose(run(g), tf_grad, rtol=1e-7)
    check_complex_gradient(lambda t: cr.reduce_sum(f(t)), Z)


def test_complex_matmul_gradient_uses_adjoints_as_tensorflow():
    a = cr.constant(np.array([[1 + 1j, 2 - 1j], [0.5j, -1]]))
    b = cr.constant(np.array([[2 - 0.5j], [1 + 1j]]))
    ga, gb = run(cr.gradients(cr.reduce_sum(cr.real(cr.matmul(a, b))), [a, b]))
    np.testing.assert_allclose(ga, [[2 + 0.5j, 1 - 1j], [2 + 0.5j, 1 - 1j]])  # TF
    np.testing.assert_allclose(gb, [[1 - 1.5j], [1 + 1j]])  # TF
    m = np.array([[0.3 - 1j, 1.2 + 0.4j], [-0.7j, 0.9]])
    check_complex_gradient(lambda t: cr.reduce_sum(cr.abs(cr.matmul(t, cr.constant(m), transpose_b=True))), m.T)


@pytest.mark.parametrize(
    "f",
    [
        lambda z: cr.reduce_mean(cr.real(z * z * z)),
        lambda z: cr.reduce_sum(cr.imag(cr.reciprocal(z) + cr.square(z) - z)),
        lambda z: cr.reduce_sum(cr.abs(cr.conj(z) * (1 - 2j) + 0.5)),
        lambda z: cr.reduce_sum(cr.angle(cr.exp(z * 0.3))),
        lambda z: cr.reduce_sum(cr.real(cr.div_no_nan(1.0 + 0j, z))),
        lambda z: cr.reduce_sum(cr.abs(z * cr.constant(np.outer([1.0, -2.0, 0.5j], W)))),
    ],
    ids=["cube", "reciprocal-square", "conj-abs", "angle-exp", "div_no_nan", "broadcast"],
)
def test_second_order_gradients_with_complex_inputs_match_central_differences(f):
    check_complex_gradient(f, Z)


def test_forward_mode_multiplies_by_the_derivative_not_its_conjugate():
    z = cr.constant(Z)
    t = cr.constant(np.array([1.0 + 0.5j, -2j]))
    (jvp,) = cr.forward_gradients([cr.exp(z) * cr.log(z)], [z], [t])
    derivative = np.exp(Z) * np.log(Z) + np.exp(Z) / Z
    np.testing.assert_allclose(run(jvp), derivative * run(t))


def test_dtypes_parts_and_conversions():
    assert cr.complex64.is_complex and cr.complex64.real_dtype == cr.float32
    assert cr.as_dtype(complex) == cr.complex128 and cr.as_dtype("complex64") == cr.complex64
    c = cr.complex(cr.constant(1.0), cr.constant(2.0))
    assert c.dtype == cr.complex64  # TF: float32 parts give complex64
    assert cr.complex(np.array([1.0]), np.array([0.5])).dtype == cr.complex128
    z = cr.constant(Z.astype(np.complex64))
    assert (z * 2).dtype == cr.complex64 and (z + 1.5).dtype == cr.complex64  # weakly typed Python numbers
    assert cr.abs(z).dtype == cr.float32 and cr.angle(z).dtype == cr.float32
    np.testing.assert_allclose(run(cr.abs(z)), np.abs(Z), rtol=1e-6)
    assert cr.real(cr.constant([1.0])).op.type == "Const"  # a real tensor is its own real part
    with pytest.raises(TypeError, match="complex value.*float32"):
        cr.constant([1.0]) + 1j
    with pytest.raises(TypeError, match="complex value"):
        cr.constant(1 + 1j, dtype=cr.float64)


def test_ordering_ops_refuse_complex():
    z = cr.constant(Z)
    for fn in (cr.maximum, cr.less):
        with pytest.raises(TypeError, match="complex128"):
            fn(z, z)
    with pytest.raises(TypeError, match="complex128"):
        cr.reduce_max(z)


def test_complex_gradients_flow_through_cond_and_while_loop():
    z = cr.constant(np.array([1 + 2j]))
    y = cr.cond(cr.constant(True), lambda: z * z, lambda: z)
    (g,) = cr.gradients(cr.reduce_sum(cr.real(y)), [z])
    np.testing.assert_allclose(run(g), np.conj(2 * (1 + 2j)))
    _, v = cr.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * z), [0, cr.ones_like(z)])
    (g,) = cr.gradients(cr.reduce_sum(cr.real(v)), [z])
    np.testing.assert_allclose(run(g), np.conj(3 * (1 + 2j) ** 2))
