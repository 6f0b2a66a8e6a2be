"""TF 1.x's other names for chainrule's ops, its v2 switches, and ``import chainrule.compat.v1 as tf``."""

import numpy as np
import pytest

import chainrule as cr


def test_compat_v1_is_chainrule_itself():
    import chainrule.compat.v1 as tf

    assert tf is cr and cr.compat.v1 is cr
    tf.disable_v2_behavior()  # what TF 1.x code on TensorFlow 2 calls first: nothing to do here
    tf.disable_eager_execution()
    assert tf.executing_eagerly() is False
    with pytest.raises(AttributeError, match="does not support tf.enable_eager_execution"):
        tf.enable_eager_execution()


def test_casts_and_dtype_names():
    x = cr.constant([1, 2, 3])
    assert cr.to_float(x).dtype == cr.float32 and cr.to_double(x).dtype == cr.float64
    assert cr.to_int64(cr.to_float(x)).dtype == cr.int64 and cr.to_complex64(cr.to_float(x)).dtype == cr.complex64
    assert cr.to_float(x).op.name.startswith("to_float")
    assert cr.double == cr.float64 and cr.half == cr.float16
    with pytest.raises(TypeError, match="no bfloat16"):
        cr.to_bfloat16(x)


def test_one_line_ops_give_their_values_and_gradients():
    x = cr.placeholder(cr.float64, [4])
    value = np.array([-800.0, -1.0, 0.5, 800.0])
    log_sig = cr.log_sigmoid(x)
    (d_log_sig,) = cr.gradients(cr.reduce_sum(log_sig), [x])
    xor = cr.logical_xor(cr.constant([True, True, False, False]), cr.constant([True, False, True, False]))
    with cr.Session() as sess:
        ls, dls, x_or, rd, sm = sess.run(
            [log_sig, d_log_sig, xor, cr.realdiv(x, 2.0), cr.scalar_mul(3.0, x)], {x: value}
        )
    np.testing.assert_allclose(ls, [-800.0, -np.log1p(np.exp(1.0)), -np.log1p(np.exp(-0.5)), 0.0], atol=1e-15)
    np.testing.assert_allclose(dls, np.exp(-np.logaddexp(0.0, value)))  # d/dx log(sigmoid(x)) = sigmoid(-x)
    np.testing.assert_array_equal(x_or, [False, True, True, False])
    np.testing.assert_array_equal(rd, value / 2.0)
    np.testing.assert_array_equal(sm, 3.0 * value)
    with pytest.raises(TypeError, match="realdiv takes floating"):
        cr.realdiv(cr.constant([1, 2]), 2)
    with pytest.raises(ValueError, match="scalar must have rank 0"):
        cr.scalar_mul(cr.constant([1.0, 2.0]), x)


def test_other_names_are_the_same_functions():
    assert cr.reverse_v2 is cr.reverse and cr.where_v2 is cr.where and cr.newaxis is None
    assert cr.NoGradient is cr.no_gradient is cr.NotDifferentiable
    assert cr.is_tensor(cr.constant(1.0)) and cr.is_tensor(cr.Variable(1.0)) and not cr.is_tensor(np.ones(2))
    assert cr.tables_initializer().type == "NoOp"


def test_a_known_dimension_has_tensorflows_value():
    x = cr.placeholder(cr.float32, [None, 3])
    feature = x.get_shape()[1]
    assert feature == 3 and feature.value == 3 and isinstance(feature, cr.Dimension)
    assert x.get_shape()[0] is None and x.get_shape()[-1].value == 3
    assert cr.dimension_value(feature) == 3 and cr.dimension_value(None) is None
    assert type(feature + 1) is int  # arithmetic gives plain ints
    w = cr.Variable(cr.zeros([x.get_shape()[1].value, 2]))  # the TF 1.x idiom
    assert w.shape.as_list() == [3, 2]


def test_more_tf1_names_against_numpy():
    values = np.array([[3.0, -1.0, 3.0, 0.5], [np.nan, np.inf, -np.inf, 2.0]])
    x = cr.constant(values)
    data = cr.constant(np.array([[4.0, 1.0, 3.0], [2.0, 9.0, 2.0]]))
    first, second = cr.tuple([cr.constant(1.0), cr.constant(2.0)])
    with cr.Session() as sess:
        nan, inf, fin, mask, mask_f, asc, desc, idx, col, shapes, pair, rounded = sess.run(
            [cr.is_nan(x), cr.is_inf(x), cr.is_finite(x), cr.sequence_mask([1, 3, 0]),
             cr.sequence_mask(cr.constant([2]), maxlen=4, dtype=cr.float32), cr.sort(data),
             cr.sort(data, direction="DESCENDING"), cr.argsort(data), cr.sort(data, axis=0),
             cr.shape_n([x, data]), [first, second], cr.rint([0.5, 1.5, -2.5])]
        )  # fmt: skip
    np.testing.assert_array_equal(nan, np.isnan(values))
    np.testing.assert_array_equal(inf, np.isinf(values))
    np.testing.assert_array_equal(fin, np.isfinite(values))
    np.testing.assert_array_equal(mask, [[True, False, False], [True, True, True], [False, False, False]])
    np.testing.assert_array_equal(mask_f, [[1.0, 1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(asc, np.sort(data_np := np.array([[4.0, 1.0, 3.0], [2.0, 9.0, 2.0]]), axis=-1))
    np.testing.assert_array_equal(desc, -np.sort(-data_np, axis=-1))
    np.testing.assert_array_equal(idx, np.argsort(data_np, axis=-1, kind="stable"))
    np.testing.assert_array_equal(col, np.sort(data_np, axis=0))
    assert [s.tolist() for s in shapes] == [[2, 4], [2, 3]] and pair == [1.0, 2.0]
    np.testing.assert_array_equal(rounded, [0.0, 2.0, -2.0])
    assert cr.all_variables is cr.global_variables and cr.initialize_variables is cr.variables_initializer
    assert cr.moving_average_variables() == [] and cr.initialize_all_tables().type == "NoOp"
    with pytest.raises(ValueError, match="direction must be"):
        cr.sort(data, direction="UP")
    cr.test.check_gradients(lambda t: cr.sort(t, axis=0), [np.array([[0.3, -1.2], [2.0, 0.1], [-0.7, 0.9]])])
