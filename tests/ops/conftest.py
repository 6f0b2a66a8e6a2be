"""Fixtures shared by the op tests."""

import pytest

import chainrule as cr


@pytest.fixture
def fresh_graph():
    """A new graph, the default one while the test runs (modules opt in with ``usefixtures``)."""
    graph = cr.Graph()
    with graph.as_default():
        yield graph
