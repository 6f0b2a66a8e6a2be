"""``cr.math``: TensorFlow's ``tf.math`` names for chainrule's ops (re-exports only)."""

from chainrule.ops import math_ops as _math_ops
from chainrule.ops import reduction_ops as _reduction_ops
from chainrule.ops import segment_ops as _segment_ops
from chainrule.ops import tf1_math as _tf1_math
from chainrule.ops.check_ops import is_non_decreasing, is_strictly_increasing
from chainrule.ops.math_ops import *  # noqa: F403
from chainrule.ops.math_ops import div_no_nan as divide_no_nan
from chainrule.ops.math_ops import floormod as mod
from chainrule.ops.math_ops import mul_no_nan as multiply_no_nan
from chainrule.ops.math_ops import round as rint  # NumPy's rint rounds half to even, as TensorFlow's
from chainrule.ops.nn_impl import l2_normalize
from chainrule.ops.nn_ops import log_softmax, softmax, softsign
from chainrule.ops.reduction_ops import *  # noqa: F403
from chainrule.ops.segment_ops import *  # noqa: F403
from chainrule.ops.selection_ops import top_k
from chainrule.ops.tf1_math import *  # noqa: F403
from chainrule.ops.tf1_names import is_finite, is_inf, is_nan, log_sigmoid, logical_xor, scalar_mul

__all__ = [
    *_math_ops.__all__,
    *_reduction_ops.__all__,
    *_segment_ops.__all__,
    "divide_no_nan",
    "is_non_decreasing",
    "is_strictly_increasing",
    "mod",
    "multiply_no_nan",
    "rint",
    "top_k",
    *_tf1_math.__all__,
    "l2_normalize",
    "log_softmax",
    "softmax",
    "softsign",
    "is_finite",
    "is_inf",
    "is_nan",
    "log_sigmoid",
    "logical_xor",
    "scalar_mul",
]
del _math_ops, _reduction_ops, _segment_ops, _tf1_math
