"""Constants, placeholders, and conversion of Python/NumPy values to tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import errors
from chainrule.framework.conversion import ConversionError, convert_value, default_dtype
from chainrule.framework.dtypes import DType, as_dtype
from chainrule.framework.graph import Operation, Tensor, as_tensor_or_none, is_tensor_like
from chainrule.framework.source import user_frame
from chainrule.framework.tensor_shape import TensorShape, as_shape
from chainrule.ops.registry import apply, register_op


def to_numpy(value: Any, dtype: DType | None = None) -> np.ndarray:
    """Convert a Python/NumPy value to an array of a chainrule dtype, refusing any that changes a value.

    The rule (``framework.conversion``) is the one feeds use; a refusal is a ``ConversionError``
    (a ``TypeError``) saying why.
    """
    return convert_value(value, dtype)


def _refused(what: str, error: Exception) -> errors.InvalidDTypeError:
    """A conversion refusal naming the op (or function) and the user's line."""
    where = user_frame()
    return errors.InvalidDTypeError(None, None, f"{what}: {error}" + (f"\n  created at {where}" if where else ""))


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
    try:
        arr = to_numpy(value, as_dtype(dtype) if dtype is not None else None)
    except ConversionError as e:
        raise _refused(f"constant {name!r}", e) from None
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


def _placeholder_kernel(xp: Any, *, dtype: DType, shape: TensorShape, op: Any = None, **_: Any) -> Any:
    name = op.name if op is not None else "?"
    raise errors.InvalidArgumentError(
        None, None, f"You must feed a value for placeholder tensor '{name}' with dtype {dtype.name} and shape {shape}"
    )


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


def _tensor_leaves(value: Any, out: list[Tensor]) -> list[Tensor]:
    if isinstance(value, (list, tuple)):
        for v in value:
            _tensor_leaves(v, out)
    else:
        t = as_tensor_or_none(value)
        if t is not None:
            out.append(t)
    return out


def _weak_fits(value: Any, hint: DType) -> bool:
    """Whether a Python value may take ``hint`` (weak typing): a Python float never becomes an int.

    A Python int may take a float hint, and a Python int or float a complex one, as TensorFlow's.
    NumPy values and bools are left to the conversion rule.
    """
    natural = default_dtype(value)
    return (
        natural is None
        or natural.is_floating == hint.is_floating
        or (natural.is_integer and hint.is_floating)
        or hint.is_complex
    )


def _pack(value: Any, want: DType | None, name: str | None) -> Tensor:
    """A nested list holding tensors, packed into one tensor of the tensors' dtype.

    The Python and NumPy values among them take that dtype when it holds them (Python numbers
    are weak), as TensorFlow's ``convert_to_tensor``; tensors of different dtypes are an error.
    """
    tensors = _tensor_leaves(value, [])
    found = list(dict.fromkeys(t.dtype for t in tensors))
    target = want or found[0]
    wrong = [t for t in tensors if t.dtype != target]
    if wrong:
        listed = ", ".join(f"{t.name} ({t.dtype.name})" for t in tensors)
        raise _refused(
            "convert_to_tensor",
            TypeError(
                f"cannot pack a list holding tensors of dtypes {', '.join(d.name for d in found)} into one "
                f"tensor{' of dtype ' + target.name if want else ''}; cast them first ({listed})"
            ),
        )
    return _pack_as(value, target, name)


def _pack_as(value: Any, dtype: DType, name: str | None) -> Tensor:
    if isinstance(value, (list, tuple)) and _is_nested_with_tensors(value):
        parts = [_pack_as(v, dtype, None) for v in value]
        # A Pack, as cr.stack builds (declared in array_ops, which imports this module).
        return apply("Pack", *parts, axis=0, name=name or "packed")
    t = as_tensor_or_none(value)
    if t is not None:
        return t
    if not _weak_fits(value, dtype):
        raise _refused(
            "convert_to_tensor",
            TypeError(f"cannot pack the Python value {value!r} with tensors of dtype {dtype.name}"),
        )
    return constant(value, dtype=dtype, name="Const")


def convert_to_tensor(value: Any, dtype: Any = None, name: str | None = None, dtype_hint: Any = None) -> Tensor:
    """Turn a tensor, Variable, NumPy array, Python scalar or nested list into a Tensor.

    A nested list that contains tensors is packed (stacked) into one tensor, as TensorFlow
    does: the Python numbers in it take the tensors' dtype (``[[a, 1.0], [2.0, b]]`` with float64
    ``a``, ``b`` is float64), when that dtype holds them exactly. ``dtype_hint`` is used for
    Python values only (weak typing): a Python int may become a float, never a float an int.
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
        return _pack(value, want, name)
    if want is None and dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        hint = as_dtype(dtype_hint)
        if _weak_fits(value, hint):
            want = hint  # and a value the hint cannot hold is an error, as for the tensors it meets
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
