"""Static shape and dtype rules shared by many ops.

Rules raise ValueError for shapes and TypeError for dtypes; ``apply_op`` turns
those into errors that name the op and the user's line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.framework import dtypes
from chainrule.framework.dtypes import DType
from chainrule.framework.graph import Tensor
from chainrule.framework.tensor_shape import TensorShape

FLOAT = "f"
INT = "iu"
NUMERIC = "iuf"
BOOL = "b"
ANY = "iufb"
FLOAT_OR_COMPLEX = "fc"
NUMERIC_OR_COMPLEX = "iufc"


def broadcast_shapes(*shapes: TensorShape) -> TensorShape:
    """NumPy broadcasting on static shapes; unknown dims stay unknown unless another side fixes them."""
    if any(s.dims is None for s in shapes):
        return TensorShape(None)
    rank = max((len(s.dims) for s in shapes), default=0)  # type: ignore[arg-type]
    out: list[int | None] = []
    for axis in range(-rank, 0):
        dims = [s.dims[axis] for s in shapes if len(s.dims) >= -axis]  # type: ignore[index,arg-type]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError("Incompatible shapes for broadcasting: " + " and ".join(str(s) for s in shapes))
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return TensorShape(out)


def check_kind(op_type: str, t: Tensor, kinds: str, what: str = "input") -> DType:
    if np.dtype(t.dtype.as_numpy_dtype).kind not in kinds:
        names = {"f": "floating", "iu": "integer", "iuf": "numeric", "b": "bool", "iufb": "any"}
        names.update({"fc": "floating or complex", "iufc": "numeric or complex", "c": "complex", "iufbc": "any"})
        raise TypeError(
            f"{what} {t.name} has dtype {t.dtype.name}, but {op_type} needs a {names.get(kinds, kinds)} dtype"
        )
    return t.dtype


def common_dtype(inputs: Sequence[Tensor]) -> DType:
    first = inputs[0].dtype
    for t in inputs[1:]:
        if t.dtype != first:
            raise TypeError(
                "inputs must have the same dtype, got " + ", ".join(f"{x.name}: {x.dtype.name}" for x in inputs)
            )
    return first


def unary(kinds: str = FLOAT, out_dtype: DType | None = None):
    """Elementwise op of one input: same shape; dtype kept (or ``out_dtype``)."""

    def infer(inputs: list[Tensor], **_: object) -> list[tuple[DType, TensorShape]]:
        (x,) = inputs
        check_kind("op", x, kinds)
        return [(out_dtype or x.dtype, x.shape)]

    return infer


def elementwise(kinds: str = NUMERIC, out_dtype: DType | None = None):
    """Elementwise op of several same-dtype inputs that broadcast."""

    def infer(inputs: list[Tensor], **_: object) -> list[tuple[DType, TensorShape]]:
        dtype = common_dtype(inputs)
        for t in inputs:
            check_kind("op", t, kinds)
        return [(out_dtype or dtype, broadcast_shapes(*(t.shape for t in inputs)))]

    return infer


def comparison(kinds: str = ANY):
    return elementwise(kinds, out_dtype=dtypes.bool_)


def shapes_may_match(a: TensorShape, b: TensorShape) -> bool:
    """Static shapes that are not known to differ."""
    return not (a.is_fully_defined() and b.is_fully_defined() and a.as_list() != b.as_list())


def normalize_axis(axis: int, rank: int | None) -> int:
    if rank is None:
        return axis
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {rank}")
    return axis % rank


def known_dims(shape: TensorShape) -> list[int] | None:
    """The dimensions of ``shape`` as ints when it is fully defined, else None."""
    if shape.dims is None:
        return None
    dims = [d for d in shape.dims if d is not None]
    return dims if len(dims) == len(shape.dims) else None


def require_equal_shapes(what: str, arrays: Sequence[Any]) -> None:
    """Run-time half of a static rule that accepted merely compatible shapes: the arrays' shapes must be equal.

    The static rule of an op like AddN lets ``[None]`` meet ``[3]``; NumPy would broadcast ``[1]``
    against ``[3]`` at run time, so the kernel checks, as TensorFlow's kernels do. The ValueError
    becomes an InvalidArgumentError naming the op, its inputs and the user's line.
    """
    shapes = [np.shape(a) for a in arrays]
    if any(s != shapes[0] for s in shapes[1:]):
        raise ValueError(f"{what} must have the same shape, got " + ", ".join(str(list(s)) for s in shapes))


def statically_equal(shapes: Sequence[TensorShape]) -> bool:
    """Whether ``shapes`` are fully known and equal, so a run-time equality check can be skipped."""
    return all(s.is_fully_defined() for s in shapes) and all(s.as_list() == shapes[0].as_list() for s in shapes)
