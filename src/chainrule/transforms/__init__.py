"""Function transforms: NumPy in, NumPy out; traced into a graph once per input signature.

``cr.function`` traces and caches; ``cr.grad``, ``cr.value_and_grad``, ``cr.vjp``, ``cr.jvp``,
``cr.jacobian``, ``cr.hessian`` and ``cr.hvp`` build derivative graphs with reverse mode and
forward mode (``cr.forward_gradients``: per-op JVP rules, transposition for the rest);
``cr.vmap`` batches a per-example function over a leading axis (graph to graph).
``cr.elementwise_grad`` (autograd's), ``cr.linearize``, ``cr.custom_vjp``, ``cr.custom_jvp`` and
``cr.checkpoint`` (``cr.remat``) follow JAX's (and autograd's) documented behaviour.
"""

from chainrule.autodiff.forward import forward_gradients
from chainrule.transforms.api import elementwise_grad, grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from chainrule.transforms.batching import register_batch_rule, vmap
from chainrule.transforms.custom import checkpoint, custom_jvp, custom_vjp, remat
from chainrule.transforms.function import ConcreteFunction, Function, function, is_tracing
from chainrule.transforms.linearize import linearize

__all__ = [
    "ConcreteFunction",
    "Function",
    "forward_gradients",
    "function",
    "grad",
    "hessian",
    "hvp",
    "is_tracing",
    "jacobian",
    "jvp",
    "register_batch_rule",
    "value_and_grad",
    "vjp",
    "vmap",
    "elementwise_grad",
    "checkpoint",
    "remat",
    "custom_vjp",
    "custom_jvp",
    "linearize",
]
