"""Where the user's code created an op: the first stack frame outside chainrule."""

from __future__ import annotations

import functools
import itertools
import linecache
import os
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, NamedTuple, TypeVar

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# chainrule's own programs: their lines are the user's code of the graphs they build (``chainrule demo``
# would otherwise point every op at the console script's ``sys.exit(main())``).
_PROGRAM_FILES = frozenset({os.path.join(_PACKAGE_DIR, "demo.py")})


class SourceLocation(NamedTuple):
    """A file, line and function (a tuple of plain values: the garbage collector skips it)."""

    filename: str
    lineno: int
    function: str

    @property
    def line(self) -> str:
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self) -> str:
        text = self.line
        return f"{self.filename}:{self.lineno}" + (f": {text}" if text else "")


def user_frame(skip: int = 1) -> SourceLocation | None:
    """The innermost frame outside the chainrule package (whose programs, like the demo, count as outside)."""
    frame: FrameType | None = sys._getframe(skip)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) or filename in _PROGRAM_FILES:
            return SourceLocation(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


class CompositeCall(NamedTuple):
    """One call of a library function built from several ops (``reduce_mean``, a cross-entropy...)."""

    function: str  # the public name, e.g. "reduce_mean"
    serial: int  # ops created by the same call share it


T = TypeVar("T")
_composite = threading.local()
_composite_serials = itertools.count()


class composite_call:  # noqa: N801 - used as a decorator, like contextlib's
    """Mark the ops created inside as one call of the composite ``function``: a context manager and a decorator.

    Only the outermost composite counts: a mean inside a cross-entropy belongs to the cross-entropy.
    The graph page draws one call's ops as one collapsible box; op names do not change. (Not
    ``contextlib.contextmanager``: its wrapper's frame would be outside chainrule, and
    ``user_frame`` would take it for the user's line.)
    """

    def __init__(self, function: str) -> None:
        self.function = function
        self._outermost: list[bool] = []

    def __enter__(self) -> None:
        outermost = getattr(_composite, "call", None) is None
        self._outermost.append(outermost)
        if outermost:
            _composite.call = CompositeCall(self.function, next(_composite_serials))

    def __exit__(self, *exc: object) -> None:
        if self._outermost.pop():
            _composite.call = None

    def __call__(self, func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            with composite_call(self.function):
                return func(*args, **kwargs)

        return wrapper


def current_composite() -> CompositeCall | None:
    """The composite call the ops this thread creates now belong to, if any."""
    return getattr(_composite, "call", None)
