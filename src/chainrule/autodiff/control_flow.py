"""The gradients of control flow: ``If`` (``cr.cond``, ``cr.case``) and ``While`` (``cr.while_loop``).

The gradient of an ``If`` is an ``If`` of the branches' gradients.

Inside each branch's graph, reverse mode differentiates the branch's outputs with respect to
its inputs (the tensors the ``If`` feeds it), starting from new placeholders for the output
gradients; the gradient ``If`` feeds the same inputs plus the output gradients, and runs the
gradient of the branch that the predicate takes. Its branches are branch functions too, so the
gradient is differentiable again (second order and beyond).
"""

from __future__ import annotations

from typing import Any

from chainrule.autodiff.gradients import gradients, is_differentiable
from chainrule.framework.graph import FunctionGraph, Operation, Tensor, get_default_graph
from chainrule.ops import array_ops, control_flow_ops, indexing_ops
from chainrule.ops.constant_op import placeholder
from chainrule.ops.control_flow_ops import BranchFunction
from chainrule.ops.registry import RegisterGradient, apply_op


def _branch_gradient(branch: BranchFunction, differentiable: list[int]) -> BranchFunction:
    """``branch``'s gradient: inputs plus one output gradient per differentiable output; outputs
    one gradient per float input (zeros where the output does not depend on it)."""
    graph = branch.graph
    with graph.as_default():
        ys = [branch.outputs[i] for i in differentiable]
        grad_ys = [placeholder(y.dtype, y.shape, name="output_grad") for y in ys]
        xs = [x for x in branch.inputs if x.dtype.is_floating]
        grads = gradients(ys, xs, grad_ys=grad_ys, unconnected_gradients="zero") if xs else []
    return BranchFunction(graph, [*branch.inputs, *grad_ys], [g for g in grads if g is not None])


@RegisterGradient("If")
def _if_grad(op: Operation, *output_grads: Any) -> list[Tensor | None]:
    then_branch: BranchFunction = op.get_attr("then_branch")
    else_branch: BranchFunction = op.get_attr("else_branch")
    inputs = op.inputs[1:]
    differentiable = [i for i, y in enumerate(op.outputs) if is_differentiable(y)]
    if not differentiable or not any(x.dtype.is_floating for x in inputs):
        return [None] * len(op.inputs)
    grad_ys = [
        output_grads[i] if output_grads[i] is not None else array_ops.zeros_like(op.outputs[i]) for i in differentiable
    ]
    then_grad = _branch_gradient(then_branch, differentiable)
    else_grad = _branch_gradient(else_branch, differentiable)
    grad_op = apply_op(
        "If",
        [op.inputs[0], *inputs, *grad_ys],
        {"then_branch": then_grad, "else_branch": else_grad},
        name="cond_grad",
    )
    grads = iter(grad_op.outputs)
    input_grads: list[Tensor | None] = [None]  # the predicate's
    input_grads.extend(next(grads) if x.dtype.is_floating else None for x in inputs)
    return input_grads


@RegisterGradient("While")
def _while_grad(op: Operation, *output_grads: Any) -> list[Tensor | None]:
    """A loop backwards over the recorded iterations (itself a ``While``, so differentiable again).

    Iteration ``k`` of the backward loop traces the body again on the loop variables recorded at
    iteration ``k`` and takes reverse mode through it: the gradients of the loop variables carry
    over to iteration ``k - 1``, those of the captured tensors add up over all iterations.
    """
    num_vars = op.get_attr("num_vars")
    if not op.get_attr("record"):
        return [None] * len(op.inputs)  # back_prop=False
    body = op.get_attr("_body")
    start, captured = op.inputs[:num_vars], op.inputs[num_vars:]
    finals, history, count = op.outputs[:num_vars], op.outputs[num_vars : 2 * num_vars], op.outputs[2 * num_vars]
    final_grads, history_grads = output_grads[:num_vars], output_grads[num_vars : 2 * num_vars]
    var_idx = [j for j, t in enumerate(start) if t.dtype.is_floating]
    cap_idx = [i for i, t in enumerate(captured) if t.dtype.is_floating]
    if not var_idx and not cap_idx:
        return [None] * len(op.inputs)

    def step_back(k: Tensor, *carried: Tensor) -> tuple[Tensor, ...]:
        k = k - 1
        values = [indexing_ops.gather(history[j], k) for j in range(num_vars)]
        outputs = body(values)
        graph = get_default_graph()
        assert isinstance(graph, FunctionGraph)  # step_back is traced as a loop body
        # The captured tensors as this iteration's graph sees them (the body's ops read the same).
        caps = [graph.capture(captured[i]) for i in cap_idx]
        ys = [outputs[j] for j in var_idx]
        xs = [values[j] for j in var_idx] + caps
        maybe = gradients(ys, xs, grad_ys=list(carried[: len(var_idx)]), unconnected_gradients="zero")
        grads = [g for g in maybe if g is not None]
        assert len(grads) == len(xs)  # "zero": every float x gets a gradient
        new_vars = []
        for n, j in enumerate(var_idx):
            g = grads[n]
            if history_grads[j] is not None:
                g = g + indexing_ops.gather(history_grads[j], k)
            new_vars.append(g)
        new_caps = [carried[len(var_idx) + n] + grads[len(var_idx) + n] for n in range(len(cap_idx))]
        return (k, *new_vars, *new_caps)

    initial = [final_grads[j] if final_grads[j] is not None else array_ops.zeros_like(finals[j]) for j in var_idx] + [
        array_ops.zeros_like(captured[i]) for i in cap_idx
    ]
    count = apply_op("WhileHistoryCheck", [count]).outputs[0]
    result = control_flow_ops.while_loop(
        lambda k, *carried: k > 0, step_back, [count, *initial], name="while_grad", return_same_structure=True
    )
    back = iter(result[1:])
    grads: list[Tensor | None] = [next(back) if j in var_idx else None for j in range(num_vars)]
    cap_grads = {i: next(back) for i in cap_idx}
    grads += [cap_grads.get(i) for i in range(len(captured))]
    return grads
