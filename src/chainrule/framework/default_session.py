"""The session stack that ``Tensor.eval()`` and ``Operation.run()`` use."""

from __future__ import annotations

from typing import Any

_stack: list[Any] = []


def push(session: Any) -> None:
    _stack.append(session)


def pop(session: Any) -> None:
    if _stack and _stack[-1] is session:
        _stack.pop()


def get() -> Any:
    if not _stack:
        raise ValueError("No default session: use `with cr.Session() as sess:` or pass session=.")
    return _stack[-1]


def get_or_none() -> Any:
    """The innermost default session, or None (``cr.get_default_session()``)."""
    return _stack[-1] if _stack else None


def get_default_session() -> Any:
    """The Session that ``Tensor.eval()`` and ``Operation.run()`` use here, or None when there is none.

    A Session is the default one inside ``with sess:`` or ``with sess.as_default():``; a
    ``cr.InteractiveSession`` makes itself the default one until it is closed.
    """
    return get_or_none()
