"""A TF 1.x name chainrule deliberately lacks raises an AttributeError that says so and names the alternative."""

from __future__ import annotations

import pytest

import chainrule as tf
from chainrule import unsupported


@pytest.mark.parametrize(
    ("get", "name", "alternative"),
    [
        (lambda: tf.data, "tf.data", "feed NumPy arrays through tf.placeholder with feed_dict"),
        (lambda: tf.contrib, "tf.contrib", "core name"),
        (lambda: tf.FIFOQueue, "tf.FIFOQueue", "feed_dict"),
        (lambda: tf.string_split, "tf.string_split", "integer ids"),
        (lambda: tf.estimator, "tf.estimator", "optimizer.minimize"),
        (lambda: tf.keras, "tf.keras", "tf.train optimizer"),
        (lambda: tf.train.ClusterSpec, "tf.train.ClusterSpec", "one process"),
        (lambda: tf.train.shuffle_batch, "tf.train.shuffle_batch", "feed_dict"),
    ],
)
def test_a_known_unsupported_name_says_so_and_suggests_the_alternative(get, name, alternative):
    with pytest.raises(AttributeError) as raised:
        get()
    text = str(raised.value)
    assert f"chainrule does not support {name} (" in text
    assert alternative in text
    assert "docs/tf1_compatibility.md" in text
    assert raised.value.name == name.rsplit(".", 1)[1]


def test_an_unknown_name_gets_the_usual_message_and_hasattr_is_false():
    with pytest.raises(AttributeError, match=r"^module 'chainrule' has no attribute 'no_such_name'$"):
        _ = tf.no_such_name
    with pytest.raises(AttributeError, match=r"^module 'chainrule.train' has no attribute 'no_such_name'$"):
        _ = tf.train.no_such_name
    assert not hasattr(tf, "data") and not hasattr(tf.train, "ClusterSpec")
    with pytest.raises(ImportError):
        from chainrule import contrib  # noqa: F401


def test_names_chainrule_has_are_never_reported_unsupported():
    assert hasattr(tf, "Session") and hasattr(tf.train, "Saver")
    for table, module in [(unsupported.TOP_LEVEL, tf), (unsupported.TRAIN, tf.train)]:
        for name in table:
            assert name not in vars(module), f"{name} is defined, yet listed as unsupported"
