"""``cr.linalg``: linear algebra ops (re-exports only)."""

from chainrule.ops.linalg_ops import *  # noqa: F403
from chainrule.ops.linalg_ops import __all__  # noqa: F401
