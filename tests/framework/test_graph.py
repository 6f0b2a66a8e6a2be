"""Graph construction: names, scopes, control dependencies, dtypes, static shapes, errors."""

import numpy as np
import pytest

import chainrule as cr


def test_ops_get_unique_names_and_can_be_looked_up():
    a = cr.constant(1.0, name="a")
    b = cr.constant(2.0, name="a")
    g = cr.get_default_graph()
    assert a.op.name == "a" and b.op.name == "a_1"
    assert g.get_operation_by_name("a_1") is b.op
    assert g.get_tensor_by_name("a:0") is a
    assert a.name == "a:0" and a.value_index == 0 and a.graph is g
    with pytest.raises(cr.errors.NotFoundError, match="nope"):
        g.get_operation_by_name("nope")
    with pytest.raises(ValueError, match="op name"):
        g.get_tensor_by_name("a")


def test_name_scopes_nest_and_are_unique():
    with cr.name_scope("layer") as scope:
        assert scope == "layer/"
        x = cr.constant(1.0, name="x")
        with cr.name_scope("inner"):
            y = cr.cos(x)
    with cr.name_scope("layer"):
        z = cr.constant(2.0, name="x")
    assert x.op.name == "layer/x"
    assert y.op.name == "layer/inner/Cos"
    assert z.op.name == "layer_1/x"


def test_operation_attributes_and_source_line():
    x = cr.placeholder(cr.float32, [None, 3], name="x")
    y = cr.cos(x)  # the creation line is remembered
    op = y.op
    assert op.type == "Cos" and op.inputs == (x,) and op.outputs == (y,)
    assert x.op.get_attr("dtype") == cr.float32
    assert op.source.filename == __file__
    assert "y = cr.cos(x)" in op.source.line
    with pytest.raises(ValueError, match="no attr"):
        op.get_attr("missing")


def test_control_dependencies_attach_to_new_ops():
    a = cr.constant(1.0)
    with cr.control_dependencies([a]):
        b = cr.constant(2.0)
        with cr.control_dependencies(None):
            c = cr.constant(3.0)
    assert b.op.control_inputs == (a.op,)
    assert c.op.control_inputs == ()


def test_tensor_has_no_truth_value_and_hashes_by_identity():
    x = cr.constant([1.0, 2.0])
    with pytest.raises(TypeError, match="Python bool"):
        bool(x)
    with pytest.raises(TypeError):
        if x:
            pass
    assert len({x, x, cr.identity(x)}) == 2


def test_python_floats_default_to_float32_and_numpy_arrays_keep_dtype():
    assert cr.constant(1.0).dtype == cr.float32
    assert cr.constant(1).dtype == cr.int32
    assert cr.constant(np.float64(1.0)).dtype == cr.float64
    assert cr.constant(np.arange(3)).dtype == cr.int64
    x = cr.placeholder(cr.float64, [2])
    assert (x * 2.0).dtype == cr.float64  # Python scalars are weakly typed
    assert (2 * x).dtype == cr.float64
    assert (x + np.float64(1)).dtype == cr.float64


def test_mixed_dtypes_are_an_error_naming_op_dtypes_and_line():
    x = cr.placeholder(cr.float64, [2])
    y = cr.placeholder(cr.float32, [2])
    with pytest.raises(cr.errors.InvalidDTypeError) as info:
        x + y  # noqa: B018
    message = str(info.value)
    assert "Add" in message and "float64" in message and "float32" in message
    assert f"{__file__}:" in message and "x + y" in message


def test_shape_mismatch_is_caught_at_construction_with_the_user_line():
    a = cr.placeholder(cr.float64, [2, 3])
    b = cr.placeholder(cr.float64, [4])
    with pytest.raises(cr.errors.InvalidArgumentError) as info:
        cr.multiply(a, b)
    message = str(info.value)
    assert "Mul" in message and "(2, 3)" in message and "(4,)" in message
    assert "cr.multiply(a, b)" in message


def test_static_shapes_broadcast_with_unknown_dims():
    a = cr.placeholder(cr.float64, [None, 3])
    b = cr.placeholder(cr.float64, [1, 3])
    c = cr.placeholder(cr.float64)
    assert (a + b).shape.as_list() == [None, 3]
    assert (b + cr.placeholder(cr.float64, [5, 1])).shape.as_list() == [5, 3]
    assert (a + c).shape.rank is None


def test_tensors_from_different_graphs_cannot_mix():
    g1, g2 = cr.Graph(), cr.Graph()
    with g1.as_default():
        a = cr.constant(1.0)
    with g2.as_default():
        b = cr.constant(2.0)
        with pytest.raises(ValueError, match="different graph"):
            cr.add(b, a)


def test_nested_list_with_tensors_is_packed():
    x = cr.placeholder(cr.int32, [])
    packed = cr.convert_to_tensor([[x, 1], [2, x]])
    assert packed.shape.as_list() == [2, 2] and packed.dtype == cr.int32
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(packed, {x: 5}), [[5, 1], [2, 5]])


def test_reset_default_graph_gives_an_empty_graph():
    cr.constant(1.0)
    cr.reset_default_graph()
    assert cr.get_default_graph().get_operations() == []


def test_numpy_arrays_on_the_left_build_ops():
    x = cr.placeholder(cr.float64, [3])
    y = np.array([1.0, 2.0, 3.0]) * x + np.ones(3)
    assert isinstance(y, cr.Tensor) and y.op.type == "Add"
    with cr.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 1.0, 1.0]}), [2.0, 3.0, 4.0])


def test_operators_cover_floordiv_mod_pow_matmul_and_comparisons():
    a = cr.constant(np.array([7.0, -7.0]))
    b = cr.constant(np.array([2.0, 2.0]))
    with cr.Session() as sess:
        fd, md, pw, lt, ge = sess.run([a // b, a % b, b**3, a < b, a >= b])
    np.testing.assert_array_equal(fd, [3.0, -4.0])
    np.testing.assert_array_equal(md, [1.0, 1.0])
    np.testing.assert_array_equal(pw, [8.0, 8.0])
    np.testing.assert_array_equal(lt, [False, True])
    np.testing.assert_array_equal(ge, [True, False])


def test_static_shapes_are_immutable_values_shared_between_tensors():
    from chainrule.framework.tensor_shape import TensorShape

    a = cr.placeholder(cr.float64, [2, 3])
    b = cr.sin(a)
    assert a.shape is b.shape and a.shape == TensorShape((2, 3))
    with pytest.raises(AttributeError, match="immutable"):
        a.shape.dims = (4,)  # type: ignore[misc]
    a.set_shape([2, 3])  # refining a tensor's shape replaces its shape object, never another's
    c = cr.placeholder(cr.float64, [None, 3])
    c.set_shape([5, 3])
    assert c.shape.as_list() == [5, 3] and a.shape.as_list() == [2, 3]
    assert TensorShape(None).dims is None and TensorShape(None) is TensorShape(None)


def test_an_op_records_where_the_user_created_it():
    x = cr.placeholder(cr.float64, [2], name="x")
    y = cr.cos(x)  # this line
    assert y.op.source.filename == __file__ and "cr.cos(x)" in y.op.source.line
    assert "this line" in str(y.op.source) and "created at" in y.op.describe()
