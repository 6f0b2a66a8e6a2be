"""chainrule: graph-based automatic differentiation for NumPy.

Build a graph (``y = cr.cos(x)``), differentiate it (``cr.gradients(y, [x])``,
which is more graph), and run it in a ``cr.Session``.
"""

from chainrule.framework import errors
from chainrule.framework.dtypes import (
    DType,
    as_dtype,
    bool_ as bool,  # noqa: A004 - TensorFlow's public name
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from chainrule.framework.graph import (
    Graph,
    Operation,
    Tensor,
    control_dependencies,
    get_default_graph,
    name_scope,
    reset_default_graph,
)
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.custom import custom_op
from chainrule.ops.registry import NotDifferentiable, RegisterGradient
from chainrule.ops.constant_op import constant, convert_to_tensor, placeholder
from chainrule.ops.math_ops import *  # noqa: F403

# The math ops by name as well: math_ops computes its __all__, which type checkers cannot read.
from chainrule.ops.math_ops import (
    abs,  # noqa: A004 - TensorFlow's public name
    acos,
    add,
    add_n,
    asin,
    atan,
    atan2,
    cast,
    ceil,
    clip_by_value,
    cos,
    cosh,
    divide,
    equal,
    erf,
    exp,
    expm1,
    floor,
    floordiv,
    floormod,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,  # noqa: A004 - TensorFlow's public name
    reciprocal,
    round,  # noqa: A004 - TensorFlow's public name
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqrt,
    square,
    squared_difference,
    subtract,
    tan,
    tanh,
    where,
)
from chainrule.ops.array_ops import *  # noqa: F403
from chainrule.ops.indexing_ops import *  # noqa: F403
from chainrule.ops.linalg_ops import einsum, matmul, tensordot
from chainrule.ops.reduction_ops import (
    argmax,
    argmin,
    cumprod,
    cumsum,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
)
from chainrule.ops.state_ops import (
    Variable,
    global_variables,
    global_variables_initializer,
    group,
    no_op,
    trainable_variables,
    variables_initializer,
)
from chainrule.autodiff.gradients import gradients, hessians
from chainrule.autodiff.gradients import AggregationMethod, UnconnectedGradients
from chainrule.autodiff.custom_gradient import custom_gradient
from chainrule.ops.script_ops import Print, identity_n, numpy_function, py_func
from chainrule.ops.script_ops import print_v2 as print  # noqa: A004 - TensorFlow's public name
from chainrule.ops.control_flow_ops import case, cond, foldl, foldr, map_fn, scan, while_loop
from chainrule.autodiff.forward import forward_gradients
from chainrule.runtime.session import Session
from chainrule.runtime.session import InteractiveSession
from chainrule.runtime.session_config import (
    ConfigProto,
    GPUOptions,
    GraphOptions,
    OptimizerOptions,
    RunMetadata,
    RunOptions,
)
from chainrule.framework.default_session import get_default_session
from chainrule.framework.graph import device
from chainrule.transforms import function, grad, value_and_grad, vjp, jacobian, hessian, hvp, jvp, vmap

__version__ = "0.1.0"

from chainrule import linalg, nn, random, train  # noqa: E402
from chainrule import testing as test  # noqa: E402  (cr.test.check_gradients)
from chainrule import summary, viz  # noqa: E402
from chainrule.viz.explain import explain  # noqa: E402
from chainrule import optimize  # noqa: E402
from chainrule import app, flags  # noqa: E402
from chainrule import tf_logging as logging  # noqa: E402  (cr.logging, TF's tf.logging)
