"""cr.summary writes event files that TensorBoard's own reader (EventAccumulator) reads back correctly."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("tensorboard", reason="tensorboard is in the test extra; CI installs it")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.compat.proto import summary_pb2, types_pb2  # noqa: E402


def _read(logdir) -> EventAccumulator:
    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def _training_graph():
    """The lecture's model: a forward pass, its gradients, a training step, and summaries."""
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [None], name="x")
        target = cr.cos(x)
        with cr.name_scope("model"):
            w = cr.Variable(0.5, dtype=cr.float64, name="w")
            b = cr.Variable(0.1, dtype=cr.float64, name="b")
            pred = cr.sigmoid(w * x + b)
        loss = cr.reduce_mean(cr.square(pred - target), name="loss")
        train = cr.train.GradientDescentOptimizer(0.5).minimize(loss)
        with cr.name_scope("summaries"):
            cr.summary.scalar("loss", loss)
            cr.summary.histogram("prediction", pred)
        merged = cr.summary.merge_all()
        cr.global_variables_initializer()
    return graph, x, loss, train, merged


def test_scalars_histograms_and_graph_read_back_by_tensorboard(tmp_path):
    graph, x, loss, train, merged = _training_graph()
    xs = np.linspace(-1.0, 1.0, 11)
    losses = []
    with cr.Session(graph=graph) as sess, cr.summary.FileWriter(tmp_path, graph) as writer:
        sess.run(graph.get_operation_by_name("init"))
        for step in range(0, 50, 5):
            summary, loss_value = sess.run([merged, loss], {x: xs})
            assert isinstance(summary, bytes)
            writer.add_summary(summary, global_step=step)
            losses.append(float(loss_value))
            sess.run(train, {x: xs})

    acc = _read(tmp_path)
    tags = acc.Tags()
    assert tags["scalars"] == ["summaries/loss"]
    assert tags["histograms"] == ["summaries/prediction"]
    assert tags["graph"] is True

    events = acc.Scalars("summaries/loss")
    assert [e.step for e in events] == list(range(0, 50, 5))
    np.testing.assert_allclose([e.value for e in events], losses, rtol=1e-6)  # stored as float32
    assert losses[-1] < losses[0]

    histos = acc.Histograms("summaries/prediction")
    assert len(histos) == 10
    h = histos[0].histogram_value
    assert h.num == len(xs) and sum(h.bucket) == len(xs)
    assert 0 < h.min <= h.max < 1  # sigmoid outputs
    assert h.bucket_limit[-1] == pytest.approx(h.max)

    graph_def = acc.Graph()
    nodes = {n.name: n for n in graph_def.node}
    assert set(nodes) == {op.name for op in graph.get_operations()}
    for op in graph.get_operations():
        node = nodes[op.name]
        assert node.op == op.type
        data_inputs = [t.op.name if t.value_index == 0 else t.name for t in op.inputs]
        assert list(node.input) == data_inputs + [f"^{c.name}" for c in op.control_inputs]
        shapes = node.attr["_output_shapes"].list.shape
        assert len(shapes) == len(op.outputs)

    # Names carry the scopes TensorBoard draws as collapsible boxes, gradients included.
    assert any(name.startswith("gradients/") and "Sigmoid_grad/" in name for name in nodes)
    assert nodes["model/w"].op == "VariableV2"
    assert nodes["x"].attr["dtype"].type == types_pb2.DT_DOUBLE
    assert [d.size for d in nodes["x"].attr["shape"].shape.dim] == [-1]
    assert [d.size for d in nodes["x"].attr["_output_shapes"].list.shape[0].dim] == [-1]
    assert nodes["model/Sigmoid"].attr["T"].type == types_pb2.DT_DOUBLE
    assert "test_summary_events.py" in nodes["model/Sigmoid"].attr["_source"].s.decode()
    # The training step's control inputs are kept ("^name").
    update = nodes[train.name]
    assert update.input and all(i.startswith("^") for i in update.input)
    # Constants keep their value.
    rate = nodes["GradientDescent/learning_rate"].attr["value"].tensor
    assert rate.dtype == types_pb2.DT_DOUBLE
    assert np.frombuffer(rate.tensor_content, "<f8").tolist() == [0.5]


def test_unknown_rank_and_multiple_outputs_in_graph_def():
    from chainrule.summary.graph_def import to_graph_def

    graph = cr.Graph()
    with graph.as_default():
        a = cr.placeholder(cr.float32, name="a")  # unknown rank
        parts = cr.unstack(cr.constant(np.arange(6.0, dtype=np.float32).reshape(3, 2)), name="parts")
        cr.add(parts[2], a, name="sum")
    nodes = {n.name: n for n in to_graph_def(graph).node}
    assert nodes["a"].attr["_output_shapes"].list.shape[0].unknown_rank
    assert list(nodes["sum"].input) == ["parts:2", "a"]
    assert len(nodes["parts"].attr["_output_shapes"].list.shape) == 3
    const = next(n for n in nodes.values() if n.op == "Const")
    value = const.attr["value"].tensor
    assert value.dtype == types_pb2.DT_FLOAT
    assert [d.size for d in value.tensor_shape.dim] == [3, 2]
    np.testing.assert_array_equal(np.frombuffer(value.tensor_content, "<f4"), np.arange(6.0))


def test_session_returns_a_serialized_summary():
    v = cr.placeholder(cr.float32, [], name="v")
    s = cr.summary.scalar("value", v * 2)
    assert s.dtype == cr.as_dtype("string") and s.shape.as_list() == []
    assert cr.get_default_graph().get_collection("summaries") == [s]
    with cr.Session() as sess:
        out = sess.run(s, {v: 1.5})
    parsed = summary_pb2.Summary.FromString(out)
    assert [(val.tag, val.simple_value) for val in parsed.value] == [("value", 3.0)]


def test_tags_follow_name_scopes_and_are_unique():
    v = cr.constant(1.0)
    with cr.name_scope("train"):
        a = cr.summary.scalar("loss", v)
        b = cr.summary.scalar("loss", v)
    c = cr.summary.scalar("loss value!", v)
    merged = cr.summary.merge([a, b, c])
    assert merged.op.name == "Merge/MergeSummary"
    with cr.Session() as sess:
        tags = [val.tag for val in summary_pb2.Summary.FromString(sess.run(merged)).value]
    assert tags == ["train/loss", "train/loss_1", "loss_value_"]
    assert [a.op.name, b.op.name, c.op.name] == tags


def test_merge_all_collections_and_scope_filter():
    assert cr.summary.merge_all() is None
    v = cr.constant(2.0)
    cr.summary.scalar("kept", v)
    cr.summary.scalar("other", v, collections=["mine"])
    with cr.Session() as sess:
        merged = cr.summary.merge_all()
        assert [x.tag for x in summary_pb2.Summary.FromString(sess.run(merged)).value] == ["kept"]
        mine = cr.summary.merge_all(key="mine")
        assert [x.tag for x in summary_pb2.Summary.FromString(sess.run(mine)).value] == ["other"]
    assert cr.summary.merge_all(scope="nothing") is None


def test_summary_errors_name_the_op_and_the_line(tmp_path):
    with pytest.raises(cr.errors.InvalidArgumentError, match=r"(?s)ScalarSummary.*scalar.*test_summary_events.py"):
        cr.summary.scalar("vec", cr.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="at least one"):
        cr.summary.merge([])
    h = cr.summary.histogram("h", cr.constant([1.0, np.nan]))
    with cr.Session() as sess, pytest.raises(cr.errors.InvalidArgumentError, match="NaN or Inf in summary histogram"):
        sess.run(h)
    with cr.summary.FileWriter(tmp_path) as writer, pytest.raises(TypeError, match="add_summary expects"):
        writer.add_summary(3.0)


def test_histogram_of_constant_and_empty_values():
    same = cr.summary.histogram("same", cr.constant([2.0, 2.0, 2.0]))
    empty = cr.summary.histogram("empty", cr.zeros([0]))
    with cr.Session() as sess:
        h_same = summary_pb2.Summary.FromString(sess.run(same)).value[0].histo
        h_empty = summary_pb2.Summary.FromString(sess.run(empty)).value[0].histo
    assert (h_same.min, h_same.max, h_same.num, list(h_same.bucket)) == (2.0, 2.0, 3.0, [3.0])
    assert h_empty.num == 0 and not h_empty.bucket


def test_write_log_and_add_scalar(tmp_path):
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, name="x")
        cr.gradients(cr.cos(x), [x])
    path = cr.summary.write_log(tmp_path / "logs", graph, scalars={"loss": [3.0, 2.0, 1.5]})
    assert path.startswith(str(tmp_path / "logs")) and "tfevents" in path
    acc = _read(tmp_path / "logs")
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(0, 3.0), (1, 2.0), (2, 1.5)]
    names = [n.name for n in acc.Graph().node]
    assert "gradients/Cos_grad/Sin" in names


def test_add_summary_accepts_protos_and_writer_closes(tmp_path):
    writer = cr.summary.FileWriter(tmp_path)
    proto = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="t", simple_value=4.0)])
    writer.add_summary(proto, 7)
    writer.add_summary(np.array(proto.SerializeToString(), dtype=object), 8)
    writer.flush()
    assert writer.get_logdir() == str(tmp_path)
    writer.close()
    writer.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        writer.add_scalar("t", 1.0)
    assert [(e.step, e.value) for e in _read(tmp_path).Scalars("t")] == [(7, 4.0), (8, 4.0)]


def test_missing_tensorboard_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[tensorboard\]'"):
        cr.summary.scalar("x", cr.constant(1.0))
    with pytest.raises(ImportError, match="tensorboard"):
        cr.summary.FileWriter("unused")


def test_control_flow_functions_are_drawn_inside_their_op(tmp_path):
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [], name="x")
        y = cr.cond(x > 0, lambda: cr.sin(x), lambda: cr.cos(x), name="pick")
        _, z = cr.while_loop(lambda i, z: i < 3, lambda i, z: (i + 1, z * y), [cr.constant(0), x], name="loop")
        writer = cr.summary.FileWriter(str(tmp_path), graph)
        writer.close()
    names = {n.name: n for n in _read(tmp_path).Graph().node}
    assert names["pick"].op == "If" and names["loop"].op == "While"
    assert names["pick/then_branch/Sin"].op == "Sin" and names["pick/else_branch/Cos"].op == "Cos"
    assert names["loop/body/Mul"].op == "Mul" and names["loop/cond/Less"].op == "Less"
    # A function's ops read their own placeholders, under the same prefix.
    assert all(i.lstrip("^").startswith("pick/then_branch/") for i in names["pick/then_branch/Sin"].input)
