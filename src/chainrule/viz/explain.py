"""``explain(t)``: a tensor's graph printed as mathematics, after simplification.

The graph that ``t`` depends on is read into expression trees (sums, products,
powers, functions), simplified as they are built, and printed as plain text or
LaTeX: the gradient of ``cos(x)`` reads ``-sin(x)``, of ``x**3`` reads ``3*x**2``.

The reading is elementwise ("scalar"): ops that only move or broadcast values
(``Identity``, ``Cast``, ``Fill``/``ones_like``, ``BroadcastTo``, ``SumToShape``,
``Reshape``) are read as the value they carry when the static shapes agree or
are not known; where the shapes are known to differ they stay visible, as
does every op with no mathematical reading, printed as ``OpType(args)``.
Placeholders and variables print by their op names.

Some readings need more than one op's declaration, and live here (``_READINGS``): the output of a
``reduce_mean`` call reads ``mean(x)`` (not the sum over the count it divides by); a count of
elements reads ``size(x)`` (of ``x``, not of ``x**2``, whose size is the same); a reshape of a
single value, or an index that only adds axes (a gradient broadcasting a reduced value back),
reads as that value, since the reading is elementwise and broadcasting repeats it;
a softmax cross-entropy reads ``-sum(labels*log_softmax(logits), axis=-1)``.

Simplification, applied while building (expressions are hash-consed, so equal
subexpressions are the same object): constant folding; ``x + 0``, ``x*1``,
``0*x``, ``--x``; like terms (``x + x`` -> ``2*x``) and like factors
(``x*x`` -> ``x**2``, ``x/x`` -> ``1``) collected, in order of first appearance;
``(x**a)**n`` and ``(a*b)**n`` for whole ``n``; ``log(exp(x))``, ``exp(log(x))``;
odd and even functions of ``-x``; ``where`` with a constant condition or equal branches.
"""

from __future__ import annotations

import abc
import itertools
import math
import re
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from chainrule.framework.graph import Operation, Tensor, as_tensor_or_none
from chainrule.ops.registry import find_op_def

__all__ = ["Explanation", "explain"]


_UIDS = itertools.count()


class Expr:
    """An interned expression node (compare with ``is``; built only through ``_Builder``)."""

    __slots__ = ("kind", "uid", "value", "args", "extra")

    def __init__(self, kind: str, uid: int, value: Any, args: tuple[Expr, ...], extra: tuple[Any, ...]) -> None:
        self.kind = kind  # num sym add mul pow func rel where opaque
        self.uid = uid
        self.value = value  # number, name, Mul coefficient, function name, relation or op type
        self.args = args
        self.extra = extra  # function keyword arguments; opaque output index

    def __repr__(self) -> str:
        return f"Expr({to_text(self)})"


# Functions folded for constant arguments (only when the result is short: cos(0) -> 1, not sin(1) -> 0.84...).
_FOLD: dict[str, Callable[..., float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "erf": math.erf,
    "log": math.log,
    "abs": abs,
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "sign": lambda v: float(np.sign(v)),
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "max": max,
    "min": min,
    "relu": lambda v: max(v, 0.0),
}
_ODD = {"sin", "tan", "tanh", "sinh", "asin", "atan", "erf", "sign"}
_EVEN = {"cos", "cosh", "abs"}
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


class _Builder:
    """Smart constructors: each returns a simplified, interned expression."""

    def __init__(self) -> None:
        self._table: dict[tuple[Any, ...], Expr] = {}

    def _make(
        self, kind: str, value: Any, args: Sequence[Expr], extra: tuple[Any, ...] = (), commutative: bool = False
    ) -> Expr:
        ids = tuple(a.uid for a in args)
        key = (kind, type(value).__name__, value, tuple(sorted(ids)) if commutative else ids, extra)
        e = self._table.get(key)
        if e is None:
            e = Expr(kind, next(_UIDS), value, tuple(args), extra)
            self._table[key] = e
        return e

    # -- leaves --------------------------------------------------------------------------------
    def num(self, v: Any) -> Expr:
        if isinstance(v, (bool, np.bool_)):
            return self._make("num", bool(v), ())
        v = float(v)
        return self._make("num", 0.0 if v == 0 else v, ())

    def sym(self, name: str) -> Expr:
        return self._make("sym", name, ())

    # -- arithmetic ------------------------------------------------------------------------------
    def split(self, e: Expr) -> tuple[float, Expr]:
        """``e`` as coefficient * rest."""
        if e.kind == "mul":
            rest = e.args[0] if len(e.args) == 1 else self._make("mul", 1.0, e.args, commutative=True)
            return e.value, rest
        return 1.0, e

    def add(self, *terms: Expr) -> Expr:
        flat: list[Expr] = []
        for t in terms:
            flat.extend(t.args if t.kind == "add" else [t])
        const, have_const = 0.0, False
        groups: dict[int, list[Any]] = {}
        order: list[int | None] = []
        for t in flat:
            if t.kind == "num":
                const += float(t.value)
                if not have_const:
                    have_const = True
                    order.append(None)
                continue
            c, rest = self.split(t)
            if rest.uid in groups:
                groups[rest.uid][0] += c
            else:
                groups[rest.uid] = [c, rest]
                order.append(rest.uid)
        out = []
        for k in order:
            if k is None:
                if const != 0:
                    out.append(self.num(const))
            else:
                c, rest = groups[k]
                if c != 0:
                    out.append(self.mul(self.num(c), rest))
        if not out:
            return self.num(0)
        if len(out) == 1:
            return out[0]
        return self._make("add", None, out, commutative=True)

    def mul(self, *factors: Expr) -> Expr:
        coeff = 1.0
        bases: dict[int, list[Any]] = {}
        stack = list(factors)
        flat: list[Expr] = []
        while stack:
            f = stack.pop(0)
            if f.kind == "mul":
                coeff *= f.value
                stack[:0] = f.args
            else:
                flat.append(f)
        for f in flat:
            if f.kind == "num":
                coeff *= float(f.value)
                continue
            base, exp = (f.args[0], f.args[1]) if f.kind == "pow" else (f, self.num(1))
            if base.uid in bases:
                bases[base.uid][1].append(exp)
            else:
                bases[base.uid] = [base, [exp]]
        if coeff == 0:
            return self.num(0)
        out: list[Expr] = []
        regroup = False
        for base, exps in bases.values():
            p = self.pow(base, self.add(*exps))
            if p.kind == "num":
                coeff *= float(p.value)
            else:
                regroup = regroup or p.kind == "mul"
                out.append(p)
        if regroup:  # a power of a product was multiplied out: collect again
            return self.mul(self.num(coeff), *out)
        if coeff == 0 or not out:
            return self.num(coeff)
        if coeff == 1 and len(out) == 1:
            return out[0]
        return self._make("mul", coeff, out, commutative=True)

    def neg(self, x: Expr) -> Expr:
        return self.mul(self.num(-1), x)

    def sub(self, a: Expr, b: Expr) -> Expr:
        return self.add(a, self.neg(b))

    def div(self, a: Expr, b: Expr) -> Expr:
        return self.mul(a, self.pow(b, self.num(-1)))

    def pow(self, b: Expr, e: Expr) -> Expr:
        if e.kind == "num":
            ev = float(e.value)
            if b.kind == "num":
                try:
                    r = float(b.value) ** ev
                except (OverflowError, ZeroDivisionError):
                    r = None
                if isinstance(r, float) and math.isfinite(r):
                    return self.num(r)
            if ev == 0:
                return self.num(1)
            if ev == 1:
                return b
            if b.kind == "pow" and ev.is_integer():
                return self.pow(b.args[0], self.mul(b.args[1], e))
            if b.kind == "mul" and ev.is_integer():
                return self.mul(self.num(b.value**ev), *[self.pow(f, e) for f in b.args])
        if b.kind == "num" and b.value == 1:
            return self.num(1)
        return self._make("pow", None, (b, e))

    # -- functions -------------------------------------------------------------------------------
    def func(self, name: str, *args: Expr, **kwargs: Any) -> Expr:
        extra = tuple(sorted(kwargs.items()))
        if not extra and args and all(a.kind == "num" and not isinstance(a.value, bool) for a in args):
            folded = self._fold(name, [float(a.value) for a in args])
            if folded is not None:
                return folded
        if len(args) == 1 and not extra:
            (x,) = args
            if name in ("floor", "ceil", "round") and x.kind == "func" and x.value == "size":
                return x  # a count is a whole number already
            if (name, x.kind) in (("log", "func"), ("exp", "func")) and x.value == {"log": "exp", "exp": "log"}[name]:
                return x.args[0]
            if name == "abs" and x.kind == "func" and x.value == "abs":
                return x
            c, _ = self.split(x)
            if c < 0 and name in _ODD:
                return self.neg(self.func(name, self.neg(x)))
            if c < 0 and name in _EVEN:
                return self.func(name, self.neg(x))
        return self._make("func", name, args, extra)

    def _fold(self, name: str, values: list[float]) -> Expr | None:
        fn = _FOLD.get(name)
        if fn is None:
            return None
        try:
            r = float(fn(*values))
        except (ValueError, OverflowError, ZeroDivisionError):
            return None
        if not math.isfinite(r):
            return None
        if r.is_integer() or len(repr(r)) <= 6:
            return self.num(r)
        return None

    def where(self, cond: Expr, a: Expr, b: Expr) -> Expr:
        if cond.kind == "num":
            return a if cond.value else b
        if a is b:
            return a
        return self._make("where", None, (cond, a, b))

    def rel(self, op: str, a: Expr, b: Expr) -> Expr:
        if a.kind == "num" and b.kind == "num":
            return self.num(_RELATIONS[op](a.value, b.value))
        return self._make("rel", op, (a, b))

    def function_outputs(self, outputs: Sequence[Tensor], inputs: dict[Tensor, Expr]) -> list[Expr]:
        """The expressions of a traced function's ``outputs`` (a ``cr.cond`` branch), its ``inputs`` given."""
        values = _to_exprs(outputs, self, inputs)
        return [values[t] for t in outputs]

    def opaque(self, op_type: str, args: Sequence[Expr], index: int | None = None) -> Expr:
        return self._make("opaque", op_type, args, (index,))


# --- readings that need more than one op ---------------------------------------------------------
# Elementwise functions of one argument: the result has the argument's shape (and size).
_SAME_SIZE = frozenset(_FOLD) - {"max", "min"} | {"sigmoid", "softplus", "relu", "expm1", "log1p", "sqrt", "erf"}


def _holds_one_value(t: Tensor) -> bool:
    """Whether ``t`` is known to hold exactly one element (a scalar, or every dimension 1)."""
    dims = t.shape.dims
    return dims is not None and all(d == 1 for d in dims)


def _read_size(b: _Builder, op: Operation, args: list[Expr]) -> Expr | None:
    """``size(x)``: the number of elements, of ``x`` itself when ``args[0]`` is ``x**2``, ``exp(x)``..."""
    if op.outputs[0].shape.rank != 0 or find_op_def("Size") is None:
        return None
    x = args[0]
    while (
        (x.kind == "pow" and x.args[1].kind == "num")
        or (x.kind == "func" and x.value in _SAME_SIZE and not x.extra)
        or (x.kind == "mul" and len(x.args) == 1)  # c*x, -x
    ):
        x = x.args[0]
    static = _expression_by_declaration(b, op, args)
    return static if static.kind == "num" else b.func("size", x)


def _read_mean(b: _Builder, op: Operation, args: list[Expr]) -> Expr | None:
    """The output of a ``reduce_mean`` call (its sum divided by its count) is ``mean(x)``."""
    composite = op.composite
    total = args[0]
    if composite is None or composite.function != "reduce_mean" or op.inputs[0].op.type != "Sum":
        return None
    if total.kind != "func" or total.value != "sum":
        return None
    return b.func("mean", *total.args, **dict(total.extra))


def _read_one_value(b: _Builder, op: Operation, args: list[Expr]) -> Expr | None:
    """A reshape of a single value (or of a number) is that value, repeated by broadcasting."""
    return args[0] if args and (args[0].kind == "num" or _holds_one_value(op.inputs[0])) else None


def _read_new_axes(b: _Builder, op: Operation, args: list[Expr]) -> Expr | None:
    """``x[..., None]`` only adds axes: elementwise it is ``x``, broadcast along them."""
    spec = op.get_attr("spec")
    return args[0] if all(part[0] in ("ellipsis", "newaxis") for part in spec) else None


def _read_softmax_xent(b: _Builder, op: Operation, args: list[Expr]) -> Expr | None:
    logits, labels = args
    axis = op.get_attr("axis")
    return b.neg(b.func("sum", b.mul(labels, b.func("log_softmax", logits)), axis=axis))


_READINGS: dict[str, Callable[[_Builder, Operation, list[Expr]], Expr | None]] = {
    "Size": _read_size,
    "RealDiv": _read_mean,
    "Reshape": _read_one_value,
    "StridedSlice": _read_new_axes,
    "SoftmaxCrossEntropyWithLogits": _read_softmax_xent,
}


# --- graph -> expression ------------------------------------------------------------------------
def _expression(b: _Builder, op: Operation, args: list[Expr]) -> Expr:
    """The op as an expression: a reading of ``_READINGS``, else its declaration's ``explain`` form."""
    reading = _READINGS.get(op.type)
    found = None if reading is None else reading(b, op, args)
    return found if found is not None else _expression_by_declaration(b, op, args)


def _expression_by_declaration(b: _Builder, op: Operation, args: list[Expr]) -> Expr:
    """The op as an expression, by the ``explain`` form its declaration gives (opaque without one)."""
    op_def = find_op_def(op.type)
    form = None if op_def is None else op_def.explain
    if form is None:
        return b.opaque(op.type, args)
    if isinstance(form, str):
        return b.func(form, *args)
    return form(b, op, args)


def _to_exprs(tensors: Sequence[Tensor], b: _Builder, known: dict[Tensor, Expr] | None = None) -> dict[Tensor, Expr]:
    """Expressions for ``tensors``, built op by op in creation (topological) order, without recursion.

    ``known``: expressions given for some tensors (a traced function's inputs), not built from their ops.
    """
    values: dict[Tensor, Expr] = dict(known or {})
    needed: set[Operation] = set()
    stack = [t.op for t in tensors if t not in values]
    while stack:
        op = stack.pop()
        if op not in needed:
            needed.add(op)
            stack.extend(t.op for t in op.inputs if t not in values)
    for op in sorted(needed, key=lambda o: o.id):
        args = [values[t] for t in op.inputs]
        if len(op.outputs) == 1:
            values[op.outputs[0]] = _expression(b, op, args)
        else:
            # A multi-output op's explain form gives one expression per output (or it is opaque).
            op_def = find_op_def(op.type)
            form = None if op_def is None else op_def.explain
            exprs = form(b, op, args) if callable(form) else None
            for i, t in enumerate(op.outputs):
                values[t] = exprs[i] if exprs is not None else b.opaque(op.type, args, i)
    return values


# --- printing ---------------------------------------------------------------------------------
_ADD, _MUL, _POW, _ATOM = 1, 2, 3, 4


def _num_text(v: Any) -> str:
    if isinstance(v, bool):
        return str(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    text = repr(v)
    return text if len(text) <= 10 else f"{v:.6g}"


def _as_fraction(v: float) -> tuple[float, float]:
    """``v`` as (numerator, denominator) when no short decimal says it: 1/3, not 0.333333 (float32 rounding allowed)."""
    if not math.isfinite(v) or v.is_integer() or abs(float(f"{v:.6g}") - v) <= 2e-7 * abs(v):
        return v, 1.0
    f = Fraction(v).limit_denominator(1000)
    if f.denominator > 1 and abs(f.numerator / f.denominator - v) <= 2e-7 * abs(v):
        return float(f.numerator), float(f.denominator)
    return v, 1.0


def _post_order(root: Expr) -> list[Expr]:
    """The subexpressions of ``root`` (each once), every one after its arguments; without recursion."""
    order: list[Expr] = []
    seen = {root.uid}
    stack: list[tuple[Expr, int]] = [(root, 0)]
    while stack:
        e, i = stack.pop()
        if i < len(e.args):
            stack.append((e, i + 1))
            child = e.args[i]
            if child.uid not in seen:
                seen.add(child.uid)
                stack.append((child, 0))
        else:
            order.append(e)
    return order


def _negative(e: Expr) -> bool:
    if e.kind == "num":
        return not isinstance(e.value, bool) and e.value < 0
    return e.kind == "mul" and e.value < 0


def _split_fraction(e: Expr, b: _Builder) -> tuple[float, list[Expr], list[Expr]]:
    """A product as (coefficient, numerator factors, denominator factors with positive powers)."""
    if e.kind == "pow":
        factors, coeff = [e], 1.0
    else:
        factors, coeff = list(e.args), e.value
    num, den = [], []
    for f in factors:
        if f.kind == "pow" and f.args[1].kind == "num" and f.args[1].value < 0:
            den.append(b.pow(f.args[0], b.num(-f.args[1].value)))
        else:
            num.append(f)
    return coeff, num, den


class _Printer(abc.ABC):
    """Shared structure of the text and LaTeX printers: precedence and signs; subclasses spell the pieces."""

    def __init__(self, b: _Builder) -> None:
        self.b = b
        self._texts: dict[int, tuple[str, int]] = {}  # by uid: each subexpression is printed once

    # -- the pieces each syntax spells -------------------------------------------------------
    @abc.abstractmethod
    def paren(self, s: str) -> str: ...

    @abc.abstractmethod
    def number(self, v: Any) -> str: ...

    @abc.abstractmethod
    def name(self, s: str) -> str: ...

    @abc.abstractmethod
    def join(self, parts: list[str]) -> str: ...

    @abc.abstractmethod
    def fraction(self, numerator: str, coeff: float, den: list[Expr]) -> str: ...

    @abc.abstractmethod
    def power(self, base: Expr, exp: Expr) -> str: ...

    @abc.abstractmethod
    def function(self, name: str, args: tuple[Expr, ...], extra: tuple[Any, ...]) -> tuple[str, int]: ...

    @abc.abstractmethod
    def relation(self, op: str) -> str: ...

    @abc.abstractmethod
    def where(self, cond: Expr, a: Expr, b: Expr) -> str: ...

    @abc.abstractmethod
    def opaque(self, op_type: str, args: tuple[Expr, ...], index: int | None) -> str: ...

    # -- the shared structure ------------------------------------------------------------------

    def __call__(self, e: Expr) -> str:
        # Subexpressions are printed children first, so printing one finds its arguments' texts
        # ready instead of recursing into them: any depth prints without RecursionError.
        for sub in _post_order(e):
            self.node(sub)
        return self.p(e, 0)

    def p(self, e: Expr, need: int) -> str:
        text, prec = self.node(e)
        return self.paren(text) if prec < need else text

    def node(self, e: Expr) -> tuple[str, int]:
        """``e``'s text and precedence (computed once per subexpression)."""
        done = self._texts.get(e.uid)
        if done is None:
            done = self._texts[e.uid] = self._node(e)
        return done

    def _node(self, e: Expr) -> tuple[str, int]:
        kind = e.kind
        if kind == "num":
            return self.number(e.value), (_MUL if _negative(e) else _ATOM)
        if kind == "sym":
            return self.name(e.value), _ATOM
        if kind == "add":
            parts = [self.p(e.args[0], _ADD)]
            for t in e.args[1:]:
                if _negative(t):
                    parts.append(" - " + self.p(self.b.neg(t), _MUL))
                else:
                    parts.append(" + " + self.p(t, _MUL))
            return "".join(parts), _ADD
        if kind == "mul" or (kind == "pow" and e.args[1].kind == "num" and e.args[1].value < 0):
            return self.product(e), _MUL
        if kind == "pow":
            return self.power(e.args[0], e.args[1]), _POW
        if kind == "func":
            return self.function(e.value, e.args, e.extra)
        if kind == "rel":
            return f"{self.p(e.args[0], _ADD)} {self.relation(e.value)} {self.p(e.args[1], _ADD)}", 0
        if kind == "where":
            return self.where(*e.args), _ATOM
        return self.opaque(e.value, e.args, e.extra[0]), _ATOM

    def product(self, e: Expr) -> str:
        coeff, num, den = _split_fraction(e, self.b)
        sign = "-" if coeff < 0 else ""
        top, bottom = _as_fraction(abs(coeff))
        num_parts = ([self.number(top)] if top != 1 or not num else []) + [self.p(f, _MUL) for f in num]
        numerator = self.join(num_parts)
        if not den and bottom == 1:
            return sign + numerator
        return sign + self.fraction(numerator, bottom, den)


class _Text(_Printer):
    def paren(self, s: str) -> str:
        return f"({s})"

    def number(self, v: Any) -> str:
        return _num_text(v)

    def name(self, s: str) -> str:
        return s

    def join(self, parts: list[str]) -> str:
        return "*".join(parts)

    def fraction(self, numerator: str, coeff: float, den: list[Expr]) -> str:
        parts = ([self.number(coeff)] if coeff != 1 else []) + [self.p(f, _MUL) for f in den]
        if len(parts) == 1:
            return f"{numerator}/{parts[0] if coeff != 1 else self.p(den[0], _POW)}"
        return f"{numerator}/({self.join(parts)})"

    def power(self, base: Expr, exp: Expr) -> str:
        if exp.kind == "num" and exp.value == 0.5:
            return f"sqrt({self.p(base, 0)})"
        return f"{self.p(base, _ATOM)}**{self.p(exp, _ATOM)}"

    def function(self, name: str, args: tuple[Expr, ...], extra: tuple[Any, ...]) -> tuple[str, int]:
        if name == "matmul":
            return f"{self.p(args[0], _MUL)} @ {self.p(args[1], _POW)}", _MUL
        if name == "not":
            return f"not {self.p(args[0], _ATOM)}", 0
        if name in ("and", "or"):
            return f"{self.p(args[0], _ATOM)} {name} {self.p(args[1], _ATOM)}", 0
        inner = [self.p(a, 0) for a in args] + [f"{k}={v!r}" for k, v in extra]
        return f"{name}({', '.join(inner)})", _ATOM

    def relation(self, op: str) -> str:
        return op

    def where(self, cond: Expr, a: Expr, b: Expr) -> str:
        return f"where({self.p(cond, 0)}, {self.p(a, 0)}, {self.p(b, 0)})"

    def opaque(self, op_type: str, args: tuple[Expr, ...], index: int | None) -> str:
        text = f"{op_type}({', '.join(self.p(a, 0) for a in args)})"
        return text if index is None else f"{text}[{index}]"


_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
}
_LATEX_FUNCS = {
    "sin": r"\sin",
    "cos": r"\cos",
    "tan": r"\tan",
    "sinh": r"\sinh",
    "cosh": r"\cosh",
    "tanh": r"\tanh",
    "asin": r"\arcsin",
    "acos": r"\arccos",
    "atan": r"\arctan",
    "log": r"\log",
    "sigmoid": r"\sigma",
    "max": r"\max",
    "min": r"\min",
}
_LATEX_RELATIONS = {">": ">", ">=": r"\geq", "<": "<", "<=": r"\leq", "==": "=", "!=": r"\neq"}


def latex_name(name: str) -> str:
    """A variable name in LaTeX: ``x``, ``x_{1}``, ``\\theta``, else ``\\mathrm{name}``."""
    m = re.fullmatch(r"([A-Za-z]+?)_?(\d+)", name)
    if m and (len(m.group(1)) == 1 or m.group(1) in _GREEK):
        head = "\\" + m.group(1) if m.group(1) in _GREEK else m.group(1)
        return f"{head}_{{{m.group(2)}}}"
    if len(name) == 1 and name.isalpha():
        return name
    if name in _GREEK:
        return "\\" + name
    escaped = re.sub(r"([_%&#$])", r"\\\1", name)
    return rf"\mathrm{{{escaped}}}"


class _Latex(_Printer):
    def paren(self, s: str) -> str:
        return rf"\left({s}\right)"

    def number(self, v: Any) -> str:
        text = _num_text(v)
        if text in ("True", "False"):
            return rf"\mathrm{{{text}}}"
        if text in ("inf", "-inf", "nan"):
            return {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{NaN}"}[text]
        if "e" in text:
            mantissa, exponent = text.split("e")
            power = f"10^{{{int(exponent)}}}"
            return power if mantissa == "1" else rf"{mantissa} \cdot {power}"
        return text

    def name(self, s: str) -> str:
        return latex_name(s)

    def join(self, parts: list[str]) -> str:
        out = parts[0] if parts else ""
        for part in parts[1:]:
            # Juxtaposition reads as a product, except before a number ("2 3" would read as 23).
            out += r" \cdot " + part if part[:1].isdigit() or part.startswith("-") else " " + part
        return out

    def fraction(self, numerator: str, coeff: float, den: list[Expr]) -> str:
        parts = ([self.number(coeff)] if coeff != 1 else []) + [self.p(f, _MUL) for f in den]
        denominator = self.p(den[0], 0) if len(parts) == 1 and den else self.join(parts)
        return rf"\frac{{{numerator}}}{{{denominator}}}"

    def power(self, base: Expr, exp: Expr) -> str:
        if exp.kind == "num" and exp.value == 0.5:
            return rf"\sqrt{{{self.p(base, 0)}}}"
        if base.kind == "func" and base.value == "exp":
            return rf"\left(e^{{{self.p(base.args[0], 0)}}}\right)^{{{self.p(exp, 0)}}}"
        return f"{self.p(base, _ATOM)}^{{{self.p(exp, 0)}}}"

    def function(self, name: str, args: tuple[Expr, ...], extra: tuple[Any, ...]) -> tuple[str, int]:
        if name == "exp":
            return f"e^{{{self.p(args[0], 0)}}}", _ATOM
        if name == "abs":
            return rf"\left|{self.p(args[0], 0)}\right|", _ATOM
        if name == "matmul":
            return f"{self.p(args[0], _MUL)} {self.p(args[1], _POW)}", _MUL
        if name == "transpose":
            return f"{self.p(args[0], _ATOM)}^{{\\top}}", _POW
        if name == "not":
            return rf"\neg {self.p(args[0], _ATOM)}", 0
        if name in ("and", "or"):
            op = r"\land" if name == "and" else r"\lor"
            return f"{self.p(args[0], _ATOM)} {op} {self.p(args[1], _ATOM)}", 0
        if name in ("sum", "mean", "prod") and len(args) == 1:
            head = {"sum": r"\sum", "prod": r"\prod", "mean": r"\operatorname{mean}"}[name]
            kw = dict(extra)
            if "axis" in kw:
                head += rf"_{{\mathrm{{axis}}={kw['axis']}}}"
            if name == "mean":
                return rf"{head}\left({self.p(args[0], 0)}\right)", _ATOM
            return rf"{head} {self.p(args[0], _POW)}", _MUL
        escaped = name.replace("_", r"\_")
        head = _LATEX_FUNCS.get(name, rf"\operatorname{{{escaped}}}")
        inner = [self.p(a, 0) for a in args] + [rf"\mathrm{{{k}}}={v}" for k, v in extra]
        return rf"{head}\left({', '.join(inner)}\right)", _ATOM

    def relation(self, op: str) -> str:
        return _LATEX_RELATIONS[op]

    def where(self, cond: Expr, a: Expr, b: Expr) -> str:
        return (
            rf"\begin{{cases}} {self.p(a, 0)} & \text{{if }} {self.p(cond, 0)} \\ "
            rf"{self.p(b, 0)} & \text{{otherwise}} \end{{cases}}"
        )

    def opaque(self, op_type: str, args: tuple[Expr, ...], index: int | None) -> str:
        text = rf"\operatorname{{{op_type}}}\left({', '.join(self.p(a, 0) for a in args)}\right)"
        return text if index is None else f"{text}_{{{index}}}"


def to_text(e: Expr) -> str:
    return _Text(_Builder())(e)


class Explanation(str):
    """The printed expression: a ``str`` that shows as itself in a REPL (and as LaTeX in Jupyter)."""

    syntax: str = "text"  # "text" or "latex" (not ``format``, which would hide ``str.format``)

    def __repr__(self) -> str:
        return str(self)

    def _repr_latex_(self) -> str | None:
        return f"${self}$" if self.syntax == "latex" else None


def explain(t: Any, format: str = "text") -> Any:  # noqa: A002 - the documented keyword
    """A tensor's graph as mathematics, after simplification.

    Parameters
    ----------
    t : a tensor (e.g. from ``cr.gradients``), a Variable, or a list of them.
    format : ``"text"`` (Python-like: ``3*x**2``) or ``"latex"`` (``3 x^{2}``).

    Returns
    -------
    An ``Explanation`` (a ``str``), or a list of them for a list input.

    Examples
    --------
    >>> x = cr.placeholder(cr.float32, name="x")
    >>> cr.explain(cr.gradients(cr.cos(x), x)[0])
    -sin(x)
    """
    if format not in ("text", "latex"):
        raise ValueError(f"format must be 'text' or 'latex', got {format!r}")
    if isinstance(t, (list, tuple)):
        return [explain(x, format) for x in t]
    if t is None:
        raise TypeError(
            "explain() got None: cr.gradients returns None for an x that does not affect y "
            "(pass unconnected_gradients='zero' to get zeros)."
        )
    as_tensor = as_tensor_or_none(t)
    if as_tensor is not None:
        t = as_tensor  # a Variable's tensor
    if isinstance(t, Operation):
        raise TypeError(f"explain() needs a tensor, got the operation {t.name!r}; pass one of its outputs.")
    if not isinstance(t, Tensor):
        raise TypeError(f"explain() needs a cr.Tensor, got {type(t).__name__}")
    b = _Builder()
    expr = _to_exprs([t], b)[t]
    printer = _Text(b) if format == "text" else _Latex(b)
    out = Explanation(printer(expr))
    out.syntax = format
    return out
