"""Loop bodies on the array-module backend: they run as programs of the backend, inside the run.

A ``while_loop`` body's variable updates go to the run's own view of the variables, like the
plan's: later reads of the same run see them, and they are committed only when the whole run
succeeded (``backends.array_module``), so a run that fails after the loop changes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.backends.array_module import ArrayModuleBackend, ModuleLoop


def counting_loop():
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [None])
        v = cr.Variable(np.float64(0.0), name="v")

        def body(i, a):  # type: ignore[no-untyped-def]
            with cr.control_dependencies([v.assign_add(1.0)]):
                return i + 1, a * 2.0

        _, out = cr.while_loop(lambda i, a: i < 3, body, [cr.constant(0), x])
        with cr.control_dependencies([out]):
            after = v.read_value()
        checked = cr.debugging.check_numerics(cr.math.sqrt(out), "sqrt of the loop's value")
        init = cr.global_variables_initializer()
    return g, x, v, out, after, checked, init


def test_a_loop_body_updates_the_runs_view_and_later_reads_see_it():
    g, x, v, out, after, _, init = counting_loop()
    with cr.Session(graph=g, backend=ArrayModuleBackend(np)) as sess:
        sess.run(init)
        got_out, got_after = sess.run([out, after], {x: np.ones(2)})
        np.testing.assert_array_equal(got_out, [8.0, 8.0])
        assert got_after == 3.0 and sess.run(v) == 3.0
        assert any(isinstance(e, ModuleLoop) for e in sess.run_state.loop_functions())


def test_a_run_failing_after_a_loop_body_updated_a_variable_changes_nothing():
    g, x, v, _, _, checked, init = counting_loop()
    with cr.Session(graph=g, backend=ArrayModuleBackend(np)) as sess:
        sess.run(init)
        sess.run(checked, {x: np.ones(2)})
        assert sess.run(v) == 3.0
        with pytest.warns(RuntimeWarning), pytest.raises(cr.errors.InvalidArgumentError, match="had NaN values"):
            sess.run(checked, {x: -np.ones(2)})  # the loop ran (three updates), then the check failed
        assert sess.run(v) == 3.0  # as before the failed run: the loop's updates were not committed
