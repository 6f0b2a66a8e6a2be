"""TensorFlow 1.x names that are another name, or one line, of what chainrule already has.

``tf.to_float``, ``tf.realdiv``, ``tf.log_sigmoid``, ``tf.NoGradient``, and the switches TF 1.x code calls
when it runs on TensorFlow 2 (``tf.disable_v2_behavior()``): chainrule always builds graphs, so those that
ask for graph mode do nothing (``tf.enable_eager_execution`` is in chainrule.unsupported, which says why).
"""

from __future__ import annotations

from typing import Any, NoReturn

from chainrule.framework import dtypes
from chainrule.framework.graph import Operation, Tensor, get_default_graph, is_tensor_like
from chainrule.ops import array_ops, math_ops, reduction_ops, selection_ops, state_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import NotDifferentiable

__all__ = [
    "all_variables",
    "argsort",
    "initialize_all_tables",
    "initialize_variables",
    "is_finite",
    "is_inf",
    "is_nan",
    "moving_average_variables",
    "rint",
    "sequence_mask",
    "shape_n",
    "sort",
    "tuple",
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


all_variables = state_ops.global_variables
initialize_variables = state_ops.variables_initializer
rint = math_ops.round  # half to even, as TensorFlow's rint


def initialize_all_tables(name: str = "init_all_tables") -> Operation:
    """TensorFlow 1.x's older name of ``tables_initializer``."""
    return tables_initializer(name=name)


def moving_average_variables(scope: str | None = None) -> list[Any]:
    """The graph's ``moving_average_variables`` collection (filled by code that keeps moving averages)."""
    return get_default_graph().get_collection("moving_average_variables", scope)


def is_nan(x: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x != x``: true exactly at NaNs (no rewrite folds ``x != x``, which NaN makes true)."""
    x = convert_to_tensor(x)
    return math_ops.not_equal(x, x, name=name or "IsNan")


def is_inf(x: Any, name: str | None = None) -> Tensor:
    """Elementwise ``|x| == inf``."""
    x = convert_to_tensor(x)
    return math_ops.equal(math_ops.abs(x), float("inf"), name=name or "IsInf")


def is_finite(x: Any, name: str | None = None) -> Tensor:
    """Elementwise ``|x| < inf``: false at infinities and NaNs."""
    x = convert_to_tensor(x)
    return math_ops.less(math_ops.abs(x), float("inf"), name=name or "IsFinite")


def sequence_mask(lengths: Any, maxlen: Any = None, dtype: Any = dtypes.bool_, name: str | None = None) -> Tensor:
    """``mask[..., j] = j < lengths[...]`` for ``j < maxlen`` (default: the largest length), cast to ``dtype``."""
    with get_default_graph().name_scope(name or "SequenceMask"):
        lengths = convert_to_tensor(lengths)
        if maxlen is None:
            maxlen = reduction_ops.reduce_max(lengths)
        positions = array_ops.range(math_ops.cast(convert_to_tensor(maxlen), lengths.dtype))
        mask = math_ops.less(positions, array_ops.expand_dims(lengths, -1))
        target = dtypes.as_dtype(dtype)
        return mask if target == dtypes.bool_ else math_ops.cast(mask, target)


def shape_n(input: Any, out_type: Any = dtypes.int32, name: str | None = None) -> list[Tensor]:  # noqa: A002
    """The shape of each tensor in ``input``."""
    return [array_ops.shape(t, out_type=out_type) for t in input]


def tuple(tensors: Any, name: str | None = None, control_inputs: Any = None) -> list[Any]:  # noqa: A001
    """The tensors, each available only after all of them (and ``control_inputs``) are computed (``tf.tuple``)."""
    tensors = list(tensors)
    graph = get_default_graph()
    with graph.name_scope(name or "tuple"):
        gate = state_ops.group(*[t for t in tensors if t is not None], *(control_inputs or []))
        with graph.control_dependencies([gate]):
            return [None if t is None else array_ops.identity(t) for t in tensors]


def sort(values: Any, axis: int = -1, direction: str = "ASCENDING", name: str | None = None) -> Tensor:
    """``values`` sorted along ``axis`` (TensorFlow's ``sort``, built on ``top_k`` as TensorFlow builds it)."""
    return _sorted(values, axis, direction, name or "sort")[0]


def argsort(
    values: Any, axis: int = -1, direction: str = "ASCENDING", stable: bool = False, name: str | None = None
) -> Tensor:
    """The indices that sort ``values`` along ``axis`` (ties: the lower index first, so the order is stable)."""
    return _sorted(values, axis, direction, name or "argsort")[1]


def _sorted(values: Any, axis: int, direction: str, name: str) -> Any:
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"{name}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    x = convert_to_tensor(values)
    rank = x.shape.rank
    if rank is not None and not -rank <= axis < rank:
        raise ValueError(f"{name}: axis {axis} is out of range for {x.name} of rank {rank}")
    length = None if rank is None or x.shape.dims is None else x.shape.dims[axis]
    if rank is None or length is None:
        raise ValueError(f"{name} needs the rank and the length of the sorted axis of {x.name} ({x.shape})")
    axis %= rank
    with get_default_graph().name_scope(name):
        perm = [*(i for i in range(rank) if i != axis), axis]
        moved = x if axis == rank - 1 else array_ops.transpose(x, perm)
        n = int(length)
        if direction == "DESCENDING":
            top_values, indices = selection_ops.top_k(moved, k=n)
        else:
            top_values, indices = selection_ops.top_k(-moved, k=n)
            top_values = -top_values
        if axis != rank - 1:
            back = [perm.index(i) for i in range(rank)]
            top_values, indices = array_ops.transpose(top_values, back), array_ops.transpose(indices, back)
        return top_values, indices
