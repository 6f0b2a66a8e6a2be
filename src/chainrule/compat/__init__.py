"""``chainrule.compat.v1`` is chainrule itself, as ``tensorflow.compat.v1`` is TF 1.x's API.

So TF 1.x code written for TensorFlow 2 (``import tensorflow.compat.v1 as tf``) ports by changing the
import to ``import chainrule.compat.v1 as tf``; ``tf.compat.v1.placeholder`` works too.
"""

import sys

import chainrule as v1

sys.modules[__name__ + ".v1"] = v1

__all__ = ["v1"]
