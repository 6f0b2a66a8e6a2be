"""The session stack that ``Tensor.eval()`` and ``Operation.run()`` use, one per thread.

As in TensorFlow 1.x, the default session is a property of the current thread: a new thread
has none until it enters ``with sess.as_default():`` (or ``with sess:``) itself.
"""

from __future__ import annotations

import threading
from typing import Any


class _SessionStack(threading.local):
    def __init__(self) -> None:
        self.stack: list[Any] = []


_sessions = _SessionStack()


def push(session: Any) -> None:
    _sessions.stack.append(session)


def pop(session: Any) -> None:
    """Remove ``session``'s innermost entry from this thread's stack (the top one, when nested properly)."""
    stack = _sessions.stack
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is session:
            del stack[i]
            return


def get() -> Any:
    stack = _sessions.stack
    if not stack:
        raise ValueError("No default session: use `with cr.Session() as sess:` or pass session=.")
    return stack[-1]


def get_or_none() -> Any:
    """This thread's innermost default session, or None (``cr.get_default_session()``)."""
    stack = _sessions.stack
    return stack[-1] if stack else None


def get_default_session() -> Any:
    """The Session that ``Tensor.eval()`` and ``Operation.run()`` use in this thread, or None.

    A Session is the default one inside ``with sess:`` or ``with sess.as_default():``; a
    ``cr.InteractiveSession`` makes itself the default one until it is closed.
    """
    return get_or_none()
