"""Values and dtypes never change silently (issue 12, items 2, 5 and 7).

One rule (framework/conversion.py) converts constants and feeds: a value converts to a dtype
only when the dtype holds it (floating values round to a narrower float, as TensorFlow's; a
finite value never becomes inf). Python numbers packed with tensors take the tensors' dtype.
The TensorFlow behaviour cited was recorded once with tensorflow-cpu 2.21, tf.compat.v1 in
graph mode (``tf.compat.v1.convert_to_tensor([[a, 1.0], [2.0, b]])`` with float64 a, b: float64;
``[int32 tensor, 1.0]``: TypeError; ``[float32 tensor, float64 tensor]``: TypeError).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

HERE = __file__.rstrip("c")


def _run(t, feed=None):
    with cr.Session() as sess:
        return sess.run(t, feed)


# --- item 2: packing lists of tensors and Python numbers ------------------------------------
def test_python_numbers_packed_with_float64_tensors_are_float64():
    with cr.Graph().as_default():
        a, b = cr.constant(1.5, cr.float64), cr.constant(2.5, cr.float64)
        packed = cr.convert_to_tensor([[a, 1.0], [2.0, b]])
        assert packed.dtype == cr.float64 and packed.shape.as_list() == [2, 2]
        np.testing.assert_array_equal(_run(packed), [[1.5, 1.0], [2.0, 2.5]])
        # a whole row of Python numbers, ints into floats, and the float32/int32 cases
        assert cr.convert_to_tensor([[a, b], [1, 0.1]]).dtype == cr.float64
        assert _run(cr.convert_to_tensor([[a, b], [1, 0.1]]))[1, 1] == 0.1  # float64, not float32-rounded
        f, i = cr.constant(1.0), cr.constant(1)
        assert cr.convert_to_tensor([f, 1, 0.5]).dtype == cr.float32
        assert cr.convert_to_tensor([[i, 2], [3, i]]).dtype == cr.int32
        assert cr.convert_to_tensor([i, np.int64(3)]).dtype == cr.int32  # as TF: it fits
        assert cr.convert_to_tensor([a, 1.0], dtype=cr.float64).dtype == cr.float64


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda f, d, i: [i, 1.0], "Python value 1.0 with tensors of dtype int32"),
        (lambda f, d, i: [i, 2**40], "outside the range of int32"),
        (lambda f, d, i: [f, d], "dtypes float32, float64"),
        (lambda f, d, i: [[f], [i]], "dtypes float32, int32"),
        (lambda f, d, i: [f, 1e300], "beyond the range of float32"),
        (lambda f, d, i: [f, 1j], "complex value"),
    ],
)
def test_packing_refuses_what_would_change_a_value_or_dtype(build, match):
    with cr.Graph().as_default():
        f, d, i = cr.constant(1.0), cr.constant(1.0, cr.float64), cr.constant(1)
        with pytest.raises(TypeError, match=match) as info:
            cr.convert_to_tensor(build(f, d, i))
    assert HERE in str(info.value)


def test_packing_with_a_dtype_refuses_tensors_of_another():
    with cr.Graph().as_default(), pytest.raises(TypeError, match="of dtype float64"):
        cr.convert_to_tensor([cr.constant(1.0), 2.0], dtype=cr.float64)


# --- item 5: ops refuse dtypes they do not support; sum_to_shape keeps its dtype --------------
@pytest.mark.parametrize(
    "build",
    [
        lambda: cr.cast(cr.constant(1.0), "string"),
        lambda: cr.cast(cr.constant(1.0), "object"),
        lambda: cr.cast(cr.constant("a"), cr.float32),
        lambda: cr.zeros([2], "string"),
        lambda: cr.ones([2], "object"),
        lambda: cr.fill([2], "a"),
        lambda: cr.zeros_like(cr.constant(["a", "b"])),
        lambda: cr.ones_like(cr.constant(1.0), dtype="string"),
    ],
)
def test_string_dtypes_are_refused_at_graph_construction(build):
    with cr.Graph().as_default(), pytest.raises(TypeError, match="string") as info:
        build()
    assert HERE in str(info.value)
    assert isinstance(info.value, cr.errors.InvalidArgumentError)  # names the op, as TF's errors


@pytest.mark.parametrize("dtype", [np.int32, np.int8, np.float32, np.int64])
@pytest.mark.parametrize("optimize", [False, True])
def test_sum_to_shape_keeps_the_static_dtype(dtype, optimize):
    with cr.Graph().as_default():
        x = cr.constant(np.arange(6).reshape(2, 3).astype(dtype))
        y = cr.sum_to_shape(x, [1, 3])
        assert y.dtype == cr.as_dtype(dtype)
        with cr.Session(optimize=optimize) as sess:
            value = sess.run(y)
    assert value.dtype == dtype
    np.testing.assert_array_equal(value, [[3, 5, 7]])


def test_sum_to_shape_refuses_bool():
    with cr.Graph().as_default(), pytest.raises(TypeError, match="sum_to_shape.*bool") as info:
        cr.sum_to_shape(cr.constant([[True, False]]), [1, 1])
    assert HERE in str(info.value)


def test_ones_of_bool_are_true():
    with cr.Graph().as_default():
        assert _run(cr.ones([2], cr.bool)).tolist() == [True, True]
        assert _run(cr.zeros_like(cr.constant([True]))).tolist() == [False]


# --- item 7: feeds and constants never change a value silently --------------------------------
LOSSY_FEEDS = [
    (cr.int32, np.int64(2**40), "outside the range of int32"),
    (cr.int32, 2**40, "outside the range of int32"),
    (cr.float32, 1e300, "beyond the range of float32"),
    (cr.float32, np.array([1.0, 1e300]), "beyond the range of float32"),
    (cr.float64, 1 + 2j, "complex value"),
    (cr.float64, np.complex128(1 + 0j), "complex value"),
    (cr.int8, 300.0, "outside the range of int8"),
    (cr.bool, 5, "bool and numbers"),
    (cr.bool, np.array([0, 1]), "bool and numbers"),
    (cr.float32, True, "bool and numbers"),
    (cr.int32, 0.5, "not a whole number"),
    (cr.int32, np.nan, "not finite"),
    (cr.uint8, -1, "outside the range of uint8"),
    (cr.int64, np.uint64(2**63), "outside the range of int64"),
    (cr.float64, np.int64(2**60 + 1), "integers exactly only up to 2\\*\\*53"),
    (cr.float32, 2**24 + 1, "integers exactly only up to 2\\*\\*24"),
    (cr.float32, np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime"),
    (cr.float32, np.array([1], dtype="timedelta64[s]"), "timedelta"),
    (cr.float32, np.zeros(2, dtype=[("a", "f4")]), "structured"),
    (cr.float32, np.array([1.0, None]), "unsupported type object"),
    (cr.float32, np.array([1.0, 2.0], dtype=object), "unsupported type object"),
    (cr.float32, "1.0", "string value"),
]


@pytest.mark.parametrize(("dtype", "value", "match"), LOSSY_FEEDS, ids=lambda v: repr(v)[:30])
@pytest.mark.parametrize("repeat", [1, 2], ids=["first-run", "prepared-run"])
def test_a_feed_that_would_change_its_value_is_refused(dtype, value, match, repeat):
    with cr.Graph().as_default():
        p = cr.placeholder(dtype, name="the_input")
        y = cr.identity(p)
        with cr.Session() as sess:
            if repeat == 2:  # the prepared (fast) path of a second run with the same feed keys
                sess.run(y, {p: np.zeros((), dtype.as_numpy_dtype)})
            with pytest.raises(TypeError, match=match) as info:
                sess.run(y, {p: value})
    message = str(info.value)
    assert "the_input:0" in message and HERE in message and "sess.run(y, {p: value})" in message
    assert isinstance(info.value, cr.errors.InvalidArgumentError)


EXACT_FEEDS = [
    (cr.float32, 0.1, np.float32(0.1)),  # rounding to nearest, as TF
    (cr.float32, np.array([0.1, 1e-50, -np.inf, 3.0]), np.array([0.1, 0.0, -np.inf, 3.0], np.float32)),
    (cr.float64, np.array([1, 2**31 - 1], np.int32), np.array([1.0, 2**31 - 1])),  # safe widening
    (cr.float64, np.int64(2**60), np.float64(2**60)),  # exactly representable
    (cr.float32, 2**24, np.float32(2**24)),
    (cr.int32, np.int64(-(2**31)), np.int32(-(2**31))),
    (cr.int8, 127.0, np.int8(127)),
    (cr.int32, np.array([2.0, -3.0]), np.array([2, -3], np.int32)),
    (cr.complex64, 1.5, np.complex64(1.5)),
    (cr.bool, np.array([True]), np.array([True])),
    (cr.float16, np.float64(np.nan), np.float16(np.nan)),
]


@pytest.mark.parametrize(("dtype", "value", "expected"), EXACT_FEEDS, ids=lambda v: repr(v)[:30])
def test_a_feed_that_keeps_its_value_is_converted(dtype, value, expected):
    with cr.Graph().as_default():
        p = cr.placeholder(dtype)
        got = _run(cr.identity(p), {p: value})
    got = np.asarray(got)
    assert got.dtype == dtype.as_numpy_dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("value", "dtype", "match"),
    [
        (2**40, cr.int32, "outside the range of int32"),
        (0.5, cr.int32, "not a whole number"),
        ([1e300], cr.float32, "beyond the range of float32"),
        (300, cr.int8, "outside the range of int8"),
        (5, cr.bool, "bool and numbers"),
        (np.int64(2**40), cr.int32, "outside the range of int32"),
        (1e300, None, "beyond the range of float32"),  # Python floats default to float32
        (1 + 1j, cr.float64, "complex value"),
    ],
)
def test_a_constant_that_would_change_its_value_is_refused(value, dtype, match):
    with cr.Graph().as_default(), pytest.raises(TypeError, match=match) as info:
        cr.constant(value, dtype=dtype, name="c")
    message = str(info.value)
    assert "constant 'c'" in message and HERE in message


def test_a_python_number_meeting_a_tensor_must_fit_its_dtype():
    with cr.Graph().as_default():
        with pytest.raises(TypeError, match="outside the range of int32"):
            cr.constant(1) + 2**40
        with pytest.raises(TypeError, match="beyond the range of float32"):
            cr.constant(1.0) * 1e300
        assert (cr.constant(1.0, cr.float64) * 1e300).dtype == cr.float64
        assert _run(cr.constant(1, cr.int64) + 2**40) == 2**40 + 1
