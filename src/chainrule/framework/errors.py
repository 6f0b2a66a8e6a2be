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


def _cls(name: str, doc: str, *bases: type) -> type:
    return type(name, (OpError, *bases), {"__doc__": doc})


CancelledError = _cls("CancelledError", "An operation was cancelled.")
UnknownError = _cls("UnknownError", "An error of unknown kind, usually raised by a kernel.")
InvalidArgumentError = _cls(
    "InvalidArgumentError", "An op received an argument with a bad shape, dtype or value.", ValueError
)
NotFoundError = _cls("NotFoundError", "A requested entity (op, tensor, file) was not found.", KeyError)
AlreadyExistsError = _cls("AlreadyExistsError", "An entity that should be new already exists.")
FailedPreconditionError = _cls(
    "FailedPreconditionError", "The system is not in a state to run the op (e.g. an uninitialized variable)."
)
OutOfRangeError = _cls("OutOfRangeError", "An index or iteration went past the valid range.", IndexError)
UnimplementedError = _cls("UnimplementedError", "The operation is not implemented or supported.", NotImplementedError)
InternalError = _cls("InternalError", "An invariant of chainrule itself was broken.")
DataLossError = _cls("DataLossError", "Data was lost or corrupted (e.g. a truncated checkpoint).")
ResourceExhaustedError = _cls("ResourceExhaustedError", "Memory or another resource ran out.", MemoryError)
InvalidDTypeError = type(
    "InvalidDTypeError",
    (InvalidArgumentError, TypeError),
    {"__doc__": "An op received inputs whose dtypes it cannot accept."},
)

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
