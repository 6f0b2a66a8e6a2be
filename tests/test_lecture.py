"""The lecture's examples, end to end: cos and its derivatives, minimize to pi, ZeroOut."""

import numpy as np
import pytest

import chainrule as cr


def test_cos_derivatives_to_third_order_on_100_points():
    x = cr.placeholder(cr.float64, [None])
    y = cr.cos(x)
    (dy,) = cr.gradients(y, [x])
    (d2y,) = cr.gradients(dy, [x])
    (d3y,) = cr.gradients(d2y, [x])
    xs = np.linspace(-2 * np.pi, 2 * np.pi, 100)
    with cr.Session() as sess:
        y_v, dy_v, d2y_v, d3y_v = sess.run([y, dy, d2y, d3y], feed_dict={x: xs})
    np.testing.assert_allclose(y_v, np.cos(xs), rtol=0, atol=0)
    np.testing.assert_allclose(dy_v, -np.sin(xs), rtol=0, atol=0)
    np.testing.assert_allclose(d2y_v, -np.cos(xs), rtol=0, atol=0)
    np.testing.assert_allclose(d3y_v, np.sin(xs), rtol=0, atol=0)


def test_nothing_is_computed_before_session_run():
    calls = []

    @cr.custom_op("CountingIdentity")
    def counting_identity(a):
        calls.append(1)
        return a

    cr.RegisterGradient("CountingIdentity")(lambda op, grad: [grad])
    x = cr.placeholder(cr.float64, [3])
    y = cr.cos(counting_identity(x))
    cr.gradients(y, [x])  # building the gradient graph runs nothing either
    assert calls == []
    with cr.Session() as sess:
        sess.run(y, {x: np.zeros(3)})
    assert calls == [1]


def test_gradient_ops_live_under_gradients_scope():
    x = cr.placeholder(cr.float64, [None])
    (dy,) = cr.gradients(cr.cos(x), [x])
    assert dy.op.name.startswith("gradients/")
    grad_ops = [op.name for op in cr.get_default_graph().get_operations() if op.name.startswith("gradients/")]
    assert any(name.startswith("gradients/Cos_grad/") for name in grad_ops)


def test_gradient_descent_on_cos_converges_to_pi():
    x = cr.Variable(1.0, name="x")
    y = cr.cos(x)
    train = cr.train.GradientDescentOptimizer(0.1).minimize(y)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        for _ in range(300):
            sess.run(train)
        assert sess.run(x) == pytest.approx(np.pi, abs=1e-5)


@cr.custom_op("ZeroOut")
def zero_out(to_zero):
    out = np.zeros_like(to_zero)
    out.flat[0] = to_zero.flat[0]
    return out


@cr.RegisterGradient("ZeroOut")
def _zero_out_grad(op, grad):
    to_zero = op.inputs[0]
    shape = cr.shape(to_zero)
    index = cr.zeros_like(shape)
    first_grad = cr.reshape(grad, [-1])[0]
    to_zero_grad = cr.sparse_to_dense([index], shape, first_grad, 0)
    return [to_zero_grad]


@pytest.mark.parametrize("shape", [(5,), (2, 3), (1, 1, 4)])
def test_zero_out_custom_op_and_its_registered_gradient(shape):
    values = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    x = cr.placeholder(cr.float64, shape)
    y = zero_out(x)
    (dx,) = cr.gradients(y, [x], grad_ys=[cr.constant(np.full(shape, 7.0))])
    with cr.Session() as sess:
        y_v, dx_v = sess.run([y, dx], {x: values})
    expected_y = np.zeros(shape)
    expected_y.flat[0] = values.flat[0]
    expected_dx = np.zeros(shape)
    expected_dx.flat[0] = 7.0
    np.testing.assert_array_equal(y_v, expected_y)
    np.testing.assert_array_equal(dx_v, expected_dx)
    assert y.op.type == "ZeroOut"


def test_zero_out_gradient_matches_central_differences():
    cr.test.check_gradients(lambda t: zero_out(t) * 3.0, [np.array([[1.5, -2.0], [0.5, 4.0]])], order=2)


def test_gradient_override_map_swaps_the_registered_gradient():
    @cr.RegisterGradient("CosTimesTen")
    def _cos_times_ten(op, grad):
        return [-10.0 * grad * cr.sin(op.inputs[0])]

    g = cr.get_default_graph()
    x = cr.placeholder(cr.float64, [3])
    with g.gradient_override_map({"Cos": "CosTimesTen"}):
        y_override = cr.cos(x)
    y_plain = cr.cos(x)
    d_override, d_plain = cr.gradients([y_override], [x])[0], cr.gradients([y_plain], [x])[0]
    xs = np.array([0.1, 0.2, 0.3])
    with cr.Session() as sess:
        a, b = sess.run([d_override, d_plain], {x: xs})
    np.testing.assert_allclose(a, -10 * np.sin(xs))
    np.testing.assert_allclose(b, -np.sin(xs))


def test_not_differentiable_marks_an_op_without_gradient():
    @cr.custom_op("Quantize")
    def quantize(a):
        return np.round(a * 4) / 4

    cr.NotDifferentiable("Quantize")
    x = cr.placeholder(cr.float64, [2])
    y = quantize(x) + x
    (dx,) = cr.gradients(y, [x])
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(dx, {x: [0.3, 0.9]}), [1.0, 1.0])
    (none,) = cr.gradients(quantize(x), [x])
    assert none is None


def test_custom_op_without_gradient_is_a_clear_error():
    @cr.custom_op("NoGradYet")
    def no_grad_yet(a):
        return a * 2

    x = cr.placeholder(cr.float64, [2])
    with pytest.raises(LookupError, match="(?s)No gradient defined for operation 'NoGradYet'.*RegisterGradient"):
        cr.gradients(no_grad_yet(x), [x])
