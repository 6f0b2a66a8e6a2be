"""Reduction axes as attributes: validated, sorted and non-negative where the rank is known.

Equal reductions then compare equal (CSE, folding), and the shape rules, the reductions'
public functions and the raw constructors of ``raw_ops`` all normalize axes the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework.graph import is_tensor_like
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import constant_value


def axes_tuple(axis: Any, rank: int | None) -> tuple[int, ...] | None:
    """Validated reduction axes, sorted and (when the rank is known) non-negative; None means all axes."""
    return None if axis is None else given_axes(axis, rank)


def given_axes(axis: Any, rank: int | None) -> tuple[int, ...]:
    """``axes_tuple`` for an ``axis`` that is not None."""
    axes = list(axis) if isinstance(axis, tuple) else np.ravel(axis).tolist()
    if any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
        raise TypeError(f"axis must be an int or a list of ints, got {axis!r}")
    if rank is not None:
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"axis {a} is out of bounds for a tensor of rank {rank}")
        axes = [a % rank for a in axes]
        if len(set(axes)) != len(axes):
            raise ValueError(f"duplicate axes in {list(axis)}")
    return tuple(sorted(axes))


def axis_attr(axis: Any, rank: int | None) -> tuple[Any, ...] | None:
    """The ``axis`` attribute: normalized where valid, else as given (for the shape rule to report)."""
    if axis is None:
        return None
    if is_tensor_like(axis):
        value = constant_value(convert_to_tensor(axis))
        if value is None:
            raise TypeError("axis must be known when the graph is built (an int, a list of ints or a constant tensor)")
        axis = value
    raw = tuple(np.ravel(np.asarray(axis, dtype=object)).tolist())
    raw = tuple(a.item() if isinstance(a, np.generic) else a for a in raw)
    try:
        return axes_tuple(raw, rank)
    except (TypeError, ValueError):
        return raw


def deprecated_alias(value: Any, alias: Any, name: str, alias_name: str) -> Any:
    """An argument given by its name or by TensorFlow 1.x's older alias (``dim`` for ``axis``,
    ``keep_dims`` for ``keepdims``, ``reduction_indices`` for ``axis``), but not by both."""
    if alias is None:
        return value
    if value is not None:
        raise ValueError(f"cannot give both {name} and its deprecated alias {alias_name}")
    return alias
