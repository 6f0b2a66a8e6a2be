"""Rewrites as data: patterns over the IR, rule tables that are values, and the engine that runs them.

A rule is a ``Pat`` (what to look for) and a function (what to put instead). The function
receives what the pattern bound as keyword arguments, named and typed, plus ``root`` (the
matched value) and ``ctx`` (the ``RewriteContext``) when it asks for them; asking for a name
the pattern does not bind is an error when the rule is made. A ``PatternMatcher`` is an
immutable table of rules (tinygrad's ``PatternMatcher``): ``a + b`` is the table with ``a``'s
rules, then ``b``'s. A ``RuleDatabase`` holds named tables with tags (PyTensor's rewrite
databases), and ``query(tags)`` gives the table a pass runs::

    @rule(Pat("Abs", Pat("Neg", Pat.var("x"))))
    def abs_of_neg(root: Value, x: Value, ctx: RewriteContext) -> Value | None:
        return ctx.make("Abs", [x], like=root.node)  # None would leave the value as it is

    MINE = PatternMatcher([abs_of_neg])  # MINE + OTHER: both tables' rules, in order
    compiler.RULES.register("mine", MINE, tags=("algebraic",))  # now part of the "algebraic" pass

``rewrite_program`` visits the nodes in order, lets every rule whose root type
matches try the node, and repeats on whatever the rule returned, until no rule
fires; then the whole sweep is repeated until the program stops changing. It
returns how often each rule fired, by name (``optimize`` keeps that in ``Program.stats``).
"""

from __future__ import annotations

import inspect
import threading
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.compiler.ir import Node, Program, Value
from chainrule.framework.dtypes import DType
from chainrule.framework.tensor_shape import TensorShape

if TYPE_CHECKING:
    from chainrule.compiler import Options


class Pat:
    """A pattern matching one IR value.

    Parameters
    ----------
    op : op type(s) the value's node must have; None matches any node. ``Pat.where_type`` makes
        a pattern whose op types are chosen by a test on the type (e.g. a declared elementwise kind).
    *src : patterns for the node's inputs (all of them, in order); none given: inputs not checked.
    name : bind the matched value under this name (the same name twice must be the same value).
    pred : extra test ``pred(value) -> bool``.
    commutative : for two inputs, also try them swapped.
    """

    __slots__ = ("ops", "src", "name", "pred", "commutative", "op_filter")

    def __init__(
        self,
        op: str | Iterable[str] | None = None,
        *src: Pat,
        name: str | None = None,
        pred: Callable[[Value], bool] | None = None,
        commutative: bool = False,
    ) -> None:
        self.ops: frozenset[str] | None = None if op is None else frozenset([op] if isinstance(op, str) else op)
        self.src: tuple[Pat, ...] | None = tuple(src) if src else None
        self.name = name
        self.pred = pred
        self.commutative = commutative
        self.op_filter: Callable[[str], bool] | None = None

    @staticmethod
    def where_type(op_filter: Callable[[str], bool], *src: Pat, **kw: Any) -> Pat:
        """A pattern for the op types ``op_filter(op_type)`` accepts (decided once per op type, not per node)."""
        pat = Pat(None, *src, **kw)
        pat.op_filter = op_filter
        return pat

    def accepts_type(self, op_type: str) -> bool:
        """Whether a node of ``op_type`` can match at the root (before looking at inputs)."""
        if self.op_filter is not None:
            return self.op_filter(op_type)
        return self.ops is None or op_type in self.ops

    @staticmethod
    def var(name: str, pred: Callable[[Value], bool] | None = None) -> Pat:
        """Any value, bound to ``name``."""
        return Pat(None, name=name, pred=pred)

    @staticmethod
    def const(value: float | None = None, name: str | None = None) -> Pat:
        """A value known to be one number everywhere (``Const`` or ``Fill`` of one); ``value`` to require it."""

        def pred(v: Value) -> bool:
            u = uniform_value(v)
            return u is not None and (value is None or _equal_number(u, value))

        return Pat(None, name=name, pred=pred)

    def names(self) -> frozenset[str]:
        """The names this pattern binds (every match binds all of them)."""
        own = frozenset() if self.name is None else frozenset([self.name])
        return own.union(*(p.names() for p in self.src or ()))

    def match(self, v: Value, bound: dict[str, Value]) -> bool:
        """Match ``v``, adding bindings to ``bound``; on failure ``bound`` may hold partial bindings."""
        node = v.node
        if self.ops is not None and node.op_type not in self.ops:
            return False
        if self.op_filter is not None and not self.op_filter(node.op_type):
            return False
        if self.src is not None:
            inputs = node.inputs
            if len(inputs) != len(self.src):
                return False
            saved = dict(bound) if self.commutative else None
            if not all(p.match(x, bound) for p, x in zip(self.src, inputs)):
                if saved is None or len(inputs) != 2:
                    return False
                bound.clear()
                bound.update(saved)
                if not (self.src[0].match(inputs[1], bound) and self.src[1].match(inputs[0], bound)):
                    return False
        if self.pred is not None and not self.pred(v):
            return False
        if self.name is not None:
            prev = bound.get(self.name)
            if prev is not None and prev is not v:
                return False
            bound[self.name] = v
        return True

    def __repr__(self) -> str:
        ops = "|".join(sorted(self.ops)) if self.ops else "*"
        src = "" if self.src is None else "(" + ", ".join(map(repr, self.src)) + ")"
        return f"{ops}{src}" + (f" as {self.name}" if self.name else "")


RuleFn = Callable[..., "Value | None"]

# What every rule function may ask for besides the pattern's bindings.
RESERVED_NAMES = frozenset(["root", "ctx"])


class Rule:
    """One rewrite: a pattern, the function computing the replacement, and a name (for ``Program.stats``).

    ``fn`` is called with keyword arguments: the bindings of ``pat`` that it has parameters for,
    ``root`` (the matched value) and ``ctx`` (the ``RewriteContext``) if it asks for them. It
    returns the replacement value, or None to leave the value as it is. Made with ``rule``.

    Raises
    ------
    TypeError : ``fn`` asks for a name the pattern does not bind, takes positional-only or
        ``*args`` parameters, or annotates a parameter with a type other than ``Value``
        (``RewriteContext`` for ``ctx``).
    ValueError : the pattern binds ``root`` or ``ctx``.
    """

    __slots__ = ("pat", "fn", "name", "params", "takes_all")

    pat: Pat
    fn: RuleFn
    name: str
    params: tuple[str, ...]  # the keyword arguments ``fn`` gets
    takes_all: bool  # ``fn`` has ``**kwargs``: it gets every binding, ``root`` and ``ctx``

    def __init__(self, pat: Pat, fn: RuleFn, name: str | None = None) -> None:
        name = name or fn.__name__.lstrip("_")
        params, takes_all = _rule_params(pat, fn, name)
        for attr, value in (("pat", pat), ("fn", fn), ("name", name), ("params", params), ("takes_all", takes_all)):
            object.__setattr__(self, attr, value)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"a Rule is immutable (can't set {attr!r})")

    def apply(self, root: Value, bound: dict[str, Value], ctx: RewriteContext) -> Value | None:
        """Call ``fn`` on a match of ``root`` with bindings ``bound``."""
        env: dict[str, Any] = dict(bound, root=root, ctx=ctx)
        if self.takes_all:
            return self.fn(**env)
        return self.fn(**{p: env[p] for p in self.params})

    def __repr__(self) -> str:
        return f"Rule({self.name}: {self.pat!r})"


def _rule_params(pat: Pat, fn: RuleFn, name: str) -> tuple[tuple[str, ...], bool]:
    """The parameters ``fn`` gets, checked against what ``pat`` binds (see ``Rule``)."""
    bound = pat.names()
    clash = bound & RESERVED_NAMES
    if clash:
        raise ValueError(f"rule {name!r}: the pattern binds the reserved name(s) {sorted(clash)}")
    params: list[str] = []
    takes_all = False
    for p in inspect.signature(fn).parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            takes_all = True
        elif p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_POSITIONAL):
            raise TypeError(f"rule {name!r}: parameter {p.name!r} must be passable by keyword")
        elif p.name not in bound and p.name not in RESERVED_NAMES:
            raise TypeError(
                f"rule {name!r}: the function asks for {p.name!r}, which {pat!r} does not bind "
                f"(it binds {sorted(bound)}; root and ctx are always available)"
            )
        else:
            params.append(p.name)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - annotations that don't resolve here are left to static checkers
        hints = {}
    for p_name in params:
        expected: Any = RewriteContext if p_name == "ctx" else Value
        got = hints.get(p_name)
        if got is not None and got is not expected and got is not Any:
            raise TypeError(f"rule {name!r}: {p_name!r} is a {expected.__name__}, not {got}")
    return tuple(params), takes_all


def rule(pat: Pat, name: str | None = None) -> Callable[[RuleFn], Rule]:
    """Decorator making ``fn`` a ``Rule`` matching ``pat`` (named after ``fn``, leading ``_`` dropped)."""

    def deco(fn: RuleFn) -> Rule:
        return Rule(pat, fn, name)

    return deco


class PatternMatcher:
    """An immutable rule table, indexed by root op type; ``a + b`` has ``a``'s rules, then ``b``'s.

    Rules are tried in table order, those for one op type before those for any op type
    (``Pat(None)``); ``rewrite(value, ctx)`` returns the first rule's replacement. Rule names
    are unique within a table.
    """

    __slots__ = ("rules", "_by_type", "_generic")

    rules: tuple[Rule, ...]
    _by_type: dict[str, tuple[Rule, ...]]  # the rules to try per op type (filled in lazily for filtered ones)
    _generic: tuple[Rule, ...]

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        rules = tuple(rules)
        seen: set[str] = set()
        for r in rules:
            if not isinstance(r, Rule):
                raise TypeError(f"a PatternMatcher holds Rules (made with @rule), not {r!r}")
            if r.name in seen:
                raise ValueError(f"two rules named {r.name!r} in one table")
            seen.add(r.name)
        generic = tuple(r for r in rules if r.pat.ops is None and r.pat.op_filter is None)
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "_generic", generic)
        object.__setattr__(self, "_by_type", {})

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"a PatternMatcher is immutable (can't set {attr!r}); compose tables with +")

    def __add__(self, other: PatternMatcher) -> PatternMatcher:
        if not isinstance(other, PatternMatcher):
            return NotImplemented
        return PatternMatcher(self.rules + other.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PatternMatcher) and self.rules == other.rules

    def __hash__(self) -> int:
        return hash(self.rules)

    @property
    def names(self) -> tuple[str, ...]:
        """The rules' names, in order."""
        return tuple(r.name for r in self.rules)

    def __repr__(self) -> str:
        return f"PatternMatcher([{', '.join(self.names)}])"

    def _rules_for(self, op_type: str) -> tuple[Rule, ...]:
        """The rules a node of ``op_type`` tries, in table order, those for any op type last (cached)."""
        specific = tuple(r for r in self.rules if r.pat.ops is not None or r.pat.op_filter is not None)
        rules = (*(r for r in specific if r.pat.accepts_type(op_type)), *self._generic)
        self._by_type[op_type] = rules
        return rules

    def rewrite(self, v: Value, ctx: RewriteContext) -> Value | None:
        """The first replacement a rule gives for ``v`` (counted in ``ctx.fired``), or None."""
        op_type = v.node.op_type
        candidates = self._by_type.get(op_type)
        if candidates is None:
            candidates = self._rules_for(op_type)
        for r in candidates:
            bound: dict[str, Value] = {}
            if r.pat.match(v, bound):
                result = r.apply(v, bound, ctx)
                if result is not None and result is not v:
                    ctx.fired[r.name] = ctx.fired.get(r.name, 0) + 1
                    return result
        return None


class RuleDatabase:
    """Named rule tables with tags, in registration order (PyTensor's tagged rewrite databases).

    ``query(tags)`` is the table a pass runs: the rules of every table that carries one of
    ``tags`` (a table's name is one of its tags), in registration order. The tables are values;
    the database is the one mutable registry, where users add theirs (``register``), and rule
    names must be unique across it.
    """

    def __init__(self, tables: Iterable[tuple[str, PatternMatcher, Iterable[str]]] = ()) -> None:
        self._entries: tuple[tuple[str, PatternMatcher, frozenset[str]], ...] = ()
        self._lock = threading.Lock()
        for name, table, tags in tables:
            self.register(name, table, tags)

    def register(self, name: str, table: PatternMatcher, tags: Iterable[str] = ()) -> PatternMatcher:
        """Add ``table`` under ``name`` with ``tags``; returns it.

        Raises ValueError when ``name`` is taken or a rule name is already in the database.
        """
        if not isinstance(table, PatternMatcher):
            raise TypeError(f"register a PatternMatcher, not {table!r}")
        with self._lock:
            if name in self:
                raise ValueError(f"a rule table named {name!r} is already registered")
            PatternMatcher(r for t in (*self.tables(), table) for r in t)  # rule names stay unique
            self._entries = (*self._entries, (name, table, frozenset(tags) | {name}))
        return table

    def unregister(self, name: str) -> PatternMatcher:
        """Remove the table registered as ``name``; returns it."""
        with self._lock:
            table = self[name]
            self._entries = tuple(e for e in self._entries if e[0] != name)
        return table

    def query(self, tags: Iterable[str]) -> PatternMatcher:
        """One table: the rules of the tables carrying any of ``tags``, in registration order."""
        wanted = frozenset(tags)
        return PatternMatcher(r for _, table, t in self._entries if t & wanted for r in table)

    def tables(self) -> tuple[PatternMatcher, ...]:
        return tuple(e[1] for e in self._entries)

    def tags(self, name: str) -> frozenset[str]:
        for n, _, t in self._entries:
            if n == name:
                return t
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e[0] for e in self._entries)

    def __getitem__(self, name: str) -> PatternMatcher:
        for n, table, _ in self._entries:
            if n == name:
                return table
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(e[0] == name for e in self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __repr__(self) -> str:
        return "RuleDatabase(" + ", ".join(f"{n}: {len(t)} rules {sorted(g)}" for n, t, g in self._entries) + ")"


class RewriteContext:
    """What rules may use: options, ``make``/``const`` to build new nodes (which are rewritten in turn).

    Attributes
    ----------
    program, matcher, options : what this sweep runs on and with.
    fired : how often each rule fired in this sweep, by name.
    touched : nodes made or rewired in this sweep (the next sweep looks at their neighbourhood).
    shape_memo : the shape classes proved so far (see ``passes.shape_class``).
    """

    def __init__(self, program: Program, matcher: PatternMatcher, options: Options) -> None:
        self.program = program
        self.matcher = matcher
        self.options = options
        self.fired: dict[str, int] = {}
        self.touched: set[Node] = set()
        self.shape_memo: dict[Value, Value] = {}
        self._out: list[Node] = []  # the program's nodes after this sweep, in order
        self._depth = 0

    def make(
        self,
        op_type: str,
        inputs: Sequence[Value],
        attrs: dict[str, Any] | None = None,
        spec: tuple[DType, TensorShape] | None = None,
        like: Node | None = None,
        kernel: Callable[..., Any] | None = None,
    ) -> Value:
        """A new single-output node (placed before the node being rewritten), already simplified.

        ``like`` lends its origin (for error messages) and, without ``spec``, its output type.
        """
        if spec is None:
            assert like is not None
            spec = (like.out.dtype, like.out.shape)
        node = self.program.new_node(
            op_type, inputs, dict(attrs or {}), [spec], origin=like.origin if like is not None else None, kernel=kernel
        )
        return self.settle(node)

    def const(self, value: Any, dtype: DType, like: Node | None = None) -> Value:
        """A new ``Const`` node holding ``value`` (made read-only, so fetching it copies).

        An array of the dtype already (a folded op's result) is kept as it is, not copied: its
        memory layout (a broadcast view's zero strides, a transpose's column order) decides the
        layout of what ops make of it, and so the order a later sum adds in, as it would at run time.
        """
        want = np.dtype(dtype.as_numpy_dtype)
        if isinstance(value, np.ndarray) and value.dtype == want:
            arr = value.view()
        else:
            arr = np.array(value, dtype=want)
        arr.flags.writeable = False
        node = self.program.new_node(
            "Const",
            (),
            {"value": arr, "dtype": dtype},
            [(dtype, TensorShape(arr.shape))],
            origin=like.origin if like is not None else None,
        )
        self._out.append(node)
        return node.out

    def settle(self, node: Node) -> Value:
        """Rewrite ``node`` until no rule fires; emit the nodes that remain; return what stands for its output."""
        v = node.out
        self._depth += 1
        try:
            for _ in range(64):
                if self._depth > 32 or len(v.node.outputs) != 1 or v.node.stateful:
                    break
                new = self.matcher.rewrite(v, self)
                if new is None:
                    break
                v = new
        finally:
            self._depth -= 1
        if v.node is node:
            self._out.append(node)
            if self._depth:  # a node a rule made (not the one being visited)
                self.touched.add(node)
        return v

    def sweep(self, dirty: set[Node] | None = None) -> None:
        """Visit the program's nodes once, in order, and make the result the program's nodes.

        With ``dirty``, only nodes in it or reading one of its nodes are tried.
        """
        program = self.program
        replace: dict[Value, Value] = {}
        for node in program.nodes:
            if replace and remap_inputs(node, replace):
                self.touched.add(node)
            if node.stateful or len(node.outputs) != 1:
                self._out.append(node)
                continue
            if dirty is not None and node not in dirty and not any(v.node in dirty for v in node.inputs):
                self._out.append(node)
                continue
            result = self.settle(node)
            if result is not node.out:
                replace[node.out] = result
                self.touched.add(result.node)
        program.nodes = self._out
        if replace:
            finish_replacements(program, replace)


def rewrite_program(
    program: Program, matcher: PatternMatcher, options: Options, max_sweeps: int = 16
) -> dict[str, int]:
    """Run ``matcher`` over ``program`` to a fixed point, in place; returns how often each rule fired.

    The program's nodes are its own (copied from the graph), so they are updated in place:
    a node whose input was replaced reads the replacement. After the first sweep only nodes
    near a change (new, rewired, or reading one that is) are tried again.
    """
    fired: dict[str, int] = {}
    dirty = program.dirty
    for _ in range(max_sweeps):
        ctx = RewriteContext(program, matcher, options)
        ctx.sweep(dirty)
        for k, n in ctx.fired.items():
            fired[k] = fired.get(k, 0) + n
        dirty = ctx.touched
        if not ctx.fired:
            break
    program.dirty = dirty
    return fired


def remap_inputs(node: Node, replace: dict[Value, Value]) -> bool:
    """Point ``node``'s inputs and control edges at the replacements of replaced values; True if any."""
    changed = False
    if any(v in replace for v in node.inputs):
        node.inputs = tuple(replace.get(v, v) for v in node.inputs)
        changed = True
    if node.control:
        node.control = tuple(_replaced_node(c, replace) for c in node.control)
    return changed


def _replaced_node(node: Node, replace: dict[Value, Value]) -> Node:
    return replace[node.outputs[0]].node if len(node.outputs) == 1 and node.outputs[0] in replace else node


def finish_replacements(program: Program, replace: dict[Value, Value]) -> None:
    """Apply ``replace`` to the program's outputs, targets and awaited nodes (nodes were remapped as visited)."""
    program.outputs = [replace.get(v, v) for v in program.outputs]
    program.targets = [_replaced_node(n, replace) for n in program.targets]
    if program.awaited:
        program.awaited = [_replaced_node(n, replace) for n in program.awaited]


# --- facts about values that rules use ------------------------------------------------------------
def uniform_value(v: Value) -> Any:
    """The one number every element of ``v`` equals, when the graph says so; else None."""
    node = v.node
    if node.op_type == "Const":
        arr = node.attrs["value"]
        if arr.size == 0:
            return None
        first = arr.flat[0]
        # Large constants are data, not the ones and zeros that rules look for: don't scan them.
        if arr.size == 1 or (arr.size <= 4096 and bool(np.all(arr == first))):
            return first
        return None
    if node.op_type == "Fill":
        return uniform_value(node.inputs[1])
    return None


def _equal_number(a: Any, b: float) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def const_value(v: Value) -> np.ndarray | None:
    """The value of ``v`` when it is a ``Const``."""
    return v.node.attrs["value"] if v.node.op_type == "Const" else None


def same_static_shape(a: TensorShape, b: TensorShape) -> bool:
    """True when both shapes are fully known and equal (a proof, not a guess)."""
    return a.is_fully_defined() and b.is_fully_defined() and a.dims == b.dims


def broadcasts_into(small: TensorShape, big: TensorShape) -> bool:
    """True when the static shapes prove that broadcasting ``small`` against ``big`` gives ``big``'s shape."""
    if small.dims is None:
        return False
    if len(small.dims) == 0:
        return True  # a scalar never changes the other side's shape
    if big.dims is None or len(small.dims) > len(big.dims):
        return False
    for s, b in zip(reversed(small.dims), reversed(big.dims)):
        if s == 1:
            continue
        if s is None or b is None or s != b:
            return False
    return True
