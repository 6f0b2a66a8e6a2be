"""Initializers: objects that make a variable's initial value from its shape and dtype (TensorFlow 1.x's).

An initializer is called as ``init(shape, dtype=None, partition_info=None)`` and returns a tensor
(graph ops, drawn at run time, so each Session's initializer run draws afresh unless a seed is
set). ``cr.get_variable`` calls them; the classes have TensorFlow 1.x's names and aliases
(``zeros_initializer``, ``glorot_uniform_initializer``, ...), arguments and defaults.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import as_shape
from chainrule.ops import array_ops, random_ops
from chainrule.ops.constant_op import constant
from chainrule.ops.registry import apply, register_op

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "TruncatedNormal",
    "RandomUniform",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "Orthogonal",
    "zeros_initializer",
    "ones_initializer",
    "constant_initializer",
    "random_normal_initializer",
    "truncated_normal_initializer",
    "random_uniform_initializer",
    "variance_scaling_initializer",
    "glorot_uniform_initializer",
    "glorot_normal_initializer",
    "orthogonal_initializer",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
]

# The standard deviation of a unit normal truncated to [-2, 2]; VarianceScaling divides by it so
# that the truncated draws have the intended variance (TensorFlow's constant).
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def _dims(shape: Any) -> list[int]:
    dims = as_shape(shape).as_list()
    if any(d is None for d in dims):
        raise ValueError(f"an initializer needs a fully defined shape, got {tuple(dims)}")
    return [int(d) for d in dims]  # type: ignore[arg-type]


class Initializer:
    """Base class: ``init(shape, dtype=None, partition_info=None)`` returns the initial value tensor."""

    dtype: dtypes.DType = dtypes.float32

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def _dtype(self, dtype: Any) -> dtypes.DType:
        return self.dtype if dtype is None else dtypes.as_dtype(dtype)

    def _float_dtype(self, dtype: Any) -> dtypes.DType:
        out = self._dtype(dtype)
        if not out.is_floating:
            raise ValueError(f"{type(self).__name__} expects a floating dtype, got {out.name}")
        return out


class Zeros(Initializer):
    """Zeros of any dtype."""

    def __init__(self, dtype: Any = dtypes.float32) -> None:
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        return array_ops.zeros(_dims(shape), dtype=self._dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    """Ones of any dtype."""

    def __init__(self, dtype: Any = dtypes.float32) -> None:
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        return array_ops.ones(_dims(shape), dtype=self._dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    """A given value: a scalar fills the shape; a list or array of the shape's size is reshaped to it.

    As TensorFlow 1.x's ``constant_initializer`` (``verify_shape=False``), a list shorter than
    the shape is padded with its last element; a longer one is an error. With
    ``verify_shape=True`` the value's shape must equal the variable's.
    """

    def __init__(self, value: Any = 0, dtype: Any = dtypes.float32, verify_shape: bool = False) -> None:
        if not np.isscalar(value) and not isinstance(value, (list, tuple, np.ndarray)):
            raise TypeError(
                f"Invalid type for initial value: {type(value).__name__} (expected a Python scalar, list or "
                "tuple of values, or a numpy.ndarray)."
            )
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None, verify_shape: Any = None) -> Tensor:
        out_dtype = self._dtype(dtype)
        dims = _dims(shape)
        value = np.asarray(self.value, dtype=out_dtype.as_numpy_dtype)
        verify = self._verify_shape if verify_shape is None else verify_shape
        if verify and list(value.shape) != dims:
            raise TypeError(f"Expected Tensor's shape: {tuple(dims)}, got {value.shape}.")
        size = int(np.prod(dims))
        if value.size > 1 and value.size < size:
            flat = value.ravel()
            value = np.concatenate([flat, np.full(size - flat.size, flat[-1], dtype=flat.dtype)])
        elif value.size > size:
            raise ValueError(f"Too many elements provided. Needed at most {size}, but received {value.size}")
        return constant(value, dtype=out_dtype, shape=dims)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value, "dtype": self.dtype.name, "verify_shape": self._verify_shape}


class RandomNormal(Initializer):
    """Normal draws with ``mean`` and ``stddev``."""

    def __init__(
        self, mean: float = 0.0, stddev: float = 1.0, seed: int | None = None, dtype: Any = dtypes.float32
    ) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        return random_ops.normal(_dims(shape), self.mean, self.stddev, self._float_dtype(dtype), seed=self.seed)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Normal draws with ``mean`` and ``stddev``, drawn again when more than two ``stddev`` from ``mean``."""

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        return random_ops.truncated_normal(
            _dims(shape), self.mean, self.stddev, self._float_dtype(dtype), seed=self.seed
        )


class RandomUniform(Initializer):
    """Uniform draws on ``[minval, maxval)``; ``maxval=None`` means 1 for floats (required for ints)."""

    def __init__(
        self, minval: Any = 0, maxval: Any = None, seed: int | None = None, dtype: Any = dtypes.float32
    ) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        return random_ops.uniform(_dims(shape), self.minval, self.maxval, self._dtype(dtype), seed=self.seed)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


def compute_fans(shape: list[int]) -> tuple[float, float]:
    """``(fan_in, fan_out)`` as TensorFlow computes them: convolution kernels count their receptive field."""
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive_field = math.prod(shape[:-2])
    return float(shape[-2] * receptive_field), float(shape[-1] * receptive_field)


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("normal", "uniform", "truncated_normal", "untruncated_normal")


class VarianceScaling(Initializer):
    """Draws whose variance is ``scale / n``, ``n`` the fan-in, fan-out or their average (``mode``).

    ``distribution``: ``"truncated_normal"`` (TensorFlow 1.x's default; also ``"normal"``, its old
    name) draws a normal truncated to two standard deviations with stddev
    ``sqrt(scale / n) / 0.87962566103423978``, so the truncated draws have variance ``scale / n``;
    ``"untruncated_normal"`` a normal with stddev ``sqrt(scale / n)``; ``"uniform"`` draws on
    ``[-limit, limit)`` with ``limit = sqrt(3 * scale / n)``.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        dtype: Any = dtypes.float32,
    ) -> None:
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float, got {scale}")
        if mode not in _MODES:
            raise ValueError(f"Invalid `mode` argument: {mode!r} (expected one of {', '.join(_MODES)})")
        distribution = distribution.lower()
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` argument: {distribution!r} (expected one of {_DISTRIBUTIONS})")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        dims = _dims(shape)
        out_dtype = self._float_dtype(dtype)
        fan_in, fan_out = compute_fans(dims)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / TRUNCATED_NORMAL_STDDEV
            return random_ops.truncated_normal(dims, 0.0, stddev, out_dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.normal(dims, 0.0, math.sqrt(scale), out_dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.uniform(dims, -limit, limit, out_dtype, seed=self.seed)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }


class GlorotUniform(VarianceScaling):
    """Xavier/Glorot uniform: ``VarianceScaling(1.0, "fan_avg", "uniform")``, ``get_variable``'s float default."""

    def __init__(self, seed: int | None = None, dtype: Any = dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Xavier/Glorot normal: ``VarianceScaling(1.0, "fan_avg", "truncated_normal")``."""

    def __init__(self, seed: int | None = None, dtype: Any = dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


def _orthonormal_kernel(xp: Any, a: Any) -> Any:
    q, r = xp.linalg.qr(a, mode="reduced")
    # The signs of R's diagonal make Q unique, so Q is uniformly (Haar) distributed (TensorFlow's step).
    return q * xp.sign(xp.diagonal(r))


def _orthonormal_infer(inputs: list[Tensor]) -> list[Any]:
    (a,) = inputs
    if not a.dtype.is_floating:
        raise TypeError(f"expects a floating matrix, got {a.dtype.name}")
    dims = a.shape.dims
    if dims is not None and (len(dims) != 2 or (None not in dims and dims[0] < dims[1])):  # type: ignore[operator]
        raise ValueError(f"expects a matrix with at least as many rows as columns, got shape {a.shape}")
    return [(a.dtype, a.shape)]


# The Q factor of a tall matrix's QR decomposition, signs fixed by R's diagonal: only the
# orthogonal initializer needs it, and it is not differentiated (an initial value).
register_op("OrthonormalColumns", _orthonormal_kernel, _orthonormal_infer, None)


class Orthogonal(Initializer):
    """A (reshaped) random orthogonal matrix times ``gain`` (TensorFlow's ``orthogonal_initializer``).

    The shape is flattened to ``[prod(shape[:-1]), shape[-1]]``; that matrix has orthonormal
    columns (or rows, when it is wide), drawn uniformly from the orthogonal matrices as the Q
    factor of a normal matrix's QR decomposition.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None, dtype: Any = dtypes.float32) -> None:
        self.gain, self.seed = gain, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        dims = _dims(shape)
        out_dtype = self._float_dtype(dtype)
        if len(dims) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows, cols = math.prod(dims[:-1]), dims[-1]
        a = random_ops.normal([max(rows, cols), min(rows, cols)], dtype=out_dtype, seed=self.seed)
        q = apply("OrthonormalColumns", a, name="orthogonal")
        if rows < cols:
            q = array_ops.transpose(q)
        return array_ops.reshape(q, dims) * constant(self.gain, dtype=out_dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


def he_normal(seed: int | None = None) -> VarianceScaling:
    """``VarianceScaling(2.0, "fan_in", "truncated_normal")``."""
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    """``VarianceScaling(2.0, "fan_in", "uniform")``."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    """``VarianceScaling(1.0, "fan_in", "truncated_normal")``."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    """``VarianceScaling(1.0, "fan_in", "uniform")``."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


# TensorFlow 1.x's names: the classes themselves (``cr.zeros_initializer()`` makes one).
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
random_uniform_initializer = RandomUniform
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
orthogonal_initializer = Orthogonal
