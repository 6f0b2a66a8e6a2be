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

    @property
    def error_code(self) -> int:
        """TensorFlow's code for this error (``cr.errors.INVALID_ARGUMENT``, ...)."""
        return error_code_from_exception_type(type(self))


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


class DeadlineExceededError(OpError):
    """A deadline expired before the operation could complete."""


class PermissionDeniedError(OpError):
    """The caller does not have permission to run the operation."""


class UnauthenticatedError(OpError):
    """The request does not have valid authentication credentials."""


class AbortedError(OpError):
    """The operation was aborted, typically by a concurrency conflict."""


class UnavailableError(OpError):
    """The runtime is unavailable."""


# TensorFlow's error codes (``tf.errors.OK`` ... ``tf.errors.DATA_LOSS``), and each class's code.
OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND = 0, 1, 2, 3, 4, 5
ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED = 6, 7, 8, 9, 10
OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED = 11, 12, 13, 14, 15, 16
_CODES: dict[type[OpError], int] = {
    CancelledError: CANCELLED,
    UnknownError: UNKNOWN,
    InvalidArgumentError: INVALID_ARGUMENT,
    DeadlineExceededError: DEADLINE_EXCEEDED,
    NotFoundError: NOT_FOUND,
    AlreadyExistsError: ALREADY_EXISTS,
    PermissionDeniedError: PERMISSION_DENIED,
    ResourceExhaustedError: RESOURCE_EXHAUSTED,
    FailedPreconditionError: FAILED_PRECONDITION,
    AbortedError: ABORTED,
    OutOfRangeError: OUT_OF_RANGE,
    UnimplementedError: UNIMPLEMENTED,
    InternalError: INTERNAL,
    UnavailableError: UNAVAILABLE,
    DataLossError: DATA_LOSS,
    UnauthenticatedError: UNAUTHENTICATED,
}


def error_code_from_exception_type(cls: type[BaseException]) -> int:
    """TensorFlow's code for an error class (a subclass gets its nearest listed base's code; else UNKNOWN)."""
    for base in getattr(cls, "__mro__", ()):
        if base in _CODES:
            return _CODES[base]
    return UNKNOWN


def exception_type_from_error_code(error_code: int) -> type[OpError]:
    """The error class of one of TensorFlow's codes (``KeyError`` for a code it does not have)."""
    for cls, code in _CODES.items():
        if code == error_code:
            return cls
    raise KeyError(error_code)


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
    "DeadlineExceededError",
    "PermissionDeniedError",
    "UnauthenticatedError",
    "AbortedError",
    "UnavailableError",
    "error_code_from_exception_type",
    "exception_type_from_error_code",
    *(name for name, code in list(globals().items()) if name.isupper() and isinstance(code, int)),
]
