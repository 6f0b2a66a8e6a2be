"""cr.forward_gradients (graph-level forward mode), JVP rules vs transposition, and hvp modes."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autodiff import forward
from chainrule.ops.registry import get_op_def, register_jvp
from chainrule.transforms import api


def _run(fetches, feed=None):
    with cr.Session() as sess:
        return sess.run(fetches, feed)


def _op_types(graph):
    return [op.type for op in graph.get_operations()]


def test_forward_gradients_of_a_chain():
    x = cr.placeholder(cr.float64, [3])
    y = cr.sin(x) * cr.reduce_sum(x * x)
    v = np.array([1.0, -2.0, 0.5])
    (t,) = cr.forward_gradients(y, x, cr.constant(v))
    xv = np.array([0.3, -1.0, 2.0])
    jac = np.diag(np.cos(xv)) * np.sum(xv**2) + np.outer(np.sin(xv), 2 * xv)
    np.testing.assert_allclose(_run(t, {x: xv}), jac @ v)


def test_default_tangents_are_ones_and_several_xs_and_ys():
    a = cr.placeholder(cr.float64, [2])
    b = cr.placeholder(cr.float64, [])
    y1, y2 = a * b, cr.exp(b)
    t1, t2 = cr.forward_gradients([y1, y2], [a, b])
    av, bv = np.array([1.0, 2.0]), 0.5
    r1, r2 = _run([t1, t2], {a: av, b: bv})
    np.testing.assert_allclose(r1, bv + av)
    np.testing.assert_allclose(r2, np.exp(bv))


def test_unconnected_outputs_and_integer_paths():
    x = cr.placeholder(cr.float64, [3])
    other = cr.placeholder(cr.float64, [3])
    idx = cr.argmax(x, axis=0)  # an integer output carries no tangent
    t_other, t_idx, t_gather = cr.forward_gradients([other * 2, idx, cr.gather(x, idx)], [x])
    assert t_other is None and t_idx is None
    np.testing.assert_allclose(_run(t_gather, {x: [1.0, 5.0, 2.0]}), 1.0)
    (z,) = cr.forward_gradients([other], [x], unconnected_gradients="zero")
    np.testing.assert_array_equal(_run(z, {other: np.ones(3)}), np.zeros(3))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        cr.forward_gradients([other], [x], unconnected_gradients="bad")
    with pytest.raises(ValueError, match="tangents has 2 entries"):
        cr.forward_gradients([other], [x], [x, x])
    with pytest.raises(ValueError, match="tangent of shape"):
        cr.forward_gradients([x * 2], [x], [cr.ones([4], cr.float64)])


def test_an_x_computed_from_another_x_adds_both_contributions():
    a = cr.placeholder(cr.float64, [])
    b = a * 3.0
    y = b * b
    # Reverse mode's convention: d/da goes through b, d/db is direct; forward mode matches it.
    ga, gb = cr.gradients(y, [a, b])
    (t,) = cr.forward_gradients(y, [a, b], [cr.constant(1.0, cr.float64), cr.constant(2.0, cr.float64)])
    ga_v, gb_v, t_v = _run([ga, gb, t], {a: 2.0})
    assert t_v == pytest.approx(ga_v * 1.0 + gb_v * 2.0)


def test_rules_build_no_transposition_and_no_reverse_ops():
    x = cr.placeholder(cr.float64, [4])
    y = cr.reduce_sum(cr.tanh(cr.matmul(cr.reshape(x, [2, 2]), cr.reshape(x, [2, 2]))) ** 2)
    graph = cr.get_default_graph()
    before = len(graph.get_operations())
    (t,) = cr.forward_gradients(y, [x])
    new_ops = graph.get_operations()[before:]
    names = [op.name for op in new_ops]
    assert not any("/transpose" in n or "/gradients" in n or n.startswith("gradients") for n in names), names
    # The same op without a rule goes through its gradient, transposed: same numbers.
    forward.USE_RULES = False
    try:
        before = len(graph.get_operations())
        (t2,) = cr.forward_gradients(y, [x])
    finally:
        forward.USE_RULES = True
    assert any("/transpose" in op.name for op in graph.get_operations()[before:])
    xv = np.array([0.1, -0.4, 0.3, 0.2])
    a, b = _run([t, t2], {x: xv})
    assert a == pytest.approx(b)


def test_custom_op_without_a_rule_uses_its_gradient_and_register_jvp_adds_one():
    @cr.custom_op("CubeForJvpTest")
    def cube(x):
        return x**3

    @cr.RegisterGradient("CubeForJvpTest")
    def _cube_grad(op, g):
        return [3.0 * g * op.inputs[0] * op.inputs[0]]

    x = cr.placeholder(cr.float64, [2])
    (t,) = cr.forward_gradients(cube(x), [x], [cr.constant([1.0, 2.0], cr.float64)])
    np.testing.assert_allclose(_run(t, {x: [1.0, 3.0]}), [3.0, 54.0])
    assert get_op_def("CubeForJvpTest").jvp is None

    calls = []

    @register_jvp("CubeForJvpTest")
    def rule(op, tx):
        calls.append(op.name)
        return [3.0 * tx * op.inputs[0] * op.inputs[0]]

    (t,) = cr.forward_gradients(cube(x), [x], [cr.constant([1.0, 2.0], cr.float64)])
    np.testing.assert_allclose(_run(t, {x: [1.0, 3.0]}), [3.0, 54.0])
    assert calls


def test_gradient_override_wins_over_the_jvp_rule():
    @cr.RegisterGradient("DoubledSinGradForJvpTest")
    def _doubled(op, g):
        return [2.0 * g * cr.cos(op.inputs[0])]

    graph = cr.get_default_graph()
    x = cr.placeholder(cr.float64, [])
    with graph.gradient_override_map({"Sin": "DoubledSinGradForJvpTest"}):
        y = cr.sin(x)
    (t,) = cr.forward_gradients(y, [x])
    (g,) = cr.gradients(y, [x])
    t_v, g_v = _run([t, g], {x: 0.3})
    assert t_v == pytest.approx(g_v) == pytest.approx(2 * np.cos(0.3))


def test_reverse_over_forward_equals_forward_over_reverse():
    x = cr.placeholder(cr.float64, [3])
    f = cr.reduce_sum(cr.exp(x) * cr.sin(x[::-1]))
    v = cr.constant([0.5, -1.0, 2.0], cr.float64)
    (jvp,) = cr.forward_gradients(f, [x], [v])
    (rev_over_fwd,) = cr.gradients(jvp, [x])
    (g,) = cr.gradients(f, [x])
    (fwd_over_rev,) = cr.forward_gradients(g, [x], [v])
    a, b = _run([rev_over_fwd, fwd_over_rev], {x: [0.1, 0.2, -0.3]})
    np.testing.assert_allclose(a, b)


def test_cr_jvp_uses_the_rules_when_every_op_has_one():
    def f(x):
        return cr.reduce_sum(cr.sin(x) * x)

    primal, tangent = (np.array([0.5, 1.0]),), (np.array([1.0, 0.0]),)
    _, t = cr.jvp(f, primal, tangent)
    assert t == pytest.approx(np.sin(0.5) + 0.5 * np.cos(0.5))
    graph = f._chainrule_transforms[("jvp",)].get_concrete_function(primal, tangent).graph
    names = [op.name for op in graph.get_operations()]
    assert any(n.startswith("forward_gradients/") for n in names)
    assert not any("/transpose" in n or "/gradients" in n or n.startswith("gradients") for n in names), names


@pytest.mark.parametrize("mode", ["fwd_rev", "rev_rev"])
def test_hvp_modes_agree_with_the_hessian(mode):
    def f(x):
        return cr.reduce_sum(cr.tanh(x) * x[0]) + cr.reduce_sum(x**4) / 4.0

    x = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(cr.hvp(f, x, v, mode=mode), cr.hessian(f)(x) @ v, rtol=1e-10)


def test_hvp_default_mode_and_bad_modes_are_refused():
    assert api.HVP_MODE in ("fwd_rev", "rev_rev")
    with pytest.raises(ValueError, match="mode must be one of"):
        cr.hvp(lambda x: cr.reduce_sum(x * x), np.ones(2), np.ones(2), mode="fwd_fwd")
