"""When a use of a variable reads its value, under control dependencies and outside them (TF 1.x)."""

import numpy as np
import pytest

import chainrule as cr

COMPILED = [pytest.param(False, id="uncompiled"), pytest.param(True, id="compiled")]


@pytest.mark.parametrize("optimize", COMPILED)
def test_identity_under_control_dependencies_reads_the_update(optimize):
    v = cr.Variable(1.0)
    with cr.control_dependencies([v.assign_add(3.0)]):
        doubled = cr.identity(v) * 2
    with cr.Session(optimize=optimize) as sess:
        sess.run(cr.global_variables_initializer())
        assert sess.run(doubled) == 8.0
        assert sess.run(doubled) == 14.0  # one increment per run, read after it
        assert sess.run(v) == 7.0


@pytest.mark.parametrize("optimize", COMPILED)
def test_operators_and_functions_under_control_dependencies_read_the_update(optimize):
    v = cr.Variable([1.0, 2.0], dtype=cr.float64)
    with cr.control_dependencies([cr.assign(v, [10.0, 20.0])]):
        product = v * 2
        total = cr.reduce_sum(v)
        read = v.read_value() + 0.0
    with cr.Session(optimize=optimize) as sess:
        sess.run(cr.global_variables_initializer())
        got = sess.run([product, total, read])
    np.testing.assert_array_equal(got[0], [20.0, 40.0])
    assert got[1] == 30.0
    np.testing.assert_array_equal(got[2], [10.0, 20.0])


@pytest.mark.parametrize("optimize", COMPILED)
def test_a_use_outside_control_dependencies_reads_the_value_the_run_starts_with(optimize):
    v = cr.Variable(1.0)
    before = v * 1.0
    with cr.control_dependencies([v.assign_add(1.0)]):
        after = v * 1.0
    with cr.Session(optimize=optimize) as sess:
        sess.run(cr.global_variables_initializer())
        assert sess.run([before, after]) == [1.0, 2.0]


def test_gradients_through_a_read_under_control_dependencies_reach_the_variable():
    v = cr.Variable(3.0, dtype=cr.float64)
    with cr.control_dependencies([v.assign_add(1.0)]):
        loss = v * v
        (grad,) = cr.gradients(loss, [v])
    assert grad is not None
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        loss_value, grad_value = sess.run([loss, grad])
    # Both read the incremented value 4.0: d(v*v)/dv = 2*4.
    assert (loss_value, grad_value) == (16.0, 8.0)


def test_minimize_under_control_dependencies_updates_the_variable():
    x = cr.Variable(5.0, dtype=cr.float64)
    counter = cr.Variable(0, dtype=cr.int32, trainable=False)
    with cr.control_dependencies([counter.assign_add(1)]):
        loss = cr.square(x)
        train = cr.train.GradientDescentOptimizer(0.25).minimize(loss)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        sess.run(train)
        assert sess.run([x, counter]) == [2.5, 1]


def test_a_variable_whose_initial_value_reads_another_under_control_dependencies():
    a = cr.Variable(2.0)
    with cr.control_dependencies([a.initializer]):
        b = cr.Variable(a * 3.0)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        assert sess.run(b) == 6.0
