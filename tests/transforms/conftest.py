"""Fixtures shared by the transform tests."""

import pytest

from chainrule.framework.graph import Graph


@pytest.fixture
def op_counter(monkeypatch):
    """Counts graphs and ops created anywhere (any graph) while the test runs."""
    counts = {"graphs": 0, "ops": 0}
    init, create_op = Graph.__init__, Graph.create_op

    def counting_init(self, *a, **k):
        counts["graphs"] += 1
        init(self, *a, **k)

    def counting_create_op(self, *a, **k):
        counts["ops"] += 1
        return create_op(self, *a, **k)

    monkeypatch.setattr(Graph, "__init__", counting_init)
    monkeypatch.setattr(Graph, "create_op", counting_create_op)
    return counts
