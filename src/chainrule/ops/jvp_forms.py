"""The common shapes of forward-mode (JVP) rules, for op declarations to name.

A JVP rule is ``jvp(op, *input_tangents) -> [tangent per output]``; a tangent is None where it
is zero (and for non-float inputs), and a rule returns None for an output whose tangent is
zero. Rules are built from chainrule ops (so they can be differentiated again) and follow the
ops' gradient conventions (kinks, ties, ``where``). Ops without a rule get their JVP by
transposing their gradient (``autodiff.forward``), which is always correct but builds about
twice the graph; unary elementwise ops derive theirs from the gradient (``registry.diagonal_jvp``).

- ``linear``: the op is linear in its float inputs jointly, so its JVP is the op itself applied
  to the tangents (zeros for the missing ones);
- ``linear_in(k...)``: linear in some inputs, and constant (gradient None) in the other floats;
- ``multilinear``: linear in each float input separately (products, matmul, einsum, conv), so the
  JVP sums the op with one input at a time replaced by its tangent;
- an explicit formula, written beside the op's declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.framework.graph import Operation, Tensor
from chainrule.ops import raw_ops
from chainrule.ops.registry import apply_op

Rule = Callable[..., Sequence[Any]]
Tangent = Tensor | None


def reapply(op: Operation, inputs: Sequence[Tensor]) -> list[Tensor]:
    """The op again (same type and attributes) on other inputs."""
    return list(apply_op(op.type, list(inputs), op.kernel_attrs).outputs)


def zero_fill(x: Tensor, t: Tangent) -> Tensor:
    """The tangent ``t`` of ``x``, with zeros of ``x``'s shape for a zero (None) tangent."""
    return t if t is not None else raw_ops.filled_like(x, 0)


def sum_tangents(terms: Sequence[Tangent]) -> Tangent:
    """The sum of the non-zero terms (None when all are zero)."""
    live = [t for t in terms if t is not None]
    if not live:
        return None
    out = live[0]
    for t in live[1:]:
        out = out + t
    return out


def _carries_tangent(x: Tensor) -> bool:
    return x.dtype.is_floating or x.dtype.is_complex


def linear(op: Operation, *tangents: Tangent) -> list[Tangent]:
    """The JVP of an op that is linear in its float inputs jointly: the op on the tangents."""
    inputs = [
        (zero_fill(x, t) if x.dtype.is_floating or x.dtype.is_complex else x) for x, t in zip(op.inputs, tangents)
    ]
    return list(reapply(op, inputs))


def linear_in(*indices: int) -> Rule:
    """The JVP of an op linear in the inputs ``indices`` and constant in its other float inputs."""

    def rule(op: Operation, *tangents: Tangent) -> list[Tangent]:
        if all(tangents[i] is None for i in indices):
            return [None] * len(op.outputs)
        inputs = list(op.inputs)
        for i in indices:
            inputs[i] = zero_fill(inputs[i], tangents[i])
        return list(reapply(op, inputs))

    return rule


def multilinear(op: Operation, *tangents: Tangent) -> list[Tangent]:
    """The JVP of an op linear in each float input separately: one term per input with a tangent."""
    terms: list[list[Tensor]] = []
    for i, t in enumerate(tangents):
        if t is not None:
            inputs = list(op.inputs)
            inputs[i] = t
            terms.append(reapply(op, inputs))
    return [sum_tangents([term[k] for term in terms]) for k in range(len(op.outputs))]


def zero(op: Operation, *tangents: Tangent) -> list[Tangent]:
    """The JVP of an op whose outputs do not change with its float inputs (piecewise constant)."""
    return [None] * len(op.outputs)
