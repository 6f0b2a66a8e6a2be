"""Lowering one node to nopython source lines: elementwise ops as explicit loops, others by their declared rule.

Inside a region's function every value with a fully known static shape is a local: an array
(rank >= 1) or a scalar (rank 0, a region's rank-0 inputs are turned into scalars on entry).
An elementwise node, or a ``Fused`` group of them, becomes one loop nest over its static output
shape: each external input is read at its broadcast index (a size-1 axis at index 0, missing
leading axes dropped), each member's ufunc steps run on scalars, and only the group's result is
stored, so fused members make no temporaries. Any other node lowers when its declaration has a
``lower["numba"]`` rule that returns an expression for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.compiler.codegen import node_steps
from chainrule.compiler.ir import Node, Value
from chainrule.ops.registry import lowering_rule
from chainrule.ops.ufunc_steps import ONE, PREV, ZERO_ARRAY, ZERO_SCALAR, Step

BACKEND_NAME = "numba"
DTYPES = frozenset({"float32", "float64", "int32", "int64", "bool"})

# The ufuncs whose scalar forms Numba compiles with NumPy's results (each checked by the op table).
UFUNCS = frozenset(
    "absolute add arccos arccosh arcsin arcsinh arctan arctan2 arctanh ceil conjugate cos cosh equal exp "
    "expm1 floor floor_divide greater greater_equal less less_equal log log1p logaddexp logical_and "
    "logical_not logical_or maximum minimum mod multiply negative not_equal power rint sign sin sinh sqrt "
    "square subtract tan tanh true_divide".split()
)
# NumPy's SIMD loops for these beat Numba's scalar libm calls (no SVML) from a few thousand elements
# (exp, log, tanh over 10,000 float64s: 8-10 us against 27-90 us), so an elementwise node or group
# using them over more than ``SIMD_MIN_ELEMENTS`` elements runs on NumPy (measured: docs/architecture.md).
NUMPY_SIMD = frozenset({"exp", "log", "tanh"})
SIMD_MIN_ELEMENTS = 2048
# NumPy raises for these with integer operands (negative powers), Numba does not: the kernel runs them.
_FLOAT_ONLY = frozenset({"power"})


def typed(v: Value) -> bool:
    """Whether ``v`` has a dtype the backend handles and a fully known static shape."""
    return v.dtype is not None and v.dtype.name in DTYPES and v.shape.dims is not None and v.shape.is_fully_defined()


def static_shape(v: Value) -> tuple[int, ...]:
    return tuple(int(d) for d in v.shape.dims)  # type: ignore[arg-type, union-attr]


def numpy_type(v: Value) -> str:
    """The NumPy scalar type's name for ``v``'s dtype, as native code spells it (``np.float64``)."""
    return "np.bool_" if v.dtype.name == "bool" else f"np.{v.dtype.name}"


class Lowerer:
    """The lowering context a ``lower["numba"]`` rule receives: ``backend`` and ``bind``.

    ``bind(prefix, value) -> name`` makes ``value`` (an njit helper function, a constant array or
    tuple) a global of the region's module under a new name; the module's file name hashes a
    fingerprint of each bound value, so the disk cache never serves code compiled against
    another constant.
    """

    backend = BACKEND_NAME

    def __init__(self) -> None:
        self.globals: dict[str, Any] = {}
        self.fingerprints: list[str] = []

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}_{len(self.globals)}"
        self.globals[name] = value
        self.fingerprints.append(f"{name}={fingerprint(value)}")
        return name


def fingerprint(value: Any) -> str:
    """A text that changes when ``value`` does (for the disk cache's key)."""
    if isinstance(value, (np.ndarray, np.generic)):
        import hashlib  # noqa: PLC0415 - only for bound constants

        data = np.ascontiguousarray(value)
        return f"array {data.dtype.str} {data.shape} {hashlib.sha1(data.tobytes()).hexdigest()}"
    py_func = getattr(value, "py_func", value)
    source = getattr(py_func, "__chainrule_source__", None)  # a generated helper (ops.native.jit)
    if source is not None:
        import hashlib  # noqa: PLC0415 - only for bound helpers

        return f"helper {hashlib.sha1(source.encode()).hexdigest()}"
    module, qualname = getattr(py_func, "__module__", None), getattr(py_func, "__qualname__", None)
    if module is not None and qualname is not None and callable(py_func):
        return f"function {module}.{qualname}"
    return repr(value)


class Names:
    """Local names of a region's function: ``a<k>`` for its inputs, ``t<k>`` for values it computes.

    Numbered in order of appearance, so two regions of the same structure have the same source
    (and share one compiled function).
    """

    def __init__(self) -> None:
        self.of: dict[Value, str] = {}
        self._count = 0

    def new(self, stem: str = "t") -> str:
        self._count += 1
        return f"{stem}{self._count}"


def lower_node(lw: Lowerer, node: Node, names: Names, into: str | None = None) -> list[str] | None:
    """Source lines computing ``node``'s outputs into new names in ``names`` (None: it does not lower).

    ``names.of`` holds the names of its inputs. ``into``: an array (by name) an elementwise node
    writes its result into instead of allocating one.
    """
    if node.stateful or not node.outputs or not all(typed(v) for v in (*node.inputs, *node.outputs)):
        return None
    if node.op_type == "Fused":
        group = node.extra
        if getattr(group, "backend", "numpy") != "numpy" or not all(_elementwise(m) for m in group.members):
            return None
        if _numpy_faster(group.members):
            return None
        return elementwise_lines(group.members, node.inputs, node, names, into)
    if _elementwise(node):
        return None if _numpy_faster([node]) else elementwise_lines([node], node.inputs, node, names, into)
    if node.kernel is not None:
        return None
    rule = lowering_rule(node.op_type, BACKEND_NAME)
    if rule is None:
        return None
    expr = rule(lw, node, [names.of[v] for v in node.inputs])
    if expr is None:
        return None
    targets = [names.new() for _ in node.outputs]
    names.of.update(zip(node.outputs, targets))
    if len(targets) == 1:
        return [f"{targets[0]} = {expr}"]
    return [f"{', '.join(targets)} = {expr}"]


def _elementwise(node: Node) -> bool:
    steps = node_steps(node)
    if steps is None or not all(typed(v) for v in (*node.inputs, node.out)):
        return False
    ints = any(v.dtype.is_integer for v in (*node.inputs, node.out))
    return all(fn in UFUNCS or fn == "where" for fn, *_ in steps) and not (
        ints and any(fn in _FLOAT_ONLY for fn, *_ in steps)
    )


def _numpy_faster(members: Sequence[Node]) -> bool:
    """Whether NumPy's SIMD loops run these elementwise members faster than a Numba loop would."""
    size = int(np.prod(static_shape(members[-1].out)))
    if size <= SIMD_MIN_ELEMENTS:
        return False
    return any(fn in NUMPY_SIMD for m in members for fn, *_ in node_steps(m) or ())


def elementwise_lines(
    members: Sequence[Node], inputs: Sequence[Value], result: Node, names: Names, into: str | None = None
) -> list[str]:
    """One loop nest computing ``members`` (elementwise, in order) over ``result``'s static shape.

    ``inputs`` are the values the members read from outside; the last member's value is stored,
    as ``result``'s output, into a new array (``into``, when given; a scalar at rank 0).
    """
    shape = static_shape(result.out)
    rank = len(shape)
    target = names.new()
    lines = []
    if rank:
        lines.append(f"{target} = {into}" if into else f"{target} = np.empty({shape!r}, {numpy_type(result.out)})")
        for k, d in enumerate(shape):
            lines.append("    " * k + f"for i{k} in range({d}):")
    pad = "    " * rank
    scalars: dict[Value, str] = {}
    for v in dict.fromkeys(inputs):
        dims = static_shape(v)
        if not dims:
            scalars[v] = names.of[v]
            continue
        offset = rank - len(dims)
        index = ", ".join(f"i{offset + j}" if d == shape[offset + j] else "0" for j, d in enumerate(dims))
        local = names.new("x")
        lines.append(f"{pad}{local} = {names.of[v]}[{index}]")
        scalars[v] = local
    for m in members:
        steps = node_steps(m)
        assert steps is not None
        expr = ""
        same_float = m.out.dtype.name in ("float32", "float64") and all(v.dtype == m.out.dtype for v in m.inputs)
        for i, step in enumerate(steps):
            expr = _step_expr(step, [scalars[v] for v in m.inputs], expr, numpy_type(m.out), same_float)
            if i < len(steps) - 1 or m is not members[-1]:
                local = names.new("e")
                lines.append(f"{pad}{local} = {expr}")
                expr = local
        scalars[m.out] = expr
    final = scalars[members[-1].out]
    if rank:
        lines.append(f"{pad}{target}[{', '.join(f'i{k}' for k in range(rank))}] = {final}")
    else:
        lines.append(f"{target} = {final}")
    names.of[result.out] = target
    return lines


# Float arithmetic as Python operators (IEEE, the same results as the ufuncs on scalars of one float
# dtype; divisions by zero follow NumPy under ``error_model='numpy'``): Numba types and lowers an
# operator much faster than a ufunc call on scalars, which halves a large region's compile time.
_OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/"}


def _step_expr(step: Step, args: Sequence[str], prev: str, dtype: str, same_float: bool = False) -> str:
    """One ufunc step on scalars; ``same_float``: every operand is a float of the output's dtype."""
    fn, *tokens = step
    parts = []
    for tok in tokens:
        if tok == PREV:
            parts.append(prev)
        elif isinstance(tok, int):
            parts.append(args[tok])
        elif tok == ONE:
            parts.append(f"{dtype}(1)")
        elif tok in (ZERO_ARRAY, ZERO_SCALAR):
            parts.append(f"{dtype}(0)")
        else:
            raise ValueError(f"unknown ufunc step token {tok!r}")
    if fn == "where":
        c, a, b = parts
        return f"({a} if {c} else {b})"
    if same_float and fn in _OPERATORS and len(parts) == 2:
        return f"({parts[0]} {_OPERATORS[fn]} {parts[1]})"
    if same_float and fn == "negative":
        return f"(-{parts[0]})"
    return f"np.{fn}({', '.join(parts)})"
