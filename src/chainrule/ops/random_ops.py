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

TRUNCATION = 2.0  # truncated_normal keeps draws within this many standard deviations (TensorFlow's)

__all__ = [
    "normal",
    "uniform",
    "set_seed",
    "truncated_normal",
    "shuffle",
    "categorical",
    "multinomial",
    "set_random_seed",
    "random_normal",
    "random_uniform",
    "random_shuffle",
]


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
    # ``reshape``, not ``np.ravel``: the shape may be an array of another module (read on the host).
    size = tuple(int(d) for d in (shape.reshape(-1) if hasattr(shape, "reshape") else np.ravel(shape)))
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
    low, high = int(minval), int(maxval)  # the bounds are read on the host: NumPy's generator draws
    return xp.asarray(rng.integers(low, high, size=_size(shape), dtype=dtype.as_numpy_dtype))


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


# --- standard normal truncated to [-2, 2] ---------------------------------------------------------
def _truncated_normal_kernel(xp: Any, shape: Any, *, ctx: Any, op: Any, dtype: dtypes.DType, **_: Any) -> Any:
    # Draws outside the bounds are drawn again (TensorFlow's rule), about 4.6% of them each round.
    rng = ctx.random_generator(op)
    out = rng.standard_normal(_size(shape))
    bad = np.abs(out) > TRUNCATION
    while np.any(bad):
        out[bad] = rng.standard_normal(int(np.count_nonzero(bad)))
        bad = np.abs(out) > TRUNCATION
    return xp.asarray(out.astype(dtype.as_numpy_dtype, copy=False))


register_op("TruncatedNormal", _truncated_normal_kernel, _random_float_infer, None, stateful=True)


# --- a random permutation of the first dimension -------------------------------------------------
def _shuffle_kernel(xp: Any, value: Any, *, ctx: Any, op: Any, **_: Any) -> Any:
    if np.ndim(value) == 0:
        return value
    rng = ctx.random_generator(op)
    return value[xp.asarray(rng.permutation(np.shape(value)[0]))]


register_op(
    "RandomShuffle",
    _shuffle_kernel,
    lambda inputs, seed: [(inputs[0].dtype, inputs[0].shape)],
    None,
    stateful=True,
)


# --- draws from categorical distributions given by logits ----------------------------------------
def _multinomial_kernel(
    xp: Any, logits: Any, num_samples: Any, *, ctx: Any, op: Any, output_dtype: dtypes.DType, **_: Any
) -> Any:
    n = int(num_samples)
    if n < 0:
        raise ValueError(f"num_samples should be nonnegative, got {n}")
    logits = np.asarray(logits, dtype=np.float64)
    batch, classes = logits.shape
    if classes == 0 and batch and n:
        raise ValueError("Multinomial: logits has no classes to draw from")
    rng = ctx.random_generator(op)
    # Inverse transform sampling on each row's softmax (exact for -inf logits: probability 0).
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True)) if classes else logits
    cdf = np.cumsum(shifted, axis=1)
    u = rng.random((batch, n)) * (cdf[:, -1:] if classes else 1.0)
    draws = np.empty((batch, n), dtype=np.int64)
    for row in range(batch):
        draws[row] = np.minimum(np.searchsorted(cdf[row], u[row], side="right"), classes - 1)
    return xp.asarray(draws.astype(output_dtype.as_numpy_dtype))


def _multinomial_infer(inputs: list[Tensor], seed: int | None, output_dtype: dtypes.DType) -> list[Any]:
    logits, num_samples = inputs
    if not logits.dtype.is_floating:
        raise TypeError(f"logits {logits.name} must be a floating tensor, got {logits.dtype.name}")
    if logits.shape.rank not in (2, None):
        raise ValueError(f"logits should be a matrix [batch_size, num_classes], got shape {logits.shape}")
    if num_samples.dtype != dtypes.int32 or num_samples.shape.rank not in (0, None):
        raise TypeError(f"num_samples must be an int32 scalar, got {num_samples.dtype.name}{num_samples.shape}")
    if output_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"output_dtype must be int32 or int64, got {output_dtype.name}")
    n = constant_value(num_samples)
    if n is not None and int(n) < 0:
        raise ValueError(f"num_samples should be nonnegative, got {int(n)}")
    batch = logits.shape.dims[0] if logits.shape.rank == 2 else None  # type: ignore[index]
    return [(output_dtype, TensorShape([batch, None if n is None else int(n)]))]


register_op(
    "Multinomial", _multinomial_kernel, _multinomial_infer, None, stateful=True,
    numpy_only="samples with NumPy's generator on the host (chainrule's seed rule) from the logits",
)  # fmt: skip


# --- public functions ------------------------------------------------------------------------
def _is_number(value: Any, target: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == target


def _scaled(draws: Tensor, mean: Any, stddev: Any, dtype: dtypes.DType) -> Tensor:
    """``draws * stddev + mean`` with library ops (so both get gradients), skipping a 1 and a 0."""
    if not _is_number(stddev, 1):
        draws = draws * convert_to_tensor(stddev, dtype_hint=dtype)
    if not _is_number(mean, 0):
        draws = draws + convert_to_tensor(mean, dtype_hint=dtype)
    return draws


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
    return _scaled(out, mean, stddev, dtype)


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


def truncated_normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = dtypes.float32,
    seed: int | None = None,
    name: str | None = None,
) -> Tensor:
    """Samples from a normal distribution truncated to two standard deviations around ``mean``.

    Draws more than ``2 * stddev`` from ``mean`` are dropped and drawn again (TensorFlow's
    ``truncated_normal``): the result's standard deviation is about ``0.88 * stddev``.

    Parameters
    ----------
    shape : the output shape: a list, tuple, or 1-D int tensor.
    mean, stddev : scalars or tensors applied with math ops (so they get gradients).
    dtype : a floating dtype.
    seed : op seed (see ``normal``).
    name : op name.
    """
    dtype = dtypes.as_dtype(dtype)
    out = apply(
        "TruncatedNormal", shape_tensor(shape), name=name or "truncated_normal", dtype=dtype, seed=_seed_attr(seed)
    )
    return _scaled(out, mean, stddev, dtype)


def shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """``value`` with its first dimension randomly permuted (TensorFlow's ``random_shuffle``).

    Each ``Session.run`` draws a new permutation; not differentiable (as in TensorFlow).
    """
    return apply("RandomShuffle", convert_to_tensor(value), name=name or "random_shuffle", seed=_seed_attr(seed))


def multinomial(
    logits: Any, num_samples: Any, seed: int | None = None, name: str | None = None, output_dtype: Any = None
) -> Tensor:
    """Class indices drawn from the categorical distributions ``softmax(logits)`` (TensorFlow 1.x's name).

    Parameters
    ----------
    logits : ``[batch_size, num_classes]`` unnormalized log-probabilities.
    num_samples : number of independent draws per row (a Python int or an int32 scalar tensor).
    seed : op seed (see ``normal``).
    output_dtype : ``int64`` (default) or ``int32``.

    Returns
    -------
    ``[batch_size, num_samples]`` indices into the classes.
    """
    out_dtype = dtypes.int64 if output_dtype is None else dtypes.as_dtype(output_dtype)
    return apply(
        "Multinomial",
        convert_to_tensor(logits),
        convert_to_tensor(num_samples, dtype=dtypes.int32),
        name=name or "multinomial",
        seed=_seed_attr(seed),
        output_dtype=out_dtype,
    )


def categorical(
    logits: Any, num_samples: Any, dtype: Any = None, seed: int | None = None, name: str | None = None
) -> Tensor:
    """TensorFlow's ``random.categorical``: :func:`multinomial` with the argument ``dtype``."""
    return multinomial(logits, num_samples, seed=seed, name=name or "categorical", output_dtype=dtype)


set_random_seed = set_seed  # TensorFlow 1.x's names
random_normal = normal
random_uniform = uniform
random_shuffle = shuffle
