"""Where the user's code created an op: the first stack frame outside chainrule."""

from __future__ import annotations

import linecache
import os
import sys
from types import FrameType
from typing import NamedTuple

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    """Return the innermost frame that is not inside the chainrule package."""
    frame: FrameType | None = sys._getframe(skip)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            return SourceLocation(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None
