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

MODULES = sorted(m.name for m in pkgutil.walk_packages(cr.__path__, "chainrule.") if not m.name.endswith("__main__"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _examples(module_name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder().find(module, globs={"cr": cr, "np": np})
    return [t for t in tests if t.examples and t.name.startswith(module_name)]


def test_docstrings_hold_examples():
    count = sum(len(t.examples) for name in MODULES for t in _examples(name))
    assert count >= 40, count


@pytest.mark.parametrize("module_name", [m for m in MODULES if _examples(m)])
def test_docstring_examples_run(module_name, capsys):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _examples(module_name):
        with cr.Graph().as_default():
            runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 0
    assert failed == 0, capsys.readouterr().out[-6000:]
