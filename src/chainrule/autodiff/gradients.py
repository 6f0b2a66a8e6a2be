"""Reverse mode: ``gradients(ys, xs)`` adds the graph of d(sum ys)/d(xs) to the graph.

The pass, top to bottom:
1. Find the ops that lie on a path from some x to some y (``_between``: ``downstream_ops`` of
   the xs, then ``needed_within`` those by the ys).
2. Count, for each of those ops, how many of its consumers lie on such a path
   (its *pending* count): an op's gradient is complete only when every consumer
   has sent its share.
3. Seed each y with ``grad_ys`` (ones by default) and process ops from a ready
   queue: sum the gradients that arrived for its outputs, call its registered
   gradient function, sum each input's gradient back to the input's shape where
   the op broadcasts (the only place un-broadcasting happens), and hand it to
   the producer of that input, which becomes ready when its count reaches zero.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from chainrule.framework.graph import Operation, Tensor, as_graph_element, reachable
from chainrule.ops import array_ops, math_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import get_op_def, gradient_function


def _as_list(value: Any) -> tuple[list[Any], bool]:
    if isinstance(value, (list, tuple)):
        return list(value), True
    return [value], False


def _between(ys: Sequence[Tensor], xs: Sequence[Tensor], stop_ops: set[Operation]) -> set[Operation]:
    """Ops reachable forward from some x (without crossing a stop) that also reach some y."""
    if not xs:
        return set()
    return needed_within(ys, downstream_ops([x.op for x in xs], xs[0].graph.consumers, stop_ops))


def downstream_ops(
    start: Iterable[Operation],
    consumers: Callable[[Tensor], Iterable[Operation]],
    stop_ops: set[Operation] | frozenset[Operation] = frozenset(),
) -> set[Operation]:
    """``start`` and the ops that consume their float outputs, transitively, without entering a stop op.

    Only float tensors are followed: shapes, indices and masks carry no derivative.
    """
    return reachable(
        start,
        lambda op: (c for out in op.outputs if is_differentiable(out) for c in consumers(out) if c not in stop_ops),
    )


def needed_within(ys: Sequence[Tensor], ops: set[Operation]) -> set[Operation]:
    """The ops of ``ops`` that some y depends on through ops of ``ops``."""
    return reachable((y.op for y in ys if y.op in ops), lambda op: (t.op for t in op.inputs if t.op in ops))


def is_differentiable(t: Tensor) -> bool:
    """Whether derivatives flow through ``t``: float and complex tensors (shapes, indices and masks carry none)."""
    return t.dtype.is_floating or t.dtype.is_complex


class AggregationMethod:
    """How ``gradients`` sums the contributions several consumers send to one tensor (TF's constants).

    ``ADD_N`` (the default) adds them all in one ``AddN`` op, once every one has arrived;
    ``EXPERIMENTAL_TREE`` and ``EXPERIMENTAL_ACCUMULATE_N`` add them pairwise, as a chain of
    two-input ``AddN`` ops (TensorFlow does the same for both): the same sum, in a different order
    of additions, so float results may differ in the last bits.
    """

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


_AGGREGATION_METHODS = (
    AggregationMethod.ADD_N,
    AggregationMethod.EXPERIMENTAL_TREE,
    AggregationMethod.EXPERIMENTAL_ACCUMULATE_N,
)


class UnconnectedGradients(str, enum.Enum):
    """What ``gradients`` returns for an x that no y depends on: None (``NONE``) or zeros (``ZERO``)."""

    NONE = "none"
    ZERO = "zero"


def _aggregate(grads: Sequence[Tensor | None], method: int | None = None) -> Tensor | None:
    live = [g for g in grads if g is not None]
    if not live:
        return None
    if len(live) == 1:
        return live[0]
    if method in (AggregationMethod.EXPERIMENTAL_TREE, AggregationMethod.EXPERIMENTAL_ACCUMULATE_N):
        total = live[0]
        for g in live[1:]:
            total = math_ops.add_n([total, g])
        return total
    return math_ops.add_n(live)


def _as_grad_list(result: Any) -> list[Any]:
    """A gradient function's result as a list: a bare tensor (one input, as TF allows) is one entry."""
    return list(result) if isinstance(result, (list, tuple)) else [result]


def gradients(
    ys: Any,
    xs: Any,
    grad_ys: Any = None,
    name: str = "gradients",
    colocate_gradients_with_ops: bool = False,
    gate_gradients: bool = False,
    aggregation_method: int | None = None,
    stop_gradients: Any = None,
    unconnected_gradients: str = "none",
) -> list[Tensor | None]:
    """Symbolic derivatives of ``sum(ys)`` with respect to each of ``xs`` (TF 1.x's signature).

    Parameters
    ----------
    ys : a tensor or list of tensors to differentiate.
    xs : a tensor, Variable, or list of them.
    grad_ys : optional list of tensors (one per y) to start from; ones by default.
    name : name scope of the gradient ops.
    colocate_gradients_with_ops : accepted and ignored: device placement does not change values here.
    gate_gradients : accepted and ignored: TF uses it to order the gradients of one op against
        races between devices; a chainrule Session runs them in one deterministic order anyway.
    aggregation_method : a ``cr.AggregationMethod`` constant saying how several contributions to
        one tensor are summed (one ``AddN``, or pairwise); None: ``AggregationMethod.DEFAULT``.
    stop_gradients : tensors treated as constants with respect to every x: no gradient flows
        through them (``gradients(a + b, [a, b], stop_gradients=[a, b])`` is ``[1, 1]``, as in TF).
    unconnected_gradients : ``"none"`` (None for an x that does not reach any y) or ``"zero"``
        (a ``cr.UnconnectedGradients`` value works too).

    Returns
    -------
    A list with one entry per x: a tensor of x's shape, or None.
    """
    if isinstance(unconnected_gradients, UnconnectedGradients):
        unconnected_gradients = unconnected_gradients.value
    if unconnected_gradients not in ("none", "zero"):
        raise ValueError(f"unconnected_gradients must be 'none' or 'zero', got {unconnected_gradients!r}")
    if aggregation_method is not None and aggregation_method not in _AGGREGATION_METHODS:
        raise ValueError(f"Invalid aggregation_method specified {aggregation_method!r}: use cr.AggregationMethod.")
    ys_list, _ = _as_list(ys)
    xs_list, _ = _as_list(xs)
    ys_t = [convert_to_tensor(y) for y in ys_list]
    # A variable is differentiated as itself, not through a read made under control dependencies.
    xs_t = [convert_to_tensor(as_graph_element(x)) for x in xs_list]
    grad_ys_list = _as_list(grad_ys)[0] if grad_ys is not None else [None] * len(ys_t)
    if len(grad_ys_list) != len(ys_t):
        raise ValueError(f"grad_ys has {len(grad_ys_list)} entries but ys has {len(ys_t)}")
    stop_ops = {convert_to_tensor(t).op for t in (_as_list(stop_gradients)[0] if stop_gradients is not None else [])}
    if not ys_t or not xs_t:
        return [None] * len(xs_t)
    graph = ys_t[0].graph

    with graph.as_default(), graph.name_scope(name):
        between = _between(ys_t, xs_t, stop_ops)
        pending: collections.Counter[Operation] = collections.Counter()
        for op in between:
            for t in op.inputs:
                if t.op in between:
                    pending[t.op] += 1

        # Gradients received so far, per tensor (several paths each add a part).
        received: dict[Tensor, list[Tensor]] = collections.defaultdict(list)
        for y, gy in zip(ys_t, grad_ys_list):
            if gy is None:
                if not is_differentiable(y):
                    continue
                gy = array_ops.ones_like(y, name="grad_ys")
            else:
                gy = convert_to_tensor(gy, dtype=y.dtype)
            received[y].append(gy)

        x_set = set(xs_t)
        # Seeded in the order of ys (not from a set, whose order follows the hash seed): the order in
        # which gradient ops are built, and the order of each AddN's terms, is then the same in every process.
        ready = collections.deque(op for op in dict.fromkeys(y.op for y in ys_t) if op in between and pending[op] == 0)
        done: set[Operation] = set()
        while ready:
            op = ready.popleft()
            if op in done:
                continue
            done.add(op)
            out_grads = [_aggregate(received[t], aggregation_method) if t in received else None for t in op.outputs]
            for t, g in zip(op.outputs, out_grads):
                if g is not None and t in x_set:
                    received[t] = [g]  # keep the sum for the result
            input_grads = backprop_op(op, out_grads, stop_ops)
            for t, g in zip(op.inputs, input_grads):
                if g is not None and is_differentiable(t):
                    received[t].append(g)
            for t in op.inputs:
                if t.op in between:
                    pending[t.op] -= 1
                    if pending[t.op] == 0:
                        ready.append(t.op)

        results: list[Tensor | None] = []
        for x in xs_t:
            g = _aggregate(received.get(x, []), aggregation_method)
            if g is None and unconnected_gradients == "zero":
                g = array_ops.zeros_like(x)
            results.append(g)
        return results


def backprop_op(
    op: Operation, out_grads: Sequence[Tensor | None], stop_ops: set[Operation] | frozenset[Operation] = frozenset()
) -> list[Tensor | None]:
    """The gradient of each input of ``op``, given the gradients of its outputs (None: zero).

    Calls the op's registered gradient function (under ``<op name>_grad``) and, for a broadcasting
    op, sums each input's gradient back to that input's shape. An op in ``stop_ops``, or one
    without a gradient (``NotDifferentiable``), gives None for every input.
    """
    none: list[Tensor | None] = [None] * len(op.inputs)
    if op in stop_ops or all(g is None for g in out_grads) or not op.inputs:
        return none
    grad_fn = gradient_function(op)
    if grad_fn is None:
        return none
    # A multi-output op receives zeros for the outputs nobody differentiated.
    filled = [
        g if g is not None else (array_ops.zeros_like(t) if is_differentiable(t) else None)
        for t, g in zip(op.outputs, out_grads)
    ]
    with op.graph.name_scope(op.name + "_grad"):  # gradients/<scope>/<op>_grad, as TensorFlow
        input_grads = _as_grad_list(grad_fn(op, *filled))
        if len(input_grads) != len(op.inputs):
            raise ValueError(
                f"The gradient function of {op.describe()}\nreturned {len(input_grads)} gradients, "
                f"but the op has {len(op.inputs)} inputs."
            )
        if get_op_def(op.type).broadcasts:
            input_grads = [_unbroadcast(g, t) for g, t in zip(input_grads, op.inputs)]
        return [convert_to_tensor(g, dtype=t.dtype) if g is not None else None for g, t in zip(input_grads, op.inputs)]


def _unbroadcast(grad: Tensor | None, x: Tensor) -> Tensor | None:
    """Sum ``grad`` back to the shape of ``x``; a no-op when the static shapes already agree."""
    if grad is None:
        return None
    if x.shape.is_fully_defined() and grad.shape == x.shape:
        return grad
    target = x.shape.as_list() if x.shape.is_fully_defined() else array_ops.shape(x)
    return array_ops.sum_to_shape(grad, target)


def hessians(
    ys: Any,
    xs: Any,
    name: str = "hessians",
    colocate_gradients_with_ops: bool = False,
    gate_gradients: bool = False,
    aggregation_method: int | None = None,
) -> list[Tensor]:
    """Second derivatives of ``sum(ys)``: for each x, a tensor of shape ``x.shape + x.shape``.

    Each x must have a statically known size; the rows are built one gradient per element.
    ``colocate_gradients_with_ops``, ``gate_gradients`` and ``aggregation_method`` are passed to
    ``gradients`` (the first two are ignored there).
    """
    xs_list, _ = _as_list(xs)
    out = []
    for x in xs_list:
        x_t = convert_to_tensor(as_graph_element(x))
        n = x_t.shape.num_elements()
        if n is None:
            raise ValueError(f"hessians needs a statically known shape for {x_t.name}, got {x_t.shape}")
        kwargs: dict[str, Any] = {"aggregation_method": aggregation_method, "unconnected_gradients": "zero"}
        (g,) = gradients(ys, [x_t], name=name, **kwargs)
        flat = array_ops.reshape(g, [-1])
        rows = [gradients(flat[i], [x_t], name=name, **kwargs)[0] for i in range(n)]
        dims = x_t.shape.as_list()
        hess = array_ops.stack(rows) if rows else array_ops.zeros([0] + dims, dtype=x_t.dtype)
        out.append(array_ops.reshape(hess, dims + dims))
    return out
