"""``cr.logging``: TensorFlow 1.x's ``tf.logging`` on Python's ``logging`` (the ``"chainrule"`` logger).

``set_verbosity(cr.logging.INFO)`` then ``cr.logging.info("step %d", i)`` prints
``INFO:chainrule:step 3`` to stderr, as TF prints ``INFO:tensorflow:...``. The level constants are
Python's (``DEBUG`` 10, ``INFO`` 20, ``WARN`` 30, ``ERROR`` 40, ``FATAL`` 50), as TF's are.
"""

from __future__ import annotations

import logging as _logging
import sys as _sys
from typing import Any

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
WARNING = _logging.WARNING
ERROR = _logging.ERROR
FATAL = _logging.FATAL

__all__ = [
    "DEBUG", "ERROR", "FATAL", "INFO", "WARN", "WARNING", "debug", "error", "fatal", "get_logger", "get_verbosity",
    "info", "log", "log_every_n", "log_first_n", "log_if", "set_verbosity", "vlog", "warn", "warning",
]  # fmt: skip

_logger: _logging.Logger | None = None


def get_logger() -> _logging.Logger:
    """The ``"chainrule"`` logger; on first use it gets a stderr handler (unless logging is configured)."""
    global _logger
    if _logger is None:
        logger = _logging.getLogger("chainrule")
        if not _logging.getLogger().handlers and not logger.handlers:
            handler = _logging.StreamHandler(_sys.stderr)
            handler.setFormatter(_logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
            logger.addHandler(handler)
            logger.propagate = False
        if logger.level == _logging.NOTSET:
            logger.setLevel(WARN)  # TensorFlow's default verbosity
        _logger = logger
    return _logger


def set_verbosity(v: int) -> None:
    """Show messages at level ``v`` and above (``cr.logging.INFO``, ...)."""
    get_logger().setLevel(v)


def get_verbosity() -> int:
    """The current threshold level."""
    return get_logger().getEffectiveLevel()


def log(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    """Log ``msg % args`` at ``level``."""
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Log ``msg % args`` at ``DEBUG`` (TensorFlow 1.x's ``tf.logging.debug``)."""
    get_logger().debug(msg, *args, **kwargs)


def info(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Log ``msg % args`` at ``INFO`` (TensorFlow 1.x's ``tf.logging.info``)."""
    get_logger().info(msg, *args, **kwargs)


def warning(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Log ``msg % args`` at ``WARNING`` (TensorFlow 1.x's ``tf.logging.warning``)."""
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Log ``msg % args`` at ``ERROR`` (TensorFlow 1.x's ``tf.logging.error``)."""
    get_logger().error(msg, *args, **kwargs)


def fatal(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Log ``msg % args`` at ``FATAL`` (Python's ``CRITICAL``); it does not exit, as TF's does not."""
    get_logger().critical(msg, *args, **kwargs)


def vlog(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    """Log at ``level`` (TF's verbose logging; here the level is a Python logging level)."""
    get_logger().log(level, msg, *args, **kwargs)


_seen: dict[str, int] = {}


def log_every_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Log ``msg`` the first time and every ``n``-th time this call site runs."""
    frame = _sys._getframe(1)  # noqa: SLF001 - the call site identifies the counter, as TF does
    key = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    count = _seen.get(key, 0)
    _seen[key] = count + 1
    if count % max(int(n), 1) == 0:
        log(level, msg, *args)


def log_first_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Log ``msg`` only the first ``n`` times this call site runs."""
    frame = _sys._getframe(1)  # noqa: SLF001
    key = f"first:{frame.f_code.co_filename}:{frame.f_lineno}"
    count = _seen.get(key, 0)
    _seen[key] = count + 1
    if count < n:
        log(level, msg, *args)


def log_if(level: int, msg: Any, condition: Any, *args: Any) -> None:
    """Log ``msg`` when ``condition`` is true."""
    if condition:
        log(level, msg, *args)
