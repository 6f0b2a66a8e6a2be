"""Reverse mode semantics (TensorFlow's): lists, sums over ys, aggregation, stops, unconnected, Hessians."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr


def run(fetches, feed=None):
    with cr.Session() as sess:
        return sess.run(fetches, feed)


def test_list_in_list_out_and_sum_over_ys():
    x = cr.placeholder(cr.float64, [])
    z = cr.placeholder(cr.float64, [])
    ys = [x * x, 3.0 * x * z]
    dx, dz = cr.gradients(ys, [x, z])
    assert run([dx, dz], {x: 2.0, z: 5.0}) == [4.0 + 15.0, 6.0]
    (single,) = cr.gradients(x * x, x)  # a lone tensor works too and still gives a list
    assert run(single, {x: 3.0}) == 6.0


def test_gradients_aggregate_over_every_path():
    x = cr.placeholder(cr.float64, [3])
    a = cr.sin(x)
    y = a * a + cr.exp(a) + x
    (dx,) = cr.gradients(y, [x])
    xs = np.array([0.1, -0.4, 1.3])
    expected = (2 * np.sin(xs) + np.exp(np.sin(xs))) * np.cos(xs) + 1
    np.testing.assert_allclose(run(dx, {x: xs}), expected, rtol=1e-14)
    assert any(op.type == "AddN" for op in cr.get_default_graph().get_operations())


def test_unconnected_and_integer_inputs():
    x = cr.placeholder(cr.float64, [2])
    unused = cr.placeholder(cr.float64, [2])
    i = cr.placeholder(cr.int32, [2])
    y = cr.reduce_sum(x * cr.cast(i, cr.float64))
    assert cr.gradients(y, [unused, i]) == [None, None]
    zero, dx = cr.gradients(y, [unused, x], unconnected_gradients="zero")
    np.testing.assert_array_equal(run(zero), [0.0, 0.0])
    np.testing.assert_array_equal(run(dx, {x: [1.0, 1.0], i: [4, 5]}), [4.0, 5.0])
    with pytest.raises(ValueError, match="unconnected_gradients"):
        cr.gradients(y, [x], unconnected_gradients="maybe")


def test_grad_ys_seed_the_backward_pass():
    x = cr.placeholder(cr.float64, [2])
    y = x * x
    (dx,) = cr.gradients(y, [x], grad_ys=[cr.constant([10.0, 100.0], dtype=cr.float64)])
    np.testing.assert_array_equal(run(dx, {x: [1.0, 2.0]}), [20.0, 400.0])


def test_stop_gradient_op_and_stop_gradients_argument():
    x = cr.placeholder(cr.float64, [])
    a = x * x
    b = cr.stop_gradient(a) * x
    (via_op,) = cr.gradients(b, [x])
    assert run(via_op, {x: 3.0}) == 9.0  # only the explicit x factor
    c = a * x
    (via_arg,) = cr.gradients(c, [x], stop_gradients=[a])
    assert run(via_arg, {x: 3.0}) == 9.0
    (full,) = cr.gradients(c, [x])
    assert run(full, {x: 3.0}) == 27.0


def test_gradient_with_respect_to_an_intermediate_tensor():
    x = cr.placeholder(cr.float64, [])
    h = cr.sin(x)
    y = h * h + h
    dh, dx = cr.gradients(y, [h, x])
    out = run([dh, dx], {x: 0.5})
    np.testing.assert_allclose(out[0], 2 * np.sin(0.5) + 1)
    np.testing.assert_allclose(out[1], (2 * np.sin(0.5) + 1) * np.cos(0.5))


def test_broadcast_gradients_are_summed_back_to_input_shapes():
    a = cr.placeholder(cr.float64, [4, 1])
    b = cr.placeholder(cr.float64, [3])
    s = cr.placeholder(cr.float64, [])
    y = a * b + s
    da, db, ds = cr.gradients(y, [a, b, s])
    assert da.shape.as_list() == [4, 1] and db.shape.as_list() == [3] and ds.shape.as_list() == []
    av, bv = np.arange(4.0).reshape(4, 1), np.array([1.0, 2.0, 3.0])
    out = run([da, db, ds], {a: av, b: bv, s: 0.0})
    np.testing.assert_array_equal(out[0], np.full((4, 1), 6.0))
    np.testing.assert_array_equal(out[1], np.full(3, 6.0))
    assert out[2] == 12.0


def test_broadcast_with_unknown_dims_uses_runtime_shapes():
    a = cr.placeholder(cr.float64, [None, None])
    b = cr.placeholder(cr.float64, [None])
    da, db = cr.gradients(cr.reduce_sum(a * b), [a, b])
    out = run([da, db], {a: np.ones((2, 3)), b: np.array([1.0, 2.0, 3.0])})
    np.testing.assert_array_equal(out[0], np.tile([1.0, 2.0, 3.0], (2, 1)))
    np.testing.assert_array_equal(out[1], [2.0, 2.0, 2.0])


_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_broadcast_pairs_match_numpy_gradients(data):
    shape = data.draw(_shapes)
    other = data.draw(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=3, min_side=0))
    x_v = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    y_v = data.draw(hnp.arrays(np.float64, other, elements=st.floats(-3, 3)))
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, shape)
        y = cr.placeholder(cr.float64, other)
        out = x * y + x
        dx, dy = cr.gradients(out, [x, y])
        assert out.shape.as_list() == list(np.broadcast_shapes(shape, other))
        with cr.Session() as sess:
            gx, gy = sess.run([dx, dy], {x: x_v, y: y_v})
    full = np.broadcast_shapes(shape, other)
    expect_dx = np.broadcast_to(y_v + 1, full)
    expect_dy = np.broadcast_to(x_v, full)
    lead_x, lead_y = len(full) - len(shape), len(full) - len(other)
    ex = expect_dx.sum(axis=tuple(range(lead_x))).sum(
        axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True
    )
    ey = expect_dy.sum(axis=tuple(range(lead_y))).sum(
        axis=tuple(i for i, d in enumerate(other) if d == 1), keepdims=True
    )
    np.testing.assert_allclose(gx, ex.reshape(shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gy, ey.reshape(other), rtol=1e-12, atol=1e-12)


def test_hessians_of_a_quadratic_and_a_nonlinear_function():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = cr.placeholder(cr.float64, [2])
    quad = 0.5 * cr.reduce_sum(x * cr.reshape(cr.matmul(cr.constant(a), cr.reshape(x, [2, 1])), [2]))
    (h,) = cr.hessians(quad, [x])
    assert h.shape.as_list() == [2, 2]
    np.testing.assert_allclose(run(h, {x: [0.3, -0.7]}), a, rtol=1e-14)
    m = cr.placeholder(cr.float64, [2, 2])
    (hm,) = cr.hessians(cr.reduce_sum(cr.sin(m)), m)
    mv = np.array([[0.1, 0.2], [0.3, 0.4]])
    expected = np.diag(-np.sin(mv).ravel()).reshape(2, 2, 2, 2)
    np.testing.assert_allclose(run(hm, {m: mv}), expected, rtol=1e-14)


def test_where_gradient_and_nans_in_the_branch_not_taken():
    x = cr.placeholder(cr.float64, [3])
    naive = cr.where(x > 0, cr.log(x), cr.zeros_like(x))
    safe = cr.where(x > 0, cr.log(cr.where(x > 0, x, cr.ones_like(x))), cr.zeros_like(x))
    (d_naive,) = cr.gradients(naive, [x])
    (d_safe,) = cr.gradients(safe, [x])
    xs = np.array([-1.0, 0.0, 2.0])
    with np.errstate(all="ignore"):
        values, naive_grad, safe_grad = run([naive, d_naive, d_safe], {x: xs})
    np.testing.assert_array_equal(values, [0.0, 0.0, np.log(2.0)])  # the forward value hides the nan
    # The documented behaviour: the untaken branch's derivative 0 * (1/x) is nan at x = 0...
    assert naive_grad[0] == 0.0 and np.isnan(naive_grad[1]) and naive_grad[2] == 0.5
    # ...and the double-where form is clean.
    np.testing.assert_array_equal(safe_grad, [0.0, 0.0, 0.5])


def test_compute_gradient_returns_theoretical_and_numerical_jacobians():
    x = cr.placeholder(cr.float64, [3])
    y = cr.stack([x[0] * x[1], cr.sin(x[2])])
    theoretical, numerical = cr.test.compute_gradient(x, [3], y, [2], np.array([1.0, 2.0, 0.5]), delta=1e-6)
    assert theoretical.shape == (3, 2)
    expected = np.array([[2.0, 0.0], [1.0, 0.0], [0.0, np.cos(0.5)]])
    np.testing.assert_allclose(theoretical, expected, rtol=1e-14)
    np.testing.assert_allclose(numerical, expected, rtol=1e-7, atol=1e-9)


def test_check_gradients_catches_a_wrong_gradient():
    @cr.custom_op("WrongSquare")
    def wrong_square(a):
        return a * a

    @cr.RegisterGradient("WrongSquare")
    def _wrong(op, grad):
        return [grad * 3.0 * op.inputs[0]]  # should be 2x

    with pytest.raises(AssertionError, match="order-1 gradient mismatch"):
        cr.test.check_gradients(wrong_square, [np.array([0.5, 1.5])], order=1)

    @cr.custom_op("SecondOrderWrong")
    def second_wrong(a):
        return a * a

    @cr.RegisterGradient("SecondOrderWrong")
    def _first_ok_second_wrong(op, grad):
        return [grad * 2.0 * cr.stop_gradient(op.inputs[0])]  # right value, wrong derivative

    cr.test.check_gradients(second_wrong, [np.array([0.5, 1.5])], order=1)
    with pytest.raises(AssertionError, match="order-2 gradient mismatch"):
        cr.test.check_gradients(second_wrong, [np.array([0.5, 1.5])], order=2)


def test_gradient_function_returning_wrong_count_is_reported():
    @cr.custom_op("TwoIn")
    def two_in(a, b):
        return a + b

    cr.RegisterGradient("TwoIn")(lambda op, grad: [grad])
    x = cr.placeholder(cr.float64, [])
    with pytest.raises(ValueError, match="returned 1 gradients, but the op has 2 inputs"):
        cr.gradients(two_in(x, x), [x])
