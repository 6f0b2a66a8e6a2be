"""Graph walks at any depth: no RecursionError from chains far deeper than Python's recursion limit."""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr
from chainrule.ops.registry import constant_value

DEPTH = 5000  # well past sys.getrecursionlimit() (1000 by default)


def test_depth_exceeds_recursion_limit() -> None:
    assert sys.getrecursionlimit() < DEPTH


def test_constant_value_through_5000_identities() -> None:
    with cr.Graph().as_default():
        y = cr.constant([2.0, 3.0])
        for _ in range(DEPTH):
            y = cr.identity(y)
        z = cr.cast(cr.stop_gradient(y), cr.int32)
        np.testing.assert_array_equal(constant_value(y), [2.0, 3.0])
        value = constant_value(z)
        assert value is not None and value.dtype == np.int32
        np.testing.assert_array_equal(value, [2, 3])


def test_constant_value_of_a_pack_with_an_unknown_part_is_none() -> None:
    with cr.Graph().as_default():
        p = cr.placeholder(cr.float32, [])
        assert constant_value(cr.stack([cr.constant(1.0), cr.identity(p)])) is None
        np.testing.assert_array_equal(constant_value(cr.stack([cr.constant(1.0), cr.constant(2.0)])), [1.0, 2.0])


def test_variable_initial_value_of_deep_expression() -> None:
    # The initial value reads another variable through 5,000 ops: it is rebuilt to read that
    # variable's initialized value, walking the whole expression.
    with cr.Graph().as_default():
        v = cr.Variable(1.0)
        y = v
        for _ in range(DEPTH):
            y = y + 1.0
        w = cr.Variable(y)
        with cr.Session() as sess:
            sess.run(cr.global_variables_initializer())
            assert sess.run(w) == 1.0 + DEPTH


def test_variables_nested_through_initial_values_1000_deep() -> None:
    with cr.Graph().as_default():
        v = cr.Variable(1.0)
        for _ in range(1000):
            v = cr.Variable(v.initial_value + 1.0)
        with cr.Session() as sess:
            sess.run(cr.global_variables_initializer())
            assert sess.run(v) == 1001.0


def test_explain_of_a_3000_deep_expression() -> None:
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, name="x")
        y = x
        for _ in range(3000):
            y = cr.sin(y)
        text = cr.explain(y)
        assert text == "sin(" * 3000 + "x" + ")" * 3000
        latex = cr.explain(y, format="latex")
        assert latex.count(r"\sin") == 3000


def test_explain_prints_shared_subexpressions_like_before() -> None:
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, name="x")
        s = cr.sin(x)
        assert cr.explain(s * s + s) == "sin(x)**2 + sin(x)"
        (g,) = cr.gradients(cr.sin(cr.sin(x)), [x])
        assert cr.explain(g) == "cos(sin(x))*cos(x)"


def test_gradients_and_run_of_a_5000_deep_chain() -> None:
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, [3])
        y = x
        for _ in range(DEPTH):
            y = y * 1.0001
        (g,) = cr.gradients(cr.reduce_sum(y), [x])
        with cr.Session() as sess:
            np.testing.assert_allclose(sess.run(g, {x: np.ones(3)}), np.full(3, 1.0001**DEPTH), rtol=1e-9)
