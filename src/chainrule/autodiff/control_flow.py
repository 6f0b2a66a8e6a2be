"""The gradients of control flow: ``If`` (``cr.cond``, ``cr.case``) and ``While`` (``cr.while_loop``).

The gradient of an ``If`` is an ``If`` of the branches' gradients.

Inside each branch's graph, reverse mode differentiates the branch's outputs with respect to
its inputs (the tensors the ``If`` feeds it), starting from new placeholders for the output
gradients; the gradient ``If`` feeds the same inputs plus the output gradients, and runs the
gradient of the branch that the predicate takes. Its branches are branch functions too, so the
gradient is differentiable again (second order and beyond).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chainrule.autodiff.gradients import gradients, is_differentiable
from chainrule.framework import errors
from chainrule.framework.dtypes import DType
from chainrule.framework.graph import FunctionGraph, Operation, Tensor, get_default_graph, reachable
from chainrule.ops import array_ops, control_flow_ops
from chainrule.ops.constant_op import placeholder
from chainrule.ops.control_flow_ops import BranchFunction
from chainrule.ops.registry import RegisterGradient, apply_op


def _refuse_redrawn_values(op: Operation, grads: list[Tensor], what: str, fed: Iterable[Tensor] = ()) -> None:
    """Refuse a gradient that would run a random (or other stateful) op of ``op``'s functions again.

    The gradient runs the branch or body again to get the values it needs; a random op would
    draw new numbers there, not the forward pass's, and the gradient would be silently wrong.
    """
    given = set(fed)  # values the gradient is given (the forward pass's draws): not run again
    starts = [g.op for g in grads if g not in given]
    needed = reachable(starts, lambda o: [t.op for t in o.inputs if t not in given])
    drawing = control_flow_ops.find_in_functions(needed, control_flow_ops.draws_anew)
    if drawing is not None:
        raise errors.UnimplementedError(
            None,
            op,
            f"cr.gradients cannot differentiate {op.describe()}: its {what} runs {drawing.describe()}, whose values "
            "the gradient would draw again instead of reusing the forward pass's; draw the random numbers outside "
            "the cond or loop and pass them in (captured, or as elems of scan/map_fn)",
        )


def _branch_gradient(
    branch: BranchFunction, differentiable: list[int], draws: list[tuple[Tensor | None, DType]]
) -> BranchFunction:
    """``branch``'s gradient: inputs plus one output gradient per differentiable output, plus the
    forward pass's random draws (``draws``: this branch's own tensors, None in the other branch's
    slots); outputs one gradient per float input (zeros where the output does not depend on it)."""
    graph = branch.graph
    with graph.as_default():
        ys = [branch.outputs[i] for i in differentiable]
        grad_ys = [placeholder(y.dtype, y.shape, name="output_grad") for y in ys]
        xs = [x for x in branch.inputs if is_differentiable(x)]
        grads = gradients(ys, xs, grad_ys=grad_ys, unconnected_gradients="zero") if xs else []
        # Fed with the If's recorded draws, the random ops do not run again in the gradient.
        fed_draws = [t if t is not None else placeholder(dtype, None, name="other_draw") for t, dtype in draws]
    outputs = [g for g in grads if g is not None]
    return BranchFunction(graph, [*branch.inputs, *grad_ys, *fed_draws], outputs)


@RegisterGradient("If")
def _if_grad(op: Operation, *output_grads: Any) -> list[Tensor | None]:
    then_branch: BranchFunction = op.get_attr("then_branch")
    else_branch: BranchFunction = op.get_attr("else_branch")
    inputs = op.inputs[1:]
    num_draws = len(then_branch.draws) + len(else_branch.draws)
    returned = op.outputs[: len(op.outputs) - num_draws]  # the rest are the branches' random draws
    draw_values = op.outputs[len(returned) :]
    differentiable = [i for i, y in enumerate(returned) if is_differentiable(y)]
    if not differentiable or not any(is_differentiable(x) for x in inputs):
        return [None] * len(op.inputs)
    grad_ys = [
        output_grads[i] if output_grads[i] is not None else array_ops.zeros_like(op.outputs[i]) for i in differentiable
    ]
    dtypes_of = [t.dtype for t in draw_values]
    then_slots = [*then_branch.draws, *([None] * len(else_branch.draws))]
    else_slots = [*([None] * len(then_branch.draws)), *else_branch.draws]
    then_grad = _branch_gradient(then_branch, differentiable, list(zip(then_slots, dtypes_of)))
    else_grad = _branch_gradient(else_branch, differentiable, list(zip(else_slots, dtypes_of)))
    _refuse_redrawn_values(op, then_grad.outputs, "true branch", then_grad.inputs)
    _refuse_redrawn_values(op, else_grad.outputs, "false branch", else_grad.inputs)
    grad_op = apply_op(
        "If",
        [op.inputs[0], *inputs, *grad_ys, *draw_values],
        {"then_branch": then_grad, "else_branch": else_grad},
        name="cond_grad",
    )
    grads = iter(grad_op.outputs)
    input_grads: list[Tensor | None] = [None]  # the predicate's
    input_grads.extend(next(grads) if is_differentiable(x) else None for x in inputs)
    return input_grads


@RegisterGradient("While")
def _while_grad(op: Operation, *output_grads: Any) -> list[Tensor | None]:
    """A loop backwards over the recorded iterations (itself a ``While``, so differentiable again).

    The backward loop takes, per iteration, the recorded loop variables, the sliced inputs' rows
    and the recorded variables' incoming gradients of that forward iteration (all as sliced
    inputs, last iteration first), traces the body again on them and takes reverse mode through
    it: the loop variables' gradients carry over to the iteration before, the rows' gradients
    are its recorded loop variables (a row per iteration), and the captured tensors' gradients
    add up over all iterations.
    """
    num_vars, num_sliced = op.get_attr("num_vars"), op.get_attr("num_sliced")
    if not op.get_attr("record"):
        return [None] * len(op.inputs)  # back_prop=False
    body = op.get_attr("_body")
    start = op.inputs[:num_vars]
    sliced = op.inputs[num_vars : num_vars + num_sliced]
    captured = op.inputs[num_vars + num_sliced :]
    finals, history, count = op.outputs[:num_vars], op.outputs[num_vars : 2 * num_vars], op.outputs[2 * num_vars]
    final_grads, history_grads = output_grads[:num_vars], output_grads[num_vars : 2 * num_vars]
    var_idx = [j for j, t in enumerate(start) if is_differentiable(t)]
    row_idx = [j for j, t in enumerate(sliced) if is_differentiable(t)]
    cap_idx = [i for i, t in enumerate(captured) if is_differentiable(t)]
    if not var_idx and not row_idx and not cap_idx:
        return [None] * len(op.inputs)
    given = [j for j in var_idx if history_grads[j] is not None]
    # Per backward iteration (forward iteration count-1 first): the recorded loop variables, the
    # sliced inputs' rows and the recorded variables' gradients, as sliced inputs.
    count = apply_op("WhileHistoryCheck", [count]).outputs[0]
    backward_rows = [array_ops.reverse(h, [0]) for h in history]
    backward_rows += [array_ops.reverse(s[:count], [0]) for s in sliced]
    backward_rows += [array_ops.reverse(history_grads[j], [0]) for j in given]
    nv, nr, nc = len(var_idx), len(row_idx), len(cap_idx)

    def step_back(k: Tensor, *carried_and_rows: Tensor) -> tuple[Tensor, ...]:
        carried, rows = carried_and_rows[: nv + nr + nc], carried_and_rows[nv + nr + nc :]
        values, sliced_rows, incoming = (
            rows[:num_vars],
            rows[num_vars : num_vars + num_sliced],
            rows[num_vars + num_sliced :],
        )
        outputs = body(list(values), list(sliced_rows))
        graph = get_default_graph()
        assert isinstance(graph, FunctionGraph)  # step_back is traced as a loop body
        # The captured tensors as this iteration's graph sees them (the body's ops read the same).
        caps = [graph.capture(captured[i]) for i in cap_idx]
        xs = [values[j] for j in var_idx] + [sliced_rows[j] for j in row_idx] + caps
        maybe = gradients([outputs[j] for j in var_idx], xs, grad_ys=list(carried[:nv]), unconnected_gradients="zero")
        grads = [g for g in maybe if g is not None]
        assert len(grads) == len(xs)  # "zero": every float x gets a gradient
        _refuse_redrawn_values(op, grads, "body")
        extra = dict(zip(given, incoming))
        new_vars = [g + extra[j] if j in extra else g for g, j in zip(grads[:nv], var_idx)]
        new_rows = grads[nv : nv + nr]
        new_caps = [c + g for c, g in zip(carried[nv + nr :], grads[nv + nr :])]
        return (k - 1, *new_vars, *new_rows, *new_caps)

    initial = [final_grads[j] if final_grads[j] is not None else array_ops.zeros_like(finals[j]) for j in var_idx]
    initial += [array_ops.zeros(array_ops.shape(sliced[j])[1:], dtype=sliced[j].dtype) for j in row_idx]
    initial += [array_ops.zeros_like(captured[i]) for i in cap_idx]
    structure = [count, *initial]
    back = control_flow_ops.loop_op(
        lambda k, *rest: k > 0,
        step_back,
        structure,
        structure,
        [t.shape for t in structure],
        None,
        True,
        "while_grad",
        sliced=backward_rows,
    )
    results = back.outputs[1 : 1 + nv + nr + nc]
    n_state = len(structure)
    recorded = back.outputs[n_state + 1 + nv : n_state + 1 + nv + nr]
    grads: list[Tensor | None] = [None] * len(op.inputs)
    for j, g in zip(var_idx, results[:nv]):
        grads[j] = g
    for n, j in enumerate(row_idx):
        # The row gradients, last forward iteration first: the backward loop's recorded values
        # after its first iteration, then its final one; rows past the loop's count get none.
        per_row = array_ops.reverse(
            array_ops.concat([recorded[n], array_ops.expand_dims(results[nv + n], 0)], 0)[1:], [0]
        )
        full = sliced[j]
        rest = array_ops.zeros(array_ops.concat([array_ops.shape(full)[:1] - count, array_ops.shape(full)[1:]], 0),
                               dtype=full.dtype)  # fmt: skip
        grads[num_vars + j] = array_ops.concat([per_row, rest], 0)
    for i, g in zip(cap_idx, results[nv + nr :]):
        grads[num_vars + num_sliced + i] = g
    return grads
