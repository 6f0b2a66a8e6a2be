"""cr.viz: DOT text, the self-contained HTML page's data and layout, and Graphviz output."""

from __future__ import annotations

import json
import re
import shutil

import pytest

import chainrule as cr
from chainrule.viz import _scopes
from chainrule.viz.html import graph_data


def _graph():
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [None], name="x")
        with cr.name_scope("model"):
            w = cr.Variable(0.5, dtype=cr.float64, name="w")
            y = cr.cos(w * x)
        loss = cr.reduce_sum(y, name="loss")
        train = cr.train.GradientDescentOptimizer(0.1).minimize(loss)
    return graph, x, y, loss, train


def test_to_dot_has_scopes_gradients_shapes_and_control_edges():
    graph, *_ = _graph()
    dot = cr.viz.to_dot(graph, title="lecture")
    assert dot.startswith("digraph chainrule {") and dot.rstrip().endswith("}")
    assert 'label="lecture"' in dot
    assert re.search(r'subgraph cluster_\d+ \{\n\s+label="gradients"; tooltip="gradients/"; .*fillcolor="#fff7ed"', dot)
    assert re.search(r'label="model"; tooltip="model/"', dot)
    assert '"model/Cos" [label="Cos", style="rounded,filled", fillcolor="#dbeafe"' in dot
    grad_nodes = re.findall(r'"(gradients/[^"]+)" \[label=[^\n]*fillcolor="#ffedd5"', dot)
    assert grad_nodes and all(n.startswith("gradients/") for n in grad_nodes)
    assert '"x" -> "model/mul" [label="(?,)"];' in dot or '"x" -> "model/Mul" [label="(?,)"];' in dot
    assert "style=dashed" in dot  # the training step's control dependencies
    assert dot.count("{") == dot.count("}")
    # Every op is a node exactly once.
    for op in graph.get_operations():
        assert len(re.findall(rf'^\s+"{re.escape(op.name)}" \[', dot, flags=re.M)) == 1, op.name


def test_to_dot_of_tensors_draws_only_what_they_need():
    graph, x, y, loss, _ = _graph()
    dot = cr.viz.to_dot(y)
    assert '"model/Cos"' in dot and '"x"' in dot
    assert "gradients" not in dot and '"loss"' not in dot
    with pytest.raises(TypeError, match="Expected a cr.Graph"):
        cr.viz.to_dot([3.0])
    with pytest.raises(ValueError, match="Nothing to draw"):
        cr.viz.to_dot([])


def test_quotes_and_newlines_are_escaped_in_dot():
    with cr.name_scope("a"):
        cr.constant(1.0, name='c"q')
    dot = cr.viz.to_dot()
    assert r'"a/c\"q"' in dot


def test_scopes_hold_every_op_once_and_a_variable_with_its_initializer():
    graph, *_ = _graph()
    tree = _scopes.build([(op.name, op) for op in graph.get_operations()])
    assert tree.groups[_scopes.ROOT].num_ops == len(graph.get_operations())
    held = [c for g in tree.groups.values() for c in g.children if c.startswith("o:")]
    assert sorted(held) == sorted("o:" + op.name for op in graph.get_operations())
    for gid, g in tree.groups.items():
        for c in g.children:
            assert tree.parent[c] == gid
    # As in TensorBoard, the op "model/w" is drawn inside the scope "model/w/" with its Assign.
    assert tree.parent["o:model/w"] == "g:model/w"
    assert tree.parent["o:model/w/Assign"] == "g:model/w"


def test_scopes_keep_edges_between_scopes_both_ways():
    graph = cr.Graph()
    with graph.as_default():
        with cr.name_scope("a"):
            a1 = cr.placeholder(cr.float32, name="a1")
        b = cr.sin(a1, name="b")
        with cr.name_scope("a/"):
            cr.cos(b, name="a2")
    tree = _scopes.build([(op.name, op) for op in graph.get_operations()])
    assert tree.groups[_scopes.ROOT].children == ["g:a", "o:b"]
    assert ("o:a/a1", "o:b", "data") in tree.edges and ("o:b", "o:a/a2", "data") in tree.edges


def test_a_composite_call_is_one_box_named_after_its_output():
    graph = cr.Graph()
    with graph.as_default():
        w = cr.placeholder(cr.float64, [3, 2], name="W")
        x = cr.placeholder(cr.float64, [2, None], name="x")
        y = cr.placeholder(cr.float64, [3, None], name="y")
        cr.reduce_mean(cr.square(cr.matmul(w, x) - y), name="loss")
        xent = cr.nn.softmax_cross_entropy_with_logits(labels=y, logits=cr.matmul(w, x))
        cr.reduce_mean(cr.reduce_mean(xent))  # two calls: two boxes
    data = graph_data(graph)
    groups = data["groups"]
    # reduce_mean built Sum, Size, FloorDiv, Cast... and the division named "loss": one box "loss".
    assert groups["g:loss"]["composite"] == "reduce_mean"
    assert data["parent"]["o:loss"] == "g:loss" and data["ops"]["o:loss"]["type"] == "RealDiv"
    inside = {data["ops"][c]["type"] for c in groups["g:loss"]["children"]}
    assert {"Sum", "Size", "FloorDiv", "Cast", "RealDiv"} <= inside, inside
    assert data["ops"]["o:loss/Sum"]["name"] == "Sum"  # op names do not change
    assert data["parent"]["o:Square"] == "g:" and data["parent"]["o:MatMul"] == "g:"
    xent_box = "g:" + xent.op.name
    assert groups[xent_box]["composite"] == "softmax_cross_entropy_with_logits"
    assert {data["ops"][c]["type"] for c in groups[xent_box]["children"]} == {
        "StopGradient",
        "SoftmaxCrossEntropyWithLogits",
    }
    means = [g for g in groups.values() if g["composite"] == "reduce_mean"]
    assert len(means) == 3
    # The edges still join the real ops: W -> MatMul -> Sub -> Square -> Sum (inside the box).
    assert ["o:Square", "o:loss/Sum", "data"] in data["edges"]


def test_the_demo_graph_points_at_the_demo_not_the_console_script():
    from chainrule import demo

    ctx = demo.DemoContext(out_dir=".")
    demo.cos_derivative(ctx)
    graph = ctx.results["cos"][0]
    sources = {op["type"]: op["source"] for op in graph_data(graph)["ops"].values()}
    assert "demo.py" in sources["Cos"] and "y = cr.cos(x)" in sources["Cos"], sources["Cos"]
    assert "test_graph_render.py" not in sources["Cos"]


def test_graph_data_for_the_page():
    graph, *_ = _graph()
    data = graph_data(graph)
    cos = data["ops"]["o:model/Cos"]
    assert cos["type"] == "Cos" and cos["short"] == "Cos" and not cos["gradient"]
    assert cos["outputs"] == [["float64", "(?,)"]]
    assert "test_graph_render.py" in cos["source"] and "y = cr.cos(w * x)" in cos["source"]
    assert data["ops"]["o:model/w"]["kind"] == "variable"
    assert data["ops"]["o:x"]["kind"] == "placeholder"
    assert data["groups"]["g:gradients"]["gradient"] is True
    assert data["groups"]["g:model"]["gradient"] is False
    assert all(op["gradient"] == name.startswith("o:gradients/") for name, op in data["ops"].items())
    assert any(kind == "control" for _, _, kind in data["edges"])


def test_render_html_is_self_contained(tmp_path):
    graph, *_ = _graph()
    path = cr.viz.render(graph, tmp_path / "sub" / "g.html", title="a </script> title")
    page = (tmp_path / "sub" / "g.html").read_text(encoding="utf-8")
    assert path == str(tmp_path / "sub" / "g.html")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script>" in page
    # No network: no external scripts, styles, images or fonts; the only URL is the SVG namespace.
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"] * page.count(
        "http://www.w3.org/2000/svg"
    )
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(http", page)
    assert "a &lt;/script&gt; title" in page
    payload = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', page, re.S).group(1)
    assert json.loads(payload)["groups"]["g:"]["num_ops"] == len(graph.get_operations())


def test_render_dot_and_unknown_extension(tmp_path):
    graph, *_ = _graph()
    cr.viz.render(graph, tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match=r"\.html, \.dot"):
        cr.viz.render(graph, tmp_path / "g.txt")


def test_svg_without_graphviz_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"(?s)Graphviz 'dot'.*apt-get install graphviz.*'\.html'"):
        cr.viz.render(cr.constant(1.0), tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (optional for .svg output)")
def test_svg_with_graphviz(tmp_path):
    graph, *_ = _graph()
    cr.viz.render(graph, tmp_path / "g.svg")
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "gradients" in svg and "Cos" in svg


def _control_flow_graph() -> cr.Graph:
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [], name="x")
        y = cr.cond(x > 0, lambda: cr.sin(x), lambda: -x, name="branch")
        cr.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, cr.cos(v) * y), [cr.constant(0), x], name="loop")
    return graph


def test_conds_and_loops_are_frames_holding_their_functions():
    data = graph_data(_control_flow_graph())
    # The If op sits in a frame named after it, beside a frame per branch (as TensorBoard draws cond/).
    assert data["parent"]["o:branch/If"] == "g:branch"
    assert {"g:branch/then_branch", "g:branch/else_branch"} <= set(data["groups"])
    sin = data["ops"]["o:branch/then_branch/Sin"]
    assert sin["type"] == "Sin" and sin["short"] == "Sin"
    assert data["parent"]["o:branch/then_branch/Sin"] == "g:branch/then_branch"
    assert data["ops"]["o:branch/else_branch/Neg"]["type"] == "Neg"
    # The loop's frame holds the While op and its cond and body functions.
    assert data["ops"]["o:loop/While"]["type"] == "While"
    body_ops = {d["type"] for name, d in data["ops"].items() if name.startswith("o:loop/body/")}
    assert {"Cos", "Mul", "Add"} <= body_ops, body_ops
    assert any(name.startswith("o:loop/cond/") and d["type"] == "Less" for name, d in data["ops"].items())
    # Edges inside a function join its ops; the outer ones reach the frame's op.
    edges = {(a, b) for a, b, _ in data["edges"]}
    assert ("o:x", "o:branch/If") in edges
    assert any(a.startswith("o:loop/body/") and b.startswith("o:loop/body/") for a, b in edges)
    assert {"g:branch", "g:loop"} <= set(data["groups"]["g:"]["children"])


def test_dot_draws_function_frames_as_clusters():
    dot = cr.viz.to_dot(_control_flow_graph())
    assert '"branch/then_branch/Sin"' in dot and 'label="then_branch"' in dot
    assert '"x" -> "branch/If"' in dot
