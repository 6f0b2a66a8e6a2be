"""TF 1.x's gradient API: bare-tensor gradient functions, gradients' arguments, AggregationMethod,
stop_gradients, custom_gradient and cr.test.compute_gradient(_error)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def _fresh_graph():
    with cr.Graph().as_default() as g:
        yield g


def test_a_gradient_function_returning_a_bare_tensor_for_a_one_input_op():
    @cr.custom_op("BareGradSquare")
    def square(a):
        return a * a

    @cr.RegisterGradient("BareGradSquare")
    def _grad(op, grad):
        return grad * 2 * op.inputs[0]  # a Tensor, not [tensor]: TF accepts it

    x = cr.placeholder(cr.float64, [1])
    (g,) = cr.gradients(square(x), [x])
    assert g.shape.as_list() == [1]  # iterating a (1,)-shaped tensor would have given shape ()
    np.testing.assert_allclose(cr.Session().run(g, {x: [3.0]}), [6.0])


def _three_uses(x):
    return x * x + cr.sin(x) + 3.0 * x


@pytest.mark.parametrize(
    ("method", "addn_arity"),
    [
        (None, 4),
        (cr.AggregationMethod.ADD_N, 4),
        (cr.AggregationMethod.DEFAULT, 4),
        (cr.AggregationMethod.EXPERIMENTAL_TREE, 2),
        (cr.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N, 2),
    ],
)
def test_aggregation_method_chooses_one_add_n_or_pairwise_sums(method, addn_arity):
    x = cr.placeholder(cr.float64, [4])
    g = cr.get_default_graph()
    before = len(g.get_operations())
    (dx,) = cr.gradients(_three_uses(x), [x], aggregation_method=method, gate_gradients=True,
                         colocate_gradients_with_ops=True)  # fmt: skip
    new_ops = g.get_operations()[before:]
    values = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(cr.Session().run(dx, {x: values}), 2 * values + np.cos(values) + 3.0, rtol=1e-14)
    # x's gradient has contributions from x * x (two), sin(x) and 3.0 * x: ADD_N sums them in one
    # AddN, the pairwise methods in a chain of two-input ones.
    arities = [len(op.inputs) for op in new_ops if op.type == "AddN"]
    assert max(arities) == addn_arity


def test_an_invalid_aggregation_method_is_refused():
    x = cr.constant(1.0)
    with pytest.raises(ValueError, match="aggregation_method"):
        cr.gradients(x * x, [x], aggregation_method=7)


def test_stop_gradients_as_tf_documents_it():
    a = cr.constant(0.0)
    b = 2 * a
    ga, gb = cr.gradients(a + b, [a, b], stop_gradients=[a, b])
    assert cr.Session().run([ga, gb]) == [1.0, 1.0]  # TF's documented result (not [3, 1])
    ga_plain, gb_plain = cr.gradients(a + b, [a, b])
    assert cr.Session().run([ga_plain, gb_plain]) == [3.0, 1.0]


def test_unconnected_gradients_enum():
    x, y = cr.constant(1.0), cr.constant(2.0)
    (g,) = cr.gradients(x * 2, [y], unconnected_gradients=cr.UnconnectedGradients.ZERO)
    assert cr.Session().run(g) == 0.0


def test_custom_gradient_replaces_the_gradient_of_f():
    @cr.custom_gradient
    def log1pexp(x):
        e = cr.exp(x)

        def grad(dy):
            return dy * (1 - 1 / (1 + e))

        return cr.log(1 + e), grad

    x = cr.placeholder(cr.float64, [3])
    y = log1pexp(x)
    (dx,) = cr.gradients(y, [x])
    values = np.array([-2.0, 0.0, 100.0])
    got_y, got_dx = cr.Session().run([y, dx], {x: values})
    np.testing.assert_allclose(got_y[:2], np.log1p(np.exp(values[:2])), rtol=1e-14)
    np.testing.assert_allclose(got_dx, 1 / (1 + np.exp(-values)), rtol=1e-14)  # finite at 100, as the recipe says
    # Second order goes through grad_fn's graph.
    (d2,) = cr.gradients(dx, [x])
    s = 1 / (1 + np.exp(-values[:2]))
    np.testing.assert_allclose(cr.Session().run(d2, {x: values})[:2], s * (1 - s), rtol=1e-12)


def test_custom_gradient_that_clips_the_incoming_gradient():
    @cr.custom_gradient
    def clip_gradient(x):
        def grad(dy):
            return cr.clip_by_value(dy, -0.1, 0.1)

        return cr.identity(x), grad

    x = cr.placeholder(cr.float64, [2])
    (dx,) = cr.gradients(clip_gradient(x * 3.0) * [1.0, 0.01], [x])
    np.testing.assert_allclose(cr.Session().run(dx, {x: [1.0, 2.0]}), [0.3, 0.03])


def test_custom_gradient_with_variables_and_several_inputs():
    w = cr.Variable(2.0, dtype=cr.float64)

    @cr.custom_gradient
    def scaled_product(a, b):
        def grad(dy, variables=None):
            assert variables == [w]
            return [dy * b * w, dy * a * w], [cr.reduce_sum(dy * a * b)]

        return a * b * w, grad

    a = cr.placeholder(cr.float64, [2])
    b = cr.placeholder(cr.float64, [2])
    ga, gb, gw = cr.gradients(scaled_product(a, b), [a, b, w])
    with cr.Session() as sess:
        sess.run(w.initializer)
        out = sess.run([ga, gb, gw], {a: [1.0, 2.0], b: [3.0, 5.0]})
    np.testing.assert_allclose(out[0], [6.0, 10.0])
    np.testing.assert_allclose(out[1], [2.0, 4.0])
    np.testing.assert_allclose(out[2], 13.0)


def test_custom_gradient_reading_variables_needs_a_variables_argument():
    w = cr.Variable(2.0)

    @cr.custom_gradient
    def f(x):
        return x * w, lambda dy: dy

    with pytest.raises(TypeError, match="keyword argument 'variables'"):
        f(cr.constant(1.0))


def test_compute_gradient_with_tf_signature_and_float32_step():
    x = cr.placeholder(cr.float32, [2, 3])
    y = cr.reduce_sum(cr.square(x), axis=1)
    value = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    theoretical, numerical = cr.test.compute_gradient(x, [2, 3], y, [2], x_init_value=value)
    assert theoretical.shape == numerical.shape == (6, 2) and theoretical.dtype == np.float32
    expected = np.zeros((6, 2), np.float32)
    expected[:3, 0] = 2 * value[0]
    expected[3:, 1] = 2 * value[1]
    np.testing.assert_allclose(theoretical, expected, rtol=1e-6)
    np.testing.assert_allclose(numerical, expected, atol=2e-3)  # delta 1e-3 in float32
    assert cr.test.compute_gradient_error(x, [2, 3], y, [2], x_init_value=value) < 2e-3


def test_compute_gradient_of_a_list_of_inputs_with_initializers_and_extra_feeds():
    a = cr.placeholder(cr.float64, [2])
    w = cr.Variable(np.array([1.0, -1.0]))
    c = cr.placeholder(cr.float64, [])
    y = a * w * c
    results = cr.test.compute_gradient(
        [a, w], [(2,), (2,)], y, (2,), x_init_value=[np.array([3.0, 4.0]), np.array([1.0, -1.0])],
        delta=1e-6, init_targets=[w.initializer], extra_feed_dict={c: 2.0},
    )  # fmt: skip
    (ta, na), (tw, nw) = results
    np.testing.assert_allclose(ta, np.diag([2.0, -2.0]), rtol=1e-12)
    np.testing.assert_allclose(tw, np.diag([6.0, 8.0]), rtol=1e-12)
    np.testing.assert_allclose(na, ta, rtol=1e-6)
    np.testing.assert_allclose(nw, tw, rtol=1e-6)
    with cr.Session() as sess:  # the default Session is used when there is one
        sess.run(w.initializer)
        err = cr.test.compute_gradient_error(a, [2], y, [2], extra_feed_dict={c: 1.0}, delta=1e-6)
    assert err < 1e-6
