"""Forward mode: ``forward_gradients(ys, xs, tangents)`` adds the graph of ``J · tangents`` to the graph.

The pass, top to bottom:
1. Find the ops that lie on a path from some x to some y.
2. Visit them in creation order (a topological order). For each op whose float inputs carry a
   tangent, build the tangents of its outputs:
   - from the op's registered JVP rule (``register_jvp``), where it has one;
   - otherwise *by transposition*: the op's gradient ``u -> J_op^T u`` is linear in the
     cotangent ``u``, and reverse mode through it against the input tangents gives
     ``J_op · t``. So every differentiable op works, rules only make it cheaper.
   Output tangents of broadcasting ops are broadcast to the output's shape here, in one place
   (the forward counterpart of reverse mode's un-broadcasting).
3. Return the tangent of each y (None, or zeros, where no x reaches it).

The result is ordinary graph: it can be run, differentiated again by reverse mode
(reverse-over-forward) or built on a gradient (forward-over-reverse Hessian-vector products).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.autodiff.gradients import backprop_op, downstream_ops, gradients, is_differentiable, needed_within
from chainrule.framework.graph import Operation, Tensor
from chainrule.ops import array_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import get_op_def, gradient_function

# Set to False (tests only) to build every op's JVP by transposition.
USE_RULES = True


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _between(ys: Sequence[Tensor], xs: Sequence[Tensor]) -> list[Operation]:
    """Ops downstream of some x (through float tensors) that some y depends on, in creation order."""
    graph = xs[0].graph
    downstream = downstream_ops([c for x in xs for c in graph.consumers(x)], graph.consumers)
    return sorted(needed_within(ys, downstream), key=lambda o: o.id)


def forward_gradients(
    ys: Any,
    xs: Any,
    tangents: Any = None,
    name: str = "forward_gradients",
    unconnected_gradients: str = "none",
) -> list[Tensor | None]:
    """Symbolic directional derivatives ``sum_j dy/dx_j · tangents_j``, one per y (forward mode).

    Parameters
    ----------
    ys : a tensor or list of tensors.
    xs : a tensor or list of tensors that the ys depend on.
    tangents : one tensor per x (its shape and dtype), ones by default.
    name : name scope of the forward-mode ops.
    unconnected_gradients : ``"none"`` (None for a y that no x reaches) or ``"zero"``.

    Returns
    -------
    A list with one entry per y: a tensor of y's shape, or None.

    Examples
    --------
    >>> x = cr.placeholder(cr.float64, [3])
    >>> (dy,) = cr.forward_gradients(cr.sin(x), [x], [cr.ones([3], cr.float64)])   # cos(x)
    """
    if unconnected_gradients not in ("none", "zero"):
        raise ValueError(f"unconnected_gradients must be 'none' or 'zero', got {unconnected_gradients!r}")
    ys_t = [convert_to_tensor(y) for y in _as_list(ys)]
    xs_t = [convert_to_tensor(x) for x in _as_list(xs)]
    if tangents is None:
        tangent_list: list[Any] = [None] * len(xs_t)
    else:
        tangent_list = _as_list(tangents)
        if len(tangent_list) != len(xs_t):
            raise ValueError(f"tangents has {len(tangent_list)} entries but xs has {len(xs_t)}")
    if not ys_t:
        return []
    graph = ys_t[0].graph
    with graph.as_default(), graph.name_scope(name):
        seeds: dict[Tensor, Tensor] = {}
        for x, t in zip(xs_t, tangent_list):
            if not is_differentiable(x):
                continue
            if t is None:
                t = array_ops.ones_like(x, name="tangent")
            else:
                t = convert_to_tensor(t, dtype=x.dtype)
                if x.shape.is_fully_defined() and t.shape.is_fully_defined() and t.shape != x.shape:
                    raise ValueError(f"forward_gradients: tangent of shape {t.shape} for {x.name} of shape {x.shape}")
            prev = seeds.get(x)
            seeds[x] = t if prev is None else prev + t  # x listed twice: both tangents
        tangent: dict[Tensor, Tensor] = dict(seeds)
        for op in _between(ys_t, xs_t) if xs_t else []:
            in_tangents = [tangent.get(t) if is_differentiable(t) else None for t in op.inputs]
            if all(t is None for t in in_tangents):
                continue
            outs = jvp_op(op, in_tangents)
            for y, ty in zip(op.outputs, outs):
                ty = _add(ty, seeds.get(y))  # an x computed from another x: both contributions
                if ty is not None:
                    tangent[y] = ty
        results: list[Tensor | None] = []
        for y in ys_t:
            ty = tangent.get(y)
            if ty is None and unconnected_gradients == "zero" and is_differentiable(y):
                ty = array_ops.zeros_like(y)
            results.append(ty)
        return results


def _add(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def jvp_op(op: Operation, in_tangents: Sequence[Tensor | None]) -> list[Tensor | None]:
    """The output tangents of one op given its input tangents (None: zero), by rule or by transposition."""
    grad_fn = gradient_function(op)  # raises LookupError naming the op when it has no gradient
    if grad_fn is None:
        return [None] * len(op.outputs)  # not differentiable: reverse mode treats it as a constant too
    op_def = get_op_def(op.type)
    overridden = op.gradient_overridden  # a user's gradient must win over the built-in rule
    with op.graph.name_scope(op.name + "_jvp"):
        if op_def.jvp is not None and USE_RULES and not overridden:
            outs = list(op_def.jvp(op, *in_tangents))
            if len(outs) != len(op.outputs):
                raise ValueError(
                    f"The JVP rule of {op.describe()}\nreturned {len(outs)} tangents, but the op has "
                    f"{len(op.outputs)} outputs."
                )
        else:
            outs = _transpose_jvp(op, in_tangents)
        return [_fit(t, y, op_def.broadcasts) for t, y in zip(outs, op.outputs)]


def _fit(t: Any, y: Tensor, broadcasts: bool) -> Tensor | None:
    """The tangent as a tensor of ``y``'s dtype and (for broadcasting ops) shape; None for non-float y."""
    if t is None or not is_differentiable(y):
        return None
    t = convert_to_tensor(t, dtype=y.dtype)
    if y.shape.is_fully_defined():
        if t.shape != y.shape:
            t = array_ops.broadcast_to(t, y.shape.as_list())
    elif broadcasts or t.shape.rank != y.shape.rank:
        t = array_ops.broadcast_to(t, array_ops.shape(y))
    return t


def _transpose_jvp(op: Operation, in_tangents: Sequence[Tensor | None]) -> list[Tensor | None]:
    """``J_op · t`` as the derivative of the linear map ``u -> J_op^T u`` (the op's gradient) along ``t``."""
    us = [array_ops.zeros_like(y, name="u") if is_differentiable(y) else None for y in op.outputs]
    input_grads = backprop_op(op, us)
    pairs = [(g, t) for g, t in zip(input_grads, in_tangents) if g is not None and t is not None]
    live = [u for u in us if u is not None]
    if not pairs or not live:
        return [None] * len(op.outputs)
    jvps = gradients([g for g, _ in pairs], live, grad_ys=[t for _, t in pairs], name="transpose")
    it = iter(jvps)
    return [next(it) if u is not None else None for u in us]
