"""TensorFlow 1.x's variable functions: Variable's arguments, assign functions, placeholder_with_default."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def fresh_graph():
    g = cr.Graph()
    with g.as_default():
        yield g


def test_variable_takes_tensorflows_arguments():
    a = cr.Variable(1.0, False, name="a")  # TensorFlow's positional order: initial_value, trainable
    b = cr.Variable(np.zeros(2), collections=["mine"], name="b")
    c = cr.Variable(lambda: cr.ones([3]), name="c")  # a callable: its ops under c/Initializer/
    d = cr.Variable([1.0, 2.0], validate_shape=False, name="d")
    e = cr.Variable(np.zeros((2, 3)), shape=[None, 3], name="e")
    assert not a.trainable and a in cr.global_variables() and a not in cr.trainable_variables()
    assert cr.get_collection("mine") == [b] and b in cr.trainable_variables() and b not in cr.global_variables()
    assert any(op.name.startswith("c/Initializer/") for op in cr.get_default_graph().get_operations())
    assert d.shape.rank is None and e.shape.as_list() == [None, 3]
    with cr.Session() as sess:
        sess.run(cr.variables_initializer([a, b, c, d, e]))
        np.testing.assert_array_equal(sess.run(c), [1.0, 1.0, 1.0])
        sess.run(d.assign([1.0, 2.0, 3.0]))  # no fixed shape
        np.testing.assert_array_equal(sess.run(d), [1.0, 2.0, 3.0])
        assert sess.run(e.assign(np.ones((4, 3)))).shape == (4, 3)
    with pytest.raises(ValueError, match="collections argument to Variable constructor must be a list"):
        cr.Variable(1.0, collections="variables")
    with pytest.raises(ValueError, match="not compatible"):
        cr.Variable(np.zeros(2), shape=[3])
    with pytest.raises(ValueError, match="initial_value must be specified"):
        cr.Variable()


def test_assign_functions():
    v = cr.Variable(np.float32(1.0), name="v")
    with cr.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(cr.assign(v, 5.0)) == 5.0
        assert sess.run(cr.assign_add(v, 2.0, use_locking=True)) == 7.0
        assert sess.run(cr.assign_sub(v, 3.0, name="down")) == 4.0
        assert sess.run(v) == 4.0
    with pytest.raises(TypeError, match="assign: ref must be a cr.Variable"):
        cr.assign(cr.constant(1.0), 2.0)
    with pytest.raises(cr.errors.InvalidDTypeError, match="cannot assign a float64 value"):
        cr.assign(v, np.float64(2.0))


def test_initializer_aliases_and_model_variables():
    v = cr.Variable(0, name="m", collections=[cr.GraphKeys.MODEL_VARIABLES, cr.GraphKeys.GLOBAL_VARIABLES])
    assert cr.model_variables() == [v]
    init = cr.initialize_local_variables()
    assert init.type == "NoOp" and not init.control_inputs  # no local variables


def test_placeholder_with_default_feeds_replace_the_default():
    x = cr.placeholder_with_default([1.0, 2.0], [None], name="x")
    y = x * 2.0
    assert x.shape.as_list() == [None] and x.op.type == "PlaceholderWithDefault" and x.op.name == "x"
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run(y, {x: [3.0, 4.0, 5.0]}), [6.0, 8.0, 10.0])
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            sess.run(y, {x: [[1.0]]})
    training = cr.placeholder_with_default(False, [], name="training")
    out = cr.cond(training, lambda: cr.constant(1), lambda: cr.constant(0))
    with cr.Session() as sess:
        assert sess.run(out) == 0 and sess.run(out, {training: True}) == 1


def test_placeholder_with_default_gradient_is_the_identity():
    base = cr.constant(np.array([1.0, -2.0, 3.0]))
    x = cr.placeholder_with_default(base, [3])
    (g,) = cr.gradients(cr.reduce_sum(x * x), [base])
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(g), [2.0, -4.0, 6.0])
