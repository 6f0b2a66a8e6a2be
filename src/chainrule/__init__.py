"""chainrule: graph-based automatic differentiation for NumPy.

Build a graph (``y = cr.cos(x)``), differentiate it (``cr.gradients(y, [x])``,
which is more graph), and run it in a ``cr.Session``.
"""

from chainrule.framework import errors
from chainrule.framework.dtypes import (
    DType,
    as_dtype,
    bool_ as bool,  # noqa: A004 - TensorFlow's public name
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    string,
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
from chainrule.framework.tensor_shape import Dimension, TensorShape, dimension_value
from chainrule.framework.graph import add_to_collection, add_to_collections, get_collection, get_collection_ref
from chainrule.framework.graph_keys import GraphKeys
from chainrule.ops.custom import custom_op
from chainrule.ops.registry import NotDifferentiable, RegisterGradient
from chainrule.ops.constant_op import constant, convert_to_tensor, placeholder
from chainrule.ops.constant_op import placeholder_with_default
from chainrule.ops.math_ops import *  # noqa: F403

# The math ops by name as well: math_ops computes its __all__, which type checkers cannot read.
from chainrule.ops.math_ops import (
    abs,  # noqa: A004 - TensorFlow's public name
    acos,
    add,
    add_n,
    angle,
    acosh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cast,
    ceil,
    clip_by_value,
    complex,  # noqa: A004 - TensorFlow's public name
    conj,
    cos,
    cosh,
    div,
    div_no_nan,
    divide,
    equal,
    erf,
    exp,
    expm1,
    floor,
    floor_div,
    floordiv,
    floormod,
    greater,
    greater_equal,
    imag,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    mul_no_nan,
    multiply,
    negative,
    not_equal,
    pow,  # noqa: A004 - TensorFlow's public name
    real,
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
    truediv,
    truncatediv,
    truncatemod,
    where,
    xdivy,
    xlogy,
)
from chainrule.ops.array_ops import *  # noqa: F403
from chainrule.ops.indexing_ops import *  # noqa: F403
from chainrule.ops.linalg_ops import einsum, matmul, tensordot
from chainrule.ops.tf1_linalg import cross, diag, diag_part, lin_space, linspace
from chainrule.ops.tf1_names import *  # noqa: F403
from chainrule.ops.check_ops import *  # noqa: F403
from chainrule.ops.tf1_math import accumulate_n, invert_permutation
from chainrule.ops.linalg_ops import (  # TensorFlow 1.x's top-level names for cr.linalg's ops
    band_part as matrix_band_part,
    cholesky,
    cholesky_solve,
    diag as matrix_diag,
    diag_part as matrix_diag_part,
    eye,
    matrix_transpose,
    self_adjoint_eig,
    self_adjoint_eigvals,
    set_diag as matrix_set_diag,
    solve as matrix_solve,
    trace,
    triangular_solve as matrix_triangular_solve,
)
from chainrule.ops.math_ops import floormod as mod
from chainrule.ops.linalg_ops import matrix_determinant, matrix_inverse, norm
from chainrule.ops.reduction_ops import (
    arg_max,
    arg_min,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
    reduce_all,
    reduce_any,
)
from chainrule.ops.clip_ops import clip_by_global_norm, clip_by_norm, global_norm
from chainrule.ops.segment_ops import (
    segment_max,
    segment_mean,
    segment_min,
    segment_prod,
    segment_sum,
    unsorted_segment_max,
    unsorted_segment_mean,
    unsorted_segment_min,
    unsorted_segment_prod,
    unsorted_segment_sum,
)
from chainrule.ops.selection_ops import boolean_mask
from chainrule.ops.state_ops import (
    Variable,
    global_variables,
    global_variables_initializer,
    group,
    no_op,
    trainable_variables,
    variables_initializer,
)
from chainrule.ops.state_ops import (
    assign,
    assign_add,
    assign_sub,
    initialize_all_variables,
    initialize_local_variables,
    local_variables,
    local_variables_initializer,
    model_variables,
)
from chainrule.ops.init_ops import (
    constant_initializer,
    glorot_normal_initializer,
    glorot_uniform_initializer,
    ones_initializer,
    orthogonal_initializer,
    random_normal_initializer,
    random_uniform_initializer,
    truncated_normal_initializer,
    variance_scaling_initializer,
    zeros_initializer,
)
from chainrule.ops.variable_scope import (
    AUTO_REUSE,
    VariableScope,
    get_local_variable,
    get_variable,
    get_variable_scope,
    no_regularizer,
    variable_op_scope,
    variable_scope,
)
from chainrule.ops.random_ops import (
    multinomial,
    random_normal,
    random_shuffle,
    random_uniform,
    set_random_seed,
    truncated_normal,
)
from chainrule.autodiff.gradients import gradients, hessians
from chainrule.autodiff.gradients import AggregationMethod, UnconnectedGradients
from chainrule.autodiff.custom_gradient import custom_gradient
from chainrule.ops.script_ops import Print, identity_n, numpy_function, py_func
from chainrule.ops.script_ops import print_v2 as print  # noqa: A004 - TensorFlow's public name
from chainrule.ops.control_flow_ops import case, cond, foldl, foldr, map_fn, scan, while_loop
from chainrule.ops.numerics_ops import add_check_numerics_ops, check_numerics, verify_tensor_all_finite
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
from chainrule.transforms import elementwise_grad, linearize, checkpoint, remat, custom_vjp, custom_jvp

__version__ = "0.1.0"

from chainrule import linalg, nn, random, train  # noqa: E402
from chainrule import initializers, layers, metrics  # noqa: E402
from chainrule import math  # noqa: E402
from chainrule import testing as test  # noqa: E402  (cr.test.check_gradients)
from chainrule import summary, viz  # noqa: E402
from chainrule.viz.explain import explain  # noqa: E402
from chainrule import optimize  # noqa: E402
from chainrule import app, flags  # noqa: E402
from chainrule import tf_logging as logging  # noqa: E402  (cr.logging, TF's tf.logging)
from chainrule import losses  # noqa: E402
from chainrule import debugging  # noqa: E402
from chainrule import compat  # noqa: E402
from chainrule.framework.dtypes import float16 as half, float64 as double  # noqa: E402
from chainrule import numpy  # noqa: E402  (import chainrule.numpy as np: NumPy's namespace over the graph)

# Known-unsupported TF 1.x names (tf.data, tf.contrib, queues, string ops, ...) raise an AttributeError that
# says so and names the alternative (chainrule/unsupported.py); any other missing name, the usual one.
from chainrule import unsupported  # noqa: E402

__getattr__ = unsupported.module_getattr("chainrule", "tf", unsupported.TOP_LEVEL)
from chainrule import dtypes  # noqa: E402  (tf.dtypes)
