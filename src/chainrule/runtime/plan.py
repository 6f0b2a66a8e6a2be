"""Execution plans: the compiled, pre-bound program for one (fetches, feeds) signature.

A plan is built once per signature and cached by the Session. Building it:
copy the ops the fetches need (stopping at fed tensors) into the compiler's IR
(``chainrule.compiler``), run the rewrite passes the options ask for, then
generate one straight-line Python function for the program: each kernel (bound
to its attributes ahead of time) or NumPy ufunc is a global of that function,
each value a local, and each local is deleted right after its last use, so its
buffer is released at once. Constants are bound once; elementwise ops call
their ufuncs directly, and fused groups write into buffers they allocated.

Errors keep their meaning: when a kernel raises, the line of the generated
function that failed names the node, and the error names the user's op, its
creation site, and the static and run-time inputs, as the interpreter did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import linecache
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from chainrule import compiler
from chainrule.compiler.codegen import CompiledFunction, generate_loop, generate_program, last_uses
from chainrule.compiler.ir import Node, Program, Value
from chainrule.compiler.memory import plan_buffers
from chainrule.framework import errors
from chainrule.framework.graph import FunctionGraph, Operation, Tensor
from chainrule.ops.registry import describe_inputs, get_op_def
from chainrule.runtime import numerics

_DEFAULT_GRAPH_SEED = 87654321  # TensorFlow's, used when only an op seed is set


class BufferPool:
    """Arrays that plans write large intermediate results into, kept between runs.

    Shared by the plans of one Session (one run at a time uses them; ``lock`` says which),
    so a Session that runs an objective and its gradient keeps one set of buffers, not two.
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple[str, tuple[int, ...]], list[np.ndarray]] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[str, tuple[int, ...]], i: int) -> np.ndarray:
        """The ``i``-th array of dtype and shape ``key`` (made on first request)."""
        arrays = self._arrays.setdefault(key, [])
        while len(arrays) <= i:
            arrays.append(np.empty(key[1], dtype=key[0]))
        return arrays[i]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for arrays in self._arrays.values() for a in arrays)


class RunState:
    """What persists across runs of one Session: variable values and random streams."""

    def __init__(self, graph_seed: int | None, xp: Any = np, options: Any = None, backend: Any = None) -> None:
        self.variables: dict[str, Any] = {}
        # The execution backend plans of this state are built by (``runtime.backends``; None: NumPy).
        self.backend = backend
        self._rngs: dict[tuple[tuple[int, ...], str], np.random.Generator] = {}
        self._graph_seed = graph_seed
        self.buffers = BufferPool()
        self.xp = xp
        self.options = options
        self._function_plans: dict[int, tuple[Any, Plan]] = {}
        self._loops: dict[tuple[int, int, bool, bool], tuple[Any, Any, Executable]] = {}
        self._function_lock = threading.Lock()
        self._variable_locks: dict[str, threading.RLock] = {}

    def variable_lock(self, name: str) -> threading.RLock:
        """The lock of variable ``name``: what ``use_locking=True`` updates of it hold."""
        lock = self._variable_locks.get(name)
        if lock is None:
            lock = self._variable_locks.setdefault(name, threading.RLock())
        return lock

    @contextlib.contextmanager
    def variable_locks(self, names: Sequence[str]) -> Iterator[None]:
        """Hold the locks of ``names`` (taken in sorted order, so two runs never wait on each other in a cycle)."""
        locks = [self.variable_lock(n) for n in sorted(names)]
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()

    def run_function(self, function: Any, arrays: Sequence[Any]) -> list[Any]:
        """Run a traced function (a ``cr.cond`` branch, a loop body) on ``arrays``, with this state's variables.

        ``function`` has ``inputs`` (its placeholders) and ``outputs`` (tensors of its graph); its
        plan is built on first use and kept, so a branch taken many times is compiled once.
        """
        return self.function_plan(function).execute(arrays)

    def function_plan(self, function: Any) -> Plan:
        """The plan of a traced function (built on first use; loops call its ``execute`` per iteration)."""
        key = id(function)
        with self._function_lock:
            entry = self._function_plans.get(key)
            if entry is None or entry[0] is not function:
                entry = (function, Plan(function.outputs, [], function.inputs, self.xp, self, self.options))
                self._function_plans[key] = entry
        return entry[1]

    def run_loop(
        self, cond: Any, body: Any, num_vars: int, num_sliced: int, record: bool, arrays: Sequence[Any]
    ) -> list[Any]:
        """Run a ``While``'s iterations as one generated function (built on first use and kept).

        ``arrays``: the iteration bound (-1: none), the loop variables, the sliced inputs and the
        captured values; returns the final loop variables, the count and, with ``record``, one
        list per loop variable of its value at the start of each iteration.
        """
        check = numerics.CHECK if numerics.checking() else None
        key = (id(cond), id(body), record, check is not None)
        with self._function_lock:
            entry = self._loops.get(key)
            if entry is None or entry[0] is not cond or entry[1] is not body:
                options = compiler.resolve_options(self.options)
                if check is not None:  # the check-numerics mode runs the graph as written
                    options = dataclasses.replace(options, passes=())
                programs = [build_program(f.outputs, [], f.inputs, options) for f in (cond, body)]
                loop = LoopPrograms(programs[0], programs[1], num_vars, num_sliced, record)
                if check is None and self.backend is not None:
                    executable = self.backend.build_loop(loop, self.xp, self, options)
                else:  # the check-numerics mode runs on NumPy
                    executable = Generated(generate_loop_function(loop, self.xp, self, options, check))
                entry = (cond, body, executable)
                self._loops[key] = entry
        return entry[2].run(arrays)

    def loop_functions(self) -> list[Executable]:
        """The loop executables this state has run (one per ``While`` and recording mode)."""
        return [entry[2] for entry in self._loops.values()]

    def function_plans(self) -> list[Plan]:
        """The plans of the traced functions this state has run (one per branch function)."""
        return [plan for _, plan in self._function_plans.values()]

    def random_generator(self, op: Operation) -> np.random.Generator:
        """The op's own random stream, reproducible when the op or the graph has a seed."""
        # Keyed by the graph's place among function graphs too: an op traced into a cond branch
        # or loop body may have the name of an op outside it, but never shares its stream.
        key = (op.graph.random_stream_path, op.name)
        rng = self._rngs.get(key)
        if rng is None:
            # TensorFlow's rule: with an op seed, the stream depends on (graph seed, op seed) only,
            # so two ops with the same seeds repeat each other; with only a graph seed, the op's
            # position in the graph stands in for its seed.
            op_seed = op.kernel_attrs.get("seed")
            if op_seed is None and self._graph_seed is None:
                rng = np.random.default_rng()
            else:
                graph_seed = _DEFAULT_GRAPH_SEED if self._graph_seed is None else self._graph_seed
                words = [op.id, *op.graph.random_stream_path] if op_seed is None else [op_seed]
                rng = np.random.default_rng([graph_seed, *words])
            self._rngs[key] = rng
        return rng


@dataclasses.dataclass(frozen=True)
class LoopPrograms:
    """A ``While``'s cond and body programs, and how its arguments split (see ``RunState.run_loop``)."""

    cond: Program
    body: Program
    num_vars: int
    num_sliced: int
    record: bool


def generate_loop_function(loop: LoopPrograms, xp: Any, state: RunState, options: Any, check: Any = None) -> Any:
    """The NumPy backend's form of a loop: one generated Python function (``codegen.generate_loop``)."""
    return generate_loop(
        loop.cond, loop.body, lambda node: bind_kernel(node, xp, state),
        options, loop.num_vars, loop.num_sliced, loop.record, inline=xp is np, check=check,
    )  # fmt: skip


class Plan:
    """The compiled program for one (fetches, targets, feeds) signature.

    Parameters
    ----------
    fetch_tensors : the tensors whose values ``execute`` returns, in order.
    target_ops : operations to run for their effects.
    feed_tensors : the tensors whose values ``execute`` receives, in order.
    xp : the array module kernels run with.
    state : the Session's ``RunState``.
    options : ``cr.compiler.Options`` (None: the default; False: no rewrites).

    Attributes
    ----------
    program : the optimized IR (``program.dump()`` shows it).
    executable : what runs it: a generated function, or an interpreter (``Options(codegen=False)``).
    source : the generated Python source (None when interpreting).
    """

    def __init__(
        self,
        fetch_tensors: Sequence[Tensor],
        target_ops: Sequence[Operation],
        feed_tensors: Sequence[Tensor],
        xp: Any,
        state: RunState,
        options: Any = None,
    ) -> None:
        self.options = compiler.resolve_options(options)
        self._state = state
        self._signature = (list(fetch_tensors), list(target_ops), list(feed_tensors), xp)
        self._checked: Executable | None = None  # the check-numerics mode's, built on first need
        program = build_program(fetch_tensors, target_ops, feed_tensors, self.options)
        self.program = program
        self.executable: Executable
        if state.backend is not None:
            self.executable = state.backend.build(program, xp, state, self.options)
        elif self.options.codegen:
            self.executable = Generated.build(program, xp, state, self.options)
        else:
            self.executable = Interpreter(program, xp, state)
        self.source: str | None = getattr(self.executable, "source", None)
        # Why the backend left parts of the plan to NumPy, or split them (shown at the top of ``source``).
        self.backend_notes: list[str] = list(getattr(self.executable, "backend_notes", ()))
        self.locked_variables = locked_variables(program)

    def execute(self, feed_values: Sequence[Any]) -> list[Any]:
        """Run the plan on the fed values (in ``feed_tensors`` order); returns the fetched values.

        A plan that updates variables with ``use_locking=True`` holds their locks for the whole
        run: the reads its updates depend on (an optimizer's slots, the variable itself) and the
        updates are then one atomic step with respect to every other locked run.
        """
        token = numerics.located_warnings()  # NumPy's warnings name the op and the user's line
        try:
            executable = self.checked_executable() if numerics.STATE.enabled else self.executable
            if not self.locked_variables:
                return executable.run(feed_values)
            with self._state.variable_locks(self.locked_variables):
                return executable.run(feed_values)
        finally:
            if token is not None:
                numerics.restore_warnings(token)

    def checked_executable(self) -> Executable:
        """What runs this plan in the check-numerics mode: the graph as written, each op's float outputs checked."""
        if self._checked is None:
            fetches, targets, feeds, xp = self._signature
            options = dataclasses.replace(self.options, passes=(), reuse_buffers=False)
            program = build_program(fetches, targets, feeds, options)
            if options.codegen:
                binder = functools.partial(bind_kernel, xp=xp, state=self._state)
                compiled = generate_program(program, binder, options, {}, xp is np, check=numerics.CHECK)
                self._checked = Generated(compiled)
            else:
                self._checked = Interpreter(program, xp, self._state, check=numerics.CHECK)
        return self._checked

    def profile(
        self, feed_values: Sequence[Any], xp: Any = np, state: RunState | None = None
    ) -> list[tuple[Node, float]]:
        """Run the program once node by node, timing each kernel: ``[(node, seconds), ...]`` in order.

        Uses the optimized program (fused nodes run as one kernel); for finding where time goes.
        """
        interpreter = Interpreter(self.program, xp, state or self._state)
        values: list[Any] = [None] * interpreter.num_slots
        values[: len(feed_values)] = feed_values
        timings = []
        for node, kernel, ins, outs, release in interpreter.steps:
            t0 = time.perf_counter()
            result = kernel(*[values[i] for i in ins])
            timings.append((node, time.perf_counter() - t0))
            _store(values, outs, result, release)
        return timings


class Executable:
    """Runs a compiled program: ``run(feed_values) -> fetched values``."""

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        raise NotImplementedError


class Generated(Executable):
    """A generated straight-line function (``compiler.codegen``)."""

    def __init__(self, compiled: CompiledFunction) -> None:
        self.compiled = compiled
        self.source = compiled.source

    @staticmethod
    def build(program: Program, xp: Any, state: RunState, options: Any) -> Executable:
        inline = xp is np
        buffers = (
            plan_buffers(program, options.buffer_min_bytes, state.buffers) if inline and options.reuse_buffers else {}
        )
        compiled = generate_program(program, lambda node: bind_kernel(node, xp, state), options, buffers, inline)
        if not buffers:
            return Generated(compiled)
        # A plan that writes into buffers it keeps must not run twice at once (threads, or a
        # kernel that runs the session again): a second caller gets a buffer-free version.
        return Exclusive(
            Generated(compiled),
            state.buffers.lock,
            lambda: Generated.build(program, xp, state, dataclasses.replace(options, reuse_buffers=False)),
        )

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        try:
            return self.compiled.fn(*feed_values)
        except Exception as e:  # noqa: BLE001 - re-raised with the op's name and creation site
            # One error, printed once: chainrule's message (which quotes NumPy's) over the frames
            # that raised it; the original stays reachable as ``__context__``.
            raise self.locate_error(e).with_traceback(e.__traceback__) from None

    def locate_error(self, e: Exception) -> Exception:
        """``e`` as an error naming the user's op whose line of the generated function raised it."""
        hit = self.compiled.failing_inputs(e)
        return e if hit is None else _runtime_error(hit[0], hit[1], e)


class Exclusive(Executable):
    """Runs an executable that writes into kept buffers one run at a time.

    ``inner`` runs under ``lock`` (the Session's ``BufferPool.lock``); a run that finds the lock
    taken (another thread, or a kernel that runs the session again) runs ``make_fallback()``,
    a version without kept buffers, made on first need. Any backend's plan can be wrapped.

    Attributes
    ----------
    inner : the wrapped executable.
    source, backend_notes : the inner executable's (what ``Plan`` shows).
    """

    def __init__(self, inner: Executable, lock: Any, make_fallback: Callable[[], Executable]) -> None:
        self.inner = inner
        self.source: str | None = getattr(inner, "source", None)
        self.backend_notes: list[str] = list(getattr(inner, "backend_notes", ()))
        self._lock = lock
        self._make_fallback = make_fallback
        self._fallback: Executable | None = None

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        if self._lock.acquire(blocking=False):
            try:
                return self.inner.run(feed_values)
            finally:
                self._lock.release()
        if self._fallback is None:  # made on first need: most plans never run inside themselves
            self._fallback = self._make_fallback()
        return self._fallback.run(feed_values)


class Interpreter(Executable):
    """One kernel call per step (``Options(codegen=False)``, and ``Plan.profile``)."""

    def __init__(self, program: Program, xp: Any, state: RunState, check: Any = None) -> None:
        self.steps, slots = _interpreter_steps(program, xp, state)
        self.num_slots = len(slots)
        self.fetch_slots = [slots[v] for v in program.outputs]
        self._check = check  # the check-numerics mode's ``check(node, index, value)``
        self._feeds = [(v, slots[v]) for v in program.feeds]

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        values: list[Any] = [None] * self.num_slots
        values[: len(feed_values)] = feed_values
        check = self._check
        if check is not None:
            for v, slot in self._feeds:
                if check.dtypes(v.dtype):
                    check(v.node, 0, values[slot])
        for node, kernel, ins, outs, release in self.steps:
            try:
                result = kernel(*[values[i] for i in ins])
            except Exception as e:  # noqa: BLE001 - re-raised with the op's name and creation site
                inner = node.extra.failing_member(e) if node.op_type == "Fused" else None
                failed, inputs = inner if inner is not None else (node, [values[i] for i in ins])
                raise _runtime_error(failed, inputs, e).with_traceback(e.__traceback__) from None
            _store(values, outs, result, release)
            if check is not None:
                for v, slot in zip(node.outputs, outs):
                    if check.dtypes(v.dtype):
                        check(node, v.index, values[slot])
        return [values[s] for s in self.fetch_slots]


numerics.register_interpreter(Interpreter.run)


def build_program(
    fetch_tensors: Sequence[Tensor], target_ops: Sequence[Operation], feed_tensors: Sequence[Tensor], options: Any
) -> Program:
    """The IR of what the fetches need (stopping at the feeds), rewritten by the passes ``options`` ask for."""
    program = Program.from_graph(fetch_tensors, target_ops, feed_tensors)
    if options.passes:
        compiler.optimize_program(program, options)
    return program


_ASSIGN_OPS = frozenset({"Assign", "AssignAdd", "AssignSub"})


def locked_variables(program: Program) -> tuple[str, ...]:
    """The variables that ``program`` (or a branch or loop body it runs) updates with ``use_locking=True``."""
    names: set[str] = set()
    graphs: list[Any] = []
    for node in program.nodes:
        if node.op_type in _ASSIGN_OPS and node.attrs.get("use_locking"):
            names.add(node.attrs["var"])
        graphs.extend(_function_graphs(node.attrs))
    seen: set[int] = set()
    while graphs:
        graph = graphs.pop()
        if id(graph) in seen:
            continue
        seen.add(id(graph))
        for op in graph.get_operations():
            if op.type in _ASSIGN_OPS and op.get_attr("use_locking"):
                names.add(op.get_attr("var"))
            graphs.extend(_function_graphs(op.kernel_attrs))
    return tuple(sorted(names))


def _function_graphs(attrs: dict[str, Any]) -> list[Any]:
    """The graphs of the traced functions among an op's attributes (a cond's branches, a loop's body)."""
    return [v.graph for v in attrs.values() if isinstance(getattr(v, "graph", None), FunctionGraph)]


def bind_kernel(node: Node, xp: Any, state: RunState) -> Callable[..., Any]:
    """``node``'s kernel with ``xp`` and its attributes bound: call it with the input arrays only."""
    if node.kernel is not None:
        return functools.partial(node.kernel, xp, **node.attrs)
    op_def = get_op_def(node.op_type)
    if op_def.stateful:
        return functools.partial(op_def.kernel, xp, ctx=state, op=node.origin, **node.attrs)
    return functools.partial(op_def.kernel, xp, **node.attrs) if node.attrs else functools.partial(op_def.kernel, xp)


def _interpreter_steps(program: Program, xp: Any, state: RunState) -> tuple[list[tuple[Any, ...]], dict[Value, int]]:
    slots: dict[Value, int] = {}
    for v in program.feeds:
        slots[v] = len(slots)
    for node in program.nodes:
        for v in node.outputs:
            slots[v] = len(slots)
    release = last_uses(program)
    steps = []
    for i, node in enumerate(program.nodes):
        steps.append(
            (
                node,
                bind_kernel(node, xp, state),
                tuple(slots[v] for v in node.inputs),
                tuple(slots[v] for v in node.outputs),
                tuple(slots[v] for v in release.get(i, ())),
            )
        )
    return steps, slots


def _store(values: list[Any], outs: tuple[int, ...], result: Any, release: tuple[int, ...]) -> None:
    """Put an interpreter step's result in its output slots, then free the slots it was the last to read.

    A single-output kernel's result is stored as is, a multi-output kernel's is unpacked.
    """
    if len(outs) == 1:
        values[outs[0]] = result
    elif outs:
        for s, r in zip(outs, result):
            values[s] = r
    for s in release:
        values[s] = None


def _runtime_error(node: Node, values: Sequence[Any], e: Exception) -> Exception:
    """The error naming the user's op that ``e`` (raised by ``node``'s code) becomes.

    A message a kernel raised itself (chainrule's, in TensorFlow's words, or a custom kernel's
    ``raise``) comes first, followed by the op; an error NumPy raised follows the op's
    description, on its own last line: what failed, where it was made, with what, then what
    NumPy said.
    """
    op = node.origin
    if op is None:
        return e
    arrays = []
    for v in values:
        arrays.append(f"{getattr(v, 'dtype', type(v).__name__)}{tuple(np.shape(v))}" if v is not None else "?")
    context = f"  static inputs: {describe_inputs(op.inputs)}\n  runtime inputs: {', '.join(arrays) or 'none'}"
    cls: type[errors.OpError] = errors.InvalidArgumentError
    if isinstance(e, errors.OpError):
        if e.op is not None and e.op is not op:
            return e
        cls = type(e)
        return cls(op.node_def, op, f"{e.message}\n  while running op {op.describe()}\n{context}")
    own, where = raised_by(e)
    if own:
        detail = str(e) if type(e) in (ValueError, TypeError) else f"{type(e).__name__}: {e}"
        message = f"{detail}\n  while running op {op.describe()}\n{context}"
        return cls(op.node_def, op, message + (f"\n  raised at {where}" if where else ""))
    origin = f"raised at {where}: " if where else "NumPy: "
    message = f"error while running op {op.describe()}\n{context}\n  {origin}{type(e).__name__}: {e}"
    return cls(op.node_def, op, message)


def raised_by(e: BaseException) -> tuple[bool, str]:
    """Whether ``e`` comes from a ``raise`` in a kernel (not from NumPy), and where outside chainrule and NumPy.

    ``where`` is ``"file:line in function"`` for a user's function (a ``py_func``, a custom op's
    kernel), ``""`` for chainrule's and NumPy's code.
    """
    tb = e.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return True, ""
    code = last.tb_frame.f_code
    package = str(last.tb_frame.f_globals.get("__name__", "")).split(".")[0]
    if code.co_filename.startswith("<chainrule ") or package == "numpy":
        return False, ""
    # A kernel's own ``raise``, or an error of a NumPy function (written in C) that it called.
    own = linecache.getline(code.co_filename, last.tb_lineno).lstrip().startswith("raise")
    where = "" if package == "chainrule" else f"{code.co_filename}:{last.tb_lineno} in {code.co_name}"
    return own, where
