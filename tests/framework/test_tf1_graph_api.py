"""TF 1.x graph API: dtype names, as_numpy_dtype, name_scope's three-argument form, device
placement, as_graph_def, finalize."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_dtype_names_as_tf_reads_them():
    assert cr.as_dtype("float") == cr.float32  # NumPy would read "float" as float64
    assert cr.as_dtype("double") == cr.float64
    assert cr.as_dtype("half") == cr.float16
    assert cr.placeholder("float", [2]).dtype == cr.float32
    assert cr.float32.as_numpy_dtype is np.float32
    one = cr.float32.as_numpy_dtype(1.0)
    assert type(one) is np.float32 and one == 1.0
    assert np.zeros(2, dtype=cr.int64.as_numpy_dtype).dtype == np.int64


def test_name_scope_three_argument_form():
    g = cr.Graph()
    with g.as_default():
        a = cr.constant(1.0, name="a")
        with cr.name_scope(None, "layer", [a]) as scope:
            assert scope == "layer/"
            b = cr.identity(a, name="b")
        with cr.name_scope(None, "layer", [a]) as scope:
            assert scope == "layer_1/"
        with cr.name_scope("given", "layer") as scope:
            assert scope == "given/"
    assert b.op.name == "layer/b"
    other = cr.Graph()
    with other.as_default():
        c = cr.constant(2.0)
    with cr.name_scope(None, "in_other", [c]) as scope:  # values pick the graph
        d = c * 2
    assert scope == "in_other/" and d.graph is other and d.op.name == "in_other/Mul"


def test_device_is_recorded_on_ops_nested_cleared_and_by_function():
    g = cr.Graph()
    with g.as_default():
        with cr.device("/job:worker"):
            with cr.device("/cpu:0"):
                a = cr.constant(1.0)
                with cr.device("/gpu:1"):
                    b = a + 1
            with cr.device(None):
                c = a * 2
        with g.device(lambda op: "/cpu:0" if op.type == "Const" else "/gpu:0"):
            d = cr.constant(1.0) + a
        e = cr.constant(3.0)
    assert a.op.device == "/job:worker/cpu:0" and a.device == a.op.device
    assert b.op.device == "/job:worker/gpu:1"
    assert c.op.device == ""
    assert d.op.device == "/gpu:0" and d.op.inputs[0].op.device == "/cpu:0"
    assert e.op.device == ""
    with cr.Session(graph=g) as sess:
        assert sess.run(b) == 2.0  # placement does not change what runs


def test_as_graph_def_lists_nodes_with_inputs_device_and_attrs():
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float32, [None, 2], name="x")
        with cr.device("/cpu:0"):
            y = cr.reduce_sum(x * 2.0, name="total")
        with cr.control_dependencies([y]):
            z = cr.identity(x, name="z")
    gd = g.as_graph_def()
    nodes = {n.name: n for n in gd.node}
    assert [n.name for n in gd.node] == [op.name for op in g.get_operations()]
    assert nodes["x"].op == "Placeholder" and nodes["x"].attr["dtype"] == cr.float32
    assert nodes["total"].device == "/cpu:0" and nodes["total"].op == y.op.type
    assert nodes["z"].input == ["x", "^total"]
    assert gd.versions.producer == 27
    assert "total" in str(gd)
    shapes = g.as_graph_def(add_shapes=True)
    assert {n.name: n for n in shapes.node}["x"].attr["_output_shapes"] == [x.shape]
    assert [n.name for n in g.as_graph_def(from_version=z.op.id).node] == ["z"]


def test_finalize_makes_the_graph_read_only():
    g = cr.Graph()
    with g.as_default():
        cr.constant(1.0)
    g.finalize()
    assert g.finalized
    with g.as_default(), pytest.raises(RuntimeError, match="finalized"):
        cr.constant(2.0)
