"""Forward-mode (JVP) rules for the common ops: ``jvp(op, *input_tangents) -> [tangent per output]``.

A tangent is None where it is zero. Rules are built from chainrule ops (so they can be
differentiated again) and follow the same conventions as the ops' gradients (kinks, ties,
``where``). Ops that are not listed here get their JVP by transposing their gradient (see
``forward.py``), which is always correct but builds about twice the graph.

Four shapes of rule cover most ops:
- ``linear``: the op is linear in its float inputs jointly, so its JVP is the op itself applied
  to the tangents (zeros for the missing ones);
- ``linear_in(k...)``: linear in some inputs, and constant (gradient None) in the other floats;
- ``multilinear``: linear in each float input separately (products, matmul, einsum, conv), so the
  JVP sums the op with one input at a time replaced by its tangent;
- an explicit formula (elementwise functions, reductions with ties, softmax, solves).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.framework.graph import Operation, Tensor
from chainrule.ops import array_ops, conv_ops, indexing_ops, linalg_ops, math_ops, nn_ops, reduction_ops  # noqa: F401
from chainrule.ops.registry import apply_op, register_jvp

Rule = Callable[..., Sequence[Any]]
T = Tensor | None


def _reapply(op: Operation, inputs: Sequence[Tensor]) -> list[Tensor]:
    """The op again (same type and attributes) on other inputs."""
    return list(apply_op(op.type, list(inputs), op.kernel_attrs).outputs)


def _zero_fill(x: Tensor, t: T) -> Tensor:
    return t if t is not None else array_ops.zeros_like(x)


def _sum(terms: Sequence[T]) -> T:
    live = [t for t in terms if t is not None]
    if not live:
        return None
    out = live[0]
    for t in live[1:]:
        out = out + t
    return out


def linear(op: Operation, *tangents: T) -> list[T]:
    """The JVP of an op that is linear in its float inputs jointly: the op on the tangents."""
    inputs = [(_zero_fill(x, t) if x.dtype.is_floating else x) for x, t in zip(op.inputs, tangents)]
    return list(_reapply(op, inputs))


def linear_in(*indices: int) -> Rule:
    """The JVP of an op linear in the inputs ``indices`` and constant in its other float inputs."""

    def rule(op: Operation, *tangents: T) -> list[T]:
        if all(tangents[i] is None for i in indices):
            return [None] * len(op.outputs)
        inputs = list(op.inputs)
        for i in indices:
            inputs[i] = _zero_fill(inputs[i], tangents[i])
        return list(_reapply(op, inputs))

    return rule


def multilinear(op: Operation, *tangents: T) -> list[T]:
    """The JVP of an op linear in each float input separately: one term per input with a tangent."""
    terms: list[list[Tensor]] = []
    for i, t in enumerate(tangents):
        if t is not None:
            inputs = list(op.inputs)
            inputs[i] = t
            terms.append(_reapply(op, inputs))
    return [_sum([term[k] for term in terms]) for k in range(len(op.outputs))]


def _register_all(rules: dict[str, Rule]) -> None:
    for op_type, rule in rules.items():
        register_jvp(op_type, rule)


# Elementwise unary ops need no rule here: their declarations derive the JVP from the gradient
# (``registry.diagonal_jvp``), and Cast declares its own.


# --- elementwise binary -----------------------------------------------------------------------
def _mul_jvp(op: Operation, ta: T, tb: T) -> list[T]:
    a, b = op.inputs
    return [_sum([None if ta is None else ta * b, None if tb is None else a * tb])]


def _div_jvp(op: Operation, ta: T, tb: T) -> list[T]:
    b, y = op.inputs[1], op.outputs[0]
    num = _sum([ta, None if tb is None else -tb * y])
    return [None if num is None else num / b]


def _select_between(cond: Tensor, ta: T, tb: T, a: Tensor, b: Tensor) -> Tensor:
    return math_ops.where(cond, _zero_fill(a, ta), _zero_fill(b, tb))


def _pow_jvp(op: Operation, ta: T, tb: T) -> list[T]:
    a, b = op.inputs
    y = op.outputs[0]
    return [
        _sum(
            [
                None if ta is None else ta * b * a ** (b - 1),
                None if tb is None else tb * y * math_ops.safe_log(a),
            ]
        )
    ]


def _atan2_jvp(op: Operation, ty: T, tx: T) -> list[T]:
    y, x = op.inputs
    num = _sum([None if ty is None else x * ty, None if tx is None else -y * tx])
    return [None if num is None else num / (x * x + y * y)]


_register_all(
    {
        "Add": lambda op, ta, tb: [_sum([ta, tb])],
        "Sub": lambda op, ta, tb: [_sum([ta, None if tb is None else -tb])],
        "AddN": lambda op, *ts: [_sum(ts)],
        "Mul": _mul_jvp,
        "RealDiv": _div_jvp,
        "Maximum": lambda op, ta, tb: [
            _select_between(op.inputs[0] >= op.inputs[1], ta, tb, op.inputs[0], op.inputs[1])
        ],
        "Minimum": lambda op, ta, tb: [
            _select_between(op.inputs[0] <= op.inputs[1], ta, tb, op.inputs[0], op.inputs[1])
        ],
        "SquaredDifference": lambda op, ta, tb: [
            2 * (op.inputs[0] - op.inputs[1]) * _sum([ta, None if tb is None else -tb])
        ],
        "Pow": _pow_jvp,
        "Atan2": _atan2_jvp,
        "FloorMod": lambda op, ta, tb: [
            _sum([ta, None if tb is None else -tb * math_ops.floor(op.inputs[0] / op.inputs[1])])
        ],
        "FloorDiv": lambda op, ta, tb: [None],
        "Select": lambda op, tc, ta, tb: [
            None if ta is None and tb is None else _select_between(op.inputs[0], ta, tb, op.inputs[1], op.inputs[2])
        ],
    }
)


# --- reductions ---------------------------------------------------------------------------------
def _max_min_jvp(op: Operation, t: T) -> list[T]:
    # The gradient's convention: tied extrema share the derivative evenly.
    x, y = op.inputs[0], op.outputs[0]
    axis, keepdims = op.get_attr("axis"), op.get_attr("keepdims")
    if not keepdims:
        y = array_ops.reshape(y, reduction_ops.kept_dims_shape(op))
    is_extremum = math_ops.cast(math_ops.equal(x, y), x.dtype)
    total = reduction_ops.reduce_sum(t * is_extremum, axis=axis, keepdims=keepdims)
    return [total / reduction_ops.reduce_sum(is_extremum, axis=axis, keepdims=keepdims)]


_register_all(
    {
        "Sum": linear,
        "Max": _max_min_jvp,
        "Min": _max_min_jvp,
        "Cumsum": linear,
        "ShiftAlongAxis": linear,
    }
)


# --- shapes, indexing, joining: linear ------------------------------------------------------------
for _op_type in (
    "Reshape",
    "Transpose",
    "ExpandDims",
    "Squeeze",
    "StridedSlice",
    "StridedSliceGrad",
    "Slice",
    "PadV2",
    "MirrorPad",
    "MirrorPadGrad",
    "ConcatV2",
    "Pack",
    "Unpack",
    "Split",
    "SplitV",
    "GatherV2",
    "GatherNd",
    "ScatterNd",
    "Tile",
    "ReverseV2",
    "BroadcastTo",
    "SumToShape",
    "Fill",
    "SparseToDense",
    "OneHot",
    "BiasAdd",
    "LinalgMatrixTranspose",
    "MatrixDiag",
    "MatrixDiagPart",
    "MatrixSetDiag",
    "MatrixBandPart",
    "LinalgDiagEmbed",
    "AvgPool",
    "AvgPoolGrad",
):
    register_jvp(_op_type, linear)

# Linear in the incoming gradient; the forward values they read are constants (gradient None).
register_jvp("MaxPoolGrad", linear_in(2))
register_jvp("MaxPoolGradGrad", linear_in(2))

# --- products: multilinear -------------------------------------------------------------------------
for _op_type in ("MatMul", "Einsum", "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"):
    register_jvp(_op_type, multilinear)


# --- softmax family -------------------------------------------------------------------------------
def _softmax_jvp(op: Operation, t: T) -> list[T]:
    y = op.outputs[0]
    return [y * (t - reduction_ops.reduce_sum(t * y, axis=op.get_attr("axis"), keepdims=True))]


def _log_softmax_jvp(op: Operation, t: T) -> list[T]:
    p = math_ops.exp(op.outputs[0])
    return [t - reduction_ops.reduce_sum(t * p, axis=op.get_attr("axis"), keepdims=True)]


def _softmax_xent_jvp(op: Operation, t_logits: T, t_labels: T) -> list[T]:
    logits, labels = op.inputs
    axis = op.get_attr("axis")
    log_p = nn_ops.log_softmax(logits, axis)
    terms = []
    if t_labels is not None:
        terms.append(-reduction_ops.reduce_sum(t_labels * log_p, axis=axis))
    if t_logits is not None:
        total = reduction_ops.reduce_sum(labels, axis=axis)
        terms.append(
            total * reduction_ops.reduce_sum(t_logits * math_ops.exp(log_p), axis=axis)
            - reduction_ops.reduce_sum(labels * t_logits, axis=axis)
        )
    return [_sum(terms)]


def _sparse_xent_jvp(op: Operation, t_logits: T, t_labels: T) -> list[T]:
    if t_logits is None:
        return [None]
    logits, labels = op.inputs
    depth = logits.shape[-1] if logits.shape.rank is not None else None
    depth_t = depth if depth is not None else array_ops.shape(logits)[-1]
    one_hot = indexing_ops.one_hot(labels, depth_t, dtype=logits.dtype)
    return [reduction_ops.reduce_sum(t_logits * (nn_ops.softmax(logits) - one_hot), axis=-1)]


def _sigmoid_xent_jvp(op: Operation, tx: T, tz: T) -> list[T]:
    x, z = op.inputs
    dx = math_ops.where(x >= 0, (1 - z) - math_ops.sigmoid(-x), math_ops.sigmoid(x) - z)  # as the gradient
    return [_sum([None if tx is None else tx * dx, None if tz is None else -tz * x])]


_register_all(
    {
        "Softmax": _softmax_jvp,
        "LogSoftmax": _log_softmax_jvp,
        "SoftmaxCrossEntropyWithLogits": _softmax_xent_jvp,
        "SparseSoftmaxCrossEntropyWithLogits": _sparse_xent_jvp,
        "SigmoidCrossEntropyWithLogits": _sigmoid_xent_jvp,
    }
)


# --- linear algebra ---------------------------------------------------------------------------------
def _inverse_jvp(op: Operation, t: T) -> list[T]:
    y = op.outputs[0]
    return [-linalg_ops.matmul(y, linalg_ops.matmul(t, y))]


def _solve_jvp(op: Operation, t_a: T, t_b: T) -> list[T]:
    # A X = B  =>  A dX = dB - dA X   (A^T X = B  =>  A^T dX = dB - dA^T X).
    a, x = op.inputs[0], op.outputs[0]
    adjoint = op.get_attr("adjoint")
    rhs = _sum([t_b, None if t_a is None else -linalg_ops.matmul(t_a, x, transpose_a=adjoint)])
    return [None if rhs is None else linalg_ops.solve(a, rhs, adjoint=adjoint)]


def _triangular_solve_jvp(op: Operation, t_a: T, t_b: T) -> list[T]:
    # As a solve, with only the triangle that the kernel reads perturbed.
    a, x = op.inputs[0], op.outputs[0]
    lower, adjoint = op.get_attr("lower"), op.get_attr("adjoint")
    if t_a is not None:
        t_a = linalg_ops.band_part(t_a, -1, 0) if lower else linalg_ops.band_part(t_a, 0, -1)
    rhs = _sum([t_b, None if t_a is None else -linalg_ops.matmul(t_a, x, transpose_a=adjoint)])
    return [None if rhs is None else linalg_ops.triangular_solve(a, rhs, lower=lower, adjoint=adjoint)]


def _cholesky_jvp(op: Operation, t: T) -> list[T]:
    # dL = L Phi(L^-1 dA L^-T) (Phi: the lower triangle, diagonal halved) for the symmetric part of
    # the tangent: the gradient's convention (perturbations keep the input symmetric).
    chol = op.outputs[0]
    sym = 0.5 * (t + linalg_ops.matrix_transpose(t))
    left = linalg_ops.triangular_solve(chol, sym, lower=True)  # L^-1 S
    middle = linalg_ops.triangular_solve(chol, linalg_ops.matrix_transpose(left), lower=True)  # L^-1 S L^-T
    middle = linalg_ops.band_part(middle, -1, 0) - 0.5 * linalg_ops.band_part(middle, 0, 0)
    return [linalg_ops.matmul(chol, middle)]


def _trace_of_solve(a: Tensor, t: Tensor) -> Tensor:
    return linalg_ops.trace(linalg_ops.solve(a, t))


_register_all(
    {
        "MatrixInverse": _inverse_jvp,
        "MatrixSolve": _solve_jvp,
        "MatrixTriangularSolve": _triangular_solve_jvp,
        "Cholesky": _cholesky_jvp,
        # d det(A) = det(A) tr(A^-1 dA); d log|det A| = tr(A^-1 dA); the sign is locally constant.
        "MatrixDeterminant": lambda op, t: [op.outputs[0] * _trace_of_solve(op.inputs[0], t)],
        "LogMatrixDeterminant": lambda op, t: [None, _trace_of_solve(op.inputs[0], t)],
    }
)
