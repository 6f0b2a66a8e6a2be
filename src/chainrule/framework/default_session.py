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
