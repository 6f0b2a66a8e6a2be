"""Plans compiled in segments (``codegen.compile_segmented``) compute what one function does and name failing ops."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler import codegen


@pytest.fixture
def short_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codegen, "SEGMENT_LINES", 4)


def _graph() -> tuple[cr.Graph, cr.Tensor, cr.Tensor, list[cr.Tensor]]:
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [3], name="x")
        y = cr.placeholder(cr.float64, [3], name="y")
        parts = []
        h = x
        for i in range(30):
            h = cr.sin(h) * y + float(i)
            parts.append(h)
        outs = [h, cr.add_n(parts), parts[3]]  # one read late, one fetched from early on
    return graph, x, y, outs


@pytest.mark.parametrize("optimize", [True, False])
def test_segmented_plan_equals_one_function(short_segments: None, optimize: bool) -> None:
    graph, x, y, outs = _graph()
    feeds = {x: np.array([0.1, 0.2, 0.3]), y: np.array([1.0, -1.0, 0.5])}
    with graph.as_default(), cr.Session(optimize=optimize) as sess:
        got = sess.run(outs, feeds)
        (plan,) = sess.plans
        assert plan.source is not None and plan.source.count("def plan_") > 2
    with graph.as_default(), cr.Session(optimize=optimize) as sess:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(codegen, "SEGMENT_LINES", 10**9)
            want = sess.run(outs, feeds)
            assert "def plan_" not in (sess.plans[0].source or "")
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_error_in_a_later_segment_names_the_op(short_segments: None) -> None:
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [None], name="x")
        h = x
        for _ in range(40):
            h = cr.sin(h) + 1.0
        bad = cr.reshape(h, [2, 2], name="late_reshape")
        with cr.Session(optimize=False) as sess:
            with pytest.raises(cr.errors.InvalidArgumentError, match="late_reshape") as info:
                sess.run(bad, {x: np.ones(3)})
            assert sess.plans[0].source.count("def plan_") > 2  # type: ignore[union-attr]
    assert "test_segments.py" in str(info.value)  # the user's line that made the op


def test_short_plan_is_one_function() -> None:
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, [2])
        with cr.Session() as sess:
            sess.run(cr.sin(x) * 2.0, {x: np.ones(2)})
            assert "def plan_" not in (sess.plans[0].source or "")
