"""The gradient of ``If`` (``cr.cond``, ``cr.case``): an ``If`` of the branches' gradients.

Inside each branch's graph, reverse mode differentiates the branch's outputs with respect to
its inputs (the tensors the ``If`` feeds it), starting from new placeholders for the output
gradients; the gradient ``If`` feeds the same inputs plus the output gradients, and runs the
gradient of the branch that the predicate takes. Its branches are branch functions too, so the
gradient is differentiable again (second order and beyond).
"""

from __future__ import annotations

from typing import Any

from chainrule.autodiff.gradients import gradients, is_differentiable
from chainrule.framework.graph import Operation, Tensor
from chainrule.ops import array_ops
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
