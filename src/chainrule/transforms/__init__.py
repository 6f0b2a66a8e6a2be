"""Function transforms: NumPy in, NumPy out; traced into a graph once per input signature.

``cr.function`` traces and caches; ``cr.grad``, ``cr.value_and_grad``, ``cr.vjp``, ``cr.jvp``,
``cr.jacobian``, ``cr.hessian`` and ``cr.hvp`` build derivative graphs with reverse mode
(forward-mode products by transposition of reverse mode).
"""

from chainrule.transforms.api import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from chainrule.transforms.function import ConcreteFunction, Function, function, is_tracing

__all__ = [
    "ConcreteFunction",
    "Function",
    "function",
    "grad",
    "hessian",
    "hvp",
    "is_tracing",
    "jacobian",
    "jvp",
    "value_and_grad",
    "vjp",
]
