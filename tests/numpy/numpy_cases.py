"""Helpers for the chainrule.numpy tests (importable by name: pytest puts this folder on ``sys.path``).

A case is a function ``fn(m, *args)`` written against a NumPy-like module ``m``: called with NumPy it
gives the reference; with ``chainrule.numpy`` on arrays it must give exactly that (the eager path),
and on placeholders fed the same arrays it must give the same values and dtype (the graph path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as onp

import chainrule as cr
import chainrule.numpy as cnp

RNG = onp.random.default_rng(17)


def values(shape: Sequence[int], domain: str = "any", dtype: Any = onp.float64) -> onp.ndarray:
    """Random values of ``shape`` inside ``domain``: any, pos (> 0.1), unit (|x| < 0.9), gt1 (> 1.1), int."""
    shape = tuple(shape)
    if domain == "int":
        return RNG.integers(-4, 5, size=shape).astype(dtype)
    u = RNG.uniform(0.0, 1.0, size=shape)
    x = {"any": 4 * u - 2, "pos": 0.1 + 2 * u, "unit": 1.8 * u - 0.9, "gt1": 1.1 + 2 * u}[domain]
    # keep away from 0 (non-smooth points of abs, sign...) when any sign is allowed
    if domain in ("any", "unit"):
        x = onp.where(onp.abs(x) < 0.05, 0.3, x)
    return onp.asarray(x, dtype=dtype)


@dataclass
class Case:
    id: str
    fn: Callable[..., Any]
    args: list[Any]
    grad: bool = True  # check gradients by central differences (to second order)
    wrt: list[int] | None = None
    vmap: bool = False  # check cr.vmap over the first argument against a loop
    exact: bool = False  # graph values bitwise equal to NumPy's (else allclose)
    check: Callable[[Any, Any], None] | None = None  # custom comparison (expected, got)
    order: int = 2
    rtol: float = 1e-7
    extra: dict[str, Any] = field(default_factory=dict)


def _feedable(a: Any) -> bool:
    return isinstance(a, onp.ndarray)


def run_graph(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    """``fn(chainrule.numpy, *placeholders)`` run with the arrays of ``args`` fed (other args as they are)."""
    graph = cr.Graph()
    with graph.as_default():
        phs = [cr.placeholder(a.dtype, a.shape) if _feedable(a) else a for a in args]
        out = fn(cnp, *phs)
        feed = {p: a for p, a in zip(phs, args) if _feedable(a)}
        with cr.Session(graph=graph) as sess:
            return sess.run(list(out) if isinstance(out, tuple) else out, feed)


def assert_same(expected: Any, got: Any, rtol: float = 1e-7, exact: bool = False) -> None:
    if isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(expected)
        for e, g in zip(expected, got):
            assert_same(e, g, rtol, exact)
        return
    e, g = onp.asarray(expected), onp.asarray(got)
    assert g.dtype == e.dtype, f"dtype {g.dtype}, NumPy gives {e.dtype}"
    assert g.shape == e.shape, f"shape {g.shape}, NumPy gives {e.shape}"
    if exact or e.dtype.kind in "biu":
        onp.testing.assert_array_equal(g, e)
    else:
        tol = max(rtol, 4e-7) if e.dtype.itemsize <= 4 else rtol  # float32: a few ulps
        onp.testing.assert_allclose(g, e, rtol=tol, atol=1e-12, equal_nan=True)


def float_args(case: Case) -> list[int]:
    if case.wrt is not None:
        return case.wrt
    return [i for i, a in enumerate(case.args) if _feedable(a) and a.dtype.kind == "f"]
