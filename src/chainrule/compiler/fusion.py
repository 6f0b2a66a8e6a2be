"""Elementwise ops as NumPy ufunc steps, and fusion of chains of them into one kernel.

Each elementwise op type whose registered kernel is still chainrule's own has a
*template*: the ufunc calls that kernel makes, step by step (``Sigmoid`` is
``exp(-logaddexp(0, -x))``: four steps). The code generator emits templates
inline (one ufunc call per step, no kernel frame), and a fused group emits its
members' templates one after the other, writing each step into a buffer that an
earlier step of the group allocated whenever the static shapes prove that the
result has that buffer's shape and dtype (``out=``): a chain of n ops then makes
one temporary instead of n. Results are bit-identical to the unfused kernels.

A group is a set of elementwise nodes whose intermediate values are used only
inside the group and are not fetched; it runs where its last member ran.
``numexpr`` (optional, lazily imported) can evaluate float64 groups over large
arrays with ``fusion_backend="numexpr"``; pure NumPy is the default.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.compiler.ir import Node, Program, Value
from chainrule.compiler.patterns import broadcasts_into
from chainrule.ops.registry import get_op_def

# Argument tokens in template steps: an int is the op's input; PREV the previous step's result.
PREV = "_"
ONE = "one"  # the Python int 1 (weakly typed, as in ``1 / x``)
ZERO_ARRAY = "zero0d"  # np.zeros((), dtype), as Sigmoid/Softplus kernels use
ZERO_SCALAR = "zero"  # dtype.type(0), as Relu's kernel uses

Step = tuple[Any, ...]  # (ufunc name, *args)
_KERNEL_IDS = itertools.count()

_SIMPLE_BINARY = {
    "Add": "add", "Sub": "subtract", "Mul": "multiply", "RealDiv": "true_divide", "FloorDiv": "floor_divide",
    "FloorMod": "mod", "Maximum": "maximum", "Minimum": "minimum", "Pow": "power", "Atan2": "arctan2",
    "Equal": "equal", "NotEqual": "not_equal", "Less": "less", "LessEqual": "less_equal", "Greater": "greater",
    "GreaterEqual": "greater_equal", "LogicalAnd": "logical_and", "LogicalOr": "logical_or",
}  # fmt: skip
_SIMPLE_UNARY = {
    "Neg": "negative", "Abs": "absolute", "Sign": "sign", "Square": "square", "Sqrt": "sqrt", "Exp": "exp",
    "Expm1": "expm1", "Log": "log", "Log1p": "log1p", "Sin": "sin", "Cos": "cos", "Tan": "tan", "Asin": "arcsin",
    "Acos": "arccos", "Atan": "arctan", "Sinh": "sinh", "Cosh": "cosh", "Tanh": "tanh", "Floor": "floor",
    "Ceil": "ceil", "Round": "rint", "LogicalNot": "logical_not",
}  # fmt: skip

TEMPLATES: dict[str, list[Step]] = {}
for _t, _f in _SIMPLE_BINARY.items():
    TEMPLATES[_t] = [(_f, 0, 1)]
for _t, _f in _SIMPLE_UNARY.items():
    TEMPLATES[_t] = [(_f, 0)]
TEMPLATES.update(
    {
        "SquaredDifference": [("subtract", 0, 1), ("square", PREV)],
        "Reciprocal": [("true_divide", ONE, 0)],
        "Rsqrt": [("sqrt", 0), ("true_divide", ONE, PREV)],
        "Sigmoid": [("negative", 0), ("logaddexp", ZERO_ARRAY, PREV), ("negative", PREV), ("exp", PREV)],
        "Softplus": [("logaddexp", ZERO_ARRAY, 0)],
        "Relu": [("maximum", 0, ZERO_SCALAR)],
        "Select": [("where", 0, 1, 2)],
    }
)
NO_OUT = frozenset(["where"])
_NO_OUT = NO_OUT  # steps that cannot write into a given buffer

# Templates reproduce chainrule's own kernels; an op type re-registered by the user
# (``register_op(..., replace=True)``, ``custom_op``) runs its own kernel instead.
_BUILTIN_MODULES = frozenset(["chainrule.ops.math_ops", "chainrule.ops.nn_ops"])


def template(node: Node) -> list[Step] | None:
    """The ufunc steps of ``node``, or None when it is not a (still built-in) elementwise op."""
    steps = TEMPLATES.get(node.op_type)
    if steps is None and node.op_type == "AddN" and len(node.inputs) >= 2:
        # AddN's kernel: a0 + a1, then += each further input (the same additions, in the same order).
        steps = [("add", 0, 1)] + [("add", PREV, i) for i in range(2, len(node.inputs))]
    if steps is None or node.kernel is not None or len(node.outputs) != 1:
        return None
    if getattr(get_op_def(node.op_type).kernel, "__module__", None) not in _BUILTIN_MODULES:
        return None
    return steps


# --- emitting code ------------------------------------------------------------------------------
class Emitter:
    """Collects the names a generated function needs: ufuncs and constants, bound as globals."""

    def __init__(self) -> None:
        self.globals: dict[str, Any] = {"np": np}
        self._consts: dict[Any, str] = {}
        self._count = 0
        self.options: Any = None  # the compiler options of the plan being generated

    def ufunc(self, name: str) -> str:
        key = "np_" + name
        self.globals.setdefault(key, getattr(np, name))
        return key

    def constant(self, value: Any) -> str:
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
        """Bind ``value`` as a global of the generated code under a new name starting with ``prefix``."""
        name = f"{prefix}_{self._count}"
        self._count += 1
        self.globals[name] = value
        return name


def emit_node(
    em: Emitter, node: Node, args: Sequence[str], target: str, into: str | None = None, fresh_out: bool = False
) -> list[str]:
    """Lines computing ``node`` from the names ``args`` into the name ``target``.

    ``into``: a buffer the first step may write into (``out=``). ``fresh_out``: the result of the
    first step is known to be an array (not a NumPy scalar), so later steps may write into it.
    """
    steps = template(node)
    assert steps is not None
    dtype = node.out.dtype.as_numpy_dtype
    lines = []
    for i, (fn, *tokens) in enumerate(steps):
        call_args = []
        for tok in tokens:
            if tok == PREV:
                call_args.append(target)
            elif tok == ONE:
                call_args.append("1")
            elif tok == ZERO_ARRAY:
                call_args.append(em.constant(np.zeros((), dtype)))
            elif tok == ZERO_SCALAR:
                call_args.append(em.constant(dtype.type(0)))
            else:
                call_args.append(args[tok])
        out = into if i == 0 else (target if fresh_out or into is not None else None)
        if out is not None and fn not in _NO_OUT:
            call_args.append(f"out={out}")
        lines.append(f"{target} = {em.ufunc(fn)}({', '.join(call_args)})")
    return lines


def _is_array(v: Value) -> bool:
    """Statically an ndarray (not a NumPy scalar): ufuncs return arrays when the result has rank >= 1."""
    return v.shape.rank is not None and v.shape.rank >= 1


# --- groups -----------------------------------------------------------------------------------------
@dataclass
class FusedGroup:
    """The members of one fused node, in order, and how their values flow.

    Attributes
    ----------
    members : the elementwise nodes, in execution order (the last one's output is the group's).
    inputs : the values the group reads from outside, in order (the fused node's inputs).
    inplace : for each member, the member (by index) whose buffer it writes into, or None.
    backend : ``"numpy"`` or ``"numexpr"``.
    """

    members: list[Node]
    inputs: list[Value]
    inplace: list[int | None] = field(default_factory=list)
    backend: str = "numpy"
    expr: str | None = None
    filename: str = ""
    line_members: dict[int, tuple[Node, list[str]]] = field(default_factory=dict)

    def describe(self) -> list[str]:
        return [m.op_type for m in self.members]

    def emit(
        self, em: Emitter, arg_names: Sequence[str], target: str, buffers: dict[int, str] | None = None
    ) -> list[tuple[str, Node]]:
        """Code lines (each with the member it computes, for error messages) evaluating the group.

        ``buffers``: for members that allocate, a preallocated array (by name) to write into.
        """
        names: dict[Value, str] = dict(zip(self.inputs, arg_names))
        if self.backend == "numexpr" and self.expr is not None:
            ne = em.bind("numexpr_evaluate", _numexpr().evaluate)
            local = ", ".join(f"'a{i}': {n}" for i, n in enumerate(arg_names))
            return [(f"{target} = {ne}({self.expr!r}, local_dict={{{local}}})", self.members[-1])]
        lines: list[tuple[str, Node]] = []
        last = len(self.members) - 1
        for i, m in enumerate(self.members):
            t = target if i == last else f"{target}_t{i}"
            j = self.inplace[i]
            into = names[self.members[j].out] if j is not None else (buffers or {}).get(i)
            fresh = into is not None or _is_array(m.out)
            for line in emit_node(em, m, [names[v] for v in m.inputs], t, into=into, fresh_out=fresh):
                lines.append((line, m))
            names[m.out] = t
        return lines

    def allocating_members(self) -> list[tuple[int, bool]]:
        """Members that allocate their result (the others write into an earlier member's array).

        Each as ``(index, holds_result)``: ``holds_result`` when the group's result ends up in that
        member's array (the chain of in-place writes that ends at the last member starts there).
        """
        if self.backend != "numpy":
            return []
        start = len(self.members) - 1
        while self.inplace[start] is not None:
            start = self.inplace[start]  # type: ignore[assignment]
        out = []
        for i, m in enumerate(self.members):
            steps = template(m)
            if self.inplace[i] is None and steps is not None and steps[0][0] not in _NO_OUT:
                out.append((i, i == start))
        return out

    def kernel(self) -> Callable[..., Any]:
        """The group as a standalone ``kernel(xp, *arrays)`` (for the interpreter and folding)."""
        em = Emitter()
        args = [f"a{i}" for i in range(len(self.inputs))]
        emitted = self.emit(em, args, "r")
        names: dict[Value, str] = dict(zip(self.inputs, args))
        for lineno, (line, member) in enumerate(emitted, start=2):  # line 1 is the def
            self.line_members[lineno] = (member, [names.get(v, "?") for v in member.inputs])
            names[member.out] = line.split(" = ", 1)[0]
        src = f"def fused(xp, {', '.join(args)}):\n" + "".join(f"    {ln}\n" for ln, _ in emitted) + "    return r\n"
        self.filename = f"<chainrule fused kernel {next(_KERNEL_IDS)}>"
        namespace = dict(em.globals)
        exec(compile(src, self.filename, "exec"), namespace)  # noqa: S102 - generated from templates
        return namespace["fused"]

    def failing_member(self, e: BaseException) -> tuple[Node, list[Any]] | None:
        """The member whose line raised ``e`` in this group's kernel, and its input values."""
        tb = e.__traceback__
        while tb is not None:
            if self.filename and tb.tb_frame.f_code.co_filename == self.filename:
                entry = self.line_members.get(tb.tb_lineno)
                if entry is not None:
                    member, arg_names = entry
                    return member, [tb.tb_frame.f_locals.get(n) for n in arg_names]
            tb = tb.tb_next
        return None


def fuse_elementwise(program: Program, options: Any) -> int:
    """Replace groups of two or more connected elementwise nodes by ``Fused`` nodes; returns the count."""
    candidates = {n for n in program.nodes if template(n) is not None}
    if not candidates:
        return 0
    uses: dict[Value, list[Node]] = {}
    for n in program.nodes:
        for v in n.inputs:
            uses.setdefault(v, []).append(n)
    fetched = set(program.outputs)
    # Nodes something else waits for (control edges, run targets) keep their identity.
    pinned = set(program.targets) | {c for n in program.nodes for c in n.control}
    group_of: dict[Node, int] = {}
    groups: list[list[Node]] = []
    for node in reversed(program.nodes):
        if node not in candidates:
            continue
        users = uses.get(node.out, [])
        user_groups = {group_of.get(u) for u in users}
        if (
            node.out not in fetched
            and node not in pinned
            and users
            and len(user_groups) == 1
            and None not in user_groups
        ):
            g = user_groups.pop()
            assert g is not None
            group_of[node] = g
            groups[g].append(node)
        else:
            group_of[node] = len(groups)
            groups.append([node])
    fused_count = 0
    replaced: dict[Node, Node] = {}  # the last member of each group -> its fused node
    drop: set[Node] = set()
    position = {n: i for i, n in enumerate(program.nodes)}
    for members in groups:
        if len(members) < 2:
            continue
        members.sort(key=position.__getitem__)
        inside = {m.out for m in members}
        inputs: list[Value] = []
        for m in members:
            for v in m.inputs:
                if v not in inside and v not in inputs:
                    inputs.append(v)
        group = FusedGroup(members, inputs)
        group.inplace = _plan_inplace(group, uses)
        _maybe_numexpr(group, options)
        root = members[-1]
        fused = program.new_node(
            "Fused", inputs, {}, [(root.out.dtype, root.out.shape)], origin=root.origin, extra=group
        )
        fused.kernel = _lazy_kernel(group)
        replaced[root] = fused
        drop.update(members[:-1])
        fused_count += 1
    if not fused_count:
        return 0
    new_nodes = []
    remap: dict[Value, Value] = {}
    for n in program.nodes:
        if n in drop:
            continue
        if n in replaced:
            fused = replaced[n]
            remap[n.out] = fused.out
            new_nodes.append(fused)
        else:
            new_nodes.append(n)
    # Consumers of a group's result now read the fused node's output.
    final = []
    for n in new_nodes:
        if any(v in remap for v in n.inputs):
            n.inputs = tuple(remap.get(v, v) for v in n.inputs)
            if n.op_type == "Fused":
                n.extra.inputs = list(n.inputs)
                for m in n.extra.members:
                    m.inputs = tuple(remap.get(v, v) for v in m.inputs)
        final.append(n)
    program.nodes = final
    program.outputs = [remap.get(v, v) for v in program.outputs]
    program.targets = [replaced.get(n, n) for n in program.targets]
    for n in program.nodes:
        if any(c in replaced for c in n.control):
            n.control = tuple(replaced.get(c, c) for c in n.control)
    return fused_count


def _lazy_kernel(group: FusedGroup) -> Callable[..., Any]:
    compiled: list[Callable[..., Any]] = []

    def kernel(xp: Any, *arrays: Any) -> Any:
        if not compiled:
            compiled.append(group.kernel())
        return compiled[0](xp, *arrays)

    return kernel


def _plan_inplace(group: FusedGroup, uses: dict[Value, list[Node]]) -> list[int | None]:
    """For each member, an earlier member whose array it may overwrite (``out=``), or None.

    Allowed when that member's value is used by this member only, is statically an array
    (fresh from a ufunc step), has the result's dtype, and the static shapes prove that the
    result has its shape (the other operands broadcast into it).
    """
    index = {m.out: i for i, m in enumerate(group.members)}
    owner: list[int | None] = []  # which buffer each member's result lives in (None: its own)
    plan: list[int | None] = []
    taken: set[int] = set()
    for m in group.members:
        choice = None
        steps = template(m)
        if steps is not None and steps[0][0] not in _NO_OUT:
            first_step_inputs = {t for t in steps[0][1:] if isinstance(t, int)}
            for pos, v in enumerate(m.inputs):
                # The buffer is overwritten by the first step: it must not be read by a later one.
                if pos not in first_step_inputs:
                    continue
                j = index.get(v)
                if j is None or j in taken or len(uses.get(v, [])) != 1:
                    continue
                src = group.members[j]
                if not _is_array(src.out) and plan[j] is None:
                    continue
                if src.out.dtype != m.out.dtype or v.dtype != m.out.dtype:
                    continue
                if all(broadcasts_into(o.shape, v.shape) for o in m.inputs if o is not v):
                    choice = j
                    break
        plan.append(choice)
        if choice is not None:
            taken.add(choice)
        owner.append(choice)
    return plan


def _numexpr() -> Any:
    import numexpr  # noqa: PLC0415 - optional accelerator

    return numexpr


_NE_FUNCS = {
    "add": "({} + {})", "subtract": "({} - {})", "multiply": "({} * {})", "true_divide": "({} / {})",
    "negative": "(-{})", "power": "({} ** {})", "exp": "exp({})", "log": "log({})", "sin": "sin({})",
    "cos": "cos({})", "tan": "tan({})", "sqrt": "sqrt({})", "tanh": "tanh({})", "sinh": "sinh({})",
    "cosh": "cosh({})", "arcsin": "arcsin({})", "arccos": "arccos({})", "arctan": "arctan({})",
    "arctan2": "arctan2({}, {})", "expm1": "expm1({})", "log1p": "log1p({})", "absolute": "abs({})",
    "square": "({0} * {0})", "where": "where({}, {}, {})",
}  # fmt: skip


def _maybe_numexpr(group: FusedGroup, options: Any) -> None:
    """Use numexpr for a large float64 group when asked for and installed."""
    if getattr(options, "fusion_backend", "numpy") != "numexpr":
        return
    out = group.members[-1].out
    n = out.shape.num_elements()
    if n is None or n < getattr(options, "numexpr_min_elements", 1 << 15):
        return
    try:
        _numexpr()
    except ImportError:
        return
    names = {v: f"a{i}" for i, v in enumerate(group.inputs)}
    for m in group.members:
        if m.out.dtype.name != "float64" or any(v.dtype.name != "float64" for v in m.inputs):
            return
        steps = template(m)
        expr_prev = None
        for fn, *tokens in steps or []:
            pattern = _NE_FUNCS.get(fn)
            if pattern is None or any(t in (ONE, ZERO_ARRAY, ZERO_SCALAR) for t in tokens):
                return
            parts = [expr_prev if t == PREV else names[m.inputs[t]] for t in tokens]
            expr_prev = pattern.format(*parts)
        names[m.out] = expr_prev  # type: ignore[assignment]
    group.backend = "numexpr"
    group.expr = names[out]
