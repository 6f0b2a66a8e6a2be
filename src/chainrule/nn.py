"""``cr.nn``: neural-network ops (re-exports only)."""

from chainrule.ops.conv_ops import (  # noqa: F401
    avg_pool,
    avg_pool2d,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    conv2d_transpose,
    max_pool,
    max_pool2d,
)
from chainrule.ops.nn_ops import *  # noqa: F403
from chainrule.ops.nn_ops import __all__  # noqa: F401
