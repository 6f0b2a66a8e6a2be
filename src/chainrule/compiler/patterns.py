"""Rewrites as data: patterns over the IR, rule tables, and the engine that runs them to a fixed point.

A rule is a ``Pat`` (what to look for) and a function (what to put instead),
registered into a table under tags, in the style of tinygrad's ``PatternMatcher``
and PyTensor's ``register_canonicalize``::

    @rewrite(Pat("Mul", Pat.var("x"), Pat.const(1), commutative=True), tags=("algebraic",))
    def _mul_one(m):
        return m.x if proves_broadcast_into(m.root.node.inputs, m.x) else None

``rewrite_program`` visits the nodes in order, lets every rule whose root type
matches try the node, and repeats on whatever the rule returned, until no rule
fires; then the whole sweep is repeated until the program stops changing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.compiler.ir import Node, Program, Value
from chainrule.framework.dtypes import DType
from chainrule.framework.tensor_shape import TensorShape


class Pat:
    """A pattern matching one IR value.

    Parameters
    ----------
    op : op type(s) the value's node must have; None matches any node.
    *src : patterns for the node's inputs (all of them, in order); none given: inputs not checked.
    name : bind the matched value under this name (the same name twice must be the same value).
    pred : extra test ``pred(value) -> bool``.
    commutative : for two inputs, also try them swapped.
    """

    __slots__ = ("ops", "src", "name", "pred", "commutative")

    def __init__(
        self,
        op: str | Sequence[str] | None = None,
        *src: Pat,
        name: str | None = None,
        pred: Callable[[Value], bool] | None = None,
        commutative: bool = False,
    ) -> None:
        self.ops = None if op is None else frozenset([op] if isinstance(op, str) else op)
        self.src = tuple(src) if src else None
        self.name = name
        self.pred = pred
        self.commutative = commutative

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

    def match(self, v: Value, bound: dict[str, Value]) -> bool:
        """Match ``v``, adding bindings to ``bound``; on failure ``bound`` may hold partial bindings."""
        node = v.node
        if self.ops is not None and node.op_type not in self.ops:
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


class Match:
    """What a rule function receives: the bindings as attributes, ``root`` and the rewrite context."""

    def __init__(self, root: Value, bound: dict[str, Value], ctx: RewriteContext) -> None:
        self.root = root
        self.ctx = ctx
        self.__dict__.update(bound)

    @property
    def node(self) -> Node:
        return self.root.node


RuleFn = Callable[[Match], "Value | None"]


@dataclass
class Rule:
    """One entry of a rule table: a pattern, its replacement function, a name and tags."""

    pat: Pat
    fn: RuleFn
    name: str
    tags: frozenset[str] = field(default_factory=frozenset)


RULES: list[Rule] = []  # every registered rule; passes pick theirs by tag


def rewrite(pat: Pat, tags: Iterable[str] = ("algebraic",), name: str | None = None) -> Callable[[RuleFn], RuleFn]:
    """Decorator registering ``fn(match) -> Value | None`` as a rewrite of values matching ``pat``."""

    def deco(fn: RuleFn) -> RuleFn:
        RULES.append(Rule(pat, fn, name or fn.__name__.lstrip("_"), frozenset(tags)))
        return fn

    return deco


class PatternMatcher:
    """A rule table indexed by root op type; ``rewrite(value)`` returns the first rule's result."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        self.by_type: dict[str, list[Rule]] = {}
        self.generic: list[Rule] = []
        for rule in self.rules:
            if rule.pat.ops is None:
                self.generic.append(rule)
            else:
                for op in rule.pat.ops:
                    self.by_type.setdefault(op, []).append(rule)
        for rules in self.by_type.values():  # generic rules (any op type) are tried after specific ones
            rules.extend(self.generic)

    @classmethod
    def from_tags(cls, tags: Iterable[str]) -> PatternMatcher:
        wanted = set(tags)
        return cls([r for r in RULES if r.tags & wanted])

    def rewrite(self, v: Value, ctx: RewriteContext) -> Value | None:
        for rule in self.by_type.get(v.node.op_type, self.generic):
            bound: dict[str, Value] = {}
            if rule.pat.match(v, bound):
                result = rule.fn(Match(v, bound, ctx))
                if result is not None and result is not v:
                    ctx.fired[rule.name] = ctx.fired.get(rule.name, 0) + 1
                    return result
        return None


class RewriteContext:
    """What rules may use: options, and ``make`` to build new nodes (which are rewritten in turn)."""

    def __init__(self, program: Program, matcher: PatternMatcher, options: Any) -> None:
        self.program = program
        self.matcher = matcher
        self.options = options
        self.fired: dict[str, int] = {}
        self.touched: set[Node] = set()  # nodes made or rewired in this sweep
        self._out: list[Node] = []
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
        """A new ``Const`` node holding ``value`` (made read-only, so fetching it copies)."""
        arr = np.array(value, dtype=dtype.as_numpy_dtype)
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


def rewrite_program(program: Program, matcher: PatternMatcher, options: Any, max_sweeps: int = 16) -> dict[str, int]:
    """Run ``matcher`` over ``program`` to a fixed point, in place; returns how often each rule fired.

    The program's nodes are its own (copied from the graph), so they are updated in place:
    a node whose input was replaced reads the replacement. After the first sweep only nodes
    near a change (new, rewired, or reading one that is) are tried again.
    """
    fired: dict[str, int] = {}
    dirty = program.dirty
    for _ in range(max_sweeps):
        ctx = RewriteContext(program, matcher, options)
        replace: dict[Value, Value] = {}
        touched = ctx.touched
        for node in program.nodes:
            if replace and remap_inputs(node, replace):
                touched.add(node)
            if node.stateful or len(node.outputs) != 1:
                ctx._out.append(node)
                continue
            if dirty is not None and node not in dirty and not any(v.node in dirty for v in node.inputs):
                ctx._out.append(node)
                continue
            result = ctx.settle(node)
            if result is not node.out:
                replace[node.out] = result
                touched.add(result.node)
        program.nodes = ctx._out
        if replace:
            finish_replacements(program, replace)
        for k, n in ctx.fired.items():
            fired[k] = fired.get(k, 0) + n
        dirty = touched
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
    """Apply ``replace`` to the program's outputs and targets (nodes were remapped as they were visited)."""
    program.outputs = [replace.get(v, v) for v in program.outputs]
    program.targets = [_replaced_node(n, replace) for n in program.targets]


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
