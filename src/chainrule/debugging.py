"""``cr.debugging``: finding where NaN and infinity come from (TensorFlow's ``tf.debugging`` names).

- ``check_numerics(tensor, message)``: an identity that raises when its value is not all finite
  (also ``cr.check_numerics``); ``cr.add_check_numerics_ops()`` puts one on every float tensor.
- ``enable_check_numerics()`` / ``disable_check_numerics()``: every run of this thread checks
  each op's float outputs and stops at the first op that gives a NaN or an infinity, naming it,
  its creation line and, for a gradient op, the forward op it is the gradient of.

NumPy's floating-point warnings raised while a graph runs always name the op and the line of
user code that created it (see ``chainrule/runtime/numerics.py``).

The assertions (``Assert``, ``assert_equal``, ``assert_rank``, ...) are TensorFlow's
``tf.debugging`` names too; they are the ones of ``cr`` itself (``ops/check_ops.py``).
"""

from chainrule.ops import check_ops
from chainrule.ops.check_ops import *  # noqa: F403 - tf.debugging holds the assertions too
from chainrule.ops.numerics_ops import check_numerics, verify_tensor_all_finite
from chainrule.ops.tf1_names import is_finite, is_inf, is_nan
from chainrule.runtime.numerics import disable_check_numerics, enable_check_numerics

__all__ = [
    *check_ops.__all__,
    "check_numerics",
    "disable_check_numerics",
    "enable_check_numerics",
    "is_finite",
    "is_inf",
    "is_nan",
    "verify_tensor_all_finite",
]
