"""Fixtures shared by the op tests."""

import json
import subprocess
import sys

import pytest

import chainrule as cr

# The columns of the library's own op declarations, read in a fresh interpreter, so that op types
# that tests register (custom ops, replaced declarations) never count as the library's.
_DECLARATIONS = r"""
import json
import chainrule
import chainrule.transforms
from chainrule.ops.registry import registered_gradient, registered_ops

ops = registered_ops()


def differentiable(name):
    try:
        return registered_gradient(name) is not None
    except LookupError:
        return False


def marked(name):
    try:
        registered_gradient(name)
        return True
    except LookupError:
        return False


print(json.dumps({
    "all": sorted(ops),
    "no_gradient_entry": sorted(n for n in ops if not marked(n)),
    "no_jvp": sorted(n for n, d in ops.items() if differentiable(n) and d.jvp is None),
    "no_batch_rule": sorted(n for n, d in ops.items() if d.batch is None and d.elementwise is None and not d.stateful),
    "elementwise_without_steps": sorted(n for n, d in ops.items() if d.elementwise and d.steps is None),
    "no_explain": sorted(n for n, d in ops.items() if d.explain is None),
}))
"""


@pytest.fixture(scope="session")
def library_declarations() -> dict[str, list[str]]:
    """Per column, the library's op types (``all``) and those lacking that column."""
    result = subprocess.run([sys.executable, "-c", _DECLARATIONS], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


@pytest.fixture
def fresh_graph():
    """A new graph, the default one while the test runs (modules opt in with ``usefixtures``)."""
    graph = cr.Graph()
    with graph.as_default():
        yield graph
