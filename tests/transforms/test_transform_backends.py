"""``cr.function`` and the transforms take ``backend=``: the traced graphs' programs are built by it."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.runtime import backends


class CountingBackend(backends.NumPyBackend):
    """The NumPy backend, counting the programs it builds and the op types they hold (fused ones too)."""

    name = "counting"

    def __init__(self) -> None:
        self.built: list[list[str]] = []

    def build(self, program, xp, state, options):  # type: ignore[no-untyped-def]
        types = []
        for n in program.nodes:
            types.append(n.op_type)
            if n.op_type == "Fused":
                types.extend(m.op_type for m in n.extra.members)
        self.built.append(types)
        return super().build(program, xp, state, options)

    def op_types(self) -> set[str]:
        return {t for program in self.built for t in program}


def _f(x):
    return cr.reduce_sum(cr.sin(x) * x)


X = np.linspace(0.1, 0.9, 4)
V = np.linspace(1.0, 2.0, 4)


def test_function_runs_on_the_given_backend():
    counting = CountingBackend()
    f = cr.function(lambda x: cr.sin(x), backend=counting)
    np.testing.assert_allclose(f(X), np.sin(X))
    assert "Sin" in counting.op_types()
    assert f.backend is counting


def test_function_as_a_decorator_with_a_backend():
    counting = CountingBackend()

    @cr.function(backend=counting)
    def g(x):
        return cr.cos(x)

    np.testing.assert_allclose(g(X), np.cos(X))
    assert "Cos" in counting.op_types()


def test_function_of_a_function_with_another_backend_is_a_new_function():
    counting = CountingBackend()
    f = cr.function(lambda x: cr.exp(x))
    g = cr.function(f, backend=counting)
    assert g is not f and cr.function(f) is f
    np.testing.assert_allclose(g(X), np.exp(X))
    assert "Exp" in counting.op_types()


@pytest.mark.parametrize(
    "transform, call, expected",
    [
        (lambda b: cr.grad(_f, backend=b), lambda t: t(X), np.sin(X) + X * np.cos(X)),
        (lambda b: cr.value_and_grad(_f, backend=b), lambda t: t(X)[1], np.sin(X) + X * np.cos(X)),
        (lambda b: cr.jacobian(lambda x: cr.sin(x), backend=b), lambda t: t(X), np.diag(np.cos(X))),
        (lambda b: cr.hessian(_f, backend=b), lambda t: t(X), np.diag(2 * np.cos(X) - X * np.sin(X))),
        (lambda b: cr.vmap(lambda x: cr.reduce_sum(cr.sin(x)), backend=b), lambda t: t(np.stack([X, V])),
         np.sin(np.stack([X, V])).sum(1)),
    ],
    ids=["grad", "value_and_grad", "jacobian", "hessian", "vmap"],
)  # fmt: skip
def test_transforms_run_on_the_given_backend(transform, call, expected):
    counting = CountingBackend()
    np.testing.assert_allclose(call(transform(counting)), expected, rtol=1e-12)
    assert counting.built, "the backend built no program"
    assert "Sin" in counting.op_types() or "Cos" in counting.op_types()


def test_vjp_jvp_hvp_run_on_the_given_backend():
    counting = CountingBackend()

    def h(x):
        return cr.sin(x) * 2.0

    out, pull = cr.vjp(h, X, backend=counting)
    np.testing.assert_allclose(out, 2 * np.sin(X))
    np.testing.assert_allclose(pull(V)[0], 2 * np.cos(X) * V)
    assert counting.built
    jvp_counting = CountingBackend()
    _, tangent = cr.jvp(h, (X,), (V,), backend=jvp_counting)
    np.testing.assert_allclose(tangent, 2 * np.cos(X) * V)
    assert jvp_counting.built
    hvp_counting = CountingBackend()
    np.testing.assert_allclose(cr.hvp(_f, X, V, backend=hvp_counting), (2 * np.cos(X) - X * np.sin(X)) * V)
    assert hvp_counting.built


def test_the_same_function_on_two_backends_keeps_two_transforms():
    first, second = CountingBackend(), CountingBackend()

    def k(x):
        return cr.tanh(x)

    cr.jvp(k, (X,), (V,), backend=first)
    cr.jvp(k, (X,), (V,), backend=second)
    assert first.built and second.built


def test_environment_variable_applies_when_no_backend_is_given(monkeypatch):
    counting = CountingBackend()
    backends.register_backend("counting-transforms", counting)
    monkeypatch.setenv(backends.BACKEND_VARIABLE, "counting-transforms")
    np.testing.assert_allclose(cr.grad(_f)(X), np.sin(X) + X * np.cos(X))
    assert counting.built


def test_unknown_backend_fails_when_the_function_is_made():
    with pytest.raises(ValueError, match="Unknown backend 'nope'"):
        cr.grad(_f, backend="nope")
