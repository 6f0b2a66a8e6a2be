"""Control flow: ``cr.cond`` and ``cr.case`` (TensorFlow 1.x's), as one ``If`` op over traced branches.

Each branch function is traced once into a graph of its own (``FunctionGraph``): the tensors
of the enclosing graph it uses are captured as placeholders. The ``If`` op takes the predicate
and every tensor either branch captured, and its kernel runs only the branch the predicate
selects, as a plan of its own compiled on first use: a branch that would fail or divide by zero
is not executed when it is not taken, and ops inside a branch run only if its outputs (or their
control dependencies) need them, as in TensorFlow 1.x.

The gradient of an ``If`` is an ``If`` of the branches' gradients, built inside the branch
graphs (``autodiff.control_flow``), so gradients flow only into the taken branch, and the
gradient is itself differentiable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chainrule.framework.graph import FunctionGraph, Operation, Tensor, get_default_graph
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import apply_op, register_op


@dataclass(eq=False)
class BranchFunction:
    """A traced function: its graph, its input placeholders and its output tensors, in order."""

    graph: FunctionGraph
    inputs: list[Tensor]
    outputs: list[Tensor]

    def __repr__(self) -> str:
        return f"<branch {self.graph.name!r}: {len(self.inputs)} inputs, {len(self.outputs)} outputs>"


def _if_kernel(xp: Any, pred: Any, *args: Any, then_branch: Any, else_branch: Any, ctx: Any, op: Any) -> Any:
    branch = then_branch if bool(pred) else else_branch
    results = ctx.run_function(branch, args)
    return results[0] if len(results) == 1 else tuple(results)


def _most_specific_compatible(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.dims is None or b.dims is None or len(a.dims) != len(b.dims):
        return TensorShape(None)
    return TensorShape(x if x == y else None for x, y in zip(a.dims, b.dims))


def _if_infer(inputs: list[Tensor], then_branch: BranchFunction, else_branch: BranchFunction) -> list[Any]:
    pred = inputs[0]
    if not pred.dtype.is_bool or pred.shape.rank not in (0, None):
        raise TypeError(f"the predicate {pred.name} must be a bool scalar, got {pred.dtype.name}{pred.shape}")
    outs_t, outs_f = then_branch.outputs, else_branch.outputs
    if len(outs_t) != len(outs_f):
        raise ValueError(f"the branches return {len(outs_t)} and {len(outs_f)} tensors; they must match")
    specs = []
    for i, (t, f) in enumerate(zip(outs_t, outs_f)):
        if t.dtype != f.dtype:
            raise TypeError(f"output {i}: the true branch gives {t.dtype.name}, the false branch {f.dtype.name}")
        specs.append((t.dtype, _most_specific_compatible(t.shape, f.shape)))
    return specs


# Stateful: its kernel runs a branch with the session's state (variables a branch reads or assigns).
register_op("If", _if_kernel, _if_infer, stateful=True)


def _case_exclusive_kernel(xp: Any, *preds: Any, name: str) -> Any:
    true = [i for i, p in enumerate(preds) if bool(p)]
    if len(true) > 1:
        raise ValueError(f"case {name!r} with exclusive=True: more than one predicate is true (pairs {true})")
    return preds[0]


def _case_exclusive_infer(inputs: list[Tensor], name: str) -> list[Any]:
    for t in inputs:
        if not t.dtype.is_bool or t.shape.rank not in (0, None):
            raise TypeError(f"predicate {t.name} must be a bool scalar, got {t.dtype.name}{t.shape}")
    return [(inputs[0].dtype, inputs[0].shape)]


register_op("CaseExclusive", _case_exclusive_kernel, _case_exclusive_infer, None)


def trace(fn: Callable[[], Any], name: str) -> tuple[FunctionGraph, Any, list[Tensor]]:
    """Trace ``fn()`` into a new function graph: the graph, the structure it returned, and its leaves."""
    outer = get_default_graph()
    graph = FunctionGraph(outer, name)
    with graph.as_default():
        result = fn()
        # A branch may return a tensor of the enclosing graph as it is: its output is then the capture.
        leaves = [graph.capture(convert_to_tensor(leaf)) for leaf in _flatten(result)]
    return graph, result, leaves


def make_if(
    pred: Tensor,
    then_graph: FunctionGraph,
    then_outputs: list[Tensor],
    else_graph: FunctionGraph,
    else_outputs: list[Tensor],
    name: str | None = None,
) -> Operation:
    """The ``If`` op over two traced branches; each gets a placeholder for every captured tensor."""
    captured = list(dict.fromkeys([*then_graph.captures, *else_graph.captures]))
    # Each branch takes all of them (capturing the other branch's too), in one order, so that
    # both branches' inputs line up with the op's inputs after the predicate.
    then_branch = BranchFunction(then_graph, [then_graph.capture(t) for t in captured], then_outputs)
    else_branch = BranchFunction(else_graph, [else_graph.capture(t) for t in captured], else_outputs)
    return apply_op("If", [pred, *captured], {"then_branch": then_branch, "else_branch": else_branch}, name)


def cond(
    pred: Any,
    true_fn: Callable[[], Any] | None = None,
    false_fn: Callable[[], Any] | None = None,
    strict: bool = False,
    name: str | None = None,
    fn1: Callable[[], Any] | None = None,
    fn2: Callable[[], Any] | None = None,
) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()``; only the branch taken runs.

    Parameters
    ----------
    pred : a bool scalar tensor (or Python bool).
    true_fn, false_fn : functions of no arguments returning the same structure (a tensor, or
        nested lists, tuples and dicts of tensors) with the same dtypes. They may use any tensor
        of the enclosing graph; ops they create run only when their branch is taken.
    strict : keep a one-element list or tuple as it is (TensorFlow 1.x unpacks it otherwise).
    name : name of the op.
    fn1, fn2 : TensorFlow 1.x's deprecated names of ``true_fn`` and ``false_fn``.

    Returns
    -------
    The taken branch's results, in the branches' structure. Gradients flow into the taken
    branch only.
    """
    true_fn = true_fn or fn1
    false_fn = false_fn or fn2
    if true_fn is None or false_fn is None:
        raise TypeError("cond needs both true_fn and false_fn")
    pred_t = convert_to_tensor(pred)
    base = name or "cond"
    then_graph, then_result, then_leaves = trace(true_fn, base + "/true")
    else_graph, else_result, else_leaves = trace(false_fn, base + "/false")
    then_structure, else_structure = _structure(then_result), _structure(else_result)
    if then_structure != else_structure:
        raise ValueError(
            f"cond {base!r}: true_fn and false_fn must return the same structure, got {then_structure} and "
            f"{else_structure}"
        )
    op = make_if(pred_t, then_graph, then_leaves, else_graph, else_leaves, name=base)
    if not op.outputs:
        return op
    result = _unflatten(then_result, iter(op.outputs))
    if not strict and isinstance(result, (list, tuple)) and len(result) == 1:
        return result[0]
    return result


def case(
    pred_fn_pairs: Any,
    default: Callable[[], Any] | None = None,
    exclusive: bool = False,
    strict: bool = False,
    name: str = "case",
) -> Any:
    """The function of the first pair whose predicate is true (``default`` when none is), as nested conds.

    ``pred_fn_pairs``: a list of ``(pred, fn)`` pairs (or a dict, in its order). With
    ``exclusive=True`` at most one predicate may be true; the run fails naming them otherwise.
    Without ``default`` the last pair's function is taken when no predicate is true (TF 1.x).
    """
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    if not pairs:
        raise ValueError("case needs at least one (pred, fn) pair")
    preds = [convert_to_tensor(p) for p, _ in pairs]
    fns = [f for _, f in pairs]
    if default is None:
        default = fns[-1]
    if exclusive and len(preds) > 1:
        # The first predicate passes through a check of all of them, so the check runs first.
        preds[0] = apply_op("CaseExclusive", preds, {"name": name}, name=name + "/exclusive").outputs[0]
    result: Callable[[], Any] = default
    for p, f in reversed(list(zip(preds, fns))):
        result = _chained(p, f, result, strict, name)
    return result()


def _chained(pred: Tensor, fn: Callable[[], Any], otherwise: Callable[[], Any], strict: bool, name: str) -> Any:
    return lambda: cond(pred, fn, otherwise, strict=strict, name=name)


# --- nested structures of tensors ------------------------------------------------------------
def _flatten(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _flatten(v)]
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in _flatten(value[k])]
    if value is None:
        return []
    return [value]


def _structure(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_structure(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _structure(value[k])) for k in sorted(value)))
    return None if value is None else "tensor"


def _unflatten(value: Any, leaves: Any) -> Any:
    if isinstance(value, (list, tuple)):
        items = [_unflatten(v, leaves) for v in value]
        return type(value)(items) if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: _unflatten(value[k], leaves) for k in sorted(value)}
    return None if value is None else next(leaves)
