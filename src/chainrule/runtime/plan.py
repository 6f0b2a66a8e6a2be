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

import dataclasses
import functools
import gc
import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule import compiler
from chainrule.compiler.fusion import NO_OUT, Emitter, emit_node, template
from chainrule.compiler.ir import Node, Program, Value
from chainrule.framework import errors
from chainrule.framework.graph import Operation, Tensor
from chainrule.ops.registry import describe_inputs, get_op_def

_DEFAULT_GRAPH_SEED = 87654321  # TensorFlow's, used when only an op seed is set
_PLAN_IDS = itertools.count()


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

    def __init__(self, graph_seed: int | None) -> None:
        self.variables: dict[str, Any] = {}
        self._rngs: dict[str, np.random.Generator] = {}
        self._graph_seed = graph_seed
        self.buffers = BufferPool()

    def random_generator(self, op: Operation) -> np.random.Generator:
        """The op's own random stream, reproducible when the op or the graph has a seed."""
        rng = self._rngs.get(op.name)
        if rng is None:
            # TensorFlow's rule: with an op seed, the stream depends on (graph seed, op seed) only,
            # so two ops with the same seeds repeat each other; with only a graph seed, the op's
            # position in the graph stands in for its seed.
            op_seed = op._attrs.get("seed")
            if op_seed is None and self._graph_seed is None:
                rng = np.random.default_rng()
            else:
                graph_seed = _DEFAULT_GRAPH_SEED if self._graph_seed is None else self._graph_seed
                rng = np.random.default_rng([graph_seed, op._id if op_seed is None else op_seed])
            self._rngs[op.name] = rng
        return rng


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
        # Building makes many small objects that all stay alive: the cyclic GC would only rescan them.
        paused = gc.isenabled()
        gc.disable()
        try:
            self._build(fetch_tensors, target_ops, feed_tensors, xp, state)
        finally:
            if paused:
                gc.enable()

    def _build(
        self,
        fetch_tensors: Sequence[Tensor],
        target_ops: Sequence[Operation],
        feed_tensors: Sequence[Tensor],
        xp: Any,
        state: RunState,
    ) -> None:
        program = Program.from_graph(fetch_tensors, target_ops, feed_tensors)
        if self.options.passes:
            compiler.optimize_program(program, self.options)
        self.program = program
        self.source: str | None = None
        if self.options.codegen:
            generated = _generate(program, xp, state, self.options)
            self._fn, self._lines, self._filename, self.source, has_buffers = generated
            self.execute = self._execute_generated  # type: ignore[method-assign]
            if has_buffers:
                # A plan that writes into buffers it keeps must not run twice at once (threads, or a
                # kernel that runs the session again): a second caller gets a buffer-free version.
                self._fallback: tuple[Any, ...] | None = None
                self._fallback_args = (program, xp, state, dataclasses.replace(self.options, reuse_buffers=False))
                self._lock = state.buffers.lock
                self.execute = self._execute_exclusive  # type: ignore[method-assign]
        else:
            self._steps, slots = _interpreter_steps(program, xp, state)
            self._num_slots = len(slots)
            self._fetch_slots = [slots[v] for v in program.outputs]
            self.execute = self._execute_interpreted  # type: ignore[method-assign]

    def execute(self, feed_values: Sequence[Any]) -> list[Any]:  # replaced per instance in __init__
        """Run the plan on the fed values (in ``feed_tensors`` order); returns the fetched values."""
        raise NotImplementedError

    # -- generated straight-line function ----------------------------------------------------------
    def _execute_generated(self, feed_values: Sequence[Any]) -> list[Any]:
        try:
            return self._fn(*feed_values)
        except Exception as e:  # noqa: BLE001 - re-raised with the op's name and creation site
            raise self._locate_error(e) from e

    def _execute_exclusive(self, feed_values: Sequence[Any]) -> list[Any]:
        if self._lock.acquire(blocking=False):
            try:
                return self._fn(*feed_values)
            except Exception as e:  # noqa: BLE001 - re-raised with the op's name and creation site
                raise self._locate_error(e) from e
            finally:
                self._lock.release()
        if self._fallback is None:  # made on first need: most plans never run inside themselves
            self._fallback = _generate(*self._fallback_args)[:3]
        fn, lines, filename = self._fallback
        try:
            return fn(*feed_values)
        except Exception as e:  # noqa: BLE001 - re-raised with the op's name and creation site
            raise self._locate_error(e, lines, filename) from e

    def _locate_error(self, e: Exception, lines: dict | None = None, filename: str | None = None) -> Exception:
        lines = self._lines if lines is None else lines
        filename = filename or self._filename
        tb = e.__traceback__
        frame_info = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == filename:
                frame_info = (tb.tb_frame, tb.tb_lineno)
            tb = tb.tb_next
        if frame_info is None:
            return e
        frame, lineno = frame_info
        entry = lines.get(lineno)
        if entry is None:
            return e
        node, member, arg_names = entry
        local = frame.f_locals
        values = [local.get(n, frame.f_globals.get(n)) for n in arg_names]
        return _runtime_error(member, values, e)

    def profile(
        self, feed_values: Sequence[Any], xp: Any = np, state: RunState | None = None
    ) -> list[tuple[Node, float]]:
        """Run the program once node by node, timing each kernel: ``[(node, seconds), ...]`` in order.

        Uses the optimized program (fused nodes run as one kernel); for finding where time goes.
        """
        import time

        state = state or self._state
        steps, slots = _interpreter_steps(self.program, xp, state)
        values: list[Any] = [None] * len(slots)
        values[: len(feed_values)] = feed_values
        timings = []
        for node, kernel, ins, outs, release in steps:
            t0 = time.perf_counter()
            result = kernel(*[values[i] for i in ins])
            timings.append((node, time.perf_counter() - t0))
            _store(values, outs, result, release)
        return timings

    # -- interpreter (Options(codegen=False)): one kernel call per step --------------------------
    def _execute_interpreted(self, feed_values: Sequence[Any]) -> list[Any]:
        values: list[Any] = [None] * self._num_slots
        values[: len(feed_values)] = feed_values
        for node, kernel, ins, outs, release in self._steps:
            try:
                result = kernel(*[values[i] for i in ins])
            except Exception as e:  # noqa: BLE001 - re-raised with the op's name and creation site
                inner = node.extra.failing_member(e) if node.op_type == "Fused" else None
                if inner is not None:
                    raise _runtime_error(inner[0], inner[1], e) from e
                raise _runtime_error(node, [values[i] for i in ins], e) from e
            _store(values, outs, result, release)
        return [values[s] for s in self._fetch_slots]


def bind_kernel(node: Node, xp: Any, state: RunState) -> Callable[..., Any]:
    """``node``'s kernel with ``xp`` and its attributes bound: call it with the input arrays only."""
    if node.kernel is not None:
        return functools.partial(node.kernel, xp, **node.attrs)
    op_def = get_op_def(node.op_type)
    if op_def.stateful:
        return functools.partial(op_def.kernel, xp, ctx=state, op=node.origin, **node.attrs)
    return functools.partial(op_def.kernel, xp, **node.attrs) if node.attrs else functools.partial(op_def.kernel, xp)


def _last_uses(program: Program) -> dict[int, list[Value]]:
    """For each node position, the values whose last reader it is (fetched values are never released)."""
    last: dict[Value, int] = {}
    for i, node in enumerate(program.nodes):
        for v in node.inputs:
            last[v] = i
    keep = set(program.outputs)
    release: dict[int, list[Value]] = {}
    for v, i in last.items():
        if v not in keep:
            release.setdefault(i, []).append(v)
    return release


def _generate(
    program: Program, xp: Any, state: RunState, options: Any
) -> tuple[Callable[..., Any], dict, str, str, bool]:
    """Source and function for ``program``: one line (or a few) per node, values as locals."""
    em = Emitter()
    em.options = options
    inline = xp is np
    use_buffers = inline and options.reuse_buffers
    buffers = plan_buffers(program, options.buffer_min_bytes, state.buffers) if use_buffers else {}
    buffer_names: dict[tuple[Node, int], str] = {}
    for key, buf in buffers.items():
        buffer_names[key] = em.bind("buf", buf)
    names: dict[Value, str] = {}
    params = [f"f{i}" for i in range(len(program.feeds))]
    for v, p in zip(program.feeds, params):
        names[v] = p
    lines: list[str] = []
    line_info: dict[int, tuple[Node, Node, list[str]]] = {}
    release = _last_uses(program)
    used = {v for n in program.nodes for v in n.inputs} | set(program.outputs)

    def add(code: str, node: Node, member: Node, args: list[str]) -> None:
        lines.append(code)
        line_info[len(lines) + 1] = (node, member, args)  # +1: the def line comes first

    for i, node in enumerate(program.nodes):
        t = node.op_type
        if t == "Const" and node.out in used:
            names[node.out] = em.bind("c", node.attrs["value"])
            continue
        args = [names[v] for v in node.inputs]
        target = f"v{node.id}"
        if t == "Fused" and inline:
            members = set(node.extra.members)
            own = {i: buffer_names[(node, i)] for i in range(len(node.extra.members)) if (node, i) in buffer_names}
            emitted = node.extra.emit(em, args, target, own)
            inner: dict[Value, str] = dict(zip(node.inputs, args))
            last_reader = {v: m for m in node.extra.members for v in m.inputs}
            for j, (code, member) in enumerate(emitted):
                add(code, node, member, [inner.get(v, "?") for v in member.inputs])
                inner[member.out] = code.split(" = ", 1)[0]
                if j + 1 == len(emitted) or emitted[j + 1][1] is not member:
                    # Release the group's temporaries as soon as their one reader is done.
                    done = [
                        inner[v]
                        for v in member.inputs
                        if last_reader.get(v) is member and v in inner and v.node in members
                    ]
                    if done:
                        lines.append(f"del {', '.join(dict.fromkeys(done))}")
        elif inline and template(node) is not None:
            for code in emit_node(em, node, args, target, into=buffer_names.get((node, 0))):
                add(code, node, node, args)
        elif inline and (code := _specialized(em, node, args, buffer_names.get((node, 0)))) is not None:
            add(f"{target} = {code}", node, node, args)
        elif t in ("SumToShapeOf", "BroadcastToShapeOf"):
            k = em.bind("k", bind_kernel(node, xp, state))
            a, b = args
            add(f"{target} = {a} if {a}.shape == {b}.shape else {k}({a}, {b})", node, node, args)
        elif t in ("Identity", "StopGradient") and len(args) == 1:
            add(f"{target} = {args[0]}", node, node, args)
        else:
            k = em.bind("k", bind_kernel(node, xp, state))
            call = f"{k}({', '.join(args)})"
            outs = node.outputs
            if len(outs) == 1:
                add(f"{target} = {call}" if outs[0] in used else call, node, node, args)
            elif not outs:
                add(call, node, node, args)
            else:
                parts = [f"{target}_{j}" if o in used else "_" for j, o in enumerate(outs)]
                add(f"{', '.join(parts)}, = {call}", node, node, args)
                for o, p in zip(outs, parts):
                    if p != "_":
                        names[o] = p
        if len(node.outputs) == 1:
            names[node.out] = target
        dead = [names[v] for v in release.get(i, ()) if names.get(v, "").startswith("v")]
        if dead:
            lines.append(f"del {', '.join(dict.fromkeys(dead))}")
    ret = ", ".join(names[v] for v in program.outputs)
    lines.append(f"return [{ret}]")
    filename = f"<chainrule plan {next(_PLAN_IDS)}>"
    source = f"def plan({', '.join(params)}):\n" + "".join(f"    {ln}\n" for ln in lines)
    namespace = dict(em.globals)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - generated from the program
    return namespace["plan"], line_info, filename, source, bool(buffers)


def _interpreter_steps(program: Program, xp: Any, state: RunState) -> tuple[list[tuple[Any, ...]], dict[Value, int]]:
    slots: dict[Value, int] = {}
    for v in program.feeds:
        slots[v] = len(slots)
    for node in program.nodes:
        for v in node.outputs:
            slots[v] = len(slots)
    release = _last_uses(program)
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
    op = node.origin
    if op is None:
        return e
    if isinstance(e, errors.OpError):
        if e.op is not None and e.op is not op:
            return e
        cls: type[errors.OpError] = type(e)
        detail = e.message
    else:
        cls = errors.InvalidArgumentError
        detail = f"{type(e).__name__}: {e}"
    arrays = []
    for v in values:
        arrays.append(f"{getattr(v, 'dtype', type(v).__name__)}{tuple(np.shape(v))}" if v is not None else "?")
    message = (
        f"{detail}\n  while running op {op.describe()}\n"
        f"  static inputs: {describe_inputs(op.inputs)}\n  runtime inputs: {', '.join(arrays) or 'none'}"
    )
    return cls(op.node_def, op, message)


# --- specialized calls: kernels whose attributes or constant inputs can be decided once -------------
_BUILTIN_KERNEL_MODULES = frozenset(
    [
        "chainrule.ops.array_ops",
        "chainrule.ops.broadcast_ops",
        "chainrule.ops.linalg_ops",
        "chainrule.ops.math_ops",
        "chainrule.ops.reduction_ops",
    ]
)


def _builtin(node: Node) -> bool:
    if node.kernel is not None:
        return False
    return getattr(get_op_def(node.op_type).kernel, "__module__", None) in _BUILTIN_KERNEL_MODULES


def _const_tuple(v: Value) -> tuple[int, ...] | None:
    if v.node.op_type != "Const":
        return None
    return tuple(int(d) for d in np.ravel(v.node.attrs["value"]))


def _specialized(em: Emitter, node: Node, args: list[str], out: str | None) -> str | None:
    """An expression doing what ``node``'s kernel does, with constant shapes and attributes decided now.

    The kernels convert shape tensors to tuples (and decode slices) on every call; with a constant
    shape input that is done here, once. ``out`` (MatMul only): a preallocated array for the result.
    """
    t = node.op_type
    if not _builtin(node):
        return None
    if t == "MatMul":
        a, b = args
        if node.attrs.get("transpose_a"):
            a = f"{em.ufunc('swapaxes')}({a}, -1, -2)"
        if node.attrs.get("transpose_b"):
            b = f"{em.ufunc('swapaxes')}({b}, -1, -2)"
        return f"{em.ufunc('matmul')}({a}, {b}{', out=' + out if out else ''})"
    if t in ("Reshape", "BroadcastTo", "SumToShape", "Fill"):
        shape = _const_tuple(node.inputs[0 if t == "Fill" else 1])
        if shape is None:
            return None
        s = em.constant(shape)
        if t == "Reshape":
            return f"{em.ufunc('reshape')}({args[0]}, {s})"
        if t == "BroadcastTo":
            return f"{em.ufunc('broadcast_to')}({args[0]}, {s})"
        if t == "Fill":
            return f"{em.ufunc('full')}({s}, {args[1]}, dtype={args[1]}.dtype)"
        x = node.inputs[0]
        if x.shape.is_fully_defined() and tuple(x.shape.dims) != shape:  # type: ignore[arg-type]
            lead = len(x.shape.dims) - len(shape)  # type: ignore[arg-type]
            axes = tuple(range(lead)) + tuple(
                lead + i
                for i, d in enumerate(shape)
                if d == 1 and x.shape.dims[lead + i] != 1  # type: ignore[index]
            )
            fast = _einsum_sum(em, x, axes, args[0])
            if fast is not None:
                return f"{fast}.reshape({s})"
        from chainrule.ops.broadcast_ops import sum_to_shape_kernel

        k = em.bind("k", functools.partial(sum_to_shape_kernel, np))
        return f"{args[0]} if {args[0]}.shape == {s} else {k}({args[0]}, {s})"
    if t == "Sum" and node.inputs[0].shape.rank is not None:
        x = node.inputs[0]
        rank = x.shape.rank
        axis = node.attrs.get("axis")
        axes = tuple(range(rank)) if axis is None else tuple(a % rank for a in axis) if rank else ()
        fast = _einsum_sum(em, x, axes, args[0])
        if fast is not None:
            if not node.attrs.get("keepdims"):
                return fast
            if node.out.shape.is_fully_defined():
                return f"{fast}.reshape({em.constant(tuple(node.out.shape.dims))})"
    if t == "StridedSlice" and len(args) == 1:
        from chainrule.ops.indexing_ops import _decode_key

        key = em.bind("key", _decode_key(node.attrs["spec"], ()))
        return f"{args[0]}[{key}]"
    return None


# Short sums (Options(fast_reductions=True), off by default): np.sum is slow over small or inner
# axes; einsum is several times faster there. It adds in a different order, so results change in
# the last bits (n * eps: about 1e-12 for 4096 float64s), which is why it is opt-in: a run that
# must reproduce the uncompiled graph bit for bit (or a tight optimizer tolerance) keeps np.sum.
_EINSUM_MAX_TERMS = {"float64": 4096, "float32": 64}


def _einsum_sum(em: Emitter, x: Value, axes: tuple[int, ...], arg: str) -> str | None:
    """``np.sum(x, axis=axes)`` as an einsum call, when asked for and the summed count is small and known."""
    if not em.options.fast_reductions:
        return None
    limit = _EINSUM_MAX_TERMS.get(x.dtype.name)
    dims = x.shape.dims
    if limit is None or dims is None or not axes or any(dims[a] is None for a in axes):
        return None
    count = 1
    for a in axes:
        count *= dims[a]  # type: ignore[operator]
    if count > limit or count == 0:
        return None
    subs_in = list(range(len(dims)))
    subs_out = [i for i in subs_in if i not in axes]
    return f"{em.ufunc('einsum')}({arg}, {em.constant(tuple(subs_in))}, {em.constant(tuple(subs_out))})"


# --- buffers reused across runs ----------------------------------------------------------------
# Op types whose kernels always return new arrays (never a view of an input): a buffer read by
# them is free again once they ran. Any other op may return a view, which keeps the buffer busy.
_FRESH_OUTPUTS = frozenset(["MatMul", "AddN", "Sum", "Max", "Min", "Prod", "Softmax", "LogSoftmax", "ConcatV2", "Pack"])


def _fresh(node: Node) -> bool:
    if node.op_type == "Fused" or template(node) is not None:
        return True
    return node.op_type in _FRESH_OUTPUTS and node.kernel is None and not get_op_def(node.op_type).stateful


def plan_buffers(program: Program, min_bytes: int, pool: BufferPool) -> dict[tuple[Node, int], np.ndarray]:
    """Preallocated arrays for the large results of ops that can write into one (``out=``).

    A site is ``(node, i)``: the node's output (``i = 0``), or for a fused node the member ``i``
    that allocates. A value qualifies when its static shape is known, it is at least ``min_bytes``,
    and neither it nor any view of it is fetched or reaches a stateful op (so no reference to the
    buffer outlives the run). Sites whose lifetimes (through views) do not overlap share a buffer,
    so the memory held between runs is about the peak of what one run keeps alive; the arrays
    come from ``pool``, which the plans of one Session share.
    """
    position = {n: i for i, n in enumerate(program.nodes)}
    consumers: dict[Value, list[Node]] = {}
    for n in program.nodes:
        for v in n.inputs:
            consumers.setdefault(v, []).append(n)
    fetched = set(program.outputs)

    def lifetime(v: Value) -> int | None:
        """Last position that may read ``v`` or a view of it; None when it escapes the run."""
        end = position[v.node]
        stack, seen = [v], {v}
        while stack:
            u = stack.pop()
            if u in fetched:
                return None
            for c in consumers.get(u, ()):
                if c.stateful:
                    return None
                end = max(end, position[c])
                if not _fresh(c):
                    for o in c.outputs:
                        if o not in seen:
                            seen.add(o)
                            stack.append(o)
        return end

    def big_enough(v: Value) -> bool:
        if not v.shape.is_fully_defined():
            return False
        return v.shape.num_elements() * v.dtype.as_numpy_dtype.itemsize >= min_bytes  # type: ignore[operator]

    sites: list[tuple[int, int, tuple[Node, int], Value]] = []  # (start, end, site, value)
    for node in program.nodes:
        p = position[node]
        if node.op_type == "Fused":
            for i, holds_result in node.extra.allocating_members():
                member_out = node.extra.members[i].out
                v = node.out if holds_result else member_out
                if not big_enough(member_out) or member_out.dtype != v.dtype:
                    continue
                end = lifetime(node.out) if holds_result else p
                if end is not None:
                    sites.append((p, end, (node, i), member_out))
        elif len(node.outputs) == 1 and big_enough(node.out):
            steps = template(node)
            if (steps is not None and steps[0][0] not in NO_OUT) or (node.op_type == "MatMul" and _builtin(node)):
                end = lifetime(node.out)
                if end is not None:
                    sites.append((p, end, (node, 0), node.out))
    free: dict[tuple[str, tuple[int, ...]], list[np.ndarray]] = {}
    busy: list[tuple[int, tuple[str, tuple[int, ...]], np.ndarray]] = []
    assigned: dict[tuple[Node, int], np.ndarray] = {}
    made: dict[tuple[str, tuple[int, ...]], int] = {}
    by_start: dict[int, list[tuple[int, tuple[Node, int], Value]]] = {}
    for start, end, site, v in sites:
        by_start.setdefault(start, []).append((end, site, v))
    for p in range(len(program.nodes)):
        for end, site, v in by_start.get(p, ()):
            key = (v.dtype.as_numpy_dtype.str, tuple(v.shape.dims))  # type: ignore[arg-type]
            available = free.get(key)
            if available:
                buf = available.pop()
            else:
                buf = pool.get(key, made.get(key, 0))
                made[key] = made.get(key, 0) + 1
            assigned[site] = buf
            busy.append((end, key, buf))
        still = []
        for end, key, buf in busy:
            if end <= p:
                free.setdefault(key, []).append(buf)
            else:
                still.append((end, key, buf))
        busy = still
    return assigned
