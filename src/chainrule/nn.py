"""``cr.nn``: neural-network ops (re-exports only)."""

from chainrule.ops.nn_ops import *  # noqa: F403
from chainrule.ops.nn_ops import __all__  # noqa: F401
