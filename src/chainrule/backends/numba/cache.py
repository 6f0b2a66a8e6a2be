"""Compiling a region's source with Numba, cached in-process and on disk.

A region's module source (its ``@numba.njit(cache=True)`` function) is written once to
``<cache dir>/r<hash>.py``, the hash covering the source, the fingerprints of the values it binds
as globals, and the Numba and chainrule versions; the module is imported from that file, so
Numba's own cache (next to it, in ``__pycache__``) serves the machine code to later processes.
In-process, modules are kept by that hash: equal regions of different plans share one compiled
function (Numba keeps one version per argument-type signature). The cache directory is
``CHAINRULE_CACHE_DIR``, else the user's cache directory (``$XDG_CACHE_HOME/chainrule``,
``~/.cache/chainrule``...); ``CHAINRULE_CACHE_DIR=off`` (or an unwritable directory) compiles in
memory only.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import threading
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numba

from chainrule.framework.lru import size_from_environment

CACHE_VARIABLE = "CHAINRULE_CACHE_DIR"
HEADER = "import numpy as np\nimport numba\nfrom chainrule.backends.numba.helpers import grow, scalar\n\n"
DECORATOR = "@numba.njit(cache={cache}, error_model='numpy', nogil=True)\n"

SIZE_VARIABLE = "CHAINRULE_NATIVE_CACHE_SIZE"
_LOCK = threading.RLock()
# key -> (dispatcher, where, module name or None), least recently used first; bounded like the
# Session's plan cache (a long-running process that builds many distinct plans keeps the newest).
_FUNCTIONS: OrderedDict[str, tuple[Any, str, str | None]] = OrderedDict()


def max_functions() -> int:
    return size_from_environment(SIZE_VARIABLE, 4096)


def _version() -> str:
    try:
        from importlib.metadata import version  # noqa: PLC0415

        return version("chainrule")
    except Exception:  # noqa: BLE001 - a source checkout without metadata
        return "dev"


def cache_dir() -> Path | None:
    """Where region modules and Numba's cache of them go (None: in memory only)."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured is not None and configured.strip().lower() in ("", "0", "off", "none", "false"):
        return None
    if configured:
        base = Path(configured).expanduser()
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "chainrule" / "cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "chainrule"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "chainrule"
    return base / f"numba-{numba.__version__}-chainrule-{_version()}"


@functools.cache
def _code_fingerprint() -> str:
    """A hash of chainrule's own source files: a cached region calls helpers (``helpers.py``,
    ``ops/native.py``) whose machine code Numba stores inside the region's, so any change of the
    code generator must change every key, not only a new version number."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[2]
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def region_key(source: str, fingerprints: list[str]) -> str:
    text = "\n".join([numba.__version__, _version(), _code_fingerprint(), source, *fingerprints])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def native_function(
    name: str, source: str, globals_: dict[str, Any], fingerprints: list[str], disk: bool = True
) -> tuple[Any, str]:
    """The njit dispatcher of ``def name(...)`` in ``source`` (the function without its decorator), and where it lives.

    ``globals_``: names the source reads (bound constants, helper functions). ``disk=False``:
    compiled in memory only (when what the disk cache holds cannot be loaded).
    """
    key = region_key(source, fingerprints) + ("" if disk else "-memory")
    with _LOCK:
        found = _FUNCTIONS.get(key)
        if found is not None:
            _FUNCTIONS.move_to_end(key)
            return found[0], found[1]
        directory = cache_dir() if disk else None
        path = None
        if directory is not None:
            try:
                directory.mkdir(parents=True, exist_ok=True)
                path = directory / f"r{key}.py"
                if not path.exists():
                    tmp = directory / f".r{key}.{os.getpid()}.{threading.get_ident()}.tmp"
                    tmp.write_text(HEADER + DECORATOR.format(cache=True) + source)
                    os.replace(tmp, path)  # atomic: a concurrent process sees the whole file or none
            except OSError:
                path = None
        if path is not None:
            spec = importlib.util.spec_from_file_location(f"chainrule_native_r{key}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            module.__dict__.update(globals_)
            # Numba's cache finds the function's globals again by importing its module's name.
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            namespace = module.__dict__
            where, module_name = str(path), spec.name
        else:
            namespace = dict(globals_)
            where, module_name = f"<chainrule native r{key}>", None
            exec(compile(HEADER + DECORATOR.format(cache=False) + source, where, "exec"), namespace)  # noqa: S102
        _FUNCTIONS[key] = (namespace[name], where, module_name)
        while len(_FUNCTIONS) > max_functions():
            _, (_, _, dropped) = _FUNCTIONS.popitem(last=False)
            if dropped is not None:
                sys.modules.pop(dropped, None)
        return namespace[name], where


def compile_signature(dispatcher: Any, signature: tuple[Any, ...]) -> Any:
    """Compile ``dispatcher`` for ``signature`` (argument types); the compiled version's return type."""
    with warnings.catch_warnings():
        # Numba's notes on contiguity and parallelism are advice, not problems of the program.
        warnings.simplefilter("ignore", numba.NumbaPerformanceWarning)
        dispatcher.compile(signature)
    return dispatcher.overloads[signature].signature.return_type
