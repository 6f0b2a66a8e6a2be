"""TensorFlow 1.x's top-level linear-algebra names: the tensor ``diag``/``diag_part``, ``cross``, ``linspace``.

``tf.diag`` is not ``tf.linalg.diag``: it takes a tensor of any rank ``k`` and returns the rank-``2k``
tensor with the diagonal's entries at ``[i1..ik, i1..ik]`` (``tf.matrix_diag`` is the batched one).
These are composites of library ops, so their gradients come from those ops'.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.framework.graph import Tensor, get_default_graph
from chainrule.ops import array_ops, linalg_ops, math_ops
from chainrule.ops.constant_op import convert_to_tensor
from chainrule.ops.registry import constant_value

__all__ = ["cross", "diag", "diag_part", "lin_space", "linspace"]


def _static_shape(t: Tensor, what: str) -> list[int]:
    if not t.shape.is_fully_defined():
        raise ValueError(f"{what} needs the static shape of its input, got {t.name} of shape {t.shape}")
    return [int(d) for d in t.shape.as_list() if d is not None]  # all known: checked above


def diag(diagonal: Any, name: str | None = None) -> Tensor:
    """The rank-``2k`` tensor with ``diagonal`` (rank ``k``) on its diagonal, zeros elsewhere (``tf.diag``)."""
    diagonal = convert_to_tensor(diagonal)
    shape = _static_shape(diagonal, "diag")
    if not shape:
        raise ValueError(f"diag: the diagonal must have rank 1 or more, got the scalar {diagonal.name}")
    with get_default_graph().name_scope(name or "Diag"):
        flat = array_ops.reshape(diagonal, [int(np.prod(shape))])
        return array_ops.reshape(linalg_ops.diag(flat), shape + shape)


def diag_part(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The diagonal of a rank-``2k`` tensor whose first ``k`` dimensions equal its last ``k`` (``tf.diag_part``)."""
    x = convert_to_tensor(input)
    shape = _static_shape(x, "diag_part")
    half = len(shape) // 2
    if len(shape) % 2 or not shape or shape[:half] != shape[half:]:
        raise ValueError(f"diag_part: the input must have shape [d1..dk, d1..dk], got {x.name} of shape {x.shape}")
    with get_default_graph().name_scope(name or "DiagPart"):
        n = int(np.prod(shape[:half]))
        return array_ops.reshape(linalg_ops.diag_part(array_ops.reshape(x, [n, n])), shape[:half])


def cross(a: Any, b: Any, name: str | None = None) -> Tensor:
    """The cross product of 3-vectors along the last axis (``tf.cross``); shapes must be equal."""
    a, b = convert_to_tensor(a), convert_to_tensor(b, dtype_hint=None if not isinstance(a, Tensor) else a.dtype)
    if a.shape.rank is not None and b.shape.rank is not None and not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"cross: a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.shape.rank is not None and a.shape.dims and a.shape.dims[-1] not in (None, 3):
        raise ValueError(f"cross: the last dimension must be 3, got {a.name} of shape {a.shape}")
    with get_default_graph().name_scope(name or "Cross"):
        a0, a1, a2 = (a[..., i] for i in range(3))
        b0, b1, b2 = (b[..., i] for i in range(3))
        return array_ops.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def linspace(start: Any, stop: Any, num: Any, name: str | None = None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``, both included (``tf.linspace``/``tf.lin_space``).

    ``start`` and ``stop`` are float scalars; ``num`` a positive integer (known when the graph is built,
    so that the output's static shape is).
    """
    start = convert_to_tensor(start)
    stop = convert_to_tensor(stop, dtype=start.dtype)
    if not start.dtype.is_floating:
        raise TypeError(f"linspace: start must be a float scalar, got {start.dtype.name}")
    count = constant_value(convert_to_tensor(num))
    if count is None or np.ndim(count) != 0 or int(count) < 1:
        raise ValueError(f"linspace: num must be a positive integer known when the graph is built, got {num!r}")
    n = int(count)
    with get_default_graph().name_scope(name or "LinSpace"):
        if n == 1:
            return array_ops.reshape(start, [1])
        # TensorFlow's kernel: start + i * ((stop - start) / (num - 1)), and the last value stop exactly.
        step = (stop - start) / (n - 1)
        values = start + step * math_ops.cast(array_ops.range(n), start.dtype)
        return array_ops.concat([values[: n - 1], array_ops.reshape(stop, [1])], 0)


lin_space = linspace
