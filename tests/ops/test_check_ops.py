"""tf.Assert and the tf.assert_* checks.

The expected messages were recorded once from TensorFlow 2.21 (``tf.compat.v1`` with eager execution
disabled), running the same graphs: TF wraps them in "Graph execution error: ... [[{{node Assert}}]]",
the text between is what is compared here.
"""

import numpy as np
import pytest

import chainrule as cr


def _run_error(fetch, feed=None):
    with cr.Session() as sess, pytest.raises(cr.errors.InvalidArgumentError) as info:
        sess.run(fetch, feed)
    return info.value.message.split("\n")[0]


def test_a_failing_assert_equal_names_the_condition_and_both_values():
    x = cr.placeholder(cr.float32, [None])
    y = cr.constant([1.0, 3.0])
    check = cr.assert_equal(x, y, message="custom")
    assert check.type == "Assert"
    assert _run_error(check, {x: [1.0, -3.5]}) == (
        "assertion failed: [custom] [Condition x == y did not hold element-wise:] "
        "[x (Placeholder:0) = ] [1 -3.5] [y (Const:0) = ] [1 3]"
    )
    with cr.Session() as sess:
        assert sess.run(check, {x: [1.0, 3.0]}) is None


def test_assert_shows_strings_as_given_and_tensors_summarized():
    x = cr.placeholder(cr.float32, [None])
    y = cr.constant([1.0, 3.0])
    check = cr.Assert(cr.reduce_all(x > 0), [x, "hello", y], summarize=1)
    assert _run_error(check, {x: [1.0, -3.5]}) == "assertion failed: [1...] [hello] [1...]"


def test_a_constant_failing_check_raises_while_the_graph_is_built():
    with pytest.raises(cr.errors.InvalidArgumentError) as info:
        cr.assert_equal(cr.constant([1, 2]), cr.constant([1, 3]), message="msg")
    assert (
        str(info.value)
        == "msg\nCondition x == y did not hold element-wise:\nx (Const:0) = \n[1 2]\ny (Const_1:0) = \n[1 3]"
    )


def test_sign_checks_show_an_empty_message_slot_and_only_x():
    q = cr.placeholder(cr.float32)
    message = _run_error(cr.assert_positive(q), {q: [1.0, -2.0]})
    assert message == "assertion failed: [] [Condition x > 0 did not hold element-wise:] [x (Placeholder:0) = ] [1 -2]"
    for check, passing, failing in [
        (cr.assert_negative, [-1.0], [0.0]),
        (cr.assert_non_negative, [0.0, 2.0], [-1.0]),
        (cr.assert_non_positive, [0.0, -2.0], [1.0]),
    ]:
        op = check(q)
        with cr.Session() as sess:
            sess.run(op, {q: passing})
        assert "did not hold element-wise" in _run_error(op, {q: failing})


@pytest.mark.parametrize(
    ("check", "x", "y", "holds"),
    [
        (cr.assert_less, [1, 2], [2, 3], True),
        (cr.assert_less, [1, 3], [2, 3], False),
        (cr.assert_less_equal, [1, 3], [2, 3], True),
        (cr.assert_greater, [3, 4], 2, True),
        (cr.assert_greater, [3, 2], 2, False),
        (cr.assert_greater_equal, [3, 2], 2, True),
        (cr.assert_none_equal, [1, 2], [2, 1], True),
        (cr.assert_none_equal, [1, 2], [1, 1], False),
        (cr.assert_equal, np.zeros((0,)), np.zeros((0,)), True),
    ],
)
def test_comparison_checks_at_run_time(check, x, y, holds):
    px = cr.placeholder(cr.float64)
    op = check(px, cr.constant(y, dtype=cr.float64))
    if holds:
        with cr.Session() as sess:
            sess.run(op, {px: x})
    else:
        assert _run_error(op, {px: x}).startswith("assertion failed: [Condition x ")


def test_assert_near_uses_ten_eps_of_the_dtype_by_default():
    q = cr.placeholder(cr.float32, [2])
    op = cr.assert_near(q, [1.0, 2.0])
    with cr.Session() as sess:
        sess.run(op, {q: [1.0, 2.0 + 1e-6]})
    assert "not equal to tolerance" in _run_error(op, {q: [1.0, 2.001]})


def test_assert_rank_is_static_when_the_rank_is_known():
    with pytest.raises(ValueError, match=r"Tensor Placeholder:0 must have rank 3\.  Received rank 1, shape \(2,\)"):
        cr.assert_rank(cr.placeholder(cr.float32, [2]), 3)
    assert cr.assert_rank(cr.placeholder(cr.float32, [2]), 1).type == "NoOp"
    q = cr.placeholder(cr.float32)
    message = _run_error(cr.assert_rank(q, 2), {q: [1.0]})
    assert message == "assertion failed: [] [Tensor Placeholder_2:0 must have rank] [2] [Received shape: ] [1]"
    with cr.Session() as sess:
        sess.run([cr.assert_rank_at_least(q, 1), cr.assert_rank_in(q, [1, 3])], {q: [1.0]})
    assert "rank at least" in _run_error(cr.assert_rank_at_least(q, 2), {q: [1.0]})
    assert "rank in" in _run_error(cr.assert_rank_in(q, [0, 2]), {q: [1.0]})


def test_an_assert_in_control_dependencies_stops_the_ops_that_depend_on_it():
    x = cr.placeholder(cr.float32, [None])
    with cr.control_dependencies([cr.assert_non_negative(x)]):
        root = cr.sqrt(x)
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(root, {x: [4.0]}), [2.0])
        with pytest.raises(cr.errors.InvalidArgumentError, match="Condition x >= 0"):
            sess.run(root, {x: [-4.0]})


def test_static_type_checks():
    f = cr.constant([1.0])
    i = cr.constant([1])
    assert cr.assert_type(f, cr.float32).type == "NoOp"
    with pytest.raises(TypeError, match="must be of type int32"):
        cr.assert_type(f, cr.int32)
    with pytest.raises(TypeError, match="Expected integer type"):
        cr.assert_integer(f)
    assert cr.assert_integer(i).type == "NoOp"
    assert cr.assert_scalar(cr.constant(1.0)).shape.rank == 0
    with pytest.raises(ValueError, match="Expected scalar shape"):
        cr.assert_scalar(f)
    assert cr.assert_same_float_dtype([f, cr.constant(2.0)]) == cr.float32
    with pytest.raises(ValueError):
        cr.assert_same_float_dtype([f, cr.constant(2.0, dtype=cr.float64)])
    with pytest.raises(TypeError, match="proper"):
        cr.assert_proper_iterable(np.zeros(3))
    cr.assert_proper_iterable([1, 2])
    assert cr.is_numeric_tensor(f) and not cr.is_numeric_tensor(f > 0)


@pytest.mark.parametrize(
    ("values", "non_decreasing", "increasing"),
    [
        ([1, 2, 2], True, False),
        ([1, 2, 3], True, True),
        ([[1, 3], [2, 4]], False, False),
        ([], True, True),
        ([5], True, True),
    ],
)
def test_monotonicity(values, non_decreasing, increasing):
    x = cr.constant(np.asarray(values, np.float64))
    with cr.Session() as sess:
        got = sess.run([cr.math.is_non_decreasing(x), cr.math.is_strictly_increasing(x)])
    assert [bool(g) for g in got] == [non_decreasing, increasing]
