"""``cr.losses``: TensorFlow 1.x's ``tf.losses`` (re-exports only; see ``chainrule.ops.loss_ops``)."""

from chainrule.ops.loss_ops import *  # noqa: F403
from chainrule.ops.loss_ops import __all__  # noqa: F401
