"""``cr.random``: random tensors (re-exports only)."""

from chainrule.ops.random_ops import *  # noqa: F403
from chainrule.ops.random_ops import __all__  # noqa: F401
