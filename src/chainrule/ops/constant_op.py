"""Constants, placeholders, and conversion of Python/NumPy values to tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.dtypes import DType, as_dtype
from chainrule.framework.graph import Operation, Tensor, as_tensor_or_none, is_tensor_like
from chainrule.framework.tensor_shape import TensorShape, as_shape
from chainrule.ops.registry import apply, register_op


def _python_dtype(value: Any) -> DType | None:
    """Python scalars and lists default like TensorFlow: float -> float32, int -> int32."""
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and not isinstance(value, (np.ndarray, np.generic)):
        return dtypes.float32
    if arr.dtype.kind in "iu" and not isinstance(value, (np.ndarray, np.generic)):
        if arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min):
            return dtypes.int64
        return dtypes.int32
    return None


def to_numpy(value: Any, dtype: DType | None = None) -> np.ndarray:
    """Convert a Python/NumPy value to an array of a chainrule dtype, refusing lossy casts."""
    arr = np.asarray(value)
    if arr.dtype.kind in "OUS":
        return _string_array(value, arr, dtype)
    target = dtype or _python_dtype(value) or as_dtype(arr.dtype)
    np_target = np.dtype(target.as_numpy_dtype)
    if arr.dtype != np_target:
        if arr.dtype.kind == "f" and np_target.kind in "iub":
            if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
                raise TypeError(f"Cannot convert {value!r} to a tensor of dtype {target.name} without losing data.")
        if arr.dtype.kind == "c" and np_target.kind != "c":
            raise TypeError(f"Cannot convert complex value {value!r} to dtype {target.name} without losing data.")
        if arr.dtype.kind == "b" and np_target.kind != "b":
            raise TypeError(f"Cannot convert bool value {value!r} to dtype {target.name}.")
        arr = arr.astype(np_target)
    return arr


def _string_array(value: Any, arr: np.ndarray, dtype: DType | None) -> np.ndarray:
    """Strings as TensorFlow holds them: ``bytes`` (``str`` encoded as UTF-8) in an object array of dtype string."""
    items = arr.ravel().tolist()
    if not all(isinstance(v, (str, bytes)) for v in items):
        raise TypeError(f"Cannot convert {value!r} to a tensor: unsupported type {arr.dtype}.")
    if dtype is not None and dtype != dtypes.string:
        raise TypeError(f"Cannot convert the string value {value!r} to a tensor of dtype {dtype.name}.")
    encoded = np.empty(arr.shape, dtype=object)
    encoded.ravel()[:] = [v.encode("utf-8") if isinstance(v, str) else v for v in items]
    return encoded


def _const_infer(inputs: list[Tensor], value: np.ndarray, dtype: DType) -> list[tuple[DType, TensorShape]]:
    return [(dtype, TensorShape(value.shape))]


def _const_explain(b: Any, op: Operation, args: list[Any]) -> Any:
    """A number, a short array written out, or the constant's name."""
    value = np.asarray(op.get_attr("value"))
    if value.size == 1 and value.dtype != object:
        return b.num(value.reshape(()).item())
    if 0 < value.size <= 6 and value.dtype != object:
        return b.sym(np.array2string(value, separator=", "))
    return b.sym(op.name)


def _by_name(b: Any, op: Operation, args: list[Any]) -> Any:
    return b.sym(op.name)


register_op("Const", lambda xp, value, dtype: value, _const_infer, grad=None, explain=_const_explain)


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const") -> Tensor:
    """A tensor holding a fixed value.

    Parameters
    ----------
    value : scalar, nested list or NumPy array.
    dtype : element type; defaults to the value's (Python floats become float32).
    shape : optional shape; a scalar value is broadcast to it, otherwise sizes must match.
    """
    arr = to_numpy(value, as_dtype(dtype) if dtype is not None else None)
    if shape is not None:
        if isinstance(shape, (list, tuple)) and any(isinstance(d, int) and d < 0 for d in shape):
            raise ValueError(f"constant: the requested shape {list(shape)} has negative dimensions")
        dims = as_shape(shape).as_list()
        target = [d for d in dims if d is not None]
        if len(target) != len(dims):
            raise TypeError(f"constant: the requested shape {tuple(dims)} has unknown dimensions")
        if arr.size == 1:
            arr = np.broadcast_to(arr.reshape(()), target)
        elif arr.size == int(np.prod(target)):
            arr = arr.reshape(target)
        else:
            raise TypeError(f"constant: value of shape {arr.shape} does not fit the requested shape {tuple(target)}")
    arr = np.array(arr, copy=True)
    arr.flags.writeable = False
    return apply("Const", name=name, value=arr, dtype=as_dtype(arr.dtype))


def _placeholder_kernel(xp: Any, *, dtype: DType, shape: TensorShape, **_: Any) -> Any:
    raise ValueError(f"You must feed a value for this placeholder (dtype {dtype.name}, shape {shape}) in feed_dict.")


register_op(
    "Placeholder",
    _placeholder_kernel,
    lambda inputs, dtype, shape: [(dtype, shape)],
    grad=None,
    stateful=True,
    explain=_by_name,
)


def placeholder(dtype: Any, shape: Any = None, name: str = "Placeholder") -> Tensor:
    """A tensor whose value must be given in ``feed_dict`` when the graph runs.

    ``shape=None`` leaves the rank unknown; ``None`` entries leave dimensions unknown.
    """
    return apply("Placeholder", name=name, dtype=as_dtype(dtype), shape=as_shape(shape))


def _placeholder_with_default_infer(inputs: list[Tensor], shape: TensorShape) -> list[Any]:
    (value,) = inputs
    if not shape.is_compatible_with(value.shape):
        raise ValueError(f"the default value's shape {value.shape} is not compatible with shape {shape}")
    return [(value.dtype, shape)]


# A feed replaces the op's output (as for any fed tensor); unfed, it passes its input through.
# The gradient is the identity's, as TensorFlow's (its _IdGrad).
register_op(
    "PlaceholderWithDefault",
    lambda xp, value, shape: value,
    _placeholder_with_default_infer,
    lambda op, g: [g],
    explain=_by_name,
    jvp=lambda op, tangent: [tangent],  # an unfed default passes its tangent through
    batch=lambda ctx, op, inputs, batched: [(inputs[0], batched[0])],  # and its batched value
)


def placeholder_with_default(input: Any, shape: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """A tensor that is ``input`` unless a value is fed for it (TensorFlow's ``placeholder_with_default``).

    Parameters
    ----------
    input : the default value (a tensor or anything ``convert_to_tensor`` takes).
    shape : the output's static shape (``None`` entries: any size), compatible with ``input``'s;
        a fed value must have a shape compatible with it.
    name : op name (``PlaceholderWithDefault`` by default).
    """
    if isinstance(shape, Tensor):
        raise TypeError(f"placeholder_with_default: shape must be a static shape (a list or TensorShape), got {shape}")
    value = convert_to_tensor(input)
    return apply("PlaceholderWithDefault", value, name=name or "PlaceholderWithDefault", shape=as_shape(shape))


def _is_nested_with_tensors(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_is_nested_with_tensors(v) for v in value)
    return as_tensor_or_none(value) is not None


def convert_to_tensor(value: Any, dtype: Any = None, name: str | None = None, dtype_hint: Any = None) -> Tensor:
    """Turn a tensor, Variable, NumPy array, Python scalar or nested list into a Tensor.

    A nested list that contains tensors is packed (stacked) into one tensor, as
    TensorFlow does. ``dtype_hint`` is used for Python values only (weak typing).
    """
    want = as_dtype(dtype) if dtype is not None else None
    t = as_tensor_or_none(value)
    if t is not None:
        if want is not None and t.dtype != want:
            raise TypeError(f"Tensor {t.name} has dtype {t.dtype.name}, expected {want.name}.")
        return t
    if isinstance(value, Operation):
        raise TypeError(f"Cannot convert operation {value.name} to a tensor; use op.outputs[i].")
    if isinstance(value, (list, tuple)) and _is_nested_with_tensors(value):
        parts = [convert_to_tensor(v, dtype=want, dtype_hint=dtype_hint) for v in value]
        dtype_set = {p.dtype for p in parts}
        if len(dtype_set) > 1 and want is None:
            floats = [d for d in dtype_set if d.is_floating]
            target = floats[0] if len(floats) == 1 else None
            parts = [convert_to_tensor(v, dtype=target, dtype_hint=target) for v in value] if target else parts
        # A Pack, as cr.stack builds (declared in array_ops, which imports this module).
        return apply("Pack", *convert_n(parts), axis=0, name=name or "packed")
    if want is None and dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        hint = as_dtype(dtype_hint)
        natural = _python_dtype(value)
        # A Python int may take a float hint; a Python float never silently becomes an int.
        # A Python int or float may take a complex hint (weakly typed, as TensorFlow's).
        if (
            natural is None
            or natural.is_floating == hint.is_floating
            or (natural.is_integer and hint.is_floating)
            or hint.is_complex
        ):
            want = hint
    return constant(value, dtype=want, name=name or "Const")


def convert_n(values: Any, dtype_hint: Any = None) -> list[Tensor]:
    """Convert several values so Python scalars take the dtype of the tensors among them."""
    tensors = [as_tensor_or_none(v) for v in values]
    hint = dtype_hint
    for t in tensors:
        if t is not None:
            hint = t.dtype
            break
    if hint is None:
        for v in values:
            if isinstance(v, (np.ndarray, np.generic)):
                hint = as_dtype(np.asarray(v).dtype)
                break
    return [t if t is not None else convert_to_tensor(v, dtype_hint=hint) for t, v in zip(tensors, values)]


def shape_tensor(shape: Any) -> Tensor:
    """A shape given as a list, tuple, ``TensorShape``, array or tensor, as a 1-D int tensor."""
    if is_tensor_like(shape):
        return convert_to_tensor(shape)
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape):
        return convert_to_tensor(shape, dtype_hint="int32")
    return convert_to_tensor(_shape_array(shape), name="shape")


def _shape_array(shape: Any) -> np.ndarray:
    """A static shape as int32 (int64 where a dimension needs it); a clear error for what no shape holds."""
    try:
        dims = np.asarray(shape, dtype=object).reshape(-1)
    except ValueError as e:  # ragged nesting
        raise ValueError(f"a shape must be a flat list of integers, got {shape!r}") from e
    values = []
    for d in dims:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"a shape must be a list of integers, got {shape!r}")
        if not -(2**63) <= int(d) < 2**63:
            raise ValueError(f"shape dimension {int(d)} does not fit in int64 (shape {shape!r})")
        values.append(int(d))
    big = any(not -(2**31) <= v < 2**31 for v in values)
    return np.array(values, dtype=np.int64 if big else np.int32)
