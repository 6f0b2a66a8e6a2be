"""TensorFlow 1.x math functions written in chainrule's ops (``tf.math.reduce_std``, ``tf.nn.in_top_k``, ...).

Each is a composite, as TensorFlow's are Python functions over its ops: the gradients come from
the ops they are built of.
"""

from __future__ import annotations

from typing import Any

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, name_scope
from chainrule.ops import array_ops, indexing_ops, linalg_ops, math_ops, reduction_ops
from chainrule.ops.constant_op import convert_to_tensor

__all__ = [
    "accumulate_n",
    "in_top_k",
    "invert_permutation",
    "matvec",
    "reciprocal_no_nan",
    "reduce_euclidean_norm",
    "reduce_std",
    "reduce_variance",
    "zero_fraction",
]


def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The variance over ``axis`` (the mean of squared deviations from the mean: TF's, not Bessel-corrected)."""
    with name_scope(name, "reduce_variance", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        if not (x.dtype.is_floating or x.dtype.is_complex):
            raise TypeError(f"reduce_variance: input must be floating or complex, got {x.name} of dtype {x.dtype.name}")
        mean = reduction_ops.reduce_mean(x, axis=axis, keepdims=True)
        deviation = math_ops.abs(x - mean) if x.dtype.is_complex else x - mean
        return reduction_ops.reduce_mean(math_ops.square(deviation), axis=axis, keepdims=keepdims)


def reduce_std(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The standard deviation over ``axis``: ``sqrt(reduce_variance(...))``."""
    with name_scope(name, "reduce_std", [input_tensor]):
        return math_ops.sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def reduce_euclidean_norm(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """``sqrt(sum(x**2))`` over ``axis`` (the 2-norm of the entries)."""
    with name_scope(name, "reduce_euclidean_norm", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        return math_ops.sqrt(reduction_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=keepdims))


def reciprocal_no_nan(x: Any, name: str | None = None) -> Tensor:
    """``1 / x``, and 0 where ``x`` is 0."""
    with name_scope(name, "reciprocal_no_nan", [x]):
        x = convert_to_tensor(x)
        return math_ops.div_no_nan(array_ops.ones_like(x), x)


def zero_fraction(value: Any, name: str | None = None) -> Tensor:
    """The fraction of entries of ``value`` that are zero, as a float32 scalar."""
    with name_scope(name, "zero_fraction", [value]):
        x = convert_to_tensor(value)
        return reduction_ops.reduce_mean(math_ops.cast(math_ops.equal(x, array_ops.zeros_like(x)), dtypes.float32))


def accumulate_n(inputs: list[Any], shape: Any = None, tensor_dtype: Any = None, name: str | None = None) -> Tensor:
    """The elementwise sum of ``inputs`` (TF's ``accumulate_n``: ``add_n`` with optional shape and dtype checks)."""
    tensors = [convert_to_tensor(t) for t in inputs]
    if tensor_dtype is not None and any(t.dtype != dtypes.as_dtype(tensor_dtype) for t in tensors):
        raise TypeError(f"accumulate_n: expected inputs of dtype {dtypes.as_dtype(tensor_dtype).name}")
    if shape is not None:
        for t in tensors:
            if not t.shape.is_compatible_with(shape):
                raise ValueError(f"accumulate_n: input {t.name} has shape {t.shape}, expected {shape}")
    return math_ops.add_n(tensors, name=name)


def invert_permutation(x: Any, name: str | None = None) -> Tensor:
    """``y`` with ``y[x[i]] = i``, for a 1-D permutation ``x`` of ``0..n-1``."""
    with name_scope(name, "InvertPermutation", [x]):
        x = convert_to_tensor(x)
        if not x.dtype.is_integer or x.shape.rank not in (None, 1):
            raise ValueError(
                f"invert_permutation: expected a 1-D integer tensor, got {x.name}: {x.dtype.name}{x.shape}"
            )
        n = array_ops.shape(x, out_type=x.dtype)
        return indexing_ops.scatter_nd(array_ops.expand_dims(x, 1), array_ops.range(n[0]), n)


def in_top_k(predictions: Any, targets: Any, k: int, name: str | None = None) -> Tensor:
    """Whether each row's target class is among its ``k`` largest predictions (bool, one per row).

    As TensorFlow's: classes tied with the k-th largest count as in the top k, and a row whose
    target prediction is not finite, or whose target is out of range, gives False.
    """
    with name_scope(name, "in_top_k", [predictions, targets]):
        predictions = convert_to_tensor(predictions)
        targets = convert_to_tensor(targets)
        if predictions.shape.rank not in (None, 2) or targets.shape.rank not in (None, 1):
            raise ValueError(
                f"in_top_k: predictions must be 2-D and targets 1-D, got {predictions.shape} and {targets.shape}"
            )
        if not targets.dtype.is_integer:
            raise TypeError(f"in_top_k: targets must be int32 or int64, got {targets.dtype.name}")
        num_classes = array_ops.shape(predictions, out_type=targets.dtype)[1]
        valid = math_ops.logical_and(math_ops.greater_equal(targets, 0), math_ops.less(targets, num_classes))
        safe = math_ops.where(valid, targets, array_ops.zeros_like(targets))
        rows = array_ops.range(array_ops.shape(targets, out_type=targets.dtype)[0])
        target_prediction = indexing_ops.gather_nd(predictions, array_ops.stack([rows, safe], axis=1))
        larger = math_ops.greater(predictions, array_ops.expand_dims(target_prediction, 1))
        count = reduction_ops.reduce_sum(math_ops.cast(larger, dtypes.int32), axis=1)
        finite = math_ops.less(math_ops.abs(target_prediction), float("inf"))
        return math_ops.logical_and(
            math_ops.logical_and(valid, finite), math_ops.less(count, convert_to_tensor(k, dtype=dtypes.int32))
        )


def matvec(
    a: Any,
    b: Any,
    transpose_a: bool = False,
    adjoint_a: bool = False,
    a_is_sparse: bool = False,
    b_is_sparse: bool = False,
    name: str | None = None,
) -> Tensor:
    """``a @ b`` for a (batch of) matrix ``a`` and a (batch of) vector ``b``: ``matmul(a, b[..., None])[..., 0]``.

    ``a_is_sparse``/``b_is_sparse`` are TensorFlow's hints for a faster kernel; accepted and ignored.
    """
    with name_scope(name, "MatVec", [a, b]):
        b_column = array_ops.expand_dims(convert_to_tensor(b), -1)
        product = linalg_ops.matmul(a, b_column, transpose_a=transpose_a, adjoint_a=adjoint_a)
        return array_ops.squeeze(product, axis=-1)
