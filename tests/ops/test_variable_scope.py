"""get_variable / variable_scope with TensorFlow 1.x's naming, reuse rules, defaults and collections.

The scope names, op names and reuse results asserted here (default names, re-entering a scope
object, ``v_1/c``, ``outer_1/...``, inherited reuse, ``foo/v/Initializer/...``) were checked once by
running the same code with TensorFlow 2.21's ``tf.compat.v1`` (graph mode).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def fresh_graph():
    g = cr.Graph()
    with g.as_default():
        yield g


def test_names_come_from_variable_scopes_not_name_scopes():
    with cr.variable_scope("foo"):
        with cr.variable_scope("bar"):
            w = cr.get_variable("w", [2, 3])
        with cr.name_scope("ns"):
            v = cr.get_variable("v", [1])
            op = v + 1.0
    assert w.name == "foo/bar/w:0" and w.shape == (2, 3) and w.dtype == cr.float32
    assert v.name == "foo/v:0"
    assert op.name == "foo/ns/add:0" or op.name.startswith("foo/ns/")
    # The initializer's ops live under the variable's name (TensorFlow's layout).
    assert w.initializer.name == "foo/bar/w/Assign"
    names = [o.name for o in cr.get_default_graph().get_operations()]
    assert any(n.startswith("foo/bar/w/Initializer/") for n in names)


def test_existing_variable_without_reuse_is_an_error_naming_it():
    with cr.variable_scope("x"):
        cr.get_variable("w", [2])
    with pytest.raises(ValueError, match=r"Variable x/w already exists, disallowed\. Did you mean to set reuse=True"):
        with cr.variable_scope("x"):
            cr.get_variable("w", [2])


def test_missing_variable_with_reuse_is_an_error():
    with pytest.raises(ValueError, match=r"Variable y/w does not exist, or was not created with tf.get_variable\(\)"):
        with cr.variable_scope("y", reuse=True):
            cr.get_variable("w", [2])


def test_reuse_true_auto_reuse_and_reuse_variables_share():
    with cr.variable_scope("s"):
        w = cr.get_variable("w", [3])
    with cr.variable_scope("s", reuse=True):
        assert cr.get_variable("w", [3]) is w
        with cr.variable_scope("inner"):  # reuse is inherited...
            assert cr.get_variable_scope().reuse is True
        with cr.variable_scope("inner2", reuse=False):  # ...and False does not switch it off
            assert cr.get_variable_scope().reuse is True
    for _ in range(2):
        with cr.variable_scope("auto", reuse=cr.AUTO_REUSE):
            a = cr.get_variable("a", [1])
    with cr.variable_scope("auto", reuse=True):
        assert cr.get_variable("a") is a
    with cr.variable_scope("r") as scope:
        first = cr.get_variable("w", [1])
        scope.reuse_variables()
        assert cr.get_variable("w", [1]) is first
    assert len(cr.global_variables()) == 3


def test_sharing_checks_shape_and_dtype():
    with cr.variable_scope("c"):
        cr.get_variable("w", [2, 3])
    with cr.variable_scope("c", reuse=True):
        with pytest.raises(ValueError, match=r"Trying to share variable c/w, but specified shape \(3, 2\)"):
            cr.get_variable("w", [3, 2])
        with pytest.raises(ValueError, match="specified dtype float64 and found dtype float32"):
            cr.get_variable("w", [2, 3], dtype=cr.float64)
        assert cr.get_variable("w").shape == (2, 3)  # no shape: the existing one's


def test_default_name_is_made_unique_and_reentering_a_scope_object():
    names = []
    for _ in range(3):
        with cr.variable_scope(None, default_name="layer") as scope:
            names.append(scope.name)
            cr.get_variable("w", [1])
    assert names == ["layer", "layer_1", "layer_2"]
    with cr.variable_scope("outer") as outer:
        with cr.variable_scope(None, default_name="layer") as scope:
            assert scope.name == "outer/layer"
    with cr.variable_scope(outer, reuse=True) as again:  # a scope object: its own name, not nested
        # Leaving "outer" reset its sub-scope counts (TensorFlow's rule), so the same default
        # names come again: how a model built twice under reuse=True shares its layers.
        with cr.variable_scope(None, default_name="layer") as scope:
            assert scope.name == "outer/layer"
        assert again.name == "outer" and again.original_name_scope == "outer/"
        x = cr.constant(1.0) * 2.0
    assert x.op.name.startswith("outer_1/")  # ops go into a new name scope, as TensorFlow 1.x
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with cr.variable_scope(None, default_name="d", reuse=True):
            pass
    with pytest.raises(TypeError, match="name_or_scope is required"):
        with cr.variable_scope(None):
            pass


def test_variable_scope_opens_a_unique_name_scope_for_ops():
    with cr.variable_scope("v"):
        a = cr.constant(1.0, name="c")
    with cr.variable_scope("v", reuse=True) as scope:
        b = cr.constant(1.0, name="c")
    assert a.name == "v/c:0" and b.name == "v_1/c:0" and scope.name == "v"
    assert cr.get_variable_scope().name == ""


def test_default_initializers_glorot_uniform_for_floats_zeros_for_ints():
    w = cr.get_variable("w", [40, 60])
    n = cr.get_variable("n", [3], dtype=cr.int32)
    flag = cr.get_variable("flag", [2], dtype=cr.bool)
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        wv, nv, fv = sess.run([w, n, flag])
    limit = np.sqrt(6.0 / (40 + 60))
    assert np.all(np.abs(wv) <= limit) and wv.max() > 0.9 * limit and wv.min() < -0.9 * limit
    assert abs(wv.std() - limit / np.sqrt(3)) < 0.01  # uniform on [-limit, limit]
    np.testing.assert_array_equal(nv, [0, 0, 0])
    assert nv.dtype == np.int32 and fv.dtype == bool and not fv.any()


def test_scope_initializer_regularizer_and_dtype_are_inherited():
    def l2(v):
        return 0.5 * cr.reduce_sum(v * v)

    with cr.variable_scope("s", initializer=cr.constant_initializer(2.0), regularizer=l2, dtype=cr.float64):
        with cr.variable_scope("t"):
            w = cr.get_variable("w", [2])
            u = cr.get_variable("u", [2], initializer=cr.ones_initializer(), regularizer=cr.no_regularizer)
    assert w.dtype == cr.float64
    losses = cr.get_collection(cr.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1 and losses[0].op.name.startswith("s/t/w/Regularizer/")
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(w), [2.0, 2.0])
        np.testing.assert_array_equal(sess.run(u), [1.0, 1.0])
        assert sess.run(losses[0]) == 4.0


def test_initializer_as_value_and_shape_errors():
    v = cr.get_variable("v", initializer=np.arange(3.0))
    t = cr.get_variable("t", initializer=cr.constant([[1, 2]]))
    assert v.shape == (3,) and v.dtype == cr.float64 and t.dtype == cr.int32
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape"):
        cr.get_variable("bad", [3], initializer=np.zeros(3))
    with pytest.raises(ValueError, match="Shape of a new variable .* must be fully defined"):
        cr.get_variable("unknown", [None, 2])
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v), [0.0, 1.0, 2.0])


def test_trainable_collections_and_local_variables():
    w = cr.get_variable("w", [1])
    frozen = cr.get_variable("frozen", [1], trainable=False)
    mine = cr.get_variable("mine", [1], collections=["custom"])
    local = cr.get_local_variable("local", [2], initializer=cr.ones_initializer())
    plain = cr.Variable(3.0, trainable=False, collections=[cr.GraphKeys.LOCAL_VARIABLES], name="plain")
    assert cr.global_variables() == [w, frozen]
    assert cr.trainable_variables() == [w, mine]
    assert cr.get_collection("custom") == [mine]
    assert cr.local_variables() == [local, plain]
    assert not plain.trainable and local not in cr.trainable_variables()
    with cr.Session() as sess:
        sess.run(cr.local_variables_initializer())
        np.testing.assert_array_equal(sess.run(local), [1.0, 1.0])
        assert sess.run(plain) == 3.0
        with pytest.raises(cr.errors.FailedPreconditionError):
            sess.run(w)
        sess.run(cr.initialize_all_variables())
        sess.run(w)


def test_get_collection_scope_filters_by_regex_match():
    with cr.variable_scope("enc"):
        a = cr.get_variable("a", [1])
    with cr.variable_scope("dec"):
        b = cr.get_variable("b", [1])
        with cr.variable_scope("enc"):
            c = cr.get_variable("c", [1])
    assert cr.get_collection(cr.GraphKeys.GLOBAL_VARIABLES, scope="enc") == [a]  # re.match: from the start
    assert cr.get_collection(cr.GraphKeys.TRAINABLE_VARIABLES, scope=".*enc") == [a, c]
    assert cr.global_variables("dec") == [b, c] and cr.trainable_variables(scope="dec/enc") == [c]
    cr.add_to_collection("things", 1)  # items without a name are dropped by a scope filter
    cr.add_to_collection("things", a)
    assert cr.get_collection("things") == [1, a] and cr.get_collection("things", "enc") == [a]
    ref = cr.get_collection_ref("things")
    ref.append(b)
    assert cr.get_collection("things")[-1] is b
    copy = cr.get_collection("things")
    copy.clear()
    assert len(cr.get_collection("things")) == 3
    cr.add_to_collections(["x", "y", "x"], a)
    assert cr.get_collection("x") == [a] and cr.get_collection("y") == [a]


def test_graph_keys_are_tensorflows_strings_and_the_librarys_constants():
    from chainrule.ops import state_ops
    from chainrule.summary import summary_ops
    from chainrule.train import training_util

    keys = cr.GraphKeys
    assert keys.GLOBAL_VARIABLES == keys.VARIABLES == state_ops.GLOBAL_VARIABLES == "variables"
    assert keys.TRAINABLE_VARIABLES == state_ops.TRAINABLE_VARIABLES
    assert keys.LOCAL_VARIABLES == state_ops.LOCAL_VARIABLES == "local_variables"
    assert keys.SUMMARIES == summary_ops.SUMMARIES and keys.GLOBAL_STEP == training_util.GLOBAL_STEP
    assert keys.UPDATE_OPS == "update_ops" and keys.REGULARIZATION_LOSSES == "regularization_losses"
    assert keys.TABLE_INITIALIZERS == "table_initializer" and keys.METRIC_VARIABLES == "metric_variables"


def test_custom_getter_wraps_creation():
    seen = []

    def getter(true_getter, name, *args, **kwargs):
        seen.append(name)
        return true_getter(name, *args, **kwargs)

    with cr.variable_scope("g", custom_getter=getter):
        w = cr.get_variable("w", [2])
    assert seen == ["g/w"] and w.name == "g/w:0"


def test_variables_made_in_a_cond_branch_live_in_the_users_graph_and_are_shared():
    with cr.variable_scope("m"):
        cr.get_variable("w", [2], initializer=cr.constant_initializer([1.0, 2.0]))
    pred = cr.placeholder(cr.bool, [])

    def branch():
        with cr.variable_scope("m", reuse=True):
            return cr.get_variable("w", [2]) * 3.0

    def other():
        with cr.variable_scope("m2"):
            return cr.get_variable("u", [2], initializer=cr.ones_initializer()) + 0.0

    y = cr.cond(pred, branch, other)
    assert [v.name for v in cr.global_variables()] == ["m/w:0", "m2/u:0"]
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(y, {pred: True}), [3.0, 6.0])
        np.testing.assert_array_equal(sess.run(y, {pred: False}), [1.0, 1.0])


def test_unsupported_arguments_say_so():
    with pytest.raises(NotImplementedError, match="partition"):
        cr.get_variable("p", [4], partitioner=lambda *a: [2])
    with pytest.raises(NotImplementedError, match="constraint"):
        cr.get_variable("q", [4], constraint=lambda v: v)
