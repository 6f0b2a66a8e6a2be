"""Rewrites keep control dependencies (issue 12, item 1 follow-up).

A node under ``cr.control_dependencies`` may be folded, removed as a run-time identity, simplified,
merged, fused or bypassed by a rule that looks through it; what it waited for must still run, as
in the run as written. ``check_numerics`` is the probe: it is not stateful (nothing else keeps it
alive), and it raises on a NaN, so a dropped control input shows as a missing error.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

f64 = cr.float64
MODES = {"uncompiled": False, "compiled": True, "interpreted": compiler.Options(codegen=False)}


def _under_check(build):
    """``build(x)`` made under a control dependency on ``check_numerics(p)``."""

    def make(p, x):
        check = cr.debugging.check_numerics(p, "p is bad")
        with cr.control_dependencies([check]):
            return build(x)

    return make


def _inner_under_check(p, x):
    # Neg(Neg(x)) -> x looks through the inner Neg, the one that waits for the check.
    with cr.control_dependencies([cr.debugging.check_numerics(p, "p is bad")]):
        inner = cr.negative(x)
    return cr.negative(inner)


def _constant_under_check(p, x):
    # x * 1 -> x drops the constant 1, the node that waits for the check.
    with cr.control_dependencies([cr.debugging.check_numerics(p, "p is bad")]):
        one = cr.constant(1.0, f64)
    return x * one


CASES = {
    "fold": _under_check(lambda x: cr.constant([1.0, 2.0], f64) * 2.0 + 1.0),
    "runtime_identity": _under_check(cr.identity),
    "runtime_reshape": _under_check(lambda x: cr.reshape(x, [2])),
    "fold_shape": _under_check(cr.shape),
    "algebraic_mul_one": _under_check(lambda x: x * 1.0),
    "algebraic_neg_neg": _under_check(lambda x: cr.negative(cr.negative(x))),
    "fuse": _under_check(lambda x: cr.sin(cr.cos(x)) + x),
    "bypassed_inner_node": _inner_under_check,
    "dropped_constant": _constant_under_check,
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_rewritten_node_still_runs_what_it_waited_for(name, mode):
    graph = cr.Graph()
    with graph.as_default():
        p = cr.placeholder(f64, [2], name="p")
        x = cr.placeholder(f64, [2], name="x")
        y = CASES[name](p, x)
    with cr.Session(graph=graph, optimize=MODES[mode]) as sess:
        good = sess.run(y, {p: [1.0, 2.0], x: [3.0, 4.0]})
        with pytest.raises(cr.errors.InvalidArgumentError, match="p is bad"):
            sess.run(y, {p: [np.nan, 2.0], x: [3.0, 4.0]})
    with cr.Session(graph=graph, optimize=False) as plain:
        np.testing.assert_array_equal(good, plain.run(y, {p: [1.0, 2.0], x: [3.0, 4.0]}))


@pytest.mark.parametrize("mode", sorted(MODES))
def test_an_assignment_runs_before_a_folded_expression_that_waits_for_it(mode):
    graph = cr.Graph()
    with graph.as_default():
        v = cr.Variable(0.0, dtype=f64)
        c = cr.constant(3.0, f64)
        with cr.control_dependencies([v.assign_add(1.0)]):
            y = cr.identity(c) * 2.0
        with cr.control_dependencies([v.assign_add(10.0)]):
            z = cr.identity(c)
        with cr.Session(graph=graph, optimize=MODES[mode]) as sess:
            sess.run(cr.global_variables_initializer())
            assert sess.run(y) == 6.0 and sess.run(v) == 1.0
            assert sess.run([y, z]) == [6.0, 3.0] and sess.run(v) == 12.0


def test_the_program_keeps_the_awaited_node_after_every_pass():
    p = cr.placeholder(f64, [2], name="p")
    check = cr.debugging.check_numerics(p, "p is bad")
    with cr.control_dependencies([check]):
        y = cr.identity(cr.constant([1.0, 2.0], f64))
    program = compiler.optimize(y, feeds=[p])
    assert "CheckNumerics" in program.dump()
    assert [n.op_type for n in program.awaited] == ["CheckNumerics"]
