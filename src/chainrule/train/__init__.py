"""``cr.train``: optimizers, the global step and checkpoints (re-exports only)."""

from chainrule import unsupported
from chainrule.train.learning_rate_decay import (
    cosine_decay,
    exponential_decay,
    inverse_time_decay,
    natural_exp_decay,
    piecewise_constant,
    polynomial_decay,
)
from chainrule.train.optimizer import Optimizer
from chainrule.train.optimizers import (
    AdadeltaOptimizer,
    AdagradOptimizer,
    AdamOptimizer,
    FtrlOptimizer,
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
    "AdadeltaOptimizer",
    "FtrlOptimizer",
    "exponential_decay",
    "piecewise_constant",
    "polynomial_decay",
    "natural_exp_decay",
    "inverse_time_decay",
    "cosine_decay",
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

# tf.train.ClusterSpec, tf.train.shuffle_batch, ...: an AttributeError that says they are not supported and why.
__getattr__ = unsupported.module_getattr("chainrule.train", "tf.train", unsupported.TRAIN)
