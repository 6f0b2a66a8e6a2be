"""The backend interface: choosing a backend by name, argument or environment, and a backend of one's own."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.runtime import backends


class CountingBackend(backends.NumPyBackend):
    """The NumPy backend, counting the programs it builds and the op types they hold."""

    name = "counting"

    def __init__(self) -> None:
        self.built: list[list[str]] = []

    def build(self, program, xp, state, options):  # type: ignore[no-untyped-def]
        self.built.append([n.op_type for n in program.nodes])
        return super().build(program, xp, state, options)


def test_default_backend_is_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backends.BACKEND_VARIABLE, raising=False)
    assert cr.Session(graph=cr.Graph()).backend.name == "numpy"


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"Unknown backend 'nope'; the backends are .*numpy"):
        cr.Session(graph=cr.Graph(), backend="nope")


def test_environment_variable_picks_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingBackend()
    backends.register_backend("counting-env", counting)
    monkeypatch.setenv(backends.BACKEND_VARIABLE, "counting-env")
    g = cr.Graph()
    with g.as_default():
        x = cr.placeholder(cr.float64, [2])
        y = cr.cos(x)
    with cr.Session(graph=g) as sess:
        assert sess.backend is counting
        np.testing.assert_array_equal(sess.run(y, {x: np.zeros(2)}), np.ones(2))
    assert counting.built and "Cos" in counting.built[0]


def test_backend_builds_the_plans_of_branch_functions_too() -> None:
    counting = CountingBackend()
    g = cr.Graph()
    with g.as_default():
        p = cr.placeholder(cr.bool, [])
        x = cr.placeholder(cr.float64, [3])
        y = cr.cond(p, lambda: cr.sin(x), lambda: cr.cos(x))
    with cr.Session(graph=g, backend=counting) as sess:
        np.testing.assert_array_equal(sess.run(y, {p: True, x: np.zeros(3)}), np.zeros(3))
    kinds = [op for program in counting.built for op in program]
    assert "Sin" in kinds  # the taken branch's program went through the backend


def test_backend_argument_must_be_a_name_or_a_backend() -> None:
    with pytest.raises(TypeError, match="backend must be a name"):
        cr.Session(graph=cr.Graph(), backend=3)  # type: ignore[arg-type]


def test_lowering_rules_come_from_the_declaration() -> None:
    rule = cr.ops.registry.lowering_rule("Cos", "no-such-backend")
    assert rule is None
    assert cr.ops.registry.get_op_def("Cos").lower == {}
