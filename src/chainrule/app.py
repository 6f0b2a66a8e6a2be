"""``cr.app``: TF 1.x's ``tf.app.run`` and ``tf.app.flags``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from chainrule import flags

__all__ = ["flags", "run"]


def run(main: Callable[[list[str]], Any] | None = None, argv: Sequence[str] | None = None) -> NoReturn:
    """Parse the flags from ``argv`` (``sys.argv`` when None), call ``main(remaining argv)``, exit with its result.

    As ``tf.app.run``: ``main`` defaults to the ``main`` function of the ``__main__`` module;
    arguments that are no defined flag are passed on to ``main`` (after the program name).
    """
    args = flags.FLAGS(list(sys.argv if argv is None else argv), known_only=True)
    if main is None:
        main = sys.modules["__main__"].main
    sys.exit(main(args))
