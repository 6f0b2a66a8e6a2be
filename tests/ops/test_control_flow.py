"""cr.cond and cr.case: TensorFlow 1.x's semantics (only the taken branch runs), gradients to second order.

Written against TF 1.x's documented behaviour of ``tf.cond`` / ``tf.case``: the predicate picks one
branch function; ops created inside a branch run only when it is taken; both branches return the
same structure and dtypes; ``strict=False`` unpacks one-element lists; ``tf.case`` takes the first
true pair, ``default`` otherwise, and with ``exclusive=True`` fails when several are true.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler
from chainrule.testing.samples.control_flow import _loop, _loop_ref  # the table's data-dependent loop

pytestmark = pytest.mark.usefixtures("fresh_graph")


def _piecewise(x, w):
    """sin(x) * w where sum(x) > 0, else log(1 + x^2) - w: two branches with different inputs."""
    return cr.cond(cr.reduce_sum(x) > 0, lambda: cr.sin(x) * w, lambda: cr.log(1 + x * x) - w)


def _piecewise_np(x, w):
    return np.sin(x) * w if np.sum(x) > 0 else np.log(1 + x * x) - w


@pytest.mark.parametrize(
    "x",
    [np.array([0.3, 1.2, -0.4]), np.array([-0.3, -1.2, 0.4]), np.array(0.7), np.array(-0.7), np.zeros((0,))],
    ids=["true-branch", "false-branch", "scalar-true", "scalar-false", "size-0"],
)
def test_cond_values_and_gradients_to_second_order(x):
    w = np.array(1.7)
    with cr.Session() as sess:
        xt, wt = cr.placeholder(cr.float64, x.shape), cr.placeholder(cr.float64, [])
        np.testing.assert_allclose(sess.run(_piecewise(xt, wt), {xt: x, wt: w}), _piecewise_np(x, w))
    cr.test.check_gradients(_piecewise, [x, w], order=2)


def test_gradients_flow_only_into_the_taken_branch():
    x = cr.placeholder(cr.float64, [], name="x")
    w = cr.placeholder(cr.float64, [], name="w")
    y = cr.cond(x > 0, lambda: x * x, lambda: w * 3.0)
    dx, dw = cr.gradients(y, [x, w])
    with cr.Session() as sess:
        assert sess.run([dx, dw], {x: 2.0, w: 5.0}) == [4.0, 0.0]
        assert sess.run([dx, dw], {x: -2.0, w: 5.0}) == [0.0, 3.0]


def test_only_the_taken_branch_runs():
    calls = []

    @cr.custom_op("FailsIfRunForCondTest")
    def fails(x):
        calls.append("ran")
        raise ZeroDivisionError("this branch must not run")

    x = cr.placeholder(cr.float64, [2])
    y = cr.cond(cr.constant(True), lambda: x + 1.0, lambda: fails(x))
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: np.ones(2)}), [2.0, 2.0])
        assert calls == []
        z = cr.cond(cr.constant(False), lambda: x + 1.0, lambda: fails(x))
        with pytest.raises(cr.errors.InvalidArgumentError, match="must not run"):
            sess.run(z, {x: np.ones(2)})
    assert calls == ["ran"]


def test_a_branch_with_side_effects_under_control_dependencies_runs_them_only_when_taken():
    v = cr.Variable(0.0, dtype=cr.float64, name="counter")
    x = cr.placeholder(cr.float64, [])

    def counting():
        with cr.control_dependencies([v.assign_add(1.0)]):
            return cr.identity(x)

    y = cr.cond(x > 0, counting, lambda: -x)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        assert [sess.run(y, {x: a}) for a in (1.0, -2.0, 3.0)] == [1.0, 2.0, 3.0]
        assert sess.run(v) == 2.0


def test_nested_structures_and_tensorflow_unpacking():
    x = cr.placeholder(cr.float64, [])
    out = cr.cond(x > 0, lambda: {"a": x, "b": (x * 2, [x + 1])}, lambda: {"a": -x, "b": (x, [x - 1])})
    single = cr.cond(x > 0, lambda: [x], lambda: [-x])
    kept = cr.cond(x > 0, lambda: [x], lambda: [-x], strict=True)
    with cr.Session() as sess:
        got = sess.run(out, {x: 2.0})
        assert got == {"a": 2.0, "b": (4.0, [3.0])}
        assert sess.run(single, {x: -1.0}) == 1.0 and sess.run(kept, {x: -1.0}) == [1.0]


def test_nested_conds_capture_through_every_level_and_differentiate():
    x = cr.placeholder(cr.float64, [], name="x")
    y = cr.cond(
        x > 0,
        lambda: cr.cond(x > 1, lambda: x * x * x, lambda: cr.exp(x)),
        lambda: cr.sin(x),
    )
    (dy,) = cr.gradients(y, [x])
    (d2y,) = cr.gradients(dy, [x])
    cases = {2.0: (8.0, 12.0, 12.0), 0.5: (np.exp(0.5),) * 3, -1.0: (np.sin(-1.0), np.cos(-1.0), -np.sin(-1.0))}
    with cr.Session() as sess:
        for value, want in cases.items():
            np.testing.assert_allclose(sess.run([y, dy, d2y], {x: value}), want)


def test_branches_with_different_static_shapes_give_the_compatible_shape():
    x = cr.placeholder(cr.float64, [3])
    y = cr.cond(cr.reduce_sum(x) > 0, lambda: x, lambda: cr.stack([x[0], x[1], x[2]]) * 2)
    z = cr.cond(cr.reduce_sum(x) > 0, lambda: x, lambda: x[:2])
    assert y.shape.as_list() == [3] and z.shape.as_list() == [None]
    with cr.Session() as sess:
        assert sess.run(z, {x: -np.ones(3)}).shape == (2,)


def test_compiled_and_uncompiled_runs_agree_bit_for_bit():
    x = cr.placeholder(cr.float64, [4])
    y = cr.cond(cr.reduce_sum(x) > 0, lambda: cr.tanh(x) * cr.exp(-x), lambda: cr.sigmoid(x) / 3)
    (dy,) = cr.gradients(cr.reduce_sum(y * y), [x])
    for value in (np.linspace(-1, 2, 4), np.linspace(-2, 1, 4)):
        fast = cr.Session().run([y, dy], {x: value})
        plain = cr.Session(optimize=False).run([y, dy], {x: value})
        interpreted = cr.Session(optimize=compiler.Options(passes=(), codegen=False)).run([y, dy], {x: value})
        for a, b, c in zip(fast, plain, interpreted):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c)


def test_forward_mode_through_cond():
    x = cr.placeholder(cr.float64, [2])
    y = cr.cond(cr.reduce_sum(x) > 0, lambda: x * x, lambda: cr.sin(x))
    (ty,) = cr.forward_gradients(y, [x], [cr.ones_like(x)])
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(ty, {x: np.array([1.0, 2.0])}), [2.0, 4.0])
        np.testing.assert_allclose(sess.run(ty, {x: np.array([-1.0, -2.0])}), np.cos([-1.0, -2.0]))


def test_bad_branches_are_clear_errors():
    x = cr.placeholder(cr.float64, [])
    with pytest.raises(ValueError, match="same structure"):
        cr.cond(x > 0, lambda: (x, x), lambda: x)
    with pytest.raises(cr.errors.InvalidDTypeError, match="(?s)If.*output 0.*float64.*int32"):
        cr.cond(x > 0, lambda: x, lambda: cr.constant(1))
    with pytest.raises(cr.errors.InvalidDTypeError, match="(?s)If.*predicate.*bool"):
        cr.cond(x, lambda: x, lambda: x)
    with pytest.raises(TypeError, match="both true_fn and false_fn"):
        cr.cond(x > 0, lambda: x)


def test_case_takes_the_first_true_pair_and_the_default_otherwise():
    x = cr.placeholder(cr.float64, [])
    y = cr.case([(x < 0, lambda: -x), (x < 10, lambda: x * 2)], default=lambda: x * 0)
    last = cr.case([(x < 0, lambda: -x), (x < 10, lambda: x * 2)])  # no default: the last pair's fn
    with cr.Session() as sess:
        assert [sess.run(y, {x: v}) for v in (-3.0, 4.0, 20.0)] == [3.0, 8.0, 0.0]
        assert sess.run(last, {x: 20.0}) == 40.0
    (dy,) = cr.gradients(y, [x])
    with cr.Session() as sess:
        assert [sess.run(dy, {x: v}) for v in (-3.0, 4.0, 20.0)] == [-1.0, 2.0, 0.0]


def test_exclusive_case_fails_when_several_predicates_are_true():
    x = cr.placeholder(cr.float64, [])
    y = cr.case([(x > 0, lambda: x), (x > 1, lambda: x * 2)], default=lambda: -x, exclusive=True)
    with cr.Session() as sess:
        assert sess.run(y, {x: 0.5}) == 0.5
        with pytest.raises(cr.errors.InvalidArgumentError, match="more than one predicate is true"):
            sess.run(y, {x: 2.0})


def test_a_branch_plan_is_compiled_once_and_reused():
    x = cr.placeholder(cr.float64, [])
    y = cr.cond(x > 0, lambda: x + 1, lambda: x - 1)
    with cr.Session() as sess:
        for v in (1.0, -1.0, 2.0, -2.0):
            sess.run(y, {x: v})
        assert len(sess.run_state.function_plans()) == 2  # one per branch, whatever the number of runs


def test_a_python_if_on_a_tensor_points_to_cond():
    x = cr.placeholder(cr.float64, [])
    with pytest.raises(TypeError, match=r"(?s)Python bool.*cr\.cond\(pred, true_fn, false_fn\)"):
        if x > 0:
            pass


# --- while_loop ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x",
    [np.array([0.3, -0.2]), np.array(0.7), np.array(5.0), np.zeros((0,))],
    ids=["vector", "scalar", "no-trip", "size-0"],
)
def test_while_loop_values_and_gradients_to_second_order(x):
    w = np.array(1.3)
    with cr.Session() as sess:
        xt, wt = cr.placeholder(cr.float64, x.shape), cr.placeholder(cr.float64, [])
        np.testing.assert_allclose(sess.run(_loop(xt, wt), {xt: x, wt: w}), _loop_ref(x, w))
    cr.test.check_gradients(_loop, [x, w], order=2, rtol=1e-4)


def test_while_loop_hessian_matches_the_unrolled_function():
    x = cr.placeholder(cr.float64, [3], name="x")
    w = cr.constant(np.array([0.5, -0.3, 0.8]))
    _, y = cr.while_loop(lambda i, y: i < 4, lambda i, y: (i + 1, cr.tanh(y * w + x)), [cr.constant(0), x])
    unrolled = x
    for _ in range(4):
        unrolled = cr.tanh(unrolled * w + x)
    value = np.array([0.1, -0.4, 0.3])
    with cr.Session() as sess:
        h_loop = sess.run(cr.hessians(cr.reduce_sum(y * y), x)[0], {x: value})
        h_unrolled = sess.run(cr.hessians(cr.reduce_sum(unrolled * unrolled), x)[0], {x: value})
    np.testing.assert_allclose(h_loop, h_unrolled, rtol=1e-10, atol=1e-12)


def test_while_loop_maximum_iterations_and_back_prop_false():
    x = cr.placeholder(cr.float64, [])
    bounded = cr.while_loop(lambda y: y < 1e9, lambda y: y * 2, [x], maximum_iterations=3)
    stopped = cr.while_loop(lambda y: y < 10.0, lambda y: y * 2, [x], back_prop=False)
    never = cr.while_loop(lambda y: y < 1e9, lambda y: y * 2, [x], maximum_iterations=0)
    with pytest.raises(ValueError, match="must not be negative"):
        cr.while_loop(lambda y: y < 1e9, lambda y: y * 2, [x], maximum_iterations=-1)
    assert cr.gradients(stopped, [x]) == [None]
    (d_bounded,) = cr.gradients(bounded, [x])
    with cr.Session() as sess:
        assert sess.run([bounded, d_bounded], {x: 1.0}) == [8.0, 8.0]
        assert sess.run(stopped, {x: 1.5}) == 12.0 and sess.run(never, {x: 1.5}) == 1.5


def test_nested_loops_and_loops_inside_conds_differentiate():
    x = cr.placeholder(cr.float64, [], name="x")

    def inner(y):
        return cr.while_loop(lambda j, z: j < 2, lambda j, z: (j + 1, z * x), [cr.constant(0), y])[1]

    _, outer = cr.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, inner(y) + 1.0), [cr.constant(0), x])
    chosen = cr.cond(x > 0, lambda: outer, lambda: cr.while_loop(lambda y: y > -5.0, lambda y: y - x * x, [x]))
    (d_outer,) = cr.gradients(outer, [x])

    def outer_np(v):
        y = v
        for _ in range(3):
            y = y * v * v + 1.0
        return y

    h = 1e-6
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(outer, {x: 0.7}), outer_np(0.7))
        np.testing.assert_allclose(sess.run(d_outer, {x: 0.7}), (outer_np(0.7 + h) - outer_np(0.7 - h)) / (2 * h))
        assert sess.run(chosen, {x: 0.7}) == sess.run(outer, {x: 0.7})
        assert sess.run(chosen, {x: -2.0}) == -6.0


def test_loop_vars_that_change_shape_need_shape_invariants():
    x = cr.placeholder(cr.float64, [1])
    with pytest.raises(cr.errors.InvalidArgumentError, match="(?s)While.*loop variable 0.*shape_invariants"):
        cr.while_loop(lambda y: cr.size(y) < 4, lambda y: cr.concat([y, y], 0), [x])
    grown = cr.while_loop(
        lambda y: cr.size(y) < 4, lambda y: cr.concat([y, y], 0), [x], shape_invariants=[cr.TensorShape([None])]
    )
    assert grown.shape.as_list() == [None]
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(grown, {x: [2.0]}), [2.0, 2.0, 2.0, 2.0])
    (dx,) = cr.gradients(cr.reduce_sum(grown), [x])
    with cr.Session() as sess, pytest.raises(cr.errors.InvalidArgumentError, match="(?s)changed shape.*back_prop"):
        sess.run(dx, {x: [2.0]})


def test_a_body_with_side_effects_runs_them_once_per_iteration():
    v = cr.Variable(0.0, dtype=cr.float64, name="steps")

    def body(i):
        with cr.control_dependencies([v.assign_add(1.0)]):
            return i + 1

    n = cr.while_loop(lambda i: i < 7, body, [cr.constant(0)])
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        assert sess.run(n) == 7 and sess.run(v) == 7.0


def test_forward_mode_vmap_and_compiled_runs_through_a_loop():
    def loop(x):
        return cr.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * y * 0.5 + x), [cr.constant(0), x])[1]

    def loop_np(x):
        y = x
        for _ in range(3):
            y = y * y * 0.5 + x
        return y

    x = cr.placeholder(cr.float64, [2])
    y = loop(x)
    (ty,) = cr.forward_gradients(y, [x], [cr.ones_like(x)])
    (gy,) = cr.gradients(cr.reduce_sum(y), [x])
    value = np.array([0.3, -0.6])
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(ty, {x: value}), sess.run(gy, {x: value}))  # diagonal Jacobian
    fast = cr.Session().run([y, gy], {x: value})
    plain = cr.Session(optimize=False).run([y, gy], {x: value})
    for a, b in zip(fast, plain):
        np.testing.assert_array_equal(a, b)
    batch = np.array([[0.3, -0.6], [1.0, 0.2], [0.0, 0.5]])
    np.testing.assert_allclose(cr.vmap(loop)(batch), loop_np(batch))


# --- scan, map_fn, foldl, foldr --------------------------------------------------------------------
SEQUENCE = np.arange(12.0).reshape(6, 2) / 10 - 0.3


def _scan_np(fn, elems, acc, reverse=False):
    out, order = [], range(len(elems) - 1, -1, -1) if reverse else range(len(elems))
    for i in order:
        acc = fn(acc, elems[i])
        out.append(acc)
    return np.array(out[::-1] if reverse else out)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_matches_a_python_loop_with_gradients_to_second_order(reverse):
    def f(xs, w):
        return cr.scan(lambda a, x: cr.tanh(a * w + x), xs, initializer=cr.zeros([2], cr.float64), reverse=reverse)

    w = np.array(0.8)
    with cr.Session() as sess:
        xs_t, w_t = cr.placeholder(cr.float64, [6, 2]), cr.placeholder(cr.float64, [])
        got = sess.run(f(xs_t, w_t), {xs_t: SEQUENCE, w_t: w})
    np.testing.assert_allclose(got, _scan_np(lambda a, x: np.tanh(a * w + x), SEQUENCE, np.zeros(2), reverse))
    cr.test.check_gradients(f, [SEQUENCE, w], order=2, rtol=1e-4)


def test_scan_without_initializer_starts_from_the_first_element_and_takes_structures():
    xs = cr.placeholder(cr.float64, [6, 2])
    sums = cr.scan(lambda a, x: a + x, xs)
    pair = cr.scan(
        lambda acc, x: (acc[0] + x, acc[1] * 2),
        xs,
        initializer=(cr.zeros([2], cr.float64), cr.constant(1.0, cr.float64)),
    )
    with cr.Session() as sess:
        got_sums, (got_total, got_powers) = sess.run([sums, pair], {xs: SEQUENCE})
    np.testing.assert_allclose(got_sums, np.cumsum(SEQUENCE, 0))
    np.testing.assert_allclose(got_total, np.cumsum(SEQUENCE, 0))
    np.testing.assert_array_equal(got_powers, 2.0 ** np.arange(1, 7))


def test_map_fn_foldl_foldr():
    xs = cr.placeholder(cr.float64, [6, 2])
    mapped = cr.map_fn(lambda x: cr.reduce_sum(x * x), xs)
    left = cr.foldl(lambda a, x: a * 0.5 + x, xs)
    right = cr.foldr(lambda a, x: a * 0.5 + x, xs, initializer=cr.zeros([2], cr.float64))
    (d_left,) = cr.gradients(cr.reduce_sum(left), [xs])
    with cr.Session() as sess:
        got = sess.run([mapped, left, right, d_left], {xs: SEQUENCE})
    np.testing.assert_allclose(got[0], np.sum(SEQUENCE**2, 1))
    acc = SEQUENCE[0]
    for x in SEQUENCE[1:]:
        acc = acc * 0.5 + x
    np.testing.assert_allclose(got[1], acc)
    acc = np.zeros(2)
    for x in SEQUENCE[::-1]:
        acc = acc * 0.5 + x
    np.testing.assert_allclose(got[2], acc)
    np.testing.assert_allclose(got[3], np.repeat(0.5 ** np.array([5, 4, 3, 2, 1, 0]), 2).reshape(6, 2))


def test_a_scan_of_a_thousand_steps_is_one_loop_not_an_unrolled_graph():
    xs = cr.placeholder(cr.float64, [1000, 14])
    ys = cr.scan(lambda a, x: a * 0.9 + cr.sin(x), xs, initializer=cr.zeros([14], cr.float64))
    (dx,) = cr.gradients(cr.reduce_sum(ys), [xs])
    assert len(xs.graph.get_operations()) < 200
    values = np.random.default_rng(0).standard_normal((1000, 14))
    with cr.Session() as sess:
        got, grad = sess.run([ys, dx], {xs: values})
    np.testing.assert_allclose(got[-1], _scan_np(lambda a, x: a * 0.9 + np.sin(x), values, np.zeros(14))[-1])
    weights = (1 - 0.9 ** np.arange(1000, 0, -1)) / 0.1  # how much each step's input adds to the sum
    np.testing.assert_allclose(grad, weights[:, None] * np.cos(values), rtol=1e-9)


def test_a_cond_inside_a_loop_body_differentiates():
    x = cr.placeholder(cr.float64, [], name="x")
    # Collatz-like: halve when above 1, else add x; the branch taken changes between iterations.
    _, y = cr.while_loop(
        lambda i, y: i < 6,
        lambda i, y: (i + 1, cr.cond(y > 1.0, lambda: y * 0.5, lambda: y + x)),
        [cr.constant(0), x],
    )
    (dy,) = cr.gradients(y, [x])

    def f(v):
        y = v
        for _ in range(6):
            y = y * 0.5 if y > 1.0 else y + v
        return y

    h = 1e-6
    with cr.Session() as sess:
        for value in (0.3, 1.7, 3.1):
            np.testing.assert_allclose(sess.run(y, {x: value}), f(value))
            np.testing.assert_allclose(sess.run(dy, {x: value}), (f(value + h) - f(value - h)) / (2 * h), rtol=1e-6)


def test_a_loop_over_rows_that_stops_early_gives_the_unread_rows_no_gradient():
    from chainrule.ops.control_flow_ops import loop_op

    xs = cr.placeholder(cr.float64, [5, 2])
    start = [cr.constant(0), cr.zeros([2], cr.float64)]
    op = loop_op(
        lambda i, acc: i < 3,
        lambda i, acc, row: (i + 1, acc * 0.5 + row * row),
        start,
        start,
        [t.shape for t in start],
        None,
        True,
        "rows",
        sliced=[xs],
    )
    total = cr.reduce_sum(op.outputs[1])
    (dxs,) = cr.gradients(total, [xs])
    (d2,) = cr.gradients(cr.reduce_sum(dxs * dxs), [xs])
    value = np.arange(10.0).reshape(5, 2) / 10
    weights = np.array([0.25, 0.5, 1.0, 0.0, 0.0])[:, None]
    with cr.Session() as sess:
        got, grad, second = sess.run([total, dxs, d2], {xs: value})
    np.testing.assert_allclose(got, np.sum(weights * value * value))
    np.testing.assert_allclose(grad, 2 * weights * value)
    np.testing.assert_allclose(second, 8 * weights**2 * value)


def test_control_flow_inside_function_transforms():
    # Python control flow on Python values still unrolls at trace time; on a traced tensor it is an
    # error that points to cr.cond; cr.cond and cr.while_loop trace into the transform's graph.
    def smooth_abs(x):
        return cr.cond(x > 0, lambda: x * x, lambda: -x)

    grad = cr.grad(smooth_abs)
    assert float(grad(3.0)) == 6.0 and float(grad(-2.0)) == -1.0
    with pytest.raises(TypeError, match=r"cr\.cond"):
        cr.grad(lambda x: x * x if x > 0 else -x)(3.0)
    power = cr.grad(lambda x: cr.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x), [cr.constant(0), x])[1])
    assert float(power(2.0)) == 32.0  # d/dx x**4 = 4 x**3


def test_explain_prints_a_cond_as_where_and_names_a_loop():
    from chainrule.viz.explain import explain

    x = cr.placeholder(cr.float64, [], name="x")
    w = cr.placeholder(cr.float64, [], name="w")
    y = cr.cond(x > 0, lambda: cr.sin(x) * w, lambda: -x)
    assert explain(y) == "where(x > 0, sin(x)*w, -x)"
    assert explain(cr.gradients(y, [x])[0]) == "where(x > 0, w*cos(x), -1)"
    _, z = cr.while_loop(lambda i, z: i < 3, lambda i, z: (i + 1, z * x), [cr.constant(0), x])
    assert explain(z) == "while_loop(0, x, x)[1]"


def test_scan_and_fold_of_integers():
    x = cr.constant(np.arange(5, dtype=np.int32))
    with cr.Session() as sess:
        sums, folded = sess.run([cr.scan(lambda a, e: a + e, x), cr.foldl(lambda a, e: a * 2 + e, x)])
    np.testing.assert_array_equal(sums, np.cumsum(np.arange(5)))
    assert folded == 26 and sums.dtype == np.int32


def test_an_error_inside_a_loop_body_names_the_op_and_its_line():
    @cr.custom_op("FailsInLoopForCondTest")
    def fails(v):
        raise ValueError("no good inside the body")

    x = cr.placeholder(cr.float64, [])
    y = cr.while_loop(lambda v: v < 10.0, lambda v: fails(v) + 1.0, [x])
    with (
        cr.Session() as sess,
        pytest.raises(
            cr.errors.InvalidArgumentError,
            match=r"(?s)no good inside the body.*FailsInLoopForCondTest.*test_control_flow",
        ),
    ):
        sess.run(y, {x: 1.0})


def test_a_loop_runs_as_one_generated_function():
    x = cr.placeholder(cr.float64, [2])
    y = cr.while_loop(lambda v: cr.reduce_sum(v) < 10.0, lambda v: v * 2.0, [x])
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [4.0, 8.0])
        (loop,) = sess.run_state.loop_functions()
    assert "while count != limit:" in loop.source and "np_multiply" in loop.source  # the body, inlined


def test_loop_invariant_code_runs_once_before_the_loop():
    calls = []

    @cr.custom_op("ExpensiveForHoistTest")
    def expensive(w):
        calls.append(1)
        return np.exp(w)

    w = cr.placeholder(cr.float64, [2], name="w")
    x = cr.placeholder(cr.float64, [2], name="x")
    # expensive(w) and its square do not change between iterations; y * scale does.
    y = cr.while_loop(lambda v: cr.reduce_sum(v) < 100.0, lambda v: v * (expensive(w) * expensive(w)), [x])
    with cr.Session() as sess:
        got = sess.run(y, {w: [0.5, 0.5], x: [1.0, 1.0]})
        assert calls == [1]  # merged (CSE) and run once before the loop, not once per iteration
        (loop,) = sess.run_state.loop_functions()
        hoisted, inside = loop.source.split("while count != limit:")
        (kernel,) = [line.split(" = ")[1].split("(")[0] for line in hoisted.splitlines() if " = k_" in line]
        assert kernel not in inside  # the op's kernel is called before the loop only
    np.testing.assert_allclose(got, [np.e**4] * 2)  # four iterations of * e take the sum past 100


def test_a_run_that_reads_no_recorded_iteration_does_not_record_them():
    x = cr.placeholder(cr.float64, [3])
    _, y = cr.while_loop(lambda i, v: i < 4, lambda i, v: (i + 1, cr.sin(v) * 1.5), [cr.constant(0), x])
    (dx,) = cr.gradients(cr.reduce_sum(y), [x])
    value = np.array([0.3, -1.2, 2.0])
    with cr.Session() as sess:
        alone = sess.run(y, {x: value})
        both = sess.run([y, dx], {x: value})
        (value_plan, both_plan) = sess.plans
    assert value_plan.program.stats.get("loop_history") == 1
    # The forward loop's record is read by the gradient; the backward loop's own record is not.
    assert both_plan.program.stats.get("loop_history") == 1
    np.testing.assert_array_equal(alone, both[0])
    expected = value
    grad = np.ones(3)
    for _ in range(4):
        grad = grad * np.cos(expected) * 1.5
        expected = np.sin(expected) * 1.5
    np.testing.assert_allclose(both[0], expected)
    np.testing.assert_allclose(both[1], grad)


def test_a_conds_gradient_reuses_the_random_numbers_its_branch_drew():
    x = cr.placeholder(cr.float64, [3])
    flag = cr.placeholder(cr.bool, [])
    # As dropout in a training branch: the branch taken draws, the other does not.
    noisy = cr.cond(flag, lambda: x * cr.random_uniform([3], dtype=cr.float64), lambda: x * 2.0, name="noisy")
    (dx,) = cr.gradients(cr.reduce_sum(noisy), [x])
    (hessian,) = cr.hessians(cr.reduce_sum(noisy * noisy), [x])
    ones = np.ones(3)
    with cr.Session() as sess:
        for _ in range(2):  # each run draws anew; value, gradient and Hessian agree within a run
            value, grad, second = sess.run([noisy, dx, hessian], {x: ones, flag: True})
            np.testing.assert_array_equal(grad, value)  # d(x * u)/dx = u, the u drawn forward
            np.testing.assert_allclose(second, np.diag(2.0 * value**2), rtol=1e-15)
        value, grad = sess.run([noisy, dx], {x: ones, flag: False})
        np.testing.assert_array_equal(value, 2.0 * ones)
        np.testing.assert_array_equal(grad, 2.0 * ones)
    assert len(noisy.op.outputs) == 2  # the value, and the true branch's draw (the false branch fills it empty)


def test_a_loop_gradient_that_would_draw_random_numbers_again_is_refused():
    x = cr.placeholder(cr.float64, [3])
    _, looped = cr.while_loop(
        lambda i, a: i < 3,
        lambda i, a: (i + 1, a * cr.random_normal([3], dtype=cr.float64)),
        [cr.constant(0), x],
        name="noisy_loop",
    )
    with pytest.raises(cr.errors.UnimplementedError, match=r"(?s)'noisy_loop' \(While\).*body runs"):
        cr.gradients(cr.reduce_sum(looped), [x])
    # Noise that the gradient does not need is fine: d(2x + u)/dx = 2 whatever u was.
    shifted = cr.cond(cr.constant(True), lambda: x * 2 + cr.random_uniform([3], dtype=cr.float64), lambda: x)
    (dx,) = cr.gradients(cr.reduce_sum(shifted), [x])
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(dx, {x: np.zeros(3)}), [2.0, 2.0, 2.0])
