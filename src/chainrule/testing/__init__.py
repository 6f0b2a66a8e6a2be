"""Testing utilities: numerical gradient checks (public as ``cr.test``) and the op sample table."""

from chainrule.testing.gradient_checker import check_gradients, compute_gradient, compute_gradient_error

__all__ = ["check_gradients", "compute_gradient", "compute_gradient_error"]
