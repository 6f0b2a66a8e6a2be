"""``cr.flags`` / ``cr.app.flags``: TF 1.x's command-line flags (absl's API) on ``argparse``.

``DEFINE_string("data_dir", "/tmp", "where the data is")`` declares ``FLAGS.data_dir``. The
command line is parsed by ``cr.app.run`` or, when a program reads ``FLAGS.x`` first, on that
first read (TF 1.x's early behaviour, so scripts and notebooks that never call ``app.run`` work).
Arguments that name no defined flag are left for the program, as ``tf.app.run`` does
(``known_only``): ``app.run`` passes them to ``main``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "DEFINE_bool", "DEFINE_boolean", "DEFINE_enum", "DEFINE_float", "DEFINE_integer", "DEFINE_list", "DEFINE_string",
    "Error", "FLAGS", "FlagValues",
]  # fmt: skip


class Error(Exception):
    """A bad flag definition or value."""


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("true", "t", "1", "yes", "y"):
        return True
    if low in ("false", "f", "0", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


def _parse_list(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()] if text else []


class _Flag:
    def __init__(self, name: str, default: Any, help: str, parse: Any, kind: str) -> None:  # noqa: A002
        self.name, self.default, self.help, self.parse, self.kind = name, default, help, parse, kind


class FlagValues:
    """The defined flags and their values: ``FLAGS.name`` reads one, ``FLAGS.name = v`` sets it."""

    def __init__(self) -> None:
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_parsed", False)

    # -- definition ---------------------------------------------------------------------------
    def _define(self, name: str, default: Any, help: str, parse: Any, kind: str) -> None:  # noqa: A002
        if name in self._flags:
            raise Error(f"The flag '{name}' is defined twice.")
        self._flags[name] = _Flag(name, default, help, parse, kind)
        self._values[name] = default
        if self._parsed:  # defined after parsing (a module imported late): read the command line again
            self._parse(sys.argv[1:], known_only=True)

    # -- parsing ------------------------------------------------------------------------------
    def _parser(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(add_help=True, allow_abbrev=False)
        for flag in self._flags.values():
            if flag.kind == "bool":
                parser.add_argument(
                    f"--{flag.name}", nargs="?", const=True, type=_parse_bool, default=argparse.SUPPRESS, help=flag.help
                )
                parser.add_argument(f"--no{flag.name}", dest=flag.name, action="store_false", default=argparse.SUPPRESS)
            else:
                parser.add_argument(f"--{flag.name}", type=flag.parse, default=argparse.SUPPRESS, help=flag.help)
        return parser

    def _parse(self, args: Sequence[str], known_only: bool) -> list[str]:
        parser = self._parser()
        if known_only:
            namespace, rest = parser.parse_known_args(list(args))
        else:
            namespace, rest = parser.parse_args(list(args)), []
        for key, value in vars(namespace).items():
            self._values[key] = value
        object.__setattr__(self, "_parsed", True)
        return rest

    def __call__(self, argv: Sequence[str], known_only: bool = False) -> list[str]:
        """Parse ``argv`` (``argv[0]`` is the program); returns ``[argv[0]]`` plus the arguments left over."""
        argv = list(argv)
        rest = self._parse(argv[1:], known_only)
        return argv[:1] + rest

    def is_parsed(self) -> bool:
        return bool(self._parsed)

    def mark_as_parsed(self) -> None:
        object.__setattr__(self, "_parsed", True)

    def flag_values_dict(self) -> dict[str, Any]:
        """``{name: value}`` for every flag."""
        self._ensure_parsed()
        return dict(self._values)

    def _ensure_parsed(self) -> None:
        if not self._parsed:
            self._parse(sys.argv[1:], known_only=True)

    # -- access -------------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name not in values:
            raise AttributeError(f"No flag named '{name}' is defined (cr.flags.DEFINE_...).")
        self._ensure_parsed()
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._flags:
            raise AttributeError(f"No flag named '{name}' is defined (cr.flags.DEFINE_...).")
        self._values[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self._flags

    def __delattr__(self, name: str) -> None:
        self._flags.pop(name, None)
        self._values.pop(name, None)


FLAGS = FlagValues()


def DEFINE_string(name: str, default: str | None, help: str, flag_values: FlagValues = FLAGS) -> None:  # noqa: N802, A002
    """A string flag ``--name=value``."""
    flag_values._define(name, default, help, str, "string")


def DEFINE_integer(name: str, default: int | None, help: str, flag_values: FlagValues = FLAGS, **_: Any) -> None:  # noqa: N802, A002
    """An integer flag (``lower_bound``/``upper_bound`` are accepted and not checked)."""
    flag_values._define(name, default, help, int, "int")


def DEFINE_float(name: str, default: float | None, help: str, flag_values: FlagValues = FLAGS, **_: Any) -> None:  # noqa: N802, A002
    """A float flag."""
    flag_values._define(name, default, help, float, "float")


def DEFINE_boolean(name: str, default: bool | None, help: str, flag_values: FlagValues = FLAGS) -> None:  # noqa: N802, A002
    """A boolean flag: ``--name``, ``--noname``, ``--name=false``."""
    flag_values._define(name, default, help, _parse_bool, "bool")


DEFINE_bool = DEFINE_boolean


def DEFINE_list(name: str, default: Any, help: str, flag_values: FlagValues = FLAGS) -> None:  # noqa: N802, A002
    """A comma-separated list flag (``--name=a,b,c`` gives ``["a", "b", "c"]``)."""
    value = _parse_list(default) if isinstance(default, str) else default
    flag_values._define(name, value, help, _parse_list, "list")


def DEFINE_enum(  # noqa: N802 - absl's name
    name: str,
    default: str | None,
    enum_values: Sequence[str],
    help: str,  # noqa: A002 - absl's argument name
    flag_values: FlagValues = FLAGS,
) -> None:
    """A string flag restricted to ``enum_values``."""
    allowed = list(enum_values)

    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(f"must be one of {allowed}, got {text!r}")
        return text

    flag_values._define(name, default, help, parse, "enum")
