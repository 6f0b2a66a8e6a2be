"""Raw op constructors by type, for the rules of modules declared before the op's own module.

The op modules import one another in one direction (``constant_op`` and ``broadcast_ops``
first, then ``array_ops``, ``indexing_ops``, ``math_ops``, ``reduction_ops``, ``linalg_ops``,
``nn_ops``...). A rule sometimes needs an op declared further down that order: the gradient
of ``Fill`` is a ``Sum``, the gradient of a pad is a ``Slice``. It builds that op here,
by type through the registry, with the attributes the op's public function would give it (as
TensorFlow's generated ``gen_*_ops`` do), so no op module imports a module that imports it.
"""

from __future__ import annotations

from typing import Any

from chainrule.framework import dtypes
from chainrule.framework.dtypes import DType
from chainrule.framework.graph import Tensor
from chainrule.ops.axes import axis_attr
from chainrule.ops.constant_op import constant, shape_tensor
from chainrule.ops.registry import apply


def shape(t: Tensor) -> Tensor:
    """``cr.shape(t)``: the dynamic shape as an int32 vector."""
    return apply("Shape", t, out_type=dtypes.int32)


def cast(t: Tensor, dtype: DType) -> Tensor:
    """``cr.cast(t, dtype)``."""
    return t if t.dtype == dtype else apply("Cast", t, dtype=dtype)


def reduce_sum(t: Tensor, axis: Any = None) -> Tensor:
    """``cr.reduce_sum(t, axis)``."""
    return apply("Sum", t, axis=axis_attr(axis, t.shape.rank), keepdims=False)


def filled_like(t: Tensor, value: int, dtype: Any = None, name: str | None = None) -> Tensor:
    """``cr.zeros_like`` / ``cr.ones_like``: ``value`` in ``t``'s shape (static when known)."""
    dtype = dtypes.as_dtype(dtype) if dtype is not None else t.dtype
    dims: Any = t.shape.as_list() if t.shape.is_fully_defined() else shape(t)
    return apply("Fill", shape_tensor(dims), fill_value(value, dtype), name=name)


def fill_value(value: int, dtype: Any) -> Tensor:
    """0 or 1 as a scalar of ``dtype``: False or True for bool (numbers never become bools silently)."""
    dtype = dtypes.as_dtype(dtype)
    return constant(bool(value) if dtype.is_bool else value, dtype=dtype)


def slice(x: Tensor, begin: Any, size: Any) -> Tensor:  # noqa: A001 - TensorFlow's name
    """``cr.slice(x, begin, size)``."""
    return apply("Slice", x, shape_tensor(begin), shape_tensor(size))
