"""Random tensors: ``normal`` and ``uniform`` (TensorFlow's ``random_normal`` / ``random_uniform``).

The random ops are stateful: each op draws from its own stream, kept by the
Session (``RunState.random_generator``), so successive runs give new values and
an op or graph seed makes the whole sequence reproducible in every new Session.
The ops themselves only draw standard samples; ``mean``/``stddev`` and
``minval``/``maxval`` are applied with ordinary math ops, so they get gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops.constant_op import convert_to_tensor, shape_tensor
from chainrule.ops.registry import apply, constant_shape, constant_value, register_op

__all__ = ["normal", "uniform", "set_seed"]


def _check_shape_tensor(shape: Tensor) -> TensorShape:
    """The static output shape given by a 1-D int ``shape`` tensor."""
    if not shape.dtype.is_integer:
        raise TypeError(f"shape {shape.name} must be an int32 or int64 tensor, got {shape.dtype.name}")
    if shape.shape.rank not in (1, None):
        raise ValueError(f"shape must be a 1-D tensor, got shape {shape.shape}")
    value = constant_value(shape)
    if value is not None and np.any(value < 0):
        raise ValueError(f"shape {value.tolist()} has negative dimensions")
    return constant_shape(shape)


def _size(shape: Any) -> tuple[int, ...]:
    size = tuple(int(d) for d in np.ravel(shape))
    if any(d < 0 for d in size):
        raise ValueError(f"shape {list(size)} has negative dimensions")
    return size


def _float_draw(draw: Any, dtype: dtypes.DType, size: tuple[int, ...]) -> Any:
    # NumPy's generators draw float32 and float64 directly; other floats (float16) are cast.
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    native = np_dtype if np_dtype in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float64)
    return draw(size, dtype=native).astype(np_dtype, copy=False)


def _random_float_infer(inputs: list[Tensor], dtype: dtypes.DType, seed: int | None) -> list[Any]:
    if not dtype.is_floating:
        raise TypeError(f"dtype must be a floating type, got {dtype.name}")
    return [(dtype, _check_shape_tensor(inputs[0]))]


# --- standard normal ------------------------------------------------------------------------
# Primitive (stateful) because it draws; NotDifferentiable since the values do not depend on the shape.
def _standard_normal_kernel(xp: Any, shape: Any, *, ctx: Any, op: Any, dtype: dtypes.DType, **_: Any) -> Any:
    rng = ctx.random_generator(op)
    return xp.asarray(_float_draw(rng.standard_normal, dtype, _size(shape)))


register_op("RandomStandardNormal", _standard_normal_kernel, _random_float_infer, None, stateful=True)


# --- uniform in [0, 1) ----------------------------------------------------------------------
def _uniform_kernel(xp: Any, shape: Any, *, ctx: Any, op: Any, dtype: dtypes.DType, **_: Any) -> Any:
    rng = ctx.random_generator(op)
    return xp.asarray(_float_draw(rng.random, dtype, _size(shape)))


register_op("RandomUniform", _uniform_kernel, _random_float_infer, None, stateful=True)


# --- uniform integers in [minval, maxval) ------------------------------------------------------
def _uniform_int_kernel(
    xp: Any, shape: Any, minval: Any, maxval: Any, *, ctx: Any, op: Any, dtype: dtypes.DType, **_: Any
) -> Any:
    if not minval < maxval:
        raise ValueError(f"Need minval < maxval, got minval={minval} and maxval={maxval}")
    rng = ctx.random_generator(op)
    return xp.asarray(rng.integers(minval, maxval, size=_size(shape), dtype=dtype.as_numpy_dtype))


def _uniform_int_infer(inputs: list[Tensor], dtype: dtypes.DType, seed: int | None) -> list[Any]:
    shape, minval, maxval = inputs
    if dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"dtype must be int32 or int64, got {dtype.name}")
    for t, what in ((minval, "minval"), (maxval, "maxval")):
        if t.dtype != dtype:
            raise TypeError(f"{what} {t.name} has dtype {t.dtype.name}, expected {dtype.name}")
        if t.shape.rank not in (0, None):
            raise ValueError(f"{what} must be a scalar, got shape {t.shape}")
    lo, hi = constant_value(minval), constant_value(maxval)
    if lo is not None and hi is not None and not lo < hi:
        raise ValueError(f"Need minval < maxval, got minval={lo} and maxval={hi}")
    return [(dtype, _check_shape_tensor(shape))]


register_op("RandomUniformInt", _uniform_int_kernel, _uniform_int_infer, None, stateful=True)


# --- public functions ------------------------------------------------------------------------
def _is_number(value: Any, target: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == target


def _seed_attr(seed: Any) -> int | None:
    return None if seed is None else int(seed)


def normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = dtypes.float32,
    seed: int | None = None,
    name: str | None = None,
) -> Tensor:
    """Samples from a normal distribution (TensorFlow's ``random_normal``).

    Parameters
    ----------
    shape : the output shape: a list, tuple, or 1-D int tensor (possibly computed at run time).
    mean, stddev : scalars or tensors broadcasting against the output; applied with ordinary
        math ops, so the result is differentiable with respect to them.
    dtype : a floating dtype.
    seed : op seed; with it (or a graph seed) every new Session repeats the same sequence.

    Returns
    -------
    A tensor of ``shape``; each ``Session.run`` draws new values.
    """
    dtype = dtypes.as_dtype(dtype)
    out = apply(
        "RandomStandardNormal", shape_tensor(shape), name=name or "random_normal", dtype=dtype, seed=_seed_attr(seed)
    )
    if not _is_number(stddev, 1):
        out = out * convert_to_tensor(stddev, dtype_hint=dtype)
    if not _is_number(mean, 0):
        out = out + convert_to_tensor(mean, dtype_hint=dtype)
    return out


def uniform(
    shape: Any,
    minval: Any = 0,
    maxval: Any = None,
    dtype: Any = dtypes.float32,
    seed: int | None = None,
    name: str | None = None,
) -> Tensor:
    """Samples from a uniform distribution on ``[minval, maxval)`` (TensorFlow's ``random_uniform``).

    Parameters
    ----------
    shape : the output shape: a list, tuple, or 1-D int tensor (possibly computed at run time).
    minval, maxval : bounds; ``maxval`` defaults to 1 for floating dtypes and is required for
        integer dtypes. Floating bounds are applied with math ops (so they get gradients).
    dtype : a floating dtype, ``int32`` or ``int64``.
    seed : op seed; with it (or a graph seed) every new Session repeats the same sequence.
    """
    dtype = dtypes.as_dtype(dtype)
    shape_t = shape_tensor(shape)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError(f"uniform: must specify maxval for integer dtype {dtype.name}")
        lo = convert_to_tensor(minval, dtype_hint=dtype)
        hi = convert_to_tensor(maxval, dtype_hint=dtype)
        return apply(
            "RandomUniformInt", shape_t, lo, hi, name=name or "random_uniform", dtype=dtype, seed=_seed_attr(seed)
        )
    out = apply("RandomUniform", shape_t, name=name or "random_uniform", dtype=dtype, seed=_seed_attr(seed))
    maxval = 1 if maxval is None else maxval
    if _is_number(minval, 0) and _is_number(maxval, 1):
        return out
    lo = convert_to_tensor(minval, dtype_hint=dtype)
    hi = convert_to_tensor(maxval, dtype_hint=dtype)
    return out * (hi - lo) + lo


def set_seed(seed: int | None) -> None:
    """Set the default graph's seed (TensorFlow's ``set_random_seed``).

    Sessions created afterwards give every random op a reproducible stream derived
    from the graph seed and the op (and its own ``seed=``, if any).
    """
    get_default_graph().seed = None if seed is None else int(seed)
