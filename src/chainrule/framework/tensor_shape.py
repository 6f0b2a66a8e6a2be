"""Static shapes: a rank that may be unknown, and dimensions that may be unknown (None)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


class Dimension(int):
    """A known dimension as ``shape[i]`` gives it: an ``int`` that also has TF 1.x's ``.value``.

    TF 1.x code reads ``x.get_shape()[1].value``; here ``shape[i]`` is the int itself (or None when
    unknown, where TensorFlow has ``Dimension(None)``), so both spellings work for known dimensions.
    """

    __slots__ = ()

    @property
    def value(self) -> int:
        return int(self)


def dimension_value(dimension: Any) -> int | None:
    """The int (or None) a dimension stands for, whether given as an int, a Dimension or None (TF's name)."""
    return None if dimension is None else int(dimension)


class TensorShape:
    """The static shape of a tensor as known at graph-construction time.

    ``dims`` is ``None`` when even the rank is unknown; otherwise a tuple whose
    entries are ints or ``None`` for dimensions known only at run time.
    """

    __slots__ = ("dims",)
    dims: tuple[int | None, ...] | None

    def __new__(cls, dims: Iterable[int | None] | TensorShape | None) -> TensorShape:
        # Shapes are immutable values, so equal ones are one object (up to a bound): a graph's
        # tensors then share a few shape objects instead of holding one each, which keeps the
        # cyclic garbage collector's full passes over a large graph short.
        if isinstance(dims, TensorShape):
            return dims
        key = None if dims is None else tuple(_as_dim(d) for d in dims)
        shape = _INTERNED.get(key)
        if shape is None:
            shape = object.__new__(cls)
            shape.dims = key
            if len(_INTERNED) < _MAX_INTERNED:
                _INTERNED[key] = shape
        return shape

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "dims"):
            raise AttributeError("TensorShape is immutable")
        object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TensorShape, (self.dims,))

    @property
    def rank(self) -> int | None:
        return None if self.dims is None else len(self.dims)

    @property
    def ndims(self) -> int | None:
        return self.rank

    def is_fully_defined(self) -> bool:
        return self.dims is not None and all(d is not None for d in self.dims)

    def num_elements(self) -> int | None:
        """The number of elements, or None when some dimension (or the rank) is unknown."""
        if self.dims is None:
            return None
        n = 1
        for d in self.dims:
            if d is None:
                return None
            n *= d
        return n

    def as_list(self) -> list[int | None]:
        if self.dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self.dims)

    def is_compatible_with(self, other: Any) -> bool:
        other = as_shape(other)
        if self.dims is None or other.dims is None:
            return True
        if len(self.dims) != len(other.dims):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self.dims, other.dims))

    def merge_with(self, other: Any) -> TensorShape:
        other = as_shape(other)
        if self.dims is None:
            return other
        if other.dims is None:
            return self
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return TensorShape(a if a is not None else b for a, b in zip(self.dims, other.dims))

    def __len__(self) -> int:
        if self.dims is None:
            raise ValueError("Cannot take the length of a shape with unknown rank.")
        return len(self.dims)

    def __iter__(self) -> Iterator[int | None]:
        if self.dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self.dims)

    def __getitem__(self, key: Any) -> Any:
        if self.dims is None:
            return TensorShape(None) if isinstance(key, slice) else None
        if isinstance(key, slice):
            return TensorShape(self.dims[key])
        d = self.dims[key]
        return None if d is None else Dimension(d)

    def concatenate(self, other: Any) -> TensorShape:
        """This shape's dimensions followed by ``other``'s (TF's ``TensorShape.concatenate``)."""
        other = as_shape(other)
        if self.dims is None or other.dims is None:
            return TensorShape(None)
        return TensorShape(self.dims + other.dims)

    # ``shape + (1,)`` and ``(2,) + shape`` concatenate, as in TensorFlow and as with NumPy's shape tuples.
    def __add__(self, other: Any) -> TensorShape:
        return self.concatenate(other)

    def __radd__(self, other: Any) -> TensorShape:
        return as_shape(other).concatenate(self)

    def __eq__(self, other: object) -> bool:
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self.dims == other.dims

    def __hash__(self) -> int:
        return hash(self.dims)

    def __repr__(self) -> str:
        return f"TensorShape({self})"

    def __str__(self) -> str:
        if self.dims is None:
            return "<unknown>"
        return (
            "("
            + ", ".join("?" if d is None else str(d) for d in self.dims)
            + ("," if len(self.dims) == 1 else "")
            + ")"
        )


_INTERNED: dict[tuple[int | None, ...] | None, TensorShape] = {}
_MAX_INTERNED = 1 << 16


def _as_dim(d: Any) -> int | None:
    if d is None:
        return None
    try:
        value = int(d)
    except (TypeError, ValueError):
        raise TypeError(f"Dimension must be an int or None, got {d!r}") from None
    if value < 0:
        return None
    return value


def as_shape(value: Any) -> TensorShape:
    """Convert a TensorShape, tuple/list of dims, or None (unknown rank) to a TensorShape."""
    if isinstance(value, TensorShape):
        return value
    if isinstance(value, int):
        return TensorShape([value])
    return TensorShape(value)


def unknown_shape(rank: int | None = None) -> TensorShape:
    return TensorShape(None if rank is None else [None] * rank)
