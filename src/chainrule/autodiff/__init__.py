"""Reverse mode (``gradients``), forward mode (``forward``) and the gradients of control flow."""

from chainrule.autodiff import control_flow  # noqa: F401 - registers the gradient of If
