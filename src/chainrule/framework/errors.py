"""Exceptions raised by chainrule, in TensorFlow's classes.

Each error that concerns an operation names it and the line of user code that
created it, so a failure deep inside ``Session.run`` points back at the model.
"""

from __future__ import annotations

from typing import Any


class OpError(Exception):
    """An error tied to one operation of a graph."""

    def __init__(self, node_def: Any = None, op: Any = None, message: str = "") -> None:
        self.node_def = node_def
        self.op = op
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class CancelledError(OpError):
    """An operation was cancelled."""


class UnknownError(OpError):
    """An error of unknown kind, usually raised by a kernel."""


class InvalidArgumentError(OpError, ValueError):
    """An op received an argument with a bad shape, dtype or value."""


class NotFoundError(OpError, KeyError):
    """A requested entity (op, tensor, file) was not found."""


class AlreadyExistsError(OpError):
    """An entity that should be new already exists."""


class FailedPreconditionError(OpError):
    """The system is not in a state to run the op (e.g. an uninitialized variable)."""


class OutOfRangeError(OpError, IndexError):
    """An index or iteration went past the valid range."""


class UnimplementedError(OpError, NotImplementedError):
    """The operation is not implemented or supported."""


class InternalError(OpError):
    """An invariant of chainrule itself was broken."""


class DataLossError(OpError):
    """Data was lost or corrupted (e.g. a truncated checkpoint)."""


class ResourceExhaustedError(OpError, MemoryError):
    """Memory or another resource ran out."""


class InvalidDTypeError(InvalidArgumentError, TypeError):
    """An op received inputs whose dtypes it cannot accept."""


__all__ = [
    "OpError",
    "CancelledError",
    "UnknownError",
    "InvalidArgumentError",
    "InvalidDTypeError",
    "NotFoundError",
    "AlreadyExistsError",
    "FailedPreconditionError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "DataLossError",
    "ResourceExhaustedError",
]
