"""Execution backends: what turns a compiled program (``compiler.Program``) into something that runs.

A backend has a name and ``build(program, xp, state, options) -> Executable``. The NumPy backend
(the default, and the reference every other backend is tested against) emits one straight-line
Python function calling NumPy (``compiler.codegen``), or interprets the program with
``Options(codegen=False)``. Other backends lower what they can of a program (each op's form comes
from its declaration, ``OpDef.lower``, or from its ufunc steps) and run the NumPy kernel for the
rest, so every graph runs on every backend.

A backend is chosen by name: ``cr.Session(backend="numba")``, ``cr.function(f, backend=...)``, or
the ``CHAINRULE_BACKEND`` environment variable (read when a Session is created). Backends other
than NumPy live in ``chainrule.backends.<name>`` and are imported on first use, so their
compilers (Numba...) are optional extras; ``register_backend`` adds one of your own.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from collections.abc import Callable
from typing import Any

from chainrule.compiler.ir import Program
from chainrule.framework import errors
from chainrule.framework.graph import Tensor
from chainrule.runtime.feeds import convert_feed
from chainrule.runtime.plan import Executable, Generated, Interpreter, LoopPrograms, RunState, generate_loop_function

__all__ = [
    "BACKEND_VARIABLE",
    "Backend",
    "NumPyBackend",
    "available_backends",
    "get_backend",
    "gpu_placement",
    "placement_backend",
    "register_backend",
    "resolve_backend",
]

BACKEND_VARIABLE = "CHAINRULE_BACKEND"


class Backend:
    """How programs run. Subclasses set ``name`` and override ``build``.

    ``build(program, xp, state, options)`` gets the optimized program of one plan (or of a traced
    function: a ``cr.cond`` branch, a loop body), the array module, the Session's ``RunState``
    (variables, random streams, buffers; ``runtime.plan.bind_kernel(node, xp, state)`` gives a
    node's NumPy kernel) and the ``cr.compiler.Options``; it returns an ``Executable``
    (``run(feed_values) -> fetched values``, errors naming the op and the user's line).
    """

    name = "?"
    # The array module kernels run with when the Session names none (None: the Session's, NumPy).
    array_module: Any = None
    # Whether the fetched values are host (NumPy) arrays; False: the Session returns them as they are
    # (the CuPy backend with ``fetch="device"``).
    host_fetches = True

    def convert_feed(self, element: Tensor, value: Any) -> Any:
        """A fed value as the plans take it (NumPy; a backend may accept its own arrays as they are)."""
        return convert_feed(element, value)

    def configure(self, **settings: Any) -> Backend:
        """This backend with ``settings`` (``cr.Session(client=...)``: the Dask backend's client)."""
        if settings:
            raise TypeError(f"The {self.name!r} backend takes no settings, got {', '.join(sorted(settings))}")
        return self

    def build(self, program: Program, xp: Any, state: RunState, options: Any) -> Executable:
        raise NotImplementedError

    def build_loop(self, loop: LoopPrograms, xp: Any, state: RunState, options: Any) -> Executable:
        """What runs a ``While``'s iterations: ``run([limit, *loop vars, *sliced, *captured])``.

        Returns ``[*final loop vars, count, *recorded lists]`` (see ``compiler.codegen.generate_loop``).
        The default: one generated Python function running the cond's and the body's code in a loop.
        """
        return Generated(generate_loop_function(loop, xp, state, options))

    def __repr__(self) -> str:
        return f"<chainrule backend {self.name!r}>"


class NumPyBackend(Backend):
    """One generated Python function per plan, one NumPy call (or inline ufunc step) per op."""

    name = "numpy"

    def build(self, program: Program, xp: Any, state: RunState, options: Any) -> Executable:
        if options.codegen:
            return Generated.build(program, xp, state, options)
        return Interpreter(program, xp, state)


# name -> the backend, or the module that defines it (imported on first use: its compiler is optional).
_BACKENDS: dict[str, Backend | str | Callable[[], Backend]] = {
    "numpy": NumPyBackend(),
    "numba": "chainrule.backends.numba",  # the ``fast`` extra
    "dask": "chainrule.backends.dask",  # the ``dask`` extra
    "cupy": "chainrule.backends.cupy",  # the ``gpu`` extra
}
_LOCK = threading.Lock()


def register_backend(name: str, backend: Backend | Callable[[], Backend]) -> None:
    """Make ``backend`` (or a function that makes it on first use) available as ``name``."""
    with _LOCK:
        _BACKENDS[name] = backend


def available_backends() -> list[str]:
    """The backend names that can be chosen (a named one may still need its extra installed)."""
    return sorted(_BACKENDS)


def get_backend(name: str) -> Backend:
    """The backend called ``name``; ImportError naming the extra when its compiler is not installed."""
    with _LOCK:
        entry = _BACKENDS.get(name)
        if entry is None:
            raise ValueError(f"Unknown backend {name!r}; the backends are {', '.join(available_backends())}.")
        if isinstance(entry, str):  # a module whose ``BACKEND`` is the backend
            entry = importlib.import_module(entry).BACKEND
        elif not isinstance(entry, Backend):
            entry = entry()
        assert isinstance(entry, Backend)
        _BACKENDS[name] = entry
        return entry


def resolve_backend(backend: Backend | str | None, graph: Any = None) -> Backend:
    """``backend`` as a Backend: a Backend as is, a name looked up; None: the placement's, else ``CHAINRULE_BACKEND``'s.

    With no backend named, a ``graph`` whose ops were placed on a GPU (``with cr.device("/gpu:0")``)
    runs on the CuPy backend on that device, where CuPy and the device are there (see
    ``gpu_placement``); otherwise the ``CHAINRULE_BACKEND`` environment variable's backend, else NumPy.
    """
    if isinstance(backend, Backend):
        return backend
    if backend is None and graph is not None:
        placed = placement_backend(graph)
        if placed is not None:
            return placed
    if backend is None:
        backend = os.environ.get(BACKEND_VARIABLE, "").strip() or "numpy"
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a name or a chainrule Backend, got {type(backend).__name__}")
    return get_backend(backend)


# "/gpu:1", "/device:GPU:0", "/job:worker/replica:0/task:0/device:GPU:0" (TensorFlow's spellings).
_GPU_SPEC = re.compile(r"(?:^|/)(?:device:)?gpu:(\d+)(?:/|$)", re.IGNORECASE)


def gpu_placement(graph: Any) -> int | None:
    """The GPU that ``cr.device`` placed ``graph``'s ops on (the lowest index when several): None when none.

    A Session runs every op of its graph on one backend, so a graph with ops on several GPUs runs
    on the first of them, and ops on the CPU (``/cpu:0``) beside GPU ones run on that GPU too.
    """
    indices = set()
    for op in graph.get_operations():
        match = _GPU_SPEC.search(op.device) if op.device else None
        if match is not None:
            indices.add(int(match.group(1)))
    return min(indices) if indices else None


def placement_backend(graph: Any) -> Backend | None:
    """The CuPy backend on the GPU ``graph``'s ops were placed on; None without such ops, CuPy or the device.

    As TensorFlow's soft placement (``allow_soft_placement``, TF 2's default): a graph placed on a
    GPU where there is none runs where it can (here: the other backends, ``CHAINRULE_BACKEND`` or
    NumPy). ``cr.Session(backend="cupy")`` asks for the GPU and fails without one, naming what is missing.
    """
    device = gpu_placement(graph)
    if device is None:
        return None
    try:
        return get_backend("cupy").configure(device=device)
    except (ImportError, errors.UnavailableError):
        return None
