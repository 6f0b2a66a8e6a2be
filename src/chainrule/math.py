"""``cr.math``: TensorFlow's ``tf.math`` names for chainrule's ops (re-exports only)."""

from chainrule.ops import math_ops as _math_ops
from chainrule.ops import reduction_ops as _reduction_ops
from chainrule.ops import segment_ops as _segment_ops
from chainrule.ops.math_ops import *  # noqa: F403
from chainrule.ops.math_ops import div_no_nan as divide_no_nan
from chainrule.ops.math_ops import floormod as mod
from chainrule.ops.math_ops import mul_no_nan as multiply_no_nan
from chainrule.ops.math_ops import round as rint  # NumPy's rint rounds half to even, as TensorFlow's
from chainrule.ops.reduction_ops import *  # noqa: F403
from chainrule.ops.segment_ops import *  # noqa: F403
from chainrule.ops.selection_ops import top_k

__all__ = [
    *_math_ops.__all__,
    *_reduction_ops.__all__,
    *_segment_ops.__all__,
    "divide_no_nan",
    "mod",
    "multiply_no_nan",
    "rint",
    "top_k",
]
del _math_ops, _reduction_ops, _segment_ops
