"""Running plans with an array module other than NumPy (array-api-strict, dask.array, CuPy...).

The kernels are written against an array module ``xp``; a module whose arrays are not NumPy
arrays needs a boundary, which this backend draws in one place:

* feeds are NumPy (the Session converts them) and enter the module through ``to_module``, and
  constants through ``constant`` once, when the plan is built;
* session state stays NumPy on the client: a variable read (``VariableV2``, ``ReadVariable``)
  and a random op's draw (NumPy's generator, chainrule's seed rule) enter the module through
  ``to_module`` once per run;
* a variable update (``Assign``, ``AssignAdd``, ``AssignSub``) is recorded in the run's own view
  of the variables, so later reads of the same run see it, and is committed to the Session only
  after the run's fetches and updates were brought back to NumPy together (``to_numpy``, one call:
  for Dask, one ``compute``). A run that fails leaves every variable as it was before the run.

Loop bodies (``while_loop``, ``scan``, ``map_fn``, the folds) and ``cr.cond`` branches run as
programs of the backend too, inside the run that holds them (``ModuleLoop``, ``ModuleProgram``):
their kernels get the module's arrays, and their variable updates go to the same run's view.

Subclasses (``backends.dask``, ``backends.cupy``) say how arrays cross (``to_module``, ``to_numpy``) and which feeds
they accept as they are (``convert_feed``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.compiler.codegen import generate_program
from chainrule.compiler.ir import Node, Program
from chainrule.ops.registry import get_op_def
from chainrule.runtime.backends import Backend
from chainrule.runtime.plan import Executable, Generated, LoopPrograms, RunState, bind_kernel

__all__ = ["ArrayModuleBackend", "ModuleLoop", "ModuleProgram", "RunVariables", "as_numpy"]

_VARIABLE_OPS = frozenset({"VariableV2", "ReadVariable", "Assign", "AssignAdd", "AssignSub"})


class ArrayModuleBackend(Backend):
    """Runs every kernel with ``module`` (or the Session's ``array_module``), NumPy state at the boundary.

    Parameters
    ----------
    module : the array module kernels run with; None: the Session's ``array_module``.
    """

    name = "array-module"

    def __init__(self, module: Any = None) -> None:
        self.module = module

    def to_module(self, xp: Any, value: Any) -> Any:
        """A NumPy value (a feed, a variable, a random draw) as an array of ``xp``."""
        return xp.asarray(value)

    def constant(self, xp: Any, value: Any) -> Any:
        """A ``Const`` op's value as the kernels take it (moved into the module once, when the plan is built)."""
        return self.to_module(xp, value)

    def state_to_module(self, xp: Any, value: Any) -> Any:
        """A NumPy value of the Session's state (a variable, a random draw) as the kernels take it."""
        return self.to_module(xp, value)

    def to_numpy(self, values: Sequence[Any]) -> list[Any]:
        """The values of one run (fetches, then variable updates) as NumPy arrays, brought back together."""
        return [as_numpy(v) for v in values]

    def finish_run(self, results: Sequence[Any], updates: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        """A successful run's fetched values (as the Session returns them) and updates (as the state keeps them).

        The default brings both back to NumPy together (``to_numpy``: for Dask, one ``compute``);
        the CuPy backend keeps the updates in device memory. Raising here fails the run before any commit.
        """
        values = self.to_numpy([*results, *updates])
        return values[: len(results)], values[len(results) :]

    def to_host(self, value: Any) -> Any:
        """One input of a ``numpy_only`` op as a NumPy array (an explicit copy to the host)."""
        return as_numpy(value)

    def host_kernel(self, node: Node, kernel: Callable[..., Any], xp: Any) -> Callable[..., Any]:
        """A ``numpy_only`` op's kernel (bound with NumPy): run on host copies of its inputs, its result moved back."""

        def run(*args: Any) -> Any:
            result = kernel(*[self.to_host(a) if _is_array(a) else a for a in args])
            if isinstance(result, tuple):
                return tuple(self.to_module(xp, r) if isinstance(r, (np.ndarray, np.generic)) else r for r in result)
            return self.to_module(xp, result) if isinstance(result, (np.ndarray, np.generic)) else result

        return run

    def wrap_kernel(self, node: Node, kernel: Callable[..., Any]) -> Callable[..., Any]:
        """The kernel the plan calls for ``node`` (a hook: the strict-namespace test checks outputs here)."""
        return kernel

    def fused_kernel(self, node: Node, xp: Any) -> Callable[..., Any] | None:
        """A ``Fused`` node's kernel in the module (CuPy: one elementwise kernel); None: its members one by one."""
        return None

    def stateful_kernel(self, node: Node, xp: Any, ctx: Any) -> Callable[..., Any] | None:
        """A stateful op's kernel of the module's own (CuPy: random ops on its generator); None: the op's kernel."""
        return None

    def loop_predicate(self, value: Any) -> bool:
        """A ``while_loop`` condition's value (a module array) as a Python bool, to decide the next iteration."""
        return bool(value)

    def build(self, program: Program, xp: Any, state: RunState, options: Any) -> Executable:
        return ModuleExecutable(self, program, self.module if self.module is not None else xp, state, options)

    def build_loop(self, loop: LoopPrograms, xp: Any, state: RunState, options: Any) -> Executable:
        """A ``While``'s iterations with this backend's module, reading and updating the run's variables."""
        return ModuleLoop(self, loop, self.module if self.module is not None else xp, state, options)


class RunVariables:
    """One run's view of the Session's variables: reads enter the module, updates wait for the commit."""

    def __init__(self, committed: dict[str, Any], enter: Callable[[Any], Any]) -> None:
        self._committed = committed
        self._enter = enter
        self._read: dict[str, Any] = {}  # each variable enters the module once per run
        self.updates: dict[str, Any] = {}

    def get(self, name: str, default: Any = None) -> Any:
        if name in self.updates:
            return self.updates[name]
        if name not in self._read:
            value = self._committed.get(name)
            if value is None:
                return default
            self._read[name] = self._enter(value)
        return self._read[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self.updates[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self.updates or name in self._committed


class _RunContext:
    """What stateful kernels see as ``ctx``: the Session's state, with this thread's run's view of the variables."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    @property
    def variables(self) -> Any:
        run = getattr(_ACTIVE, "run", None)
        return self._state.variables if run is None else run

    def __getattr__(self, name: str) -> Any:  # random_generator, variable_lock, run_function, run_loop
        return getattr(self._state, name)


class ModuleProgram:
    """A program's generated function with every kernel bound for the module (a plan, a loop's cond or body)."""

    def __init__(self, backend: ArrayModuleBackend, program: Program, xp: Any, state: RunState, options: Any) -> None:
        self._backend = backend
        self._xp = xp
        self._state = state
        self._context = _RunContext(state)
        for node in program.nodes:  # the generated code binds constants' values as they are
            if node.op_type == "Const":
                node.attrs = {**node.attrs, "value": backend.constant(xp, node.attrs["value"])}
        compiled = generate_program(program, self._bind, options, {}, inline=False)
        self.generated = Generated(compiled)
        self.source = compiled.source

    def _bind(self, node: Node) -> Callable[..., Any]:
        if node.op_type == "Fused":
            fused = self._backend.fused_kernel(node, self._xp)
            if fused is not None:
                return fused
            # A fused group's own kernel is generated NumPy code: its members run one by one instead.
            group = node.extra
            return functools.partial(_run_group, group.inputs, [(m, self._bind(m)) for m in group.members])
        op_def = get_op_def(node.op_type) if node.kernel is None else None
        if op_def is not None and op_def.numpy_only is not None:
            context = self._context if op_def.stateful else None
            kernel = bind_kernel(node, np, self._state)
            if context is not None:
                kernel = functools.partial(op_def.kernel, np, ctx=context, op=node.origin, **node.attrs)
            return self._backend.host_kernel(node, kernel, self._xp)
        if op_def is None or not op_def.stateful:
            return self._backend.wrap_kernel(node, bind_kernel(node, self._xp, self._state))
        stateful = self._backend.stateful_kernel(node, self._xp, self._context)
        if stateful is not None:
            return stateful
        kernel = functools.partial(op_def.kernel, self._xp, ctx=self._context, op=node.origin, **node.attrs)
        if node.op_type in _VARIABLE_OPS:
            return kernel  # its value is the run's view's, already in the module
        return functools.partial(_entering, kernel, functools.partial(self._backend.state_to_module, self._xp))

    def __call__(self, values: Sequence[Any]) -> list[Any]:
        return self.generated.run(values)


class ModuleExecutable(Executable):
    """One plan: a generated function calling every kernel with the module, then one ``to_numpy``."""

    def __init__(self, backend: ArrayModuleBackend, program: Program, xp: Any, state: RunState, options: Any) -> None:
        self._backend = backend
        self._xp = xp
        self._state = state
        self._program = ModuleProgram(backend, program, xp, state, options)
        self._generated = self._program.generated
        self.source = self._program.source

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        if getattr(_ACTIVE, "run", None) is not None:  # a cond branch or function inside a run: part of it
            return self._program(list(feed_values))
        enter = functools.partial(self._backend.to_module, self._xp)
        run = RunVariables(self._state.variables, functools.partial(self._backend.state_to_module, self._xp))
        _ACTIVE.run = run
        try:
            results = self._program([enter(v) for v in feed_values])
            names = list(run.updates)
            fetched, committed = self._backend.finish_run(results, [run.updates[n] for n in names])
        finally:
            _ACTIVE.run = None
        # Committed only now that every value of the run exists: a failed run changes nothing.
        for name, value in zip(names, committed):
            self._state.variables[name] = value
        return fetched


class ModuleLoop(Executable):
    """A ``While``'s iterations with the module: its cond and body as module programs, in a Python loop.

    Runs inside the run of the plan holding the ``While`` (its kernels see that run's view of the
    variables); ``run([limit, *loop vars, *sliced, *captured])`` returns
    ``[*final loop vars, count, *recorded lists]`` as ``Backend.build_loop`` says. The predicate is
    made a Python bool by ``ArrayModuleBackend.loop_predicate`` (the Dask backend refuses a lazy one).
    """

    def __init__(self, backend: ArrayModuleBackend, loop: LoopPrograms, xp: Any, state: RunState, options: Any) -> None:
        self._backend = backend
        self._cond = ModuleProgram(backend, loop.cond, xp, state, options)
        self._body = ModuleProgram(backend, loop.body, xp, state, options)
        self._num_vars = loop.num_vars
        self._num_sliced = loop.num_sliced
        self._record = loop.record
        self.source = f"# cond\n{self._cond.source}\n# body\n{self._body.source}"

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        limit, *arrays = feed_values
        n, m = self._num_vars, self._num_sliced
        values, sliced, captured = list(arrays[:n]), arrays[n : n + m], list(arrays[n + m :])
        kept: list[list[Any]] = [[] for _ in values] if self._record else []
        count = 0
        while count != limit:
            (test,) = self._cond([*values, *captured])
            if not self._backend.loop_predicate(test):
                break
            for history, value in zip(kept, values):
                history.append(value)
            values = self._body([*values, *(s[count] for s in sliced), *captured])
            count += 1
        return [*values, count, *kept]


# The run in progress on this thread (its view of the variables), for plans run inside it.
_ACTIVE = threading.local()


def _run_group(inputs: Sequence[Any], members: Sequence[tuple[Node, Callable[..., Any]]], *arrays: Any) -> Any:
    """A fused group's members in order, each with the array module; the last member's value."""
    values = dict(zip(inputs, arrays))
    result = None
    for member, kernel in members:
        result = kernel(*[values[v] for v in member.inputs])
        values[member.out] = result
    return result


def _entering(kernel: Callable[..., Any], enter: Callable[[Any], Any], *args: Any) -> Any:
    """A stateful kernel's result (a NumPy random draw) moved into the module."""
    result = kernel(*args)
    if isinstance(result, tuple):
        return tuple(enter(r) if isinstance(r, np.ndarray) else r for r in result)
    return enter(result) if isinstance(result, np.ndarray) else result


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic)


def as_numpy(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)) or value is None:
        return value
    if hasattr(value, "__dlpack__"):
        try:
            return np.from_dlpack(value)
        except (BufferError, TypeError, RuntimeError):
            pass
    return np.asarray(value)
