"""Learning-rate schedules of TensorFlow 1.x (``tf.train.exponential_decay`` and friends).

Each returns a scalar tensor of the global step, built from ordinary ops (so it is recomputed
on every ``Session.run`` as the step advances), with TensorFlow's formulas. The learning rate
sets the dtype (a Python float is float32, as in TensorFlow); the step and the other
parameters are cast to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.ops import math_ops
from chainrule.ops.constant_op import convert_to_tensor

__all__ = [
    "exponential_decay",
    "piecewise_constant",
    "polynomial_decay",
    "natural_exp_decay",
    "inverse_time_decay",
    "cosine_decay",
]


def _setup(learning_rate: Any, global_step: Any, fn: str) -> tuple[Tensor, Tensor]:
    if global_step is None:
        raise ValueError(f"global_step is required for {fn}.")
    lr = convert_to_tensor(learning_rate, name="learning_rate")
    if not lr.dtype.is_floating:
        raise TypeError(f"{fn}: learning_rate must be floating, got {lr.dtype.name}")
    return lr, math_ops.cast(convert_to_tensor(global_step), lr.dtype)


def _progress(step: Tensor, decay_steps: Any, staircase: bool, dtype: Any) -> Tensor:
    p = step / math_ops.cast(convert_to_tensor(decay_steps), dtype)
    return math_ops.floor(p) if staircase else p


def exponential_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
    name: str | None = None,
) -> Tensor:
    """``learning_rate * decay_rate ^ (global_step / decay_steps)``; with ``staircase``, the exponent is floored.

    Parameters
    ----------
    learning_rate : the initial rate (number or scalar tensor).
    global_step : the step (e.g. ``cr.train.get_or_create_global_step()``); required.
    decay_steps : steps per decay period (positive).
    decay_rate : the factor per period.
    staircase : decay in whole periods (a step function) instead of continuously.
    """
    with get_default_graph().name_scope(name or "ExponentialDecay"):
        lr, step = _setup(learning_rate, global_step, "exponential_decay")
        p = _progress(step, decay_steps, staircase, lr.dtype)
        return lr * math_ops.pow(math_ops.cast(convert_to_tensor(decay_rate), lr.dtype), p)


def natural_exp_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
    name: str | None = None,
) -> Tensor:
    """``learning_rate * exp(-decay_rate) ^ (global_step / decay_steps)`` (floored exponent with ``staircase``)."""
    with get_default_graph().name_scope(name or "NaturalExpDecay"):
        lr, step = _setup(learning_rate, global_step, "natural_exp_decay")
        p = _progress(step, decay_steps, staircase, lr.dtype)
        base = math_ops.exp(-math_ops.cast(convert_to_tensor(decay_rate), lr.dtype))
        return lr * math_ops.pow(base, p)


def inverse_time_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
    name: str | None = None,
) -> Tensor:
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)`` (floored ratio with ``staircase``)."""
    with get_default_graph().name_scope(name or "InverseTimeDecay"):
        lr, step = _setup(learning_rate, global_step, "inverse_time_decay")
        p = _progress(step, decay_steps, staircase, lr.dtype)
        return lr / (1 + math_ops.cast(convert_to_tensor(decay_rate), lr.dtype) * p)


def polynomial_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    end_learning_rate: Any = 0.0001,
    power: Any = 1.0,
    cycle: bool = False,
    name: str | None = None,
) -> Tensor:
    """``(learning_rate - end) * (1 - step / decay_steps) ^ power + end``, ``step = min(global_step, decay_steps)``.

    With ``cycle``, the step is not clipped; ``decay_steps`` is instead multiplied by
    ``ceil(global_step / decay_steps)`` (1 at step 0), so the decay restarts every period.
    """
    with get_default_graph().name_scope(name or "PolynomialDecay"):
        lr, step = _setup(learning_rate, global_step, "polynomial_decay")
        dtype = lr.dtype
        steps = math_ops.cast(convert_to_tensor(decay_steps), dtype)
        if cycle:
            multiplier = math_ops.where(math_ops.equal(step, 0), 1 + 0 * step, math_ops.ceil(step / steps))
            steps = steps * multiplier
        else:
            step = math_ops.minimum(step, steps)
        end = math_ops.cast(convert_to_tensor(end_learning_rate), dtype)
        power_t = math_ops.cast(convert_to_tensor(power), dtype)
        return (lr - end) * math_ops.pow(1 - step / steps, power_t) + end


def cosine_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    alpha: Any = 0.0,
    name: str | None = None,
) -> Tensor:
    """``learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)``, ``step <= decay_steps``."""
    with get_default_graph().name_scope(name or "CosineDecay"):
        lr, step = _setup(learning_rate, global_step, "cosine_decay")
        steps = math_ops.cast(convert_to_tensor(decay_steps), lr.dtype)
        fraction = math_ops.minimum(step, steps) / steps
        decayed = 0.5 * (1 + math_ops.cos(math.pi * fraction))
        a = math_ops.cast(convert_to_tensor(alpha), lr.dtype)
        return lr * ((1 - a) * decayed + a)


def piecewise_constant(x: Any, boundaries: Sequence[Any], values: Sequence[Any], name: str | None = None) -> Tensor:
    """``values[0]`` for ``x <= boundaries[0]``, ``values[i]`` for ``boundaries[i-1] < x <= boundaries[i]``, ...

    and ``values[-1]`` for ``x > boundaries[-1]``.

    Parameters
    ----------
    x : a scalar (e.g. the global step).
    boundaries : increasing numbers, in ``x``'s dtype (ints are converted to a floating ``x``).
    values : ``len(boundaries) + 1`` numbers or scalar tensors of one dtype: the result's.
    """
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"piecewise_constant: the length of values ({len(values)}) must be the length of boundaries + 1 "
            f"({len(boundaries) + 1})"
        )
    with get_default_graph().name_scope(name or "PiecewiseConstant"):
        x_t = convert_to_tensor(x)
        bounds = [convert_to_tensor(b, dtype_hint=x_t.dtype) for b in boundaries]
        for b in bounds:
            if b.dtype != x_t.dtype:
                raise ValueError(
                    f"piecewise_constant: boundaries ({b.dtype.name}) must have x's dtype ({x_t.dtype.name})"
                )
        vals = [convert_to_tensor(v) for v in values]
        vals = [convert_to_tensor(v, dtype_hint=vals[0].dtype) for v in values]
        for v in vals:
            if v.dtype != vals[0].dtype:
                raise ValueError(
                    f"piecewise_constant: values must have one dtype, got {v.dtype.name} and {vals[0].dtype.name}"
                )
        result = vals[-1]
        # From the last boundary down, so the first interval that holds x wins.
        for b, v in zip(reversed(bounds), reversed(vals[:-1]), strict=True):
            result = math_ops.where(x_t <= b, v, result)
        return result
