"""``cr.train``: optimizers, the global step and checkpoints (re-exports only)."""

from chainrule.train.optimizer import Optimizer
from chainrule.train.optimizers import (
    AdagradOptimizer,
    AdamOptimizer,
    GradientDescentOptimizer,
    MomentumOptimizer,
    RMSPropOptimizer,
)
from chainrule.train.saver import (
    CheckpointState,
    Saver,
    get_checkpoint_state,
    latest_checkpoint,
    list_variables,
    load_variable,
)
from chainrule.train.training_util import (
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)

__all__ = [
    "Optimizer",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "AdamOptimizer",
    "RMSPropOptimizer",
    "AdagradOptimizer",
    "create_global_step",
    "get_global_step",
    "get_or_create_global_step",
    "global_step",
    "Saver",
    "CheckpointState",
    "get_checkpoint_state",
    "latest_checkpoint",
    "list_variables",
    "load_variable",
]
