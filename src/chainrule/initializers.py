"""``cr.initializers``: the variable initializers under TensorFlow 1.x's ``tf.initializers`` names (re-exports only)."""

from chainrule.ops.init_ops import Constant as constant  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import GlorotNormal as glorot_normal  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import GlorotUniform as glorot_uniform  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import Ones as ones  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import Orthogonal as orthogonal  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import RandomNormal as random_normal  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import RandomUniform as random_uniform  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import TruncatedNormal as truncated_normal  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import VarianceScaling as variance_scaling  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import Zeros as zeros  # noqa: N813 - TensorFlow's names
from chainrule.ops.init_ops import he_normal, he_uniform, lecun_normal, lecun_uniform
from chainrule.ops.state_ops import global_variables_initializer as global_variables
from chainrule.ops.state_ops import local_variables_initializer as local_variables
from chainrule.ops.state_ops import variables_initializer as variables

__all__ = [
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "zeros",
    "global_variables",
    "local_variables",
    "variables",
]
