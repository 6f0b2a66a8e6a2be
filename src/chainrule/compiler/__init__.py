"""The graph compiler: what ``Session.run`` does to a graph before running it.

``optimize(fetches)`` copies the part of the graph the fetches need into a private
IR (``Program``; the user's graph is never changed), rewrites it, and returns it;
``program.dump()`` shows it as text and ``to_graph(program)`` as a ``cr.Graph`` for
the viewers. The passes, by name (``Options.passes``):

- ``runtime``: identities at run time (``Identity``, ``StopGradient``, casts and
  reshapes/broadcasts/un-broadcasts to the shape a value already has).
- ``fold``: constant folding (sizes capped by ``fold_max_elements``).
- ``algebraic``: algebraic simplification (``x*1``, ``x+0``, ``--x``, ``log(exp x)``...).
- ``cse``: common-subexpression merging (never of stateful ops).
- ``dce``: dead-code elimination.
- ``fuse``: chains of elementwise ops become one kernel that reuses its buffers.

The first five run together to a fixed point; fusion runs last. The rule tables
are values (``PatternMatcher``, composed with ``+``), registered by pass name in the
tagged database ``RULES``; a rule's function receives the pattern's bindings as typed
keyword arguments. Add your own rules to a pass::

    from chainrule.compiler import RULES, Pat, PatternMatcher, Value, rule

    @rule(Pat("Square", Pat("Sqrt", Pat.var("y"))))
    def square_of_sqrt(y: Value) -> Value:  # may also ask for ``root`` and ``ctx``
        return y

    RULES.register("mine", PatternMatcher([square_of_sqrt]), tags=("algebraic",))

``optimize(...).stats`` says how often each rule (by name) and pass fired.

Examples
--------
>>> x = cr.placeholder(cr.float64, [3]); y = cr.identity(x) * 1.0
>>> print(cr.compiler.optimize(y, feeds=[x]).dump())
%0: f64[3] = Feed(Placeholder:0)
return %0
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from chainrule.compiler.fusion import fuse_elementwise
from chainrule.compiler.ir import FEED, Node, Program, Value, to_graph
from chainrule.compiler.passes import RULES, drop_unread_loop_history, eliminate_dead_code, merge_common_subexpressions
from chainrule.compiler.patterns import (
    Pat,
    PatternMatcher,
    RewriteContext,
    Rule,
    RuleDatabase,
    rewrite_program,
    rule,
)
from chainrule.framework.graph import Operation, Tensor, as_graph_element, get_default_graph

__all__ = [
    "ALL_PASSES",
    "FEED",
    "Node",
    "Options",
    "Pat",
    "PatternMatcher",
    "Program",
    "RULES",
    "RewriteContext",
    "Rule",
    "RuleDatabase",
    "Value",
    "default_options",
    "optimize",
    "optimize_program",
    "rewrite_program",
    "rule",
    "set_default_options",
    "to_graph",
]

ALL_PASSES = ("runtime", "fold", "algebraic", "cse", "dce", "fuse")
_REWRITE_TAGS = ("runtime", "fold", "algebraic")


@dataclass(frozen=True)
class Options:
    """How a Session compiles its plans.

    Attributes
    ----------
    passes : the passes to run, by name (see the module docstring); ``()`` runs the graph as written.
    codegen : run plans as generated straight-line Python functions (False: an interpreter loop).
    fold_max_elements : constant folding leaves results with more elements than this alone.
    assume_finite : allow rewrites that hold only for finite values (``0*x -> 0``).
    fusion_backend : ``"numpy"`` (default) or ``"numexpr"`` (optional; large float64 groups only).
    numexpr_min_elements : smallest output size that numexpr evaluates.
    max_rounds : bound on rewrite/CSE/DCE rounds.
    reuse_buffers : large intermediate results are written (``out=``) into arrays the plan keeps
        between runs, instead of fresh allocations (page faults) each run.
    buffer_min_bytes : the size from which a result gets such a buffer.
    fast_math : allow rewrites that hold in real arithmetic but change bits (``log(exp(x)) -> x``,
        ``exp(log(x)) -> x``, ``x + 0 -> x``, ``x - (-0.0) -> x`` and ``0 - x -> -x`` (signed zeros),
        zero terms dropped from ``AddN``, complex ``x * 1``, ``x / 1`` and ``x * -1``, sums of
        broadcasts as products, reshape of reshape (memory order)); off by default, so the default
        rewrites are bitwise exact (docs/architecture.md lists every rule).
    fast_reductions : sums of few terms (up to 4096 float64 or 64 float32 values) use ``np.einsum``,
        several times faster than ``np.sum`` over small axes but adding in another order, so the
        last bits of results change; off by default.
    """

    passes: tuple[str, ...] = ALL_PASSES
    codegen: bool = True
    fold_max_elements: int = 1 << 16
    assume_finite: bool = False
    fusion_backend: str = "numpy"
    numexpr_min_elements: int = 1 << 15
    max_rounds: int = 8
    reuse_buffers: bool = True
    buffer_min_bytes: int = 1 << 16
    fast_reductions: bool = False
    fast_math: bool = False

    def with_passes(self, *names: str) -> Options:
        unknown = set(names) - set(ALL_PASSES)
        if unknown:
            raise ValueError(f"unknown passes {sorted(unknown)}; known: {ALL_PASSES}")
        return replace(self, passes=tuple(names))


def _from_environment() -> Options:
    # CHAINRULE_OPTIMIZE=0 runs graphs as written (A/B runs of whole test suites and benchmarks);
    # CHAINRULE_OPTIMIZE=interpret also turns code generation off.
    flag = os.environ.get("CHAINRULE_OPTIMIZE", "1").strip().lower()
    if flag in ("0", "false", "off", "no"):
        return Options(passes=(), reuse_buffers=False)
    if flag in ("interpret", "interpreter"):
        return Options(passes=(), codegen=False, reuse_buffers=False)
    return Options()


_DEFAULT = [_from_environment()]


def default_options() -> Options:
    """The options a ``cr.Session()`` uses when not told otherwise."""
    return _DEFAULT[0]


def set_default_options(options: Options | bool) -> Options:
    """Set the options new Sessions use (``False``: no rewrites); returns the previous ones."""
    previous = _DEFAULT[0]
    _DEFAULT[0] = resolve_options(options)
    return previous


def resolve_options(optimize: Options | bool | None) -> Options:
    """``None`` -> the default, ``True`` -> all passes, ``False`` -> none, an ``Options`` as is."""
    if optimize is None:
        return _DEFAULT[0]
    if isinstance(optimize, Options):
        return optimize
    return Options() if optimize else Options(passes=(), reuse_buffers=False)


def optimize_program(program: Program, options: Options | None = None) -> dict[str, int]:
    """Run the passes of ``options`` on ``program`` in place; returns how often each rule/pass fired."""
    options = options or Options()
    enabled = set(options.passes)
    stats: dict[str, int] = {}

    def count(name: str, n: int) -> None:
        if n:
            stats[name] = stats.get(name, 0) + n

    tags = [t for t in _REWRITE_TAGS if t in enabled]
    matcher = RULES.query(tags) if tags else None
    for _ in range(options.max_rounds):
        changed = 0
        if matcher is not None:
            fired = rewrite_program(program, matcher, options)
            for k, n in fired.items():
                count(k, n)
            changed += sum(fired.values())
        if "cse" in enabled:
            merged = merge_common_subexpressions(program)
            count("cse", merged)
            changed += merged
        if "dce" in enabled:
            count("dce", eliminate_dead_code(program))
        if not changed:
            break
    if "fuse" in enabled:
        count("fuse", fuse_elementwise(program, options))
        if "dce" in enabled:
            count("dce", eliminate_dead_code(program))
    if "dce" in enabled:
        count("loop_history", drop_unread_loop_history(program))
    program.stats = stats
    return stats


def optimize(
    fetches: Any, feeds: Sequence[Any] = (), options: Options | None = None, passes: Sequence[str] | None = None
) -> Program:
    """The optimized program for running ``fetches`` with ``feeds`` fed (the graph is not changed).

    Parameters
    ----------
    fetches : a tensor, an operation, or a list of them.
    feeds : the tensors that will be fed (placeholders, or any tensor to cut the graph at).
    options : compiler options (``Options()`` by default).
    passes : shorthand for ``options.with_passes(*passes)``.

    Returns
    -------
    The ``Program``: ``.dump()`` for text, ``cr.compiler.to_graph(program)`` for viewers,
    ``.stats`` for how often each rewrite fired.
    """
    options = options or Options()
    if passes is not None:
        options = options.with_passes(*passes)
    items = list(fetches) if isinstance(fetches, (list, tuple)) else [fetches]
    graph = None
    elements = []
    for item in items + list(feeds):
        item = as_graph_element(item)
        if isinstance(item, (Tensor, Operation)):
            graph = item.graph
        elements.append(item)
    graph = graph or get_default_graph()
    elements = [graph.as_graph_element(e) for e in elements]
    fetch_elems, feed_elems = elements[: len(items)], elements[len(items) :]
    tensors = [e for e in fetch_elems if isinstance(e, Tensor)]
    ops = [e for e in fetch_elems if isinstance(e, Operation)]
    program = Program.from_graph(tensors, ops, [t for t in feed_elems if isinstance(t, Tensor)])
    optimize_program(program, options)
    return program
