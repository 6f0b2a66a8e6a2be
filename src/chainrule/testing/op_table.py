"""Running op-table samples (``chainrule.testing.samples``) on a chosen backend: shared by the table's tests.

``sample_graph`` builds a sample's graph (placeholders of the arguments' dtypes and static shapes,
the sample's outputs and, when it is differentiable, the gradients of their sums with respect to
its floating arguments); ``run_sample_graph`` runs it on a Session of a given backend. The two
backends' results are then compared value for value (``tests/backends``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import chainrule as cr

SEED = 1234  # a graph seed, so random ops draw the same numbers on every backend
# Ops whose numbers come from the backend's own generator (CuPy's is not NumPy's): on such a
# backend only their shapes and dtypes can be compared with the NumPy backend's.
RANDOM_OP_TYPES = frozenset(
    {"RandomUniform", "RandomStandardNormal", "RandomUniformInt", "TruncatedNormal", "RandomShuffle", "Multinomial"}
)


def as_list(result: Any) -> list[Any]:
    """A sample function's result as a list of tensors."""
    return list(result) if isinstance(result, (list, tuple)) else [result]


@dataclass
class SampleGraph:
    graph: Any
    inputs: list[Any]
    outputs: list[Any]
    gradients: list[Any]

    @property
    def fetches(self) -> list[Any]:
        return [*self.outputs, *self.gradients]


def sample_graph(
    sample: Any, args: Sequence[np.ndarray], gradients: bool = True, unknown_dims: bool = False
) -> SampleGraph:
    """The graph of ``sample`` on placeholders for ``args``, with its gradients where it is differentiable.

    ``unknown_dims``: the placeholders have the arguments' ranks but every dim unknown.
    """
    graph = cr.Graph()
    with graph.as_default():
        cr.set_random_seed(SEED)
        inputs = [
            cr.placeholder(a.dtype, [None] * a.ndim if unknown_dims else a.shape, name=f"arg{i}")
            for i, a in enumerate(args)
        ]
        outputs = as_list(sample.fn(*inputs))
        grads: list[Any] = []
        if gradients and sample.order > 0:
            floats = [o for o in outputs if o.dtype.is_floating]
            wrt = [inputs[i] for i in (sample.wrt or range(len(inputs))) if inputs[i].dtype.is_floating]
            if floats and wrt:
                grads = [g for g in cr.gradients([cr.reduce_sum(o) for o in floats], wrt) if g is not None]
    return SampleGraph(graph, inputs, outputs, [g for g in grads if isinstance(g, cr.Tensor)])


def run_sample_graph(built: SampleGraph, args: Sequence[np.ndarray], backend: Any = None) -> list[np.ndarray]:
    """``built``'s fetches run on a Session of ``backend``, as arrays."""
    with cr.Session(graph=built.graph, backend=backend) as sess:
        values = sess.run(built.fetches, dict(zip(built.inputs, args)))
    return [np.asarray(v) for v in values]


BUDGET_VARIABLE = "CHAINRULE_NATIVE_SAMPLES_PER_OP"


def budgeted(items: Sequence[Any], key: Any = None) -> list[Any]:
    """The first ``CHAINRULE_NATIVE_SAMPLES_PER_OP`` items of each op function (``all``: every item).

    Compiling native code costs about 0.3 s per plan on a cold cache, so the tests that compile a
    plan per sample run a fixed budget by default (one sample per op function, and so per
    declaration); ``CHAINRULE_NATIVE_SAMPLES_PER_OP=all`` runs the whole table. ``key(item)`` is
    the group an item counts against (default: its op function's name, ``item.name``).
    """
    text = os.environ.get(BUDGET_VARIABLE, "1").strip().lower()
    if text == "all":
        return list(items)
    try:
        per_op = int(text)
    except ValueError:
        raise ValueError(f"{BUDGET_VARIABLE}={text!r}: expected a positive integer or 'all'") from None
    seen: dict[Any, int] = {}
    chosen = []
    for item in items:
        group = key(item) if key is not None else item.name
        if seen.get(group, 0) < per_op:
            seen[group] = seen.get(group, 0) + 1
            chosen.append(item)
    return chosen


def layout_mismatch(
    fetches: Sequence[Any], got: Sequence[Any], want: Sequence[Any], where: str = "the backend"
) -> str | None:
    """Where two backends' results differ in number, dtype or shape (None when they agree)."""
    if len(got) != len(want):
        return f"{len(got)} results on {where}, {len(want)} on numpy"
    for tensor, g, w in zip(fetches, got, want):
        g, w = np.asarray(g), np.asarray(w)
        if g.dtype != w.dtype or g.shape != w.shape:
            return f"{tensor.name}: {g.dtype}{g.shape} on {where}, {w.dtype}{w.shape} on numpy"
    return None


def value_mismatch(
    fetches: Sequence[Any], got: Sequence[Any], want: Sequence[Any], rtol: float, where: str = "the backend"
) -> str | None:
    """Where two backends' results differ (None when they agree): dtypes and shapes equal, integer,
    bool and string values exact, floats to ``rtol`` relative (absolute: ``rtol`` times the largest
    finite magnitude), NaN where NaN."""
    layout = layout_mismatch(fetches, got, want, where)
    if layout is not None:
        return layout
    for tensor, g, w in zip(fetches, got, want):
        g, w = np.asarray(g), np.asarray(w)
        if w.dtype.kind in "biuSUO":
            if not np.array_equal(g, w):
                return f"{tensor.name}: values differ on {where}"
            continue
        finite = np.abs(w[np.isfinite(w)]) if w.size else w
        scale = float(finite.max()) if finite.size else 1.0
        if not np.allclose(g, w, rtol=rtol, atol=rtol * scale, equal_nan=True):
            worst = float(np.nanmax(np.abs(g - w))) if w.size else 0.0
            return f"{tensor.name}: max abs difference {worst:.3g} (scale {scale:.3g}) on {where}"
    return None
