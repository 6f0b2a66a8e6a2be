"""NaN/Inf debugging: check_numerics, add_check_numerics_ops, the check-numerics mode, NumPy warnings on the op's line.

The messages of ``check_numerics`` and its gradient were recorded once from TensorFlow 2.21's
``tf.compat.v1`` in graph mode (``tf.compat.v1.check_numerics(x, "my msg")`` fed [1, nan, 2],
[1, inf, 2], [nan, -inf, 1], and the gradient of ``reduce_sum(check_numerics(x, "m2") * w)`` with
w = [1, inf, nan]); TF 2.21 prints the gradient's message attribute as ``b'm2'``, TF 1.x as ``m2``.
"""

from __future__ import annotations

import inspect
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler
from chainrule.runtime import numerics

# The NaNs and infinities these tests make on purpose raise NumPy warnings; the tests of those
# warnings record them (``warnings.catch_warnings(record=True)``), which this does not affect.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

_MODES = {
    "optimized": compiler.Options(),
    "as-written": compiler.Options(passes=()),
    "interpreted": compiler.Options(passes=(), codegen=False),
}


@pytest.fixture(params=list(_MODES))
def options(request):
    return _MODES[request.param]


@pytest.fixture(autouse=True)
def fresh_graph():
    with cr.Graph().as_default() as graph:
        yield graph
    cr.debugging.disable_check_numerics()


def _line(offset: int = 0) -> int:
    """The line of the caller (plus ``offset``)."""
    return inspect.currentframe().f_back.f_lineno + offset


# --- check_numerics ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "words"),
    [([1.0, np.nan, 2.0], "NaN"), ([1.0, np.inf, 2.0], "Inf"), ([np.nan, -np.inf, 1.0], "Inf and NaN")],
)
def test_check_numerics_raises_tensorflows_message(options, value, words):
    x = cr.placeholder(cr.float64, [3])
    y = cr.debugging.check_numerics(x, "my msg")
    line = _line(-1)
    with cr.Session(optimize=options) as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0, 3.0]}), [1.0, 2.0, 3.0])
        with pytest.raises(cr.errors.InvalidArgumentError) as info:
            sess.run(y, {x: value})
    text = str(info.value)
    assert text.startswith(f"my msg : Tensor had {words} values\n"), text
    assert "'CheckNumerics' (CheckNumerics)" in text and f"{__file__}:{line}" in text
    assert info.value.op is y.op


def test_check_numerics_is_the_top_level_name_too():
    assert cr.check_numerics is cr.debugging.check_numerics
    y = cr.check_numerics(cr.constant([1.0, 2.0]), "m", name="checked")
    assert y.op.type == "CheckNumerics" and y.op.name == "checked" and y.op.get_attr("message") == "m"
    assert y.dtype == cr.float32 and y.shape.as_list() == [2]


@pytest.mark.parametrize("dtype", [cr.int32, cr.int64, cr.bool])
def test_check_numerics_refuses_non_float_tensors_as_tensorflow(dtype):
    with pytest.raises(TypeError, match=f"DataType {dtype.name} not in list of allowed values"):
        cr.check_numerics(cr.zeros([2], dtype=dtype), "m")


def test_check_numerics_gradient_checks_the_incoming_gradient(options):
    x = cr.placeholder(cr.float64, [3])
    w = cr.placeholder(cr.float64, [3])
    (g,) = cr.gradients(cr.reduce_sum(cr.check_numerics(x, "m2") * w), x)
    assert g.op.type == "CheckNumerics" and g.op.name.startswith("gradients/")
    with cr.Session(optimize=options) as sess:
        np.testing.assert_array_equal(sess.run(g, {x: [1.0, 2.0, 3.0], w: [4.0, 5.0, 6.0]}), [4.0, 5.0, 6.0])
        with pytest.raises(cr.errors.InvalidArgumentError) as info:
            sess.run(g, {x: [1.0, 2.0, 3.0], w: [1.0, np.inf, np.nan]})
    assert str(info.value).startswith(
        "Not a number (NaN) or infinity (Inf) values detected in gradient. m2 : Tensor had Inf and NaN values"
    )


def test_check_numerics_is_transparent_to_second_derivatives():
    x = cr.placeholder(cr.float64, [2])
    y = cr.reduce_sum(cr.check_numerics(x**3, "cube"))
    (h,) = cr.hessians(y, x)
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(h, {x: [1.0, 2.0]}), np.diag([6.0, 12.0]))


# --- add_check_numerics_ops ---------------------------------------------------------------------------
def test_add_check_numerics_ops_checks_every_float_tensor_in_creation_order(options):
    a = cr.placeholder(cr.float32, [2], name="a")
    b = cr.log(a, name="lg")
    c = cr.identity(b * 2.0, name="c")
    n = cr.range(3, name="ints")  # not a float: not checked
    check = cr.add_check_numerics_ops()
    assert check.type == "NoOp"
    checks = [op for op in cr.get_default_graph().get_operations() if op.type == "CheckNumerics"]
    float_tensors = [
        t for op in cr.get_default_graph().get_operations() if op.type != "CheckNumerics" for t in op.outputs
    ]
    float_tensors = [t for t in float_tensors if t.dtype in (cr.float16, cr.float32, cr.float64)]
    assert [op.inputs[0] for op in checks] == float_tensors
    assert n not in [op.inputs[0] for op in checks] and c in [op.inputs[0] for op in checks]
    # TF's chain: each check runs after the previous one; the group waits for the last.
    assert all(later.control_inputs == (earlier,) for earlier, later in zip(checks, checks[1:]))
    assert check.control_inputs == tuple(checks)
    assert [op.get_attr("message") for op in checks][:2] == ["a:0", "lg:0"]
    with cr.Session(optimize=options) as sess:
        sess.run(check, {a: [1.0, 2.0]})
        with pytest.raises(cr.errors.InvalidArgumentError, match=r"^lg:0 : Tensor had Inf values"):
            sess.run(check, {a: [1.0, 0.0]})
        with pytest.raises(cr.errors.InvalidArgumentError, match=r"^a:0 : Tensor had NaN values"):
            sess.run([c, check], {a: [np.nan, 1.0]})


def test_add_check_numerics_ops_leaves_assignments_alone(options):
    v = cr.Variable([1.0, 2.0], name="v")
    update = v.assign_add([1.0, 1.0])
    check = cr.add_check_numerics_ops()
    checked = {op.inputs[0].op for op in cr.get_default_graph().get_operations() if op.type == "CheckNumerics"}
    assert update.op not in checked and v.op in checked
    with cr.Session(optimize=options) as sess:
        sess.run(v.initializer)
        sess.run(check)
        sess.run(check)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])  # running the checks ran no update


def test_add_check_numerics_ops_refuses_control_flow_with_floats_inside():
    a = cr.placeholder(cr.float32, [], name="a")
    cr.cond(a > 0, lambda: a * 2.0, lambda: a * 3.0)
    with pytest.raises(ValueError, match=r"not compatible with TensorFlow control flow.*enable_check_numerics"):
        cr.add_check_numerics_ops()


def test_add_check_numerics_ops_allows_control_flow_over_integers_only():
    i = cr.while_loop(lambda i: i < 10, lambda i: i + 1, [cr.constant(0)])
    x = cr.constant([1.0, 2.0]) * 2.0
    check = cr.add_check_numerics_ops()
    with cr.Session() as sess:
        sess.run([i, check])
        np.testing.assert_array_equal(sess.run(x), [2.0, 4.0])


def test_add_check_numerics_ops_on_an_empty_graph_is_a_no_op():
    check = cr.add_check_numerics_ops()
    assert check.type == "NoOp" and check.control_inputs == ()
    with cr.Session() as sess:
        assert sess.run(check) is None


# --- the check-numerics mode ----------------------------------------------------------------------
def _error_of(sess, fetch, feeds):
    with pytest.raises(cr.errors.InvalidArgumentError) as info:
        sess.run(fetch, feeds)
    return info.value


def test_mode_names_the_first_op_giving_nan_its_type_and_line(options):
    x = cr.placeholder(cr.float64, [3], name="x")
    with cr.name_scope("model"):
        y = cr.sqrt(x)
        line = _line()
        z = cr.log(y) * 2.0 + 1.0  # NaN flows on, but the first op that gave it is Sqrt
    cr.debugging.enable_check_numerics()
    with cr.Session(optimize=options) as sess:
        np.testing.assert_allclose(sess.run(z, {x: [1.0, 4.0, 9.0]}), np.log(np.sqrt([1.0, 4.0, 9.0])) * 2 + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            e = _error_of(sess, z, {x: [1.0, -4.0, 9.0]})
    text = str(e)
    assert text.startswith("!!! Detected Infinity or NaN in output 0 of op 'model/Sqrt' (Sqrt)"), text
    assert f"created at {__file__}:{line - 1}" in text and "1 NaN of 3" in text
    assert e.op is y.op


def test_mode_names_the_forward_op_of_a_gradient_op(options):
    x = cr.placeholder(cr.float64, [3], name="x")
    with cr.name_scope("model"):
        y = cr.sqrt(x)
        loss = cr.reduce_sum(y)
    forward_line = _line(-2)
    (g,) = cr.gradients(loss, x)
    gradient_line = _line(-1)
    cr.debugging.enable_check_numerics()
    with cr.Session(optimize=options) as sess:
        e = _error_of(sess, g, {x: [0.0, 1.0, 4.0]})
    text = str(e)
    assert e.op.name.startswith("gradients/model/Sqrt_grad/"), text
    assert "1 +Inf of 3" in text
    assert f"created at {__file__}:{gradient_line}" in text
    assert f"part of the gradient of 'model/Sqrt' (Sqrt)\n  created at {__file__}:{forward_line}" in text


def test_an_op_of_a_second_derivative_names_both_forward_ops():
    x = cr.placeholder(cr.float64, [2], name="x")
    y = cr.reduce_sum(cr.sqrt(x))
    (g,) = cr.gradients(y, x)
    (h,) = cr.gradients(cr.reduce_sum(g), x)
    graph = cr.get_default_graph()
    second = [op for op in graph.get_operations() if op.name.startswith("gradients_1/gradients/Sqrt_grad/")]
    assert second
    forward = numerics.gradient_of(second[0])
    assert forward is not None and forward.name.startswith("gradients/Sqrt_grad/")
    assert numerics.gradient_of(forward) is graph.get_operation_by_name("Sqrt")
    text = numerics.describe_op(second[0])
    assert f"part of the gradient of '{forward.name}'" in text and "part of the gradient of 'Sqrt' (Sqrt)" in text
    aggregation = graph.get_operation_by_name("gradients/grad_ys")
    assert numerics.gradient_of(aggregation) is None
    assert "part of a gradient computation" in numerics.describe_op(aggregation)
    cr.hessians(y, x)
    in_hessian = graph.get_operation_by_name("hessians/Sqrt_grad/RealDiv")
    assert numerics.gradient_of(in_hessian) is graph.get_operation_by_name("Sqrt")


def test_mode_checks_fed_values(options):
    x = cr.placeholder(cr.float64, [2], name="x")
    y = x * 2.0
    cr.debugging.enable_check_numerics()
    with cr.Session(optimize=options) as sess:
        text = str(_error_of(sess, y, {x: [np.inf, 1.0]}))
    assert text.startswith("!!! Detected Infinity or NaN in the value fed for 'x:0'") and "1 +Inf of 2" in text


def test_mode_checks_ops_inside_cond_branches_and_loop_bodies(options):
    x = cr.placeholder(cr.float64, [2], name="x")
    c = cr.cond(cr.reduce_sum(x) > 0, lambda: cr.log(x), lambda: x * 2.0)
    body_line = _line(1)
    _, w = cr.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 1e200), [cr.constant(0), x])
    cr.debugging.enable_check_numerics()
    with cr.Session(optimize=options) as sess:
        text = str(_error_of(sess, c, {x: [0.0, 1.0]}))
        assert "op 'Log' (Log)" in text and "1 -Inf of 2" in text
        np.testing.assert_allclose(sess.run(w, {x: [1e-300, 1e-300]}), [1e300, 1e300])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            text = str(_error_of(sess, w, {x: [1.0, 1.0]}))
    assert "(Mul)" in text and f"{__file__}:{body_line}" in text and "2 +Inf of 2" in text


def test_mode_stops_at_the_first_op_so_later_updates_do_not_run(options):
    x = cr.placeholder(cr.float64, [2])
    v = cr.Variable(np.array([5.0, 6.0]))
    update = v.assign(cr.log(x))
    cr.debugging.enable_check_numerics()
    with cr.Session(optimize=options) as sess:
        sess.run(v.initializer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _error_of(sess, update, {x: [1.0, -1.0]})
        np.testing.assert_array_equal(sess.run(v), [5.0, 6.0])


def test_mode_gives_the_same_bits_and_is_off_by_default(options):
    x = cr.placeholder(cr.float64, [4])
    y = cr.reduce_sum(cr.tanh(x) * cr.exp(x) / (1.0 + x * x))
    (g,) = cr.gradients(y, x)
    value = np.array([0.5, -1.25, 2.0, 0.1])
    with cr.Session(optimize=options) as sess:
        plain = sess.run([y, g], {x: value})
        assert all("check_" not in (plan.source or "") for plan in sess.plans)  # no checks in ordinary plans
        cr.debugging.enable_check_numerics()
        checked = sess.run([y, g], {x: value})
        cr.debugging.disable_check_numerics()
        again = sess.run([y, g], {x: value})
    for a, b, c in zip(plain, checked, again):
        assert a.tobytes() == b.tobytes() == c.tobytes()


def test_mode_is_per_thread_as_in_tensorflow_2():
    x = cr.placeholder(cr.float64, [1])
    y = cr.log(x)
    cr.debugging.enable_check_numerics()
    cr.debugging.enable_check_numerics()  # idempotent
    results = {}
    with cr.Session() as sess:

        def other_thread():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                results["other"] = sess.run(y, {x: [0.0]})

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        _error_of(sess, y, {x: [0.0]})
    assert results["other"][0] == -np.inf


# --- NumPy's warnings, on the user's line ----------------------------------------------------------------
def _warnings_of(sess, fetch, feeds):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = sess.run(fetch, feeds)
    return value, [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_numpy_warnings_name_the_op_and_the_users_line(options):
    x = cr.placeholder(cr.float64, [3])
    with cr.name_scope("model"):
        y = cr.log(x) * 2.0 + 1.0  # fused with its neighbours when compiled
    line = _line(-1)
    with cr.Session(optimize=options) as sess:
        value, caught = _warnings_of(sess, y, {x: [0.0, 1.0, -1.0]})
    assert np.isneginf(value[0]) and np.isnan(value[2])
    messages = sorted(str(w.message) for w in caught)
    assert messages == [
        "divide by zero encountered in op 'model/Log' (Log)",
        "invalid value encountered in op 'model/Log' (Log)",
    ]
    assert {(w.filename, w.lineno) for w in caught} == {(__file__, line)}


def test_numpy_warnings_of_a_gradient_op_name_its_forward_op(options):
    x = cr.placeholder(cr.float64, [2])
    y = cr.reduce_sum(cr.sqrt(x))
    forward_line = _line(-1)
    (g,) = cr.gradients(y, x)
    line = _line(-1)
    with cr.Session(optimize=options) as sess:
        _, caught = _warnings_of(sess, g, {x: [0.0, 4.0]})
    (w,) = caught
    assert (w.filename, w.lineno) == (__file__, line)
    assert str(w.message).startswith("divide by zero encountered in op 'gradients/Sqrt_grad/")
    assert str(w.message).endswith(f"part of the gradient of 'Sqrt' (Sqrt) created at {__file__}:{forward_line}")


def test_numpy_warnings_inside_a_cond_branch(options):
    x = cr.placeholder(cr.float64, [2])
    c = cr.cond(cr.reduce_sum(x) > -10, lambda: 1.0 / x, lambda: x)
    line = _line(-1)
    with cr.Session(optimize=options) as sess:
        _, caught = _warnings_of(sess, c, {x: [0.0, 1.0]})
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]
    assert "divide by zero encountered in op" in str(caught[0].message)


def test_numpy_warnings_are_shown_once_per_line_by_default():
    x = cr.placeholder(cr.float64, [1])
    y = cr.log(x)
    with cr.Session() as sess, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(5):
            sess.run(y, {x: [0.0]})
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1


def test_numpy_error_settings_of_the_user_are_kept(options):
    x = cr.placeholder(cr.float64, [1])
    y = cr.log(x)
    with cr.Session(optimize=options) as sess:
        with np.errstate(divide="ignore"):
            _, caught = _warnings_of(sess, y, {x: [0.0]})
        assert caught == []
        with np.errstate(divide="raise"), pytest.raises(cr.errors.InvalidArgumentError, match="divide by zero"):
            sess.run(y, {x: [0.0]})
        seen = []
        with np.errstate(divide="call", call=lambda kind, flag: seen.append(kind)):
            _, caught = _warnings_of(sess, y, {x: [0.0]})
        assert seen == ["divide by zero"] and caught == []
        _, caught = _warnings_of(sess, y, {x: [0.0]})  # and back to NumPy's default afterwards
        assert len(caught) == 1
    assert np.geterr()["divide"] == "warn" and np.geterrcall() is None
