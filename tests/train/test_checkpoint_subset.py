"""A training checkpoint (Adam slots, beta powers, global step) restores into an inference graph, as in TF 1.x.

TensorFlow 1.x's Saver reads only the keys of its own variables (one RestoreV2 per variable), so
entries of the file the graph lacks are ignored, and a variable missing from the file fails with
NotFoundError "Key <name> not found in checkpoint" (checked with tensorflow 2.21's compat.v1: an
inference graph restores a model-plus-Adam checkpoint; a graph with an extra variable "zz" gets
NotFoundError naming zz).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

_RNG = np.random.default_rng(7)
X = _RNG.normal(size=(16, 4))
Y = np.eye(3)[_RNG.integers(0, 3, size=16)]


def _model(x, extra_variable=False):
    w = cr.Variable(np.zeros((4, 3)), name="dense/kernel")
    b = cr.Variable(np.zeros(3), name="dense/bias")
    if extra_variable:
        cr.Variable(np.ones(3), name="dense/scale")
    return cr.matmul(x, w) + b


@pytest.fixture
def training_checkpoint(tmp_path):
    """Train a softmax regression with Adam for a few steps and save everything the default Saver saves."""
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, [None, 4])
        y = cr.placeholder(cr.float64, [None, 3])
        logits = _model(x)
        loss = cr.reduce_mean(cr.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        step = cr.train.get_or_create_global_step()
        train = cr.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
        saver = cr.train.Saver()
        with cr.Session() as sess:
            sess.run(cr.global_variables_initializer())
            for _ in range(5):
                sess.run(train, {x: X, y: Y})
            path = saver.save(sess, str(tmp_path / "model"), global_step=step)
            expected = sess.run(logits, {x: X})
            saved = {v.op.name: sess.run(v) for v in cr.global_variables()}
    return path, expected, saved


def test_the_training_checkpoint_holds_the_optimizer_state(training_checkpoint):
    path, _, saved = training_checkpoint
    names = [name for name, _ in cr.train.list_variables(path)]
    assert names == sorted(saved)
    assert {"dense/kernel/Adam", "dense/kernel/Adam_1", "beta1_power", "beta2_power", "global_step"} <= set(names)
    assert path.endswith("model-5")


def test_restore_into_an_inference_graph_ignores_the_optimizer_entries(training_checkpoint):
    path, expected, saved = training_checkpoint
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, [None, 4])
        logits = _model(x)
        saver = cr.train.Saver()  # the default var_list: this graph's two variables only
        with cr.Session() as sess:
            saver.restore(sess, path)  # no initializer: restore sets every variable of the graph
            np.testing.assert_array_equal(sess.run(logits, {x: X}), expected)
            for v in cr.global_variables():
                np.testing.assert_array_equal(sess.run(v), saved[v.op.name])
            # The inference Saver saves only what it has.
            small = saver.save(sess, path + "-inference")
            assert [name for name, _ in cr.train.list_variables(small)] == ["dense/bias", "dense/kernel"]


def test_a_variable_missing_from_the_checkpoint_is_not_found_naming_it(training_checkpoint):
    path, _, _ = training_checkpoint
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, [None, 4])
        _model(x, extra_variable=True)
        saver = cr.train.Saver()
        with cr.Session() as sess:
            sess.run(cr.global_variables_initializer())
            with pytest.raises(cr.errors.NotFoundError, match="'dense/scale'") as info:
                saver.restore(sess, path)
            assert path in str(info.value) and "dense/kernel" not in str(info.value)
            # All or nothing: the variables the file does hold were not restored either.
            kernel = next(v for v in cr.global_variables() if v.op.name == "dense/kernel")
            np.testing.assert_array_equal(sess.run(kernel), np.zeros((4, 3)))
