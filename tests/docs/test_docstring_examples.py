"""Every ``>>>`` example in chainrule's docstrings runs and prints what it shows.

Each module of the package is imported and its docstrings' examples are run with ``cr`` and ``np``
in scope, each docstring in a fresh default graph (as the reference shows them).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.registry import registered_gradient, registered_ops

MODULES = sorted(m.name for m in pkgutil.walk_packages(cr.__path__, "chainrule.") if not m.name.endswith("__main__"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _examples(module_name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder().find(module, globs={"cr": cr, "np": np})
    return [t for t in tests if t.examples and t.name.startswith(module_name)]


def test_docstrings_hold_examples():
    count = sum(len(t.examples) for name in MODULES for t in _examples(name))
    assert count >= 40, count


def _gradients(op_types):
    found = {}
    for op_type in op_types:
        try:
            found[op_type] = registered_gradient(op_type)
        except LookupError:
            found[op_type] = "none"
    return found


@pytest.mark.parametrize("module_name", [m for m in MODULES if _examples(m)])
def test_docstring_examples_run(module_name, capsys):
    ops_before = registered_ops()
    gradients_before = _gradients(ops_before)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _examples(module_name):
        with cr.Graph().as_default():
            runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 0
    assert failed == 0, capsys.readouterr().out[-6000:]
    # The examples declare ops of their own names only: the registry is global, and an example that
    # replaced an op type (``ZeroOut``) or its gradient would change what later code in the process gets.
    ops_after = registered_ops()
    replaced = [t for t, d in ops_before.items() if ops_after[t] is not d]
    replaced += [t for t, g in _gradients(ops_before).items() if g is not gradients_before[t]]
    assert not replaced, f"{module_name}'s examples re-declared {replaced}"
