"""Candidate sampling: TensorFlow's log-uniform (Zipfian) candidate sampler.

``LogUniformCandidateSampler`` is a stateful primitive (it draws from the op's own random
stream, kept by the Session, so a graph or op seed makes it reproducible); it is not
differentiable (its outputs are integers and counts that do not depend on any float input).
The sampled losses built on it (``nce_loss``, ``sampled_softmax_loss``) are in ``nn_impl``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import math_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import apply, register_op
from chainrule.ops.shape_rules import INT, check_kind

__all__ = ["log_uniform_candidate_sampler"]


def _log_uniform_probability(values: np.ndarray, range_max: int) -> np.ndarray:
    """P(k) = log((k + 2) / (k + 1)) / log(range_max + 1), TensorFlow's ``LogUniformSampler::Probability``."""
    v = values.astype(np.float64)
    return np.log((v + 2.0) / (v + 1.0)) / np.log1p(range_max)


def _expected_count(p: np.ndarray, num_sampled: int, num_tries: int) -> np.ndarray:
    """TensorFlow's ``ExpectedCountHelper``: ``p * n`` without rejections, else ``1 - (1 - p)^tries``."""
    if num_tries == num_sampled:
        return p * num_sampled
    return -np.expm1(num_tries * np.log1p(-p))


def _draw(rng: np.random.Generator, n: int, range_max: int) -> np.ndarray:
    # Inverse CDF as TensorFlow's LogUniformSampler::Sample: floor(exp(u * log(range + 1))) - 1,
    # taken mod range for the round-off at u close to 1.
    return (np.exp(rng.random(n) * np.log1p(range_max)).astype(np.int64) - 1) % range_max


def _sampler_kernel(
    xp: Any,
    true_classes: Any,
    *,
    ctx: Any,
    op: Any,
    num_true: int,
    num_sampled: int,
    unique: bool,
    range_max: int,
    seed: int | None,
) -> Any:
    if true_classes.ndim != 2 or true_classes.shape[1] != num_true:
        raise ValueError(f"true_classes must be [batch_size, num_true={num_true}], got shape {true_classes.shape}")
    rng = ctx.random_generator(op)
    if unique:
        picked: list[int] = []
        seen: set[int] = set()
        tries = 0
        while len(picked) < num_sampled:
            for value in _draw(rng, 2 * (num_sampled - len(picked)) + 8, range_max).tolist():
                tries += 1
                if value not in seen:
                    seen.add(value)
                    picked.append(value)
                    if len(picked) == num_sampled:
                        break
        sampled = np.array(picked, dtype=np.int64)
    else:
        sampled = _draw(rng, num_sampled, range_max)
        tries = num_sampled
    true_p = _log_uniform_probability(np.asarray(true_classes), range_max)
    sampled_p = _log_uniform_probability(sampled, range_max)
    return (
        xp.asarray(sampled),
        xp.asarray(_expected_count(true_p, num_sampled, tries).astype(np.float32)),
        xp.asarray(_expected_count(sampled_p, num_sampled, tries).astype(np.float32)),
    )


def _sampler_infer(
    inputs: list[Tensor], num_true: int, num_sampled: int, unique: bool, range_max: int, seed: int | None
) -> list[Any]:
    (true_classes,) = inputs
    if true_classes.dtype != dtypes.int64:
        raise TypeError(f"true_classes {true_classes.name} must be int64, got {true_classes.dtype.name}")
    if range_max < 1:
        raise ValueError(f"range_max must be positive, got {range_max}")
    if num_true < 1 or num_sampled < 0:
        raise ValueError(f"num_true must be positive and num_sampled non-negative, got {num_true} and {num_sampled}")
    if unique and num_sampled > range_max:
        raise ValueError(
            f"a unique sample of {num_sampled} candidates needs range_max >= {num_sampled}, got {range_max}"
        )
    shape = true_classes.shape
    if shape.rank not in (None, 2) or not TensorShape([None, num_true]).is_compatible_with(shape):
        raise ValueError(f"true_classes must be [batch_size, num_true={num_true}], got shape {shape}")
    batch = shape[0] if shape.rank == 2 else None
    return [
        (dtypes.int64, TensorShape([num_sampled])),
        (dtypes.float32, TensorShape([batch, num_true])),
        (dtypes.float32, TensorShape([num_sampled])),
    ]


register_op(
    "LogUniformCandidateSampler", _sampler_kernel, _sampler_infer, None, stateful=True,
    numpy_only="samples with NumPy's generator on the host (chainrule's seed rule) and reads the true classes",
)  # fmt: skip


def log_uniform_candidate_sampler(
    true_classes: Any,
    num_true: int,
    num_sampled: int,
    unique: bool,
    range_max: int,
    seed: int | None = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Sample ``num_sampled`` classes from ``[0, range_max)`` with P(k) = log((k+2)/(k+1)) / log(range_max+1).

    TensorFlow's sampler, for classes sorted by decreasing frequency (Zipf's law).

    Parameters
    ----------
    true_classes : ``[batch_size, num_true]`` int64 (int32 is cast) target classes.
    num_true : the number of targets per example.
    num_sampled : the number of classes to sample.
    unique : sample without replacement (by rejection); the expected counts then account for
        the number of draws it took.
    range_max : the number of classes.
    seed : op seed; with it (or a graph seed) every new Session repeats the same samples.

    Returns
    -------
    (sampled_candidates, true_expected_count, sampled_expected_count)
        ``sampled_candidates``: ``[num_sampled]`` int64; ``true_expected_count``: ``[batch_size, num_true]``
        float32; ``sampled_expected_count``: ``[num_sampled]`` float32. The two counts are the expected
        number of times each class occurs in a sample (``p * num_sampled``, or ``1 - (1 - p) ** num_tries``
        for a unique sample that needed more draws than ``num_sampled``). Each ``Session.run`` draws a new
        sample.
    """
    classes = convert_to_tensor(true_classes)
    check_kind("log_uniform_candidate_sampler", classes, INT, "true_classes")
    if classes.dtype != dtypes.int64:
        classes = math_ops.cast(classes, dtypes.int64)
    return apply(
        "LogUniformCandidateSampler",
        classes,
        name=name or "LogUniformCandidateSampler",
        num_true=int(num_true),
        num_sampled=int(num_sampled),
        unique=bool(unique),
        range_max=int(range_max),
        seed=None if seed is None else int(seed),
    )
