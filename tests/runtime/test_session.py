"""Session.run: fetch structures, feeds, variables, errors at run time."""

import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

_MODES = {
    "optimized": compiler.Options(),
    "as-written": compiler.Options(passes=()),
    "interpreted": compiler.Options(passes=(), codegen=False),
}


@pytest.fixture(autouse=True, params=list(_MODES))
def compiler_mode(request):
    """Every Session behaviour holds with the compiler on, off, and with the interpreter."""
    previous = compiler.set_default_options(_MODES[request.param])
    yield request.param
    compiler.set_default_options(previous)


def test_nested_fetches_keep_their_structure():
    a = cr.constant(1.0)
    b = cr.constant([2.0, 3.0])
    Pair = collections.namedtuple("Pair", "first second")
    with cr.Session() as sess:
        out = sess.run({"a": a, "rest": [b, (a, b)], "pair": Pair(a, b), "op": cr.no_op()})
    assert out["a"] == 1.0 and isinstance(out["rest"], list) and isinstance(out["rest"][1], tuple)
    np.testing.assert_array_equal(out["rest"][0], [2.0, 3.0])
    assert isinstance(out["pair"], Pair) and out["pair"].first == 1.0
    assert out["op"] is None


def test_fetch_by_name_and_scalar_results_are_numpy_scalars():
    c = cr.constant(2.5, name="c")
    with cr.Session() as sess:
        value = sess.run("c:0")
    assert isinstance(value, np.float32) and value == 2.5
    assert c.name == "c:0"


def test_feeds_are_shape_and_dtype_checked():
    x = cr.placeholder(cr.float64, [None, 2], name="x")
    y = x * 2.0
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [[1, 2]]}), [[2.0, 4.0]])
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\) for Tensor 'x:0'"):
            sess.run(y, {x: [1.0, 2.0, 3.0]})
        i = cr.placeholder(cr.int32, [2])
        with pytest.raises(TypeError, match="int32"):
            sess.run(i, {i: [1.5, 2.0]})


def test_any_tensor_can_be_fed():
    x = cr.placeholder(cr.float64, [])
    y = x * 3.0
    z = y + 1.0
    with cr.Session() as sess:
        assert sess.run(z, {y: 10.0}) == 11.0  # x is not needed at all


def test_missing_placeholder_feed_names_the_placeholder_and_line():
    x = cr.placeholder(cr.float64, [2], name="inputs")
    y = cr.sin(x)
    with cr.Session() as sess, pytest.raises(cr.errors.InvalidArgumentError) as info:
        sess.run(y)
    message = str(info.value)
    assert "'inputs' (Placeholder)" in message and "feed" in message
    assert f"{__file__}:" in message
    assert info.value.op is x.op


def test_kernel_failure_is_reraised_with_op_and_creation_site():
    x = cr.placeholder(cr.float64, [None])
    y = cr.placeholder(cr.float64, [None])
    z = x + y  # shapes only clash at run time
    with cr.Session() as sess, pytest.raises(cr.errors.InvalidArgumentError) as info:
        sess.run(z, {x: [1.0, 2.0], y: [1.0, 2.0, 3.0]})
    message = str(info.value)
    assert "'add' (Add)" in message or "(Add)" in message
    assert "z = x + y" in message and "(2,)" in message and "(3,)" in message


def test_variables_initialize_assign_and_persist_between_runs():
    v = cr.Variable([1.0, 2.0], name="v")
    w = cr.Variable(v * 2.0, name="w")
    add = v.assign_add([1.0, 1.0])
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(w), [2.0, 4.0])
        sess.run(add)
        sess.run(add)
        np.testing.assert_array_equal(sess.run(v), [3.0, 4.0])
        np.testing.assert_array_equal(sess.run(v.assign([0.0, 0.0])), [0.0, 0.0])
        np.testing.assert_array_equal(sess.run(v.assign_sub([1.0, 2.0])), [-1.0, -2.0])
    assert v.dtype == cr.float32 and v.shape.as_list() == [2]
    assert [x.name for x in cr.global_variables()] == ["v:0", "w:0"]


def test_fetched_values_do_not_alias_variable_state():
    v = cr.Variable(np.zeros(3))
    with cr.Session() as sess:
        sess.run(v.initializer)
        fetched = sess.run(v)
        fetched += 5
        np.testing.assert_array_equal(sess.run(v), np.zeros(3))


def test_uninitialized_variable_is_a_failed_precondition_naming_it():
    v = cr.Variable(1.0, name="weights")
    with cr.Session() as sess, pytest.raises(cr.errors.FailedPreconditionError, match="uninitialized value weights"):
        sess.run(v * 2.0)


def test_each_session_has_its_own_variable_values():
    v = cr.Variable(1.0)
    inc = v.assign_add(1.0)
    s1, s2 = cr.Session(), cr.Session()
    s1.run(v.initializer)
    s2.run(v.initializer)
    s1.run(inc)
    assert s1.run(v) == 2.0 and s2.run(v) == 1.0


def test_trainable_and_initializer_subsets():
    a = cr.Variable(1.0, name="a")
    b = cr.Variable(2.0, name="b", trainable=False)
    assert cr.trainable_variables() == [a]
    assert cr.global_variables() == [a, b]
    with cr.Session() as sess:
        sess.run(cr.variables_initializer([b]))
        assert sess.run(b) == 2.0
        with pytest.raises(cr.errors.FailedPreconditionError):
            sess.run(a)


def test_control_dependencies_run_first():
    v = cr.Variable(0.0)
    inc = v.assign_add(1.0)
    with cr.control_dependencies([inc]):
        out = cr.identity(cr.constant(5.0))
    with cr.Session() as sess:
        sess.run(v.initializer)
        sess.run(out)
        sess.run(out)
        assert sess.run(v) == 2.0


def test_closed_session_refuses_to_run():
    sess = cr.Session()
    sess.close()
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(cr.constant(1.0))


def test_tensor_eval_uses_the_default_session():
    x = cr.constant(3.0)
    with cr.Session():
        assert x.eval() == 3.0
