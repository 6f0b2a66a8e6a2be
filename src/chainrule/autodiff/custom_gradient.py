"""``@cr.custom_gradient``: a function that says its own gradient (TF 1.x graph mode).

As TensorFlow builds it: ``f(*x)`` returns ``(y, grad_fn)``; the results pass through one
``IdentityN`` op whose gradient (registered under a name of its own and selected with
``gradient_override_map``) calls ``grad_fn`` instead of differentiating ``f``'s ops.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from chainrule.framework.graph import Operation, Tensor, as_tensor_or_none, get_default_graph
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import RegisterGradient
from chainrule.ops.script_ops import identity_n
from chainrule.ops.state_ops import GLOBAL_VARIABLES

_ids = itertools.count()


def custom_gradient(f: Callable[..., Any] | None = None) -> Any:
    """Decorate ``f(*x) -> (y, grad_fn)`` so that reverse mode uses ``grad_fn`` for d y / d x.

    Parameters
    ----------
    f : returns ``y`` (a tensor or a list/tuple of tensors) and ``grad_fn(*dys)``, which returns
        the gradients of the inputs ``x`` (one tensor, or a list with one entry per input; None
        for no gradient). When ``f`` reads variables, ``grad_fn`` must take a keyword argument
        ``variables`` (the list of those variables) and return ``(input_grads, variable_grads)``.

    Returns
    -------
    The decorated function: same arguments, returns ``y`` (the gradient is attached to it).

    Examples
    --------
    >>> @cr.custom_gradient
    ... def log1pexp(x):
    ...     e = cr.exp(x)
    ...     def grad(dy):
    ...         return dy * (1 - 1 / (1 + e))
    ...     return cr.log(1 + e), grad
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(
                f"custom_gradient: {f.__name__} got keyword arguments {sorted(kwargs)}; pass tensors positionally"
            )
        inputs = [convert_to_tensor(a) for a in args]
        graph = inputs[0].graph if inputs else get_default_graph()
        with graph.as_default():
            start = len(graph.get_operations())
            result, grad_fn = f(*inputs)
            new_ops = graph.get_operations()[start:]
            variables = _variables_read(new_ops, graph)
            if variables and "variables" not in inspect.signature(grad_fn).parameters:
                raise TypeError(
                    "If using @custom_gradient with a function that uses variables, then grad_fn must accept "
                    f"a keyword argument 'variables' (variables read: {[v.name for v in variables]})."
                )
            is_list = isinstance(result, (list, tuple))
            outputs = [convert_to_tensor(y) for y in (result if is_list else [result])]
            grad_name = unique_gradient_name("CustomGradient")

            @RegisterGradient(grad_name)
            def _grad(op: Operation, *grads: Tensor) -> list[Any]:
                dys = grads[: len(outputs)]
                if variables:
                    input_grads, variable_grads = grad_fn(*dys, variables=variables)
                    variable_grads = list(variable_grads)
                    if len(variable_grads) != len(variables):
                        raise ValueError(
                            f"custom_gradient {f.__name__}: grad_fn returned {len(variable_grads)} variable "
                            f"gradients for {len(variables)} variables"
                        )
                else:
                    input_grads, variable_grads = grad_fn(*dys), []
                input_grads = list(input_grads) if isinstance(input_grads, (list, tuple)) else [input_grads]
                if len(input_grads) != len(inputs):
                    raise ValueError(
                        f"custom_gradient {f.__name__}: grad_fn returned {len(input_grads)} gradients "
                        f"for {len(inputs)} inputs"
                    )
                # The results' own inputs get None: the gradient goes to x directly, not through f's ops.
                return [None] * len(outputs) + input_grads + variable_grads

            passed = pass_with_gradient(
                outputs + inputs + [_variable_tensor(v) for v in variables], grad_name, f.__name__
            )
        ys = passed[: len(outputs)]
        return ys if is_list else ys[0]

    return decorated


def unique_gradient_name(prefix: str) -> str:
    """A gradient name no other registration uses (``<prefix>-<n>``), for one custom rule."""
    return f"{prefix}-{next(_ids)}"


def pass_with_gradient(tensors: list[Tensor], grad_name: str, name: str | None = None) -> list[Tensor]:
    """``tensors`` through one ``IdentityN`` whose gradient is the one registered as ``grad_name``.

    The custom derivative rules (``cr.custom_gradient``, ``cr.custom_vjp``, ``cr.custom_jvp``,
    ``cr.checkpoint``) hang their rule on this op: its inputs are the results, the differentiated
    inputs and whatever else the rule reads (residuals), so a rule that reads them from
    ``op.inputs`` also works on a copy of the op (``cr.vmap`` rewrites graphs op by op).
    """
    graph = tensors[0].graph if tensors else get_default_graph()
    with graph.as_default(), graph.gradient_override_map({"IdentityN": grad_name}):
        return identity_n(tensors, name=name)


def _variables_read(ops: list[Operation], graph: Any) -> list[Any]:
    """The graph's variables that ``ops`` read, in the order they were created."""
    by_tensor = {_variable_tensor(v): v for v in graph.get_collection(GLOBAL_VARIABLES)}
    read = {t for op in ops for t in op.inputs if t in by_tensor}
    return [v for t, v in by_tensor.items() if t in read]


def _variable_tensor(variable: Any) -> Tensor:
    tensor = as_tensor_or_none(variable)
    assert tensor is not None  # a Variable stands for its tensor
    return tensor
