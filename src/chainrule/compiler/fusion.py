"""Elementwise ops as NumPy ufunc steps, and fusion of chains of them into one kernel.

An elementwise op declares its kernel as ufunc steps (``ops.ufunc_steps``; ``Sigmoid``
is ``exp(-logaddexp(0, -x))``: four steps), and its kernel is made from them. The code
generator (``compiler.codegen``) emits steps inline (one ufunc call per step, no kernel
frame), and a fused group emits its members' steps one after the other, writing each
step into a buffer that an
earlier step of the group allocated whenever the static shapes prove that the
result has that buffer's shape and dtype (``out=``): a chain of n ops then makes
one temporary instead of n. Results are bit-identical to the unfused kernels.

A group is a set of elementwise nodes whose intermediate values are used only
inside the group and are not fetched; it runs where its last member ran.
``numexpr`` (optional, lazily imported) can evaluate float64 groups over large
arrays with ``fusion_backend="numexpr"``; pure NumPy is the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chainrule.compiler.codegen import (
    CompiledFunction,
    Emitter,
    Line,
    c_ordered,
    compile_lines,
    guarded_into,
    node_steps,
    one_memory_order,
    step_lines,
)
from chainrule.compiler.ir import Node, Program, Value
from chainrule.compiler.patterns import broadcasts_into
from chainrule.ops.ufunc_steps import NO_OUT, ONE, PREV, ZERO_ARRAY, ZERO_SCALAR


def _is_array(v: Value) -> bool:
    """Statically an ndarray (not a NumPy scalar): ufuncs return arrays when the result has rank >= 1."""
    return v.shape.rank is not None and v.shape.rank >= 1


# --- groups -----------------------------------------------------------------------------------------
@dataclass(slots=True)
class FusedGroup:
    """The members of one fused node, in order, and how their values flow.

    The group is the fused node's kernel too: calling it (``group(xp, *arrays)``, for the
    interpreter and folding) compiles its lines into a function on first use.

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
    compiled: CompiledFunction | None = None

    def describe(self) -> list[str]:
        return [m.op_type for m in self.members]

    def emit(
        self,
        em: Emitter,
        arg_names: Sequence[str],
        target: str,
        buffers: dict[int, str] | None = None,
    ) -> list[Line]:
        """The lines evaluating the group into ``target``, each naming the member it computes.

        ``buffers``: for members that allocate, a preallocated array (by name) to write into.
        Temporaries are released after their last reader.
        """
        names: dict[Value, str] = dict(zip(self.inputs, arg_names))
        if self.backend == "numexpr" and self.expr is not None:
            ne = em.bind("numexpr_evaluate", _numexpr().evaluate)
            local = ", ".join(f"'a{i}': {n}" for i, n in enumerate(arg_names))
            last = self.members[-1]
            expr = f"{ne}({self.expr!r}, local_dict={{{local}}})"
            return [Line((target,), expr, last, tuple(names.get(v, "?") for v in last.inputs))]
        lines: list[Line] = []
        members = set(self.members)
        last_reader = {v: m for m in self.members for v in m.inputs}
        final = len(self.members) - 1
        guard = None
        if (any(j is not None for j in self.inplace) or buffers) and not one_memory_order(
            [*self.inputs, *(m.out for m in self.members)]
        ):
            # Writes into kept buffers or earlier members' arrays are exact only for row-ordered
            # inputs (then every member's result is row-ordered too): see codegen.c_ordered.
            guard = f"{target}_t{final}"  # the last member writes ``target``: this temporary name is free
            check = em.bind("c_ordered", c_ordered)
            lines.append(Line((guard,), f"{check}({', '.join(arg_names)},)"))
        for i, m in enumerate(self.members):
            t = target if i == final else f"{target}_t{i}"
            j = self.inplace[i]
            into = names[self.members[j].out] if j is not None else (buffers or {}).get(i)
            if into is not None and guard is not None:
                into = guarded_into(em, into, guard)
            fresh = into is not None or _is_array(m.out)
            args = [names[v] for v in m.inputs]
            lines.extend(step_lines(em, m, args, t, into=into, fresh_out=fresh))
            names[m.out] = t
            done = [names[v] for v in m.inputs if last_reader.get(v) is m and v.node in members]
            if done:  # the group's temporaries go as soon as their one reader is done
                lines.append(Line.release(done))
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
            steps = node_steps(m)
            if self.inplace[i] is None and steps is not None and steps[0][0] not in NO_OUT:
                out.append((i, i == start))
        return out

    def __call__(self, xp: Any, *arrays: Any) -> Any:
        """The group as a standalone kernel (compiled on first call)."""
        if self.compiled is None:
            em = Emitter()
            args = [f"a{i}" for i in range(len(self.inputs))]
            self.compiled = compile_lines("fused", ["xp", *args], self.emit(em, args, "r"), em.globals, "r")
        return self.compiled.fn(xp, *arrays)

    def failing_member(self, e: BaseException) -> tuple[Node, list[Any]] | None:
        """The member whose line raised ``e`` in this group's kernel, and its input values."""
        return None if self.compiled is None else self.compiled.failing_inputs(e)


def fuse_elementwise(program: Program, options: Any) -> int:
    """Replace groups of two or more connected elementwise nodes by ``Fused`` nodes; returns the count."""
    candidates = {n for n in program.nodes if node_steps(n) is not None}
    if not candidates:
        return 0
    uses: dict[Value, list[Node]] = {}
    for n in program.nodes:
        for v in n.inputs:
            uses.setdefault(v, []).append(n)
    fetched = set(program.outputs)
    # Nodes something else waits for (control edges, run targets) keep their identity.
    pinned = set(program.targets) | set(program.awaited) | {c for n in program.nodes for c in n.control}
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
        outside: dict[Value, None] = {}  # ordered set: a group of n inputs is O(n), not a list scan per input
        for m in members:
            for v in m.inputs:
                if v not in inside:
                    outside[v] = None
        inputs = list(outside)
        group = FusedGroup(members, inputs)
        group.inplace = _plan_inplace(group, uses)
        _maybe_numexpr(group, options)
        root = members[-1]
        fused = program.new_node(
            "Fused", inputs, {}, [(root.out.dtype, root.out.shape)], origin=root.origin, extra=group
        )
        fused.kernel = group
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
    program.awaited = [replaced.get(n, n) for n in program.awaited]
    for n in program.nodes:
        if any(c in replaced for c in n.control):
            n.control = tuple(replaced.get(c, c) for c in n.control)
    return fused_count


def _plan_inplace(group: FusedGroup, uses: dict[Value, list[Node]]) -> list[int | None]:
    """For each member, an earlier member whose array it may overwrite (``out=``), or None.

    Allowed when that member's value is used by this member only, is statically an array
    (fresh from a ufunc step), has the result's dtype, and the static shapes prove that the
    result has its shape (the other operands broadcast into it).
    """
    index = {m.out: i for i, m in enumerate(group.members)}
    plan: list[int | None] = []
    taken: set[int] = set()
    for m in group.members:
        choice = None
        steps = node_steps(m)
        if steps is not None and steps[0][0] not in NO_OUT:
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
        steps = node_steps(m)
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
