"""``cr.linalg``: linear algebra ops (re-exports only)."""

from chainrule.ops.clip_ops import global_norm
from chainrule.ops.linalg_ops import *  # noqa: F403
from chainrule.ops.linalg_ops import __all__  # noqa: F401
from chainrule.ops.linalg_ops import matrix_transpose as transpose
from chainrule.ops.nn_impl import l2_normalize
from chainrule.ops.tf1_linalg import cross
from chainrule.ops.tf1_linalg import diag as tensor_diag
from chainrule.ops.tf1_linalg import diag_part as tensor_diag_part
from chainrule.ops.tf1_math import matvec

__all__ = [*__all__, "cross", "global_norm", "l2_normalize", "matvec", "tensor_diag", "tensor_diag_part", "transpose"]
