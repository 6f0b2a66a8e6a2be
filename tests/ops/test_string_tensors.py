"""String tensors as TF 1.x holds them: constants, placeholders and feeds of ``bytes`` (dtype string).

TF 1.x's hello world (``tf.constant('Hello, TensorFlow!')``, then ``sess.run``) prints
``b'Hello, TensorFlow!'``; ops that compute on strings are not supported (cr.unsupported says so).
"""

import numpy as np
import pytest

import chainrule as cr


def test_a_string_constant_runs_to_bytes_as_in_tensorflow():
    hello = cr.constant("Hello, TensorFlow!")
    assert hello.dtype == cr.string and hello.shape.as_list() == []
    with cr.Session() as sess:
        value = sess.run(hello)
    assert value == b"Hello, TensorFlow!" and isinstance(value, bytes)


def test_string_arrays_placeholders_and_feeds_keep_utf8_bytes():
    words = cr.constant([["apple", "pêche"], [b"raw", "x"]])
    fed = cr.placeholder(cr.string, [None])
    echoed = cr.identity(fed)
    with cr.Session() as sess:
        table, out = sess.run([words, echoed], {fed: np.array(["a", "bc"], dtype=object)})
    assert table.shape == (2, 2) and table.dtype == object
    assert table.tolist() == [[b"apple", b"p\xc3\xaache"], [b"raw", b"x"]]
    assert out.tolist() == [b"a", b"bc"]


def test_strings_never_become_numbers_silently():
    with pytest.raises(TypeError, match="string value 'x' to a tensor of dtype float32"):
        cr.constant("x", dtype=cr.float32)
    with pytest.raises(TypeError, match="unsupported type object"):
        cr.constant(np.array([1.5, "a", None], dtype=object))
    with pytest.raises(AttributeError, match="does not support tf.string_join"):
        cr.string_join  # noqa: B018 - the attribute access is what is tested
