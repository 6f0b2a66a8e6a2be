"""TensorFlow 1.x names that are another name, or one line, of what chainrule already has.

``tf.to_float``, ``tf.realdiv``, ``tf.log_sigmoid``, ``tf.NoGradient``, and the switches TF 1.x code calls
when it runs on TensorFlow 2 (``tf.disable_v2_behavior()``): chainrule always builds graphs, so those that
ask for graph mode do nothing (``tf.enable_eager_execution`` is in chainrule.unsupported, which says why).
"""

from __future__ import annotations

from typing import Any, NoReturn

from chainrule.framework import dtypes
from chainrule.framework.graph import Operation, Tensor, get_default_graph, is_tensor_like
from chainrule.ops import array_ops, math_ops, state_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import NotDifferentiable

__all__ = [
    "NoGradient",
    "disable_eager_execution",
    "disable_resource_variables",
    "disable_v2_behavior",
    "executing_eagerly",
    "is_tensor",
    "log_sigmoid",
    "logical_xor",
    "newaxis",
    "no_gradient",
    "realdiv",
    "reverse_v2",
    "scalar_mul",
    "tables_initializer",
    "to_bfloat16",
    "to_complex128",
    "to_complex64",
    "to_double",
    "to_float",
    "to_int32",
    "to_int64",
    "where_v2",
]

newaxis = None
NoGradient = no_gradient = NotDifferentiable
reverse_v2 = array_ops.reverse
where_v2 = math_ops.where  # chainrule's where broadcasts, as TF's where_v2


def _to(dtype: dtypes.DType, default_name: str) -> Any:
    def convert(x: Any, name: str = default_name) -> Tensor:
        return math_ops.cast(x, dtype, name=name)

    convert.__name__ = convert.__qualname__ = default_name
    convert.__doc__ = f"``cast(x, {dtype.name})`` (TensorFlow 1.x's ``tf.{default_name}``)."
    return convert


to_float = _to(dtypes.float32, "to_float")
to_double = _to(dtypes.float64, "to_double")
to_int32 = _to(dtypes.int32, "to_int32")
to_int64 = _to(dtypes.int64, "to_int64")
to_complex64 = _to(dtypes.complex64, "to_complex64")
to_complex128 = _to(dtypes.complex128, "to_complex128")


def to_bfloat16(x: Any, name: str = "ToBFloat16") -> NoReturn:
    """bfloat16 has no NumPy dtype: refused, naming float16 and float32 as the alternatives."""
    raise TypeError(f"{name}: chainrule has no bfloat16 dtype (NumPy has none); use to_float or cast to float16")


def realdiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x / y`` for floating tensors (TensorFlow's ``RealDiv``)."""
    x = convert_to_tensor(x)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise TypeError(f"realdiv takes floating or complex tensors, got {x.name} of dtype {x.dtype.name}")
    return math_ops.divide(x, y, name=name)


def scalar_mul(scalar: Any, x: Any, name: str | None = None) -> Tensor:
    """``scalar * x`` for a scalar ``scalar`` (TensorFlow's ``scalar_mul``)."""
    x = convert_to_tensor(x)
    s = convert_to_tensor(scalar, dtype_hint=x.dtype)
    if s.shape.rank not in (0, None):
        raise ValueError(f"scalar_mul: the scalar must have rank 0, got shape {s.shape}")
    return math_ops.multiply(s, x, name=name)


def log_sigmoid(x: Any, name: str | None = None) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, finite for inputs of any size."""
    with get_default_graph().name_scope(name or "LogSigmoid"):
        return -math_ops.softplus(-convert_to_tensor(x))


def logical_xor(x: Any, y: Any, name: str = "LogicalXor") -> Tensor:
    """Elementwise exclusive or of bool tensors (TensorFlow's definition: ``(x | y) & ~(x & y)``)."""
    with get_default_graph().name_scope(name):
        return math_ops.logical_and(math_ops.logical_or(x, y), math_ops.logical_not(math_ops.logical_and(x, y)))


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a chainrule tensor (or a Variable, which stands for one)."""
    return is_tensor_like(x)


def tables_initializer(name: str = "init_all_tables") -> Operation:
    """chainrule has no lookup tables: an op that does nothing, so TF 1.x's init code runs unchanged."""
    return state_ops.no_op(name=name)


def disable_v2_behavior() -> None:
    """Nothing to switch off: chainrule always builds graphs and runs them in Sessions (TF 1.x's behaviour)."""


disable_eager_execution = disable_resource_variables = disable_v2_behavior


def executing_eagerly() -> bool:
    """False: chainrule never executes eagerly."""
    return False
