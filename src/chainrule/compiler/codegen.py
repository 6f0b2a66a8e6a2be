"""Code generation, in one place: programs and fused groups become Python functions.

The generator works on *lines*: each ``Line`` is one statement with the names it assigns,
the expression, and the node it computes (with that node's argument names), so a failing
line of a generated function names the user's op without parsing anything back. Lines
come from the op declarations (``ops.registry``): an elementwise op's ufunc steps are
emitted inline (writing into a given buffer with ``out=`` where the static shapes prove it
fits), an op with an ``emit`` rule gets the expression that rule returns, and every other
op calls its kernel, bound to its attributes ahead of time.

``compile_lines`` turns lines (gathered in a ``Body``) into a function; ``generate_program`` emits a whole program
(one straight-line function per plan, each value a local deleted after its last use).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from chainrule.compiler.ir import Node, Program, Value
from chainrule.ops.registry import find_op_def
from chainrule.ops.shape_rules import statically_equal
from chainrule.ops.ufunc_steps import NO_OUT, PREV, Step, constant_token

_FUNCTION_IDS = itertools.count()

# Short sums (Options(fast_reductions=True), off by default): np.sum is slow over small or inner
# axes; einsum is several times faster there. It adds in a different order, so results change in
# the last bits (n * eps: about 1e-12 for 4096 float64s), which is why it is opt-in: a run that
# must reproduce the uncompiled graph bit for bit (or a tight optimizer tolerance) keeps np.sum.
_EINSUM_MAX_TERMS = {"float64": 4096, "float32": 64}


@dataclass(frozen=True, slots=True)
class Line:
    """One statement of a generated function.

    Attributes
    ----------
    targets : the names it assigns (empty for an expression statement or a ``del``).
    expr : the expression (for ``del``: the names, comma-separated).
    member : the node whose kernel the line runs (a fused group's member; None for bookkeeping).
    args : the names holding ``member``'s inputs, in order (for error messages).
    delete : a ``del`` statement releasing ``expr``'s names.
    """

    targets: tuple[str, ...]
    expr: str
    member: Node | None = None
    args: tuple[str, ...] = ()
    delete: bool = False

    @classmethod
    def release(cls, names: Sequence[str]) -> Line:
        return cls((), ", ".join(dict.fromkeys(names)), delete=True)

    def render(self) -> str:
        if self.delete:
            return f"del {self.expr}"
        if not self.targets:
            return self.expr
        if len(self.targets) == 1:
            return f"{self.targets[0]} = {self.expr}"
        return f"{', '.join(self.targets)}, = {self.expr}"


class Body:
    """The statements of a function being generated, rendered as they are added.

    Per line it keeps the rendered text, the node the line runs and that node's argument names,
    in three flat lists, not one object per line: a plan of a large graph has tens of thousands
    of lines, and objects that outlive the young generations make the cyclic garbage collector's
    full passes (which plan building triggers) both more frequent and longer. The argument names
    are the line's own tuple, kept as is: the lines of one node's steps share one tuple, so an
    ``AddN`` of n inputs (n - 1 lines) costs O(n), not n copies of its n names.
    """

    __slots__ = ("text", "members", "args", "depth")

    def __init__(self, lines: Iterable[Line] = ()) -> None:
        self.text: list[str] = []
        self.members: list[Node | None] = []
        self.args: list[tuple[str, ...]] = []
        self.depth = 0  # extra indentation of the lines added now (inside a loop)
        self.extend(lines)

    def append(self, line: Line) -> None:
        self.text.append("    " * self.depth + line.render())
        self.members.append(line.member)
        self.args.append(line.args)

    def statement(self, code: str) -> None:
        """A line of control flow (``while``, ``break``...) that runs no node."""
        self.append(Line((), code))

    def extend_body(self, other: Body) -> None:
        """Add ``other``'s lines (already rendered, at their own indentation)."""
        self.text.extend(other.text)
        self.members.extend(other.members)
        self.args.extend(other.args)

    def extend(self, lines: Iterable[Line]) -> None:
        for line in lines:
            self.append(line)


class CompiledFunction:
    """A generated function with its source and, per line, the node it runs and that node's argument names.

    A long function is compiled in segments (``compile_segmented``), each a function of its own
    file name; ``segments`` maps each such file name to the index of its first body line.
    """

    __slots__ = ("fn", "source", "filename", "_members", "_args", "segments")

    def __init__(
        self,
        fn: Callable[..., Any],
        source: str,
        filename: str,
        body: Body,
        segments: dict[str, tuple[int, int, int]] | None = None,
    ) -> None:
        self.fn = fn
        self.source = source
        self.filename = filename
        self._members = body.members
        self._args = body.args
        # file name -> (index of the body line at line 2 of that file, indices of its first and past-last body lines)
        self.segments = segments if segments is not None else {filename: (0, 0, len(body.members))}

    def node_at(self, lineno: int, filename: str | None = None) -> Node | None:
        """The node whose code line ``lineno`` of ``filename`` (default: the first) runs (None: a bookkeeping line)."""
        i = self._line_index(lineno, filename)
        return None if i is None else self._members[i]

    def _line_index(self, lineno: int, filename: str | None = None) -> int | None:
        """The body line (index) that line ``lineno`` of the file ``filename`` (default: the first) runs."""
        entry = self.segments.get(self.filename if filename is None else filename)
        if entry is None:
            return None
        i = entry[0] + lineno - 2  # line 1 is the def
        return i if entry[1] <= i < entry[2] and self._members[i] is not None else None

    def failing_inputs(self, e: BaseException) -> tuple[Node, list[Any]] | None:
        """The node whose line raised ``e`` (the deepest such line) and its input values at that moment."""
        found = None
        tb: TracebackType | None = e.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename in self.segments:
                i = self._line_index(tb.tb_lineno, filename)
                if i is not None:
                    found = (i, tb.tb_frame)
            tb = tb.tb_next
        if found is None:
            return None
        i, frame = found
        values = [frame.f_locals.get(n, frame.f_globals.get(n)) for n in self._args[i]]
        return self._members[i], values  # type: ignore[return-value]


def compile_lines(
    kind: str, params: Sequence[str], lines: Body | Iterable[Line], globals_: dict[str, Any], returns: str
) -> CompiledFunction:
    """``def <kind>(params): <lines>; return <returns>`` compiled with ``globals_`` as its globals."""
    body = lines if isinstance(lines, Body) else Body(lines)
    filename = f"<chainrule {kind} {next(_FUNCTION_IDS)}>"
    source = (
        f"def {kind}({', '.join(params)}):\n" + "".join(f"    {t}\n" for t in body.text) + f"    return {returns}\n"
    )
    namespace = dict(globals_)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - generated from the program's lines
    compiled = CompiledFunction(namespace[kind], source, filename, body)
    # How a NumPy warning raised on a line of the function finds the op (runtime/numerics.py).
    namespace["__chainrule_function__"] = compiled
    return compiled


# Python's compiler needs about 4 KB per line to compile one function of 100,000 lines (its AST
# and code generator hold the whole function), against about 250 B per line for functions of
# a few thousand lines: a long plan is therefore compiled as a chain of segments of this many
# lines, which hand on the values later segments read through one dict.
SEGMENT_LINES = 2048
_LOCAL_NAME = re.compile(r"\b[fv]\d+(?:_t?\d+)?\b")  # parameters (f3) and values (v12, v12_t4, v12_0)


def compile_segmented(
    kind: str, params: Sequence[str], body: Body, globals_: dict[str, Any], returns: str, size: int | None = None
) -> CompiledFunction:
    """``compile_lines`` for a straight-line body of program lines, compiled in segments of ``size`` lines.

    The segments share a dict ``S``: a segment stores each value it refers to that a later one
    refers to too, and loads each value it refers to that an earlier one made (popping it at its
    last segment, so a ``del`` still frees the array where it did). The loads and stores are at
    most one per value and segment referring to it: linear in the body's length.
    """
    size = SEGMENT_LINES if size is None else size
    text = body.text
    if len(text) < 2 * size:
        return compile_lines(kind, params, body, globals_, returns)
    bounds = list(range(0, len(text), size))
    if len(text) - bounds[-1] < size // 2:
        bounds.pop()  # no short last segment
    bounds.append(len(text))
    last = len(bounds) - 2
    # The segments each local name appears in (parameters: made before the first; the returned
    # values are read by the last one).
    seen: dict[str, list[int]] = {name: [-1] for name in params}
    for k in range(last + 1):
        for line in text[bounds[k] : bounds[k + 1]]:
            for name in _LOCAL_NAME.findall(line):
                where = seen.setdefault(name, [k])
                if where[-1] != k:
                    where.append(k)
    for name in _LOCAL_NAME.findall(returns):
        where = seen.setdefault(name, [last])
        if where[-1] != last:
            where.append(last)
    loads: list[list[str]] = [[] for _ in range(last + 1)]
    stores: list[list[str]] = [[] for _ in range(last + 1)]
    for name, where in seen.items():
        for j, k in enumerate(where):
            if j > 0:
                loads[k].append(f"{name} = S.pop({name!r})" if j == len(where) - 1 else f"{name} = S[{name!r}]")
            if j < len(where) - 1 and k >= 0:
                stores[k].append(f"S[{name!r}] = {name}")
    function_id = next(_FUNCTION_IDS)
    namespace = dict(globals_)
    segments: dict[str, tuple[int, int, int]] = {}
    sources = []
    for k in range(last + 1):
        begin, end = bounds[k], bounds[k + 1]
        filename = f"<chainrule {kind} {function_id}.{k}>"
        result = returns if k == last else "None"
        source = (
            f"def {kind}_{k}(S):\n    {'; '.join(loads[k]) or 'pass'}\n"
            + "".join(f"    {t}\n" for t in text[begin:end])
            + (f"    {'; '.join(stores[k])}\n" if stores[k] else "")
            + f"    return {result}\n"
        )
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - generated from the program's lines
        segments[filename] = (begin - 1, begin, end)  # body lines start at line 3: after the def and the loads
        sources.append(source)
    feeds = "".join(f"{n!r}: {n}, " for n in params)
    calls = [f"    S = {{{feeds}}}\n", *(f"    {kind}_{k}(S)\n" for k in range(last)), f"    return {kind}_{last}(S)\n"]
    filename = f"<chainrule {kind} {function_id}>"
    driver = f"def {kind}({', '.join(params)}):\n" + "".join(calls)
    exec(compile(driver, filename, "exec"), namespace)  # noqa: S102 - calls the segments in order
    compiled = CompiledFunction(namespace[kind], driver + "".join(sources), filename, body, segments)
    namespace["__chainrule_function__"] = compiled  # as in compile_lines: warnings find their op
    return compiled


class Emitter:
    """What emitted code refers to: NumPy functions and constants bound as globals of the function.

    Op declarations' ``emit`` rules receive it (``emit(em, node, args, out)``) and use
    ``ufunc``, ``constant``, ``bind``, ``constant_shape`` and ``fast_sum``.
    """

    def __init__(self, options: Any = None) -> None:
        self.globals: dict[str, Any] = {"np": np}
        self._consts: dict[Any, str] = {}
        self._count = 0
        self.options = options  # the compiler options of the code being generated

    def ufunc(self, name: str) -> str:
        """The global name of ``np.<name>``."""
        key = "np_" + name
        self.globals.setdefault(key, getattr(np, name))
        return key

    def constant(self, value: Any) -> str:
        """A global name bound to ``value`` (equal constants share one)."""
        key: tuple[Any, ...]
        if isinstance(value, (np.ndarray, np.generic)):
            key = (type(value), value.dtype.str, np.shape(value), value.tobytes())
        else:
            key = (type(value), repr(value))
        name = self._consts.get(key)
        if name is None:
            name = self.bind("const", value)
            self._consts[key] = name
        return name

    def bind(self, prefix: str, value: Any) -> str:
        """Bind ``value`` as a global under a new name starting with ``prefix``."""
        name = f"{prefix}_{self._count}"
        self._count += 1
        self.globals[name] = value
        return name

    @staticmethod
    def constant_shape(v: Value) -> tuple[int, ...] | None:
        """The value of a constant shape input as a tuple of ints (None: not a constant)."""
        if v.node.op_type != "Const":
            return None
        return tuple(int(d) for d in np.ravel(v.node.attrs["value"]))

    def fast_sum(self, x: Value, axes: tuple[int, ...], arg: str) -> str | None:
        """``np.sum(x, axis=axes)`` as an einsum call, when asked for and the summed count is small and known."""
        if self.options is None or not self.options.fast_reductions:
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
        return f"{self.ufunc('einsum')}({arg}, {self.constant(tuple(subs_in))}, {self.constant(tuple(subs_out))})"


# --- ufunc steps ----------------------------------------------------------------------------------
def node_steps(node: Node) -> Sequence[Step] | None:
    """The ufunc steps of ``node``, or None when it is not a (declared) elementwise step op.

    An op re-declared by the user (``register_op(..., replace=True)``, ``custom_op``) has no steps
    unless it declares them, so the compiler then runs its kernel.
    """
    if node.kernel is not None or len(node.outputs) != 1:
        return None
    op_def = find_op_def(node.op_type)
    if op_def is None:
        return None
    if op_def.same_shape_inputs and not statically_equal([v.shape for v in node.inputs]):
        return None  # the kernel checks the run-time shapes; the steps would broadcast them
    return op_def.steps_for(len(node.inputs))


def writes_into(node: Node) -> bool:
    """Whether the code emitted for ``node`` can write its result into a given array (``out=``)."""
    steps = node_steps(node)
    if steps is not None:
        return steps[0][0] not in NO_OUT
    if node.kernel is not None:
        return False
    op_def = find_op_def(node.op_type)
    return op_def is not None and op_def.emit is not None and op_def.emits_into


def c_ordered(*arrays: Any) -> bool:
    """Whether every array among ``arrays`` is C-contiguous (scalars and Python numbers are).

    A ufunc allocates its result in the memory order of its inputs ("K"): a transposed input gives
    a column-ordered result, and the order a later sum adds in follows that layout. Writing into a
    kept buffer or into another result's array (always row-ordered here) is then exact only when
    the inputs are row-ordered too; otherwise the step allocates, as the run as written does.
    """
    for a in arrays:
        flags = getattr(a, "flags", None)
        if flags is not None and not flags.c_contiguous:
            return False
    return True


def one_memory_order(values: Iterable[Value]) -> bool:
    """Whether each of ``values`` statically has at most one dimension longer than 1.

    Such arrays (scalars, vectors, ``[1, n]``...) have one memory order only: a result of them
    written into a row-ordered array is laid out as a fresh one would be, so no guard is needed.
    """
    for v in values:
        dims = v.shape.dims
        if dims is None or sum(d != 1 for d in dims) > 1:
            return False
    return True


def guarded_into(em: Emitter, into: str, guard: str) -> str:
    """``into`` when the run-time ``guard`` (a name holding ``c_ordered(...)``) holds, else a fresh result."""
    return f"({into} if {guard} else None)"


def step_lines(
    em: Emitter,
    node: Node,
    args: Sequence[str],
    target: str,
    into: str | None = None,
    fresh_out: bool = False,
) -> list[Line]:
    """Lines computing ``node``'s ufunc steps from the names ``args`` into the name ``target``.

    ``into``: a buffer the first step may write into (``out=``). ``fresh_out``: the result of the
    first step is known to be an array (not a NumPy scalar), so later steps may write into it.
    """
    steps = node_steps(node)
    assert steps is not None
    dtype = np.dtype(node.out.dtype.as_numpy_dtype)
    names = tuple(args)  # one tuple shared by all the node's lines (an AddN has as many lines as inputs)
    lines = []
    for i, (fn, *tokens) in enumerate(steps):
        call_args = []
        for tok in tokens:
            if tok == PREV:
                call_args.append(target)
            elif isinstance(tok, int):
                call_args.append(args[tok])
            else:
                value = constant_token(tok, dtype)
                call_args.append(str(value) if isinstance(value, int) else em.constant(value))
        out = into if i == 0 else (target if fresh_out or into is not None else None)
        if out is not None and fn not in NO_OUT:
            call_args.append(f"out={out}")
        expr = f"{em.ufunc(fn)}({', '.join(call_args)})"
        lines.append(Line((target,), expr, node, names))
    return lines


# --- whole programs -------------------------------------------------------------------------------
def last_uses(program: Program) -> dict[int, list[Value]]:
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


KernelBinder = Callable[[Node], Callable[..., Any]]


class Region(Protocol):
    """A run of a program's nodes that one call computes (an execution backend's native function).

    ``members``: the nodes, in program order; ``inputs``: the values it reads from outside;
    ``outputs``: the values of its members read after it (or fetched). ``lines(em, args, targets)``
    gives the lines assigning the ``outputs`` to the names ``targets`` from the ``inputs``' names
    ``args``; a line that can fail names a member, so errors find the region.
    """

    @property
    def members(self) -> Sequence[Node]: ...
    @property
    def inputs(self) -> Sequence[Value]: ...
    @property
    def outputs(self) -> Sequence[Value]: ...

    def lines(self, em: Emitter, args: Sequence[str], targets: Sequence[str]) -> list[Line]: ...


# ``check(node, output index, value)``, with a ``dtypes(dtype) -> bool`` attribute saying what it checks.
Checker = Any


def _check_lines(em: Emitter, lines: Body, check: Checker, node: Node, values: Sequence[tuple[Value, str]]) -> None:
    """Lines calling ``check`` on each of ``values`` (value, name) of ``node`` whose dtype it checks."""
    checked = [(v, name) for v, name in values if name != "_" and check.dtypes(v.dtype)]
    if not checked:
        return
    fn = em.bind("check", check)
    ref = em.bind("node", node)
    for v, name in checked:
        lines.append(Line((), f"{fn}({ref}, {v.index}, {name})"))


def generate_program(
    program: Program,
    bind_kernel: KernelBinder,
    options: Any,
    buffers: dict[tuple[Node, int], np.ndarray] | None = None,
    inline: bool = True,
    check: Checker | None = None,
    regions: Mapping[Node, Region] | None = None,
) -> CompiledFunction:
    """One straight-line function ``plan(*feeds) -> [fetched values]`` for ``program``.

    ``bind_kernel(node)`` gives a node's kernel with everything but its input arrays bound.
    ``inline``: emit ufunc steps and ``emit`` rules (NumPy only); otherwise call every kernel.
    ``buffers``: preallocated arrays per site (``compiler.memory.plan_buffers``).
    ``check``: called as ``check(node, output index, value)`` on each fed value and each output
    whose dtype ``check.dtypes`` holds, right after it is computed (the check-numerics mode).
    ``regions``: runs of nodes computed by one call each (see ``program_lines``).
    """
    em = Emitter(options)
    params = [f"f{i}" for i in range(len(program.feeds))]
    lines = Body()
    if check is not None:
        for v, p in zip(program.feeds, params):
            _check_lines(em, lines, check, v.node, [(v, p)])
    outputs = program_lines(program, em, lines, bind_kernel, params, buffers, inline, check=check, regions=regions)
    return compile_segmented("plan", params, lines, em.globals, "[" + ", ".join(outputs) + "]")


def program_lines(
    program: Program,
    em: Emitter,
    lines: Body,
    bind_kernel: KernelBinder,
    params: Sequence[str],
    buffers: dict[tuple[Node, int], np.ndarray] | None = None,
    inline: bool = True,
    prefix: str = "",
    hoist: Body | None = None,
    invariant_feeds: Sequence[Value] = (),
    check: Checker | None = None,
    regions: Mapping[Node, Region] | None = None,
) -> list[str]:
    """Add ``program``'s lines to ``lines`` (its feeds read the names ``params``); its outputs' names.

    ``prefix`` starts every name the lines assign, so several programs can share one function.
    ``hoist``: where the lines of nodes that depend only on ``invariant_feeds`` go (a loop body's
    code that does not change between iterations, computed once before the loop); their values
    are kept for the whole function. ``check``: see ``generate_program``; every output is then
    kept in a name, so that it can be checked. ``regions``: nodes computed together by one call
    (an execution backend's native function, ``Region``), per member node; the call's lines come
    where the region's last member was, and its other members emit nothing.
    """
    buffer_names = {key: em.bind("buf", buf) for key, buf in (buffers or {}).items()}
    names: dict[Value, str] = dict(zip(program.feeds, params))
    release = last_uses(program)
    used = {v for n in program.nodes for v in n.inputs} | set(program.outputs)
    if check is not None:
        used.update(v for n in program.nodes for v in n.outputs)
    invariant = set(invariant_feeds) if hoist is not None else set()
    body = lines
    # A value a region reads stays alive until the region's call (its last member), even when
    # its last reader in program order comes earlier: it is then released after the call.
    awaited: dict[Value, int] = {}
    deferred: dict[int, list[str]] = {}
    if regions:
        position = {n: i for i, n in enumerate(program.nodes)}
        for each in {id(r): r for r in regions.values()}.values():
            end = position[each.members[-1]]
            for v in each.inputs:
                awaited[v] = max(awaited.get(v, -1), end)

    for i, node in enumerate(program.nodes):
        t = node.op_type
        if t == "Const":
            invariant.add(node.out)
            if node.out in used:
                names[node.out] = em.bind("c", node.attrs["value"])
                if check is not None:
                    _check_lines(em, body, check, node, [(node.out, names[node.out])])
            continue
        lines = body
        if hoist is not None and not node.stateful and not node.control and all(v in invariant for v in node.inputs):
            lines = hoist
            invariant.update(node.outputs)
        region = regions.get(node) if regions is not None else None
        if region is not None:  # computed by the region's call, which comes at its last member
            if node is region.members[-1]:
                targets = [f"{prefix}v{node.id}_{j}" for j in range(len(region.outputs))]
                body.extend(region.lines(em, [names[v] for v in region.inputs], targets))
                names.update(zip(region.outputs, targets))
            _release(body, names, prefix, release.get(i, ()), i, awaited, deferred)
            continue
        args = tuple(names[v] for v in node.inputs)
        target = f"{prefix}v{node.id}"
        if t == "Fused" and inline:
            own = {j: buffer_names[(node, j)] for j in range(len(node.extra.members)) if (node, j) in buffer_names}
            lines.extend(node.extra.emit(em, args, target, own))
        elif inline and node_steps(node) is not None:
            into = buffer_names.get((node, 0))
            if into is not None and not one_memory_order([*node.inputs, node.out]):
                # a kept (row-ordered) buffer: only for row-ordered inputs (see c_ordered)
                into = f"({into} if {em.bind('c_ordered', c_ordered)}({', '.join(args)},) else None)"
            lines.extend(step_lines(em, node, args, target, into=into))
        elif inline and (expr := _emitted(em, node, args, buffer_names.get((node, 0)))) is not None:
            lines.append(Line((target,), expr, node, args))
        elif t in ("SumToShapeOf", "BroadcastToShapeOf"):
            k = em.bind("k", bind_kernel(node))
            a, b = args
            lines.append(Line((target,), f"{a} if {a}.shape == {b}.shape else {k}({a}, {b})", node, args))
        else:
            k = em.bind("k", bind_kernel(node))
            call = f"{k}({', '.join(args)})"
            outs = node.outputs
            if len(outs) == 1:
                lines.append(Line((target,) if outs[0] in used else (), call, node, args))
            elif not outs:
                lines.append(Line((), call, node, args))
            else:
                parts = tuple(f"{target}_{j}" if o in used else "_" for j, o in enumerate(outs))
                lines.append(Line(parts, call, node, args))
                for o, p in zip(outs, parts):
                    if p != "_":
                        names[o] = p
        if len(node.outputs) == 1:
            names[node.out] = target
        if check is not None:
            _check_lines(em, lines, check, node, [(o, names[o]) for o in node.outputs if o in names])
        dead = [v for v in release.get(i, ()) if v not in invariant]
        _release(lines, names, prefix, dead, i, awaited, deferred)
    return [names[v] for v in program.outputs]


def _release(
    lines: Body,
    names: dict[Value, str],
    prefix: str,
    dead: Iterable[Value],
    i: int,
    awaited: dict[Value, int],
    deferred: dict[int, list[str]],
) -> None:
    """Release ``dead`` (values whose last reader is node ``i``) now, or after the region call that still reads them."""
    now = deferred.pop(i, [])
    for v in dead:
        name = names.get(v, "")
        if not name.startswith(prefix + "v"):
            continue
        end = awaited.get(v, -1)
        if end > i:
            deferred.setdefault(end, []).append(name)
        else:
            now.append(name)
    if now:
        lines.append(Line.release(now))


def generate_loop(
    cond: Program,
    body: Program,
    bind_kernel: KernelBinder,
    options: Any,
    num_vars: int,
    num_sliced: int,
    record: bool,
    inline: bool = True,
    check: Checker | None = None,
) -> CompiledFunction:
    """A ``While``'s iterations as one function: the cond's and the body's lines inside a Python loop.

    ``loop(limit, *loop_vars, *sliced, *captured) -> [*final loop vars, count, *recorded lists]``
    (``limit`` -1: no bound; with ``record``, one list per loop variable of its value at the start
    of each iteration). No buffers are kept: a body's result is the next iteration's input.
    """
    em = Emitter(options)
    num_caps = len(cond.feeds) - num_vars
    values = [f"x{i}" for i in range(num_vars)]
    sliced = [f"s{i}" for i in range(num_sliced)]
    captured = [f"k{i}" for i in range(num_caps)]
    rows = [f"r{i}" for i in range(num_sliced)]
    kept = [f"h{i}" for i in range(num_vars)]
    lines, hoisted = Body(), Body()
    lines.depth = 1
    (test,) = program_lines(cond, em, lines, bind_kernel, values + captured, inline=inline, prefix="c_", check=check)
    lines.statement(f"if not {test}:")
    lines.depth = 2
    lines.statement("break")
    lines.depth = 1
    for h, x in zip(kept if record else (), values):
        lines.statement(f"{h}.append({x})")
    for r, s_name in zip(rows, sliced):
        lines.statement(f"{r} = {s_name}[count]")
    # The body's code that reads only captured values runs once, before the loop.
    new = program_lines(
        body, em, lines, bind_kernel, values + rows + captured, inline=inline, prefix="b_",
        hoist=hoisted, invariant_feeds=body.feeds[num_vars + num_sliced :], check=check,
    )  # fmt: skip
    if values:
        lines.statement(f"{', '.join(values)}, = {', '.join(new)},")
    lines.statement("count += 1")
    function = Body()
    function.statement("count = 0")
    for h in kept if record else ():
        function.statement(f"{h} = []")
    function.extend_body(hoisted)
    function.statement("while count != limit:")
    function.extend_body(lines)
    returns = "[" + ", ".join([*values, "count", *(kept if record else [])]) + "]"
    return compile_lines("loop", ["limit", *values, *sliced, *captured], function, em.globals, returns)


def _emitted(em: Emitter, node: Node, args: Sequence[str], out: str | None) -> str | None:
    """The expression the op's declared ``emit`` rule gives for ``node`` (None: call the kernel)."""
    if node.kernel is not None:
        return None
    op_def = find_op_def(node.op_type)
    if op_def is None or op_def.emit is None:
        return None
    return op_def.emit(em, node, list(args), out)
