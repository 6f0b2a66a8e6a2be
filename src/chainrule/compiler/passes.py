"""The passes: dead-code elimination, common-subexpression merging, and the rule tables.

Rule tables (``PatternMatcher`` values, run to a fixed point by ``patterns.rewrite_program``),
registered in ``RULES`` under the pass names that select them (``compiler.Options.passes``):

- ``runtime`` (``RUNTIME``): ops that only matter while building graphs or that are identities here:
  ``Identity``/``StopGradient`` removal, casts back through a lossless cast (``f32 -> f64 -> f32``),
  ``SumToShape``/``BroadcastTo``/``Reshape`` to the shape the value already has, and
  ``SumToShape(x, Shape(y))`` (what gradients of broadcasting ops insert) turned into a node
  that compares two shapes and returns ``x``.
- ``fold`` (``FOLD``): constant folding (pure ops whose inputs are all constants; output size capped),
  and ``Shape``/``Size``/``Rank`` of statically known shapes.
- ``algebraic`` (``ALGEBRAIC``): ``x*1``, ``x+0``, ``x-0``, ``0-x``, ``x/1``, ``x*-1``, ``--x``, ``log(exp x)``,
  ``exp(log x)`` for ``x >= 0``, reshape of reshape, transposes that cancel, sums of
  broadcasts, ``AddN`` of zeros, ``-fill(c)``; ``0*x -> zeros`` only with ``assume_finite``
  (it turns ``0*inf`` and ``0*nan`` into 0). The rules that change bits (``log(exp x)``, signed
  zeros, complex infinities, reassociated sums, memory order) fire only with ``Options(fast_math=True)``;
  the default ones are bitwise exact (docs/architecture.md, "The compiler's rewrites, rule by rule").

Rewrites that depend on shapes fire only when static shapes, or the symbolic shape
classes of ``shape_class`` (values known to share a run-time shape), prove them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.compiler.ir import FEED, Node, Program, Value
from chainrule.compiler.patterns import (
    Pat,
    PatternMatcher,
    RewriteContext,
    RuleDatabase,
    broadcasts_into,
    const_value,
    finish_replacements,
    remap_inputs,
    rule,
    same_static_shape,
    uniform_value,
)
from chainrule.framework.dtypes import DType
from chainrule.framework.graph import reachable
from chainrule.ops.broadcast_ops import sum_to_shape_kernel
from chainrule.ops.registry import BROADCAST, UNARY, find_op_def, get_op_def


def elementwise_kind(node: Node) -> str | None:
    """``UNARY``, ``BROADCAST`` or None: the elementwise kind the node's op declares (compiler types: None)."""
    if node.kernel is not None:
        return None
    op_def = find_op_def(node.op_type)
    return None if op_def is None else op_def.elementwise


# --- symbolic shape classes -------------------------------------------------------------------------
def shape_class(v: Value, memo: dict[Value, Value], depth: int = 0) -> Value:
    """A representative value that ``v`` provably has the same run-time shape as (``v`` itself if none).

    Follows ops that keep a shape (unary elementwise ops, broadcasts into a known side, fills and
    reshapes to ``shape(y)``...). Deep chains stop at a bound, which only weakens the proof.
    """
    hit = memo.get(v)
    if hit is not None:
        return hit
    if depth > 100:
        return v
    depth += 1
    node = v.node
    rep = v
    t = node.op_type
    kind = elementwise_kind(node)
    if kind == UNARY and node.inputs:
        rep = shape_class(node.inputs[0], memo, depth)
    elif kind == BROADCAST:
        # The output has the shape of an input that every other input broadcasts into.
        for big in node.inputs:
            if all(small is big or covers(big, small, memo, depth) for small in node.inputs):
                rep = shape_class(big, memo, depth)
                break
    elif t in ("Fill", "Reshape", "BroadcastTo", "SumToShape") and len(node.inputs) == 2:
        dims = node.inputs[0] if t == "Fill" else node.inputs[1]
        if dims.node.op_type == "Shape":
            rep = shape_class(dims.node.inputs[0], memo, depth)
    elif t in ("SumToShapeOf", "BroadcastToShapeOf"):
        rep = shape_class(node.inputs[1], memo, depth)
    memo[v] = rep
    return rep


def same_shape(a: Value, b: Value, memo: dict[Value, Value], depth: int = 0) -> bool:
    """Proof that ``a`` and ``b`` have the same shape at run time."""
    if same_static_shape(a.shape, b.shape):
        return True
    return shape_class(a, memo, depth) is shape_class(b, memo, depth)


def covers(big: Value, small: Value, memo: dict[Value, Value], depth: int = 0) -> bool:
    """Proof that broadcasting ``small`` against ``big`` gives ``big``'s shape."""
    return broadcasts_into(small.shape, big.shape) or same_shape(big, small, memo, depth)


# --- runtime: identities at run time -----------------------------------------------------------------
@rule(Pat(("Identity", "StopGradient"), Pat.var("x")))
def _identity(x: Value) -> Value:
    return x


def _lossless(narrow: DType, wide: DType) -> bool:
    """Every value of ``narrow`` is exactly a value of ``wide`` (so casting there and back is the identity)."""
    try:
        a, b = np.dtype(narrow.as_numpy_dtype), np.dtype(wide.as_numpy_dtype)
    except TypeError:
        return False
    if not np.can_cast(a, b, casting="safe"):
        return False
    if a.kind in "iu" and b.kind in "fc":  # NumPy calls int64 -> float64 safe; 2**53 + 1 says otherwise
        return a.itemsize * 8 - (a.kind == "i") <= np.finfo(b).nmant + 1
    return True


@rule(Pat("Cast", Pat.var("x")))
def _cast_same(root: Value, x: Value) -> Value | None:
    # A cast back to the dtype a value had before a lossless cast: cast(cast(x32, f64), f32) is x32
    # (and so is the gradient of such a round trip). ``cr.cast`` never builds a cast to the dtype
    # its input already has, but a graph built op by op may.
    if x.dtype == root.dtype:
        return x
    inner = x.node
    if inner.op_type == "Cast" and inner.inputs[0].dtype == root.dtype and _lossless(root.dtype, x.dtype):
        return inner.inputs[0]
    return None


def _static_target(shape_value: Value) -> tuple[int, ...] | None:
    value = const_value(shape_value)
    if value is not None:
        return tuple(int(d) for d in np.ravel(value))
    if shape_value.node.op_type == "Shape" and shape_value.node.inputs[0].shape.is_fully_defined():
        return tuple(shape_value.node.inputs[0].shape.dims)  # type: ignore[arg-type]
    return None


def _shape_is(x: Value, shape_value: Value, ctx: RewriteContext) -> bool:
    """Proof that ``x`` already has the shape that the 1-D tensor ``shape_value`` holds."""
    target = _static_target(shape_value)
    if target is not None and -1 not in target:
        return x.shape.is_fully_defined() and tuple(x.shape.dims) == target  # type: ignore[arg-type]
    if shape_value.node.op_type == "Shape":
        return same_shape(x, shape_value.node.inputs[0], ctx.shape_memo)
    return False


@rule(Pat(("SumToShape", "BroadcastTo", "Reshape"), Pat.var("x"), Pat.var("s")))
def _to_own_shape(root: Value, x: Value, s: Value, ctx: RewriteContext) -> Value | None:
    return x if x.dtype == root.dtype and _shape_is(x, s, ctx) else None


def _sum_to_shape_of(xp: Any, x: Any, y: Any) -> Any:
    """``SumToShape(x, shape(y))`` with the common case (equal shapes) as one comparison."""
    if x.shape == y.shape:
        return x
    return sum_to_shape_kernel(xp, x, y.shape)


def _broadcast_to_shape_of(xp: Any, x: Any, y: Any) -> Any:
    if x.shape == y.shape:
        return x
    return xp.broadcast_to(x, y.shape)


@rule(Pat("SumToShape", Pat.var("x"), Pat("Shape", Pat.var("y"))))
def _sum_to_shape_of_value(root: Value, x: Value, y: Value, ctx: RewriteContext) -> Value:
    return ctx.make("SumToShapeOf", [x, y], like=root.node, kernel=_sum_to_shape_of)


@rule(Pat("BroadcastTo", Pat.var("x"), Pat("Shape", Pat.var("y"))))
def _broadcast_to_shape_of_value(root: Value, x: Value, y: Value, ctx: RewriteContext) -> Value | None:
    if x.shape.rank is not None and y.shape.rank is not None and x.shape.rank > y.shape.rank:
        return None
    return ctx.make("BroadcastToShapeOf", [x, y], like=root.node, kernel=_broadcast_to_shape_of)


RUNTIME = PatternMatcher([_identity, _cast_same, _to_own_shape, _sum_to_shape_of_value, _broadcast_to_shape_of_value])


# --- fold: constants ----------------------------------------------------------------------------------
_NEVER_FOLD = frozenset([FEED, "Const", "Placeholder", "NoOp", "Fused"])


def _foldable(v: Value) -> bool:
    node = v.node
    if node.stateful or node.op_type in _NEVER_FOLD or node.kernel is not None or len(node.outputs) != 1:
        return False
    return all(x.node.op_type == "Const" for x in node.inputs)


@rule(Pat(None, pred=_foldable))
def _fold_constants(root: Value, ctx: RewriteContext) -> Value | None:
    node = root.node
    limit = ctx.options.fold_max_elements
    size = root.shape.num_elements() if root.shape.is_fully_defined() else None
    if size is not None and size > limit:
        return None
    try:
        with np.errstate(all="ignore"):
            result = get_op_def(node.op_type).kernel(np, *(x.node.attrs["value"] for x in node.inputs), **node.attrs)
    except Exception:  # noqa: BLE001 - leave the op in place: it will raise, with its name, at run time
        return None
    if isinstance(result, (tuple, list)):
        return None
    arr = result if isinstance(result, np.ndarray) else np.asarray(result)
    if arr.size > limit or arr.dtype != root.dtype.as_numpy_dtype or not root.shape.is_compatible_with(arr.shape):
        return None
    return ctx.const(arr, root.dtype, like=node)


@rule(Pat(("Shape", "Size", "Rank"), Pat.var("x")))
def _fold_static_shape(root: Value, x: Value, ctx: RewriteContext) -> Value | None:
    shape = x.shape
    t = root.node.op_type
    if t == "Rank":
        return None if shape.rank is None else ctx.const(shape.rank, root.dtype, like=root.node)
    if not shape.is_fully_defined():
        return None
    value = shape.as_list() if t == "Shape" else shape.num_elements()
    return ctx.const(value, root.dtype, like=root.node)


FOLD = PatternMatcher([_fold_constants, _fold_static_shape])


# --- algebraic simplification ------------------------------------------------------------------------
def _keeps(root: Value, x: Value, other: Value, ctx: RewriteContext) -> bool:
    """``x op other`` has ``x``'s shape and dtype, so the op may be replaced by ``x`` (or an op of ``x``)."""
    return x.dtype == root.dtype and covers(x, other, ctx.shape_memo)


def _exact_for(x: Value, ctx: RewriteContext) -> bool:
    """Whether ``x * 1 -> x``, ``x / 1 -> x`` and ``x * -1 -> -x`` hold bitwise for ``x``'s dtype.

    They do for real numbers (infinities and signed zeros included), not for complex ones: NumPy
    multiplies ``(a + bj) * (1 + 0j)`` as ``(a*1 - b*0) + (a*0 + b*1)j``, so an infinite part
    makes the other one NaN, and ``-0.0`` parts become ``+0.0``.
    """
    return ctx.options.fast_math or not x.dtype.is_complex


def _is_plus_zero(c: Value) -> bool:
    """Every element of ``c`` is ``+0`` (in both parts, if complex): ``x - c`` is then exactly ``x``."""
    value = const_value(c) if c.node.op_type == "Const" else const_value(c.node.inputs[1])
    if value is None:
        return False
    value = np.asarray(value)
    if value.dtype.kind == "c":
        return not (np.signbit(value.real).any() or np.signbit(value.imag).any())
    return value.dtype.kind != "f" or not np.signbit(value).any()


@rule(Pat("Mul", Pat.var("x"), Pat.const(1, name="c"), commutative=True))
def _mul_one(root: Value, x: Value, c: Value, ctx: RewriteContext) -> Value | None:
    return x if _exact_for(x, ctx) and _keeps(root, x, c, ctx) else None


@rule(Pat("Add", Pat.var("x"), Pat.const(0, name="c"), commutative=True))
def _add_zero(root: Value, x: Value, c: Value, ctx: RewriteContext) -> Value | None:
    # -0.0 + 0 is +0.0, so dropping the zero changes the sign of zeros: only under fast_math.
    return x if ctx.options.fast_math and _keeps(root, x, c, ctx) else None


@rule(Pat(("Sub", "RealDiv"), Pat.var("x"), Pat.var("c")))
def _sub_zero_div_one(root: Value, x: Value, c: Value, ctx: RewriteContext) -> Value | None:
    u = uniform_value(c)
    sub = root.node.op_type == "Sub"
    if u is None or u != (0 if sub else 1) or not _keeps(root, x, c, ctx):
        return None
    # x - (-0.0) is x + 0.0, which turns -0.0 into +0.0; complex x / 1 is not exact (see _exact_for).
    exact = _is_plus_zero(c) if sub else _exact_for(x, ctx)
    return x if exact or ctx.options.fast_math else None


@rule(Pat("Sub", Pat.const(0, name="c"), Pat.var("x")))
def _zero_minus(root: Value, x: Value, c: Value, ctx: RewriteContext) -> Value | None:
    if not ctx.options.fast_math:  # 0 - 0 is +0.0 but -(0) is -0.0
        return None
    return ctx.make("Neg", [x], like=root.node) if _keeps(root, x, c, ctx) else None


@rule(Pat("Mul", Pat.var("x"), Pat.const(-1, name="c"), commutative=True))
def _mul_minus_one(root: Value, x: Value, c: Value, ctx: RewriteContext) -> Value | None:
    if not _exact_for(x, ctx):
        return None
    return ctx.make("Neg", [x], like=root.node) if _keeps(root, x, c, ctx) else None


@rule(Pat("Mul", Pat.var("x"), Pat.const(0, name="c"), commutative=True))
def _mul_zero(root: Value, x: Value, c: Value, ctx: RewriteContext) -> Value | None:
    # 0 * inf and 0 * nan are nan, so this only holds when values are known to be finite.
    if not ctx.options.assume_finite or not covers(c, x, ctx.shape_memo) or root.dtype != c.dtype:
        return None
    return c if same_static_shape(c.shape, root.shape) or covers(c, x, ctx.shape_memo) else None


@rule(Pat("Neg", Pat("Neg", Pat.var("x"))))
def _neg_neg(x: Value) -> Value:
    return x


def _is_const(v: Value) -> bool:
    return v.node.op_type == "Const"


@rule(Pat("Neg", Pat("Fill", Pat.var("dims"), Pat.var("c", pred=_is_const))))
def _neg_fill(root: Value, dims: Value, c: Value, ctx: RewriteContext) -> Value:
    minus = ctx.const(-c.node.attrs["value"], c.dtype, like=c.node)
    return ctx.make("Fill", [dims, minus], like=root.node)


@rule(Pat("Mul", Pat("Neg", Pat.var("x")), Pat("Neg", Pat.var("y"))))
def _neg_times_neg(root: Value, x: Value, y: Value, ctx: RewriteContext) -> Value:
    return ctx.make("Mul", [x, y], like=root.node)


@rule(Pat("Log", Pat("Exp", Pat.var("x"))))
def _log_exp(x: Value, ctx: RewriteContext) -> Value | None:
    # Not bitwise: log(exp(1000)) is inf as written, and log(exp(x)) rounds twice.
    return x if ctx.options.fast_math else None


_NON_NEGATIVE = frozenset(["Exp", "Square", "Abs", "Sqrt", "Relu", "Softplus", "Sigmoid", "Softmax"])


def _non_negative(v: Value) -> bool:
    node = v.node
    if node.op_type in _NON_NEGATIVE:
        return True
    if node.op_type == "Mul" and node.inputs[0] is node.inputs[1]:
        return True
    value = const_value(v)
    if value is not None:
        return bool(np.all(value >= 0))
    if node.op_type == "Fill":
        return _non_negative(node.inputs[1])
    return False


@rule(Pat("Exp", Pat("Log", Pat.var("x", pred=_non_negative))))
def _exp_log(x: Value, ctx: RewriteContext) -> Value | None:
    # exp(log x) rounds twice, so it differs from x in the last bits: only under fast_math.
    return x if ctx.options.fast_math else None


@rule(Pat("Reshape", Pat("Reshape", Pat.var("x"), Pat.var("s1")), Pat.var("s2")))
def _reshape_reshape(root: Value, x: Value, s2: Value, ctx: RewriteContext) -> Value | None:
    # Not bitwise: where x is not row-ordered (a transpose), the inner reshape copies it into row
    # order and the outer one is a view of that, while reshape(x, s2) may be a view of x itself:
    # equal values in another memory order, which a later sum adds in another order.
    if not ctx.options.fast_math:
        return None
    # The inner reshape must be known not to fail (its element count is checked against x's
    # static shape only when that is fully known): dropping it must not drop its error.
    if not x.shape.is_fully_defined():
        return None
    return ctx.make("Reshape", [x, s2], root.node.attrs, like=root.node)


def _perm(node: Node) -> tuple[int, ...] | None:
    perm = node.attrs.get("perm")
    rank = node.inputs[0].shape.rank
    if perm is None:
        return None if rank is None else tuple(reversed(range(rank)))
    return tuple(p % len(perm) for p in perm)


@rule(Pat("Transpose", Pat.var("x")))
def _transpose_identity(root: Value, x: Value) -> Value | None:
    perm = _perm(root.node)
    # Only when x's rank is known to be the perm's length: on another rank the op raises at run time.
    if perm is None or x.shape.rank != len(perm):
        return None
    return x if perm == tuple(range(len(perm))) else None


@rule(Pat("Transpose", Pat("Transpose", Pat.var("x"), name="inner")))
def _transpose_transpose(root: Value, x: Value, inner: Value, ctx: RewriteContext) -> Value | None:
    p1, p2 = _perm(inner.node), _perm(root.node)
    # Only when x's rank is known to be the perms' length: on another rank the inner transpose
    # raises at run time, and a composed identity (x itself) would not.
    if p1 is None or p2 is None or len(p1) != len(p2) or x.shape.rank != len(p1):
        return None
    composed = tuple(p1[i] for i in p2)
    if composed == tuple(range(len(composed))):
        return x
    return ctx.make("Transpose", [x], {"perm": composed}, like=root.node)


def _broadcast_factor(x: Value, b: Value) -> int | None:
    n_x = x.shape.num_elements() if x.shape.is_fully_defined() else None
    n_b = b.shape.num_elements() if b.shape.is_fully_defined() else None
    if n_x is None or n_b is None:
        return None
    return n_b // n_x if n_x and n_b % n_x == 0 else None


def _scaled(root: Value, x: Value, factor: int, ctx: RewriteContext) -> Value:
    if factor == 1:
        return x
    return ctx.make("Mul", [x, ctx.const(factor, x.dtype, like=root.node)], like=x.node, spec=(x.dtype, x.shape))


@rule(Pat("SumToShape", Pat(("BroadcastTo", "BroadcastToShapeOf"), Pat.var("x"), Pat.var("s"), name="b"), Pat.var("t")))
def _sum_of_broadcast(root: Value, x: Value, b: Value, t: Value, ctx: RewriteContext) -> Value | None:
    # Summing a broadcast copy back to the original shape multiplies by the number of copies.
    if not _shape_is(x, t, ctx) or not x.dtype.is_floating:
        return None
    factor = _broadcast_factor(x, b)
    # k copies added one by one round differently from x * k (0.1 added 10 times is not 1.0):
    # only one copy (nothing summed) is exact.
    if factor is None or (factor != 1 and not ctx.options.fast_math):
        return None
    return _scaled(root, x, factor, ctx)


@rule(Pat("Sum", Pat(("BroadcastTo", "BroadcastToShapeOf"), Pat.var("x"), Pat.var("s"), name="b")))
def _reduce_sum_of_broadcast(root: Value, x: Value, b: Value, ctx: RewriteContext) -> Value | None:
    attrs = root.node.attrs
    # sum(broadcast(x)) -> sum(x) * k adds in another order (and rounds once more): not bitwise.
    if not ctx.options.fast_math:
        return None
    if attrs.get("axis") is not None or attrs.get("keepdims") or not x.dtype.is_floating:
        return None
    factor = _broadcast_factor(x, b)
    if factor is None:
        return None
    total = ctx.make("Sum", [x], {"axis": None, "keepdims": False}, like=root.node)
    return _scaled(root, total, factor, ctx)


def _broadcasting(op_type: str) -> bool:
    op_def = find_op_def(op_type)
    return op_def is not None and op_def.elementwise == BROADCAST


@rule(Pat.where_type(_broadcasting, Pat.var("a"), Pat.var("b")))
def _implicit_broadcast(root: Value, a: Value, b: Value, ctx: RewriteContext) -> Value | None:
    # op(broadcast_to(x, s), y) -> op(x, y) when y already has the shape s: the op broadcasts x itself,
    # and the broadcast view (and the op that made it) disappears from the program.
    memo = ctx.shape_memo
    for i, (v, other) in enumerate(((a, b), (b, a))):
        if v.node.op_type not in ("BroadcastTo", "BroadcastToShapeOf"):
            continue
        x = v.node.inputs[0]
        if x.dtype == v.dtype and same_shape(other, v, memo) and same_shape(root, v, memo):
            inputs = [x, other] if i == 0 else [other, x]
            return ctx.make(root.node.op_type, inputs, root.node.attrs, like=root.node)
    return None


@rule(Pat("AddN"))
def _add_n_zeros(root: Value, ctx: RewriteContext) -> Value | None:
    inputs = root.node.inputs
    if not ctx.options.fast_math:  # -0.0 + 0 is +0.0: dropping zero terms changes signed zeros
        return None
    keep = [v for v in inputs if not (uniform_value(v) is not None and uniform_value(v) == 0)]
    if len(keep) == len(inputs) and len(inputs) > 1:
        return None
    if not keep:
        return inputs[0]
    if len(keep) == 1:
        return keep[0] if keep[0].dtype == root.dtype else None
    return ctx.make("AddN", keep, like=root.node)


def _slice_of_first_axis(node: Node, n: int) -> tuple[int, int] | None:
    """``[start, stop)`` of a ``StridedSliceGrad`` that fills one step-1 slice of axis 0 (length ``n``)."""
    if node.op_type != "StridedSliceGrad" or len(node.inputs) != 2:
        return None
    spec = node.attrs.get("spec")
    if not spec or len(spec) != 1 or spec[0][0] != "slice":
        return None
    _, start, stop, step = spec[0]
    if any(isinstance(v, tuple) for v in (start, stop, step)) or step not in (None, 1):
        return None
    begin, end, _ = slice(start, stop).indices(n)
    return (begin, max(begin, end))


@rule(Pat("AddN"))
def _slice_gradients_to_concat(root: Value, ctx: RewriteContext) -> Value | None:
    # The gradient of x[0:a], x[a:b], x[b:] ... summed back is those gradients side by side:
    # AddN(StridedSliceGrad(shape, g1, [0:a]), StridedSliceGrad(shape, g2, [a:b]), ...) -> concat(g1, g2, ...).
    inputs = root.node.inputs
    shape = _static_target(inputs[0].node.inputs[0]) if inputs[0].node.op_type == "StridedSliceGrad" else None
    if shape is None or not shape:
        return None
    pieces = []
    for v in inputs:
        if v.node.op_type != "StridedSliceGrad" or _static_target(v.node.inputs[0]) != shape:
            return None
        span = _slice_of_first_axis(v.node, shape[0])
        if span is None:
            return None
        pieces.append((span, v.node.inputs[1]))
    by_span: dict[tuple[int, int], list[Value]] = {}
    for span, g in pieces:  # gradients of the same slice add up first (in the order AddN had them)
        by_span.setdefault(span, []).append(g)
    at = 0
    parts = []
    for (begin, end), gs in sorted(by_span.items()):
        if begin != at:
            return None
        if end > begin:
            parts.append(gs[0] if len(gs) == 1 else ctx.make("AddN", gs, like=gs[0].node))
        at = end
    if at != shape[0] or len(parts) < 2:
        return None
    joined = ctx.make("ConcatV2", parts, {"axis": 0}, like=root.node)
    if ctx.options.fast_math or not (root.dtype.is_floating or root.dtype.is_complex):
        return joined
    # The AddN added every gradient to the other slices' zeros (+0.0), which turns a -0.0 into
    # +0.0 and changes nothing else: one + 0.0 keeps the concatenation bitwise equal to it.
    return ctx.make("Add", [joined, ctx.const(0, root.dtype, like=root.node)], like=root.node)


@rule(Pat("Select", Pat.var("c"), Pat.var("x"), Pat.var("x")))
def _select_same(x: Value, c: Value, ctx: RewriteContext) -> Value | None:
    return x if covers(x, c, ctx.shape_memo) else None


ALGEBRAIC = PatternMatcher(
    [
        _mul_one,
        _add_zero,
        _sub_zero_div_one,
        _zero_minus,
        _mul_minus_one,
        _mul_zero,
        _neg_neg,
        _neg_fill,
        _neg_times_neg,
        _log_exp,
        _exp_log,
        _reshape_reshape,
        _transpose_identity,
        _transpose_transpose,
        _sum_of_broadcast,
        _reduce_sum_of_broadcast,
        _implicit_broadcast,
        _add_n_zeros,
        _slice_gradients_to_concat,
        _select_same,
    ]
)

# The tables by pass name (``compiler.Options.passes``); users register theirs here too.
RULES = RuleDatabase([("runtime", RUNTIME, ()), ("fold", FOLD, ()), ("algebraic", ALGEBRAIC, ())])


# --- dead code and common subexpressions --------------------------------------------------------------
def eliminate_dead_code(program: Program) -> int:
    """Drop nodes that no output, target, stateful or awaited node needs; returns how many were dropped.

    Stateful nodes that made it into the program are kept: the user's run executed them
    (variable reads raise for uninitialized variables, assignments have effects).
    """
    roots = [v.node for v in program.outputs] + list(program.targets) + [n for n in program.nodes if n.stateful]
    roots += program.awaited  # control inputs run even when what waited for them was rewritten away
    live = reachable(roots, lambda node: [*(v.node for v in node.inputs), *node.control])
    before = len(program.nodes)
    program.nodes = [n for n in program.nodes if n in live]
    return before - len(program.nodes)


def drop_unread_loop_history(program: Program) -> int:
    """Stop loops recording their iterations where nothing reads the record; returns how many.

    A ``while_loop`` with ``back_prop`` has outputs for its gradient (each iteration's loop
    variables); a run that fetches only the loop's values need not keep or stack them.
    """
    read = {*program.outputs, *(v for n in program.nodes for v in n.inputs)}
    dropped = 0
    for node in program.nodes:
        if node.op_type != "While" or not node.attrs["record"] or not node.attrs.get("history_read", True):
            continue
        if not any(v in read for v in node.outputs[node.attrs["num_vars"] :]):
            node.attrs = {**node.attrs, "history_read": False}
            dropped += 1
    return dropped


def _freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.size > 4096:
            raise TypeError("too large to compare")
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    hash(value)
    return value


def merge_common_subexpressions(program: Program) -> int:
    """Merge pure nodes with the same type, inputs and attributes; returns how many were merged."""
    seen: dict[Any, Node] = {}
    replace: dict[Value, Value] = {}
    out: list[Node] = []
    touched: set[Node] = set()
    for node in program.nodes:
        if replace and remap_inputs(node, replace):
            touched.add(node)
        key = None
        if not node.stateful and node.op_type not in (FEED, "Fused") and not node.control:
            try:
                attrs = tuple(sorted((k, _freeze(v)) for k, v in node.attrs.items())) if node.attrs else ()
                # Values compare by identity, so the inputs tuple itself is the key (no copy per node).
                key = (node.op_type, node.inputs, attrs, node.kernel)
                first = seen.get(key)
            except TypeError:
                key = first = None
            if first is not None:
                for a, b in zip(node.outputs, first.outputs):
                    replace[a] = b
                continue
            if key is not None:
                seen[key] = node
        out.append(node)
    merged = len(program.nodes) - len(out)
    program.nodes = out
    if program.dirty is not None:
        program.dirty |= touched
    if replace:
        finish_replacements(program, replace)
    return merged
