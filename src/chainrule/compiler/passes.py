"""The passes: dead-code elimination, common-subexpression merging, and the rule tables.

Rule tables (run to a fixed point by ``patterns.rewrite_program``), by tag:

- ``runtime``: ops that only matter while building graphs or that are identities here:
  ``Identity``/``StopGradient`` removal, ``SumToShape``/``BroadcastTo``/``Reshape`` to the
  shape the value already has, and ``SumToShape(x, Shape(y))`` (what gradients of
  broadcasting ops insert) turned into a node that compares two shapes and returns ``x``.
- ``fold``: constant folding (pure ops whose inputs are all constants; output size capped),
  and ``Shape``/``Size``/``Rank`` of statically known shapes.
- ``algebraic``: ``x*1``, ``x+0``, ``x-0``, ``0-x``, ``x/1``, ``x*-1``, ``--x``, ``log(exp x)``,
  ``exp(log x)`` for ``x >= 0``, reshape of reshape, transposes that cancel, sums of
  broadcasts, ``AddN`` of zeros, ``-fill(c)``; ``0*x -> zeros`` only with ``assume_finite``
  (it turns ``0*inf`` and ``0*nan`` into 0).

Rewrites that depend on shapes fire only when static shapes, or the symbolic shape
classes of ``shape_class`` (values known to share a run-time shape), prove them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.compiler.ir import FEED, Node, Program, Value
from chainrule.compiler.patterns import (
    Match,
    Pat,
    broadcasts_into,
    const_value,
    finish_replacements,
    remap_inputs,
    rewrite,
    same_static_shape,
    uniform_value,
)
from chainrule.framework.graph import reachable
from chainrule.ops.registry import get_op_def

# Elementwise ops of one input whose output has the input's shape (for shape classes and fusion).
UNARY_SAME_SHAPE = frozenset(
    "Neg Abs Sign Square Sqrt Rsqrt Reciprocal Exp Expm1 Log Log1p Sin Cos Tan Asin Acos Atan Sinh Cosh Tanh "
    "Sigmoid Softplus Erf Floor Ceil Round LogicalNot Relu Elu LeakyRelu Cast Identity StopGradient".split()
)
BINARY_BROADCAST = frozenset(
    "Add Sub Mul RealDiv FloorDiv FloorMod Maximum Minimum Pow Atan2 SquaredDifference Equal NotEqual Less "
    "LessEqual Greater GreaterEqual LogicalAnd LogicalOr".split()
)


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
    if t in UNARY_SAME_SHAPE and node.inputs:
        rep = shape_class(node.inputs[0], memo, depth)
    elif t in BINARY_BROADCAST and len(node.inputs) == 2:
        a, b = node.inputs
        if covers(a, b, memo, depth):
            rep = shape_class(a, memo, depth)
        elif covers(b, a, memo, depth):
            rep = shape_class(b, memo, depth)
    elif t in ("Fill", "Reshape", "BroadcastTo", "SumToShape") and len(node.inputs) == 2:
        dims = node.inputs[0] if t == "Fill" else node.inputs[1]
        if dims.node.op_type == "Shape":
            rep = shape_class(dims.node.inputs[0], memo, depth)
    elif t in ("SumToShapeOf", "BroadcastToShapeOf"):
        rep = shape_class(node.inputs[1], memo, depth)
    elif t == "Select" and len(node.inputs) == 3:
        c, a, b = node.inputs
        if covers(a, c, memo, depth) and covers(a, b, memo, depth):
            rep = shape_class(a, memo, depth)
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


def _memo(m: Match) -> dict[Value, Value]:
    return m.ctx.__dict__.setdefault("shape_memo", {})


# --- runtime: identities at run time -----------------------------------------------------------------
@rewrite(Pat(("Identity", "StopGradient"), Pat.var("x")), tags=("runtime",))
def _identity(m: Match) -> Value:
    return m.x


@rewrite(Pat("Cast", Pat.var("x")), tags=("runtime",))
def _cast_same(m: Match) -> Value | None:
    return m.x if m.x.dtype == m.root.dtype else None


def _static_target(shape_value: Value) -> tuple[int, ...] | None:
    value = const_value(shape_value)
    if value is not None:
        return tuple(int(d) for d in np.ravel(value))
    if shape_value.node.op_type == "Shape" and shape_value.node.inputs[0].shape.is_fully_defined():
        return tuple(shape_value.node.inputs[0].shape.dims)  # type: ignore[arg-type]
    return None


def _shape_is(x: Value, shape_value: Value, m: Match) -> bool:
    """Proof that ``x`` already has the shape that the 1-D tensor ``shape_value`` holds."""
    target = _static_target(shape_value)
    if target is not None and -1 not in target:
        return x.shape.is_fully_defined() and tuple(x.shape.dims) == target  # type: ignore[arg-type]
    if shape_value.node.op_type == "Shape":
        return same_shape(x, shape_value.node.inputs[0], _memo(m))
    return False


@rewrite(Pat(("SumToShape", "BroadcastTo", "Reshape"), Pat.var("x"), Pat.var("s")), tags=("runtime",))
def _to_own_shape(m: Match) -> Value | None:
    return m.x if m.x.dtype == m.root.dtype and _shape_is(m.x, m.s, m) else None


def _sum_to_shape_of(xp: Any, x: Any, y: Any) -> Any:
    """``SumToShape(x, shape(y))`` with the common case (equal shapes) as one comparison."""
    if x.shape == y.shape:
        return x
    from chainrule.ops.broadcast_ops import sum_to_shape_kernel

    return sum_to_shape_kernel(xp, x, y.shape)


def _broadcast_to_shape_of(xp: Any, x: Any, y: Any) -> Any:
    if x.shape == y.shape:
        return x
    return xp.broadcast_to(x, y.shape)


@rewrite(Pat("SumToShape", Pat.var("x"), Pat("Shape", Pat.var("y"))), tags=("runtime",))
def _sum_to_shape_of_value(m: Match) -> Value:
    return m.ctx.make("SumToShapeOf", [m.x, m.y], like=m.node, kernel=_sum_to_shape_of)


@rewrite(Pat("BroadcastTo", Pat.var("x"), Pat("Shape", Pat.var("y"))), tags=("runtime",))
def _broadcast_to_shape_of_value(m: Match) -> Value | None:
    if m.x.shape.rank is not None and m.y.shape.rank is not None and m.x.shape.rank > m.y.shape.rank:
        return None
    return m.ctx.make("BroadcastToShapeOf", [m.x, m.y], like=m.node, kernel=_broadcast_to_shape_of)


# --- fold: constants ----------------------------------------------------------------------------------
_NEVER_FOLD = frozenset([FEED, "Const", "Placeholder", "NoOp", "Fused"])


def _foldable(v: Value) -> bool:
    node = v.node
    if node.stateful or node.op_type in _NEVER_FOLD or node.kernel is not None or len(node.outputs) != 1:
        return False
    return all(x.node.op_type == "Const" for x in node.inputs)


@rewrite(Pat(None, pred=_foldable), tags=("fold",))
def _fold_constants(m: Match) -> Value | None:
    node = m.node
    limit = m.ctx.options.fold_max_elements
    out = m.root
    if out.shape.is_fully_defined() and out.shape.num_elements() > limit:
        return None
    try:
        with np.errstate(all="ignore"):
            result = get_op_def(node.op_type).kernel(np, *(x.node.attrs["value"] for x in node.inputs), **node.attrs)
    except Exception:  # noqa: BLE001 - leave the op in place: it will raise, with its name, at run time
        return None
    if isinstance(result, (tuple, list)):
        return None
    arr = np.asarray(result)
    if arr.size > limit or arr.dtype != out.dtype.as_numpy_dtype or not out.shape.is_compatible_with(arr.shape):
        return None
    return m.ctx.const(arr, out.dtype, like=node)


@rewrite(Pat(("Shape", "Size", "Rank"), Pat.var("x")), tags=("fold",))
def _fold_static_shape(m: Match) -> Value | None:
    shape = m.x.shape
    t = m.node.op_type
    if t == "Rank":
        return None if shape.rank is None else m.ctx.const(shape.rank, m.root.dtype, like=m.node)
    if not shape.is_fully_defined():
        return None
    value = shape.as_list() if t == "Shape" else shape.num_elements()
    return m.ctx.const(value, m.root.dtype, like=m.node)


# --- algebraic simplification ------------------------------------------------------------------------
def _keeps(m: Match, x: Value, other: Value) -> bool:
    """``x op other`` has ``x``'s shape and dtype, so the op may be replaced by ``x`` (or an op of ``x``)."""
    return x.dtype == m.root.dtype and covers(x, other, _memo(m))


@rewrite(Pat("Mul", Pat.var("x"), Pat.const(1, name="c"), commutative=True))
def _mul_one(m: Match) -> Value | None:
    return m.x if _keeps(m, m.x, m.c) else None


@rewrite(Pat("Add", Pat.var("x"), Pat.const(0, name="c"), commutative=True))
def _add_zero(m: Match) -> Value | None:
    return m.x if _keeps(m, m.x, m.c) else None


@rewrite(Pat(("Sub", "RealDiv"), Pat.var("x"), Pat.var("c")))
def _sub_zero_div_one(m: Match) -> Value | None:
    u = uniform_value(m.c)
    neutral = 0 if m.node.op_type == "Sub" else 1
    return m.x if u is not None and u == neutral and _keeps(m, m.x, m.c) else None


@rewrite(Pat("Sub", Pat.const(0, name="c"), Pat.var("x")))
def _zero_minus(m: Match) -> Value | None:
    return m.ctx.make("Neg", [m.x], like=m.node) if _keeps(m, m.x, m.c) else None


@rewrite(Pat("Mul", Pat.var("x"), Pat.const(-1, name="c"), commutative=True))
def _mul_minus_one(m: Match) -> Value | None:
    return m.ctx.make("Neg", [m.x], like=m.node) if _keeps(m, m.x, m.c) else None


@rewrite(Pat("Mul", Pat.var("x"), Pat.const(0, name="c"), commutative=True))
def _mul_zero(m: Match) -> Value | None:
    # 0 * inf and 0 * nan are nan, so this only holds when values are known to be finite.
    if not m.ctx.options.assume_finite or not covers(m.c, m.x, _memo(m)) or m.root.dtype != m.c.dtype:
        return None
    return m.c if same_static_shape(m.c.shape, m.root.shape) or covers(m.c, m.x, _memo(m)) else None


@rewrite(Pat("Neg", Pat("Neg", Pat.var("x"))))
def _neg_neg(m: Match) -> Value:
    return m.x


@rewrite(Pat("Neg", Pat("Fill", Pat.var("dims"), Pat.var("c", pred=lambda v: v.node.op_type == "Const"))))
def _neg_fill(m: Match) -> Value:
    minus = m.ctx.const(-const_value(m.c), m.c.dtype, like=m.c.node)
    return m.ctx.make("Fill", [m.dims, minus], like=m.node)


@rewrite(Pat("Mul", Pat("Neg", Pat.var("x")), Pat("Neg", Pat.var("y"))))
def _neg_times_neg(m: Match) -> Value:
    return m.ctx.make("Mul", [m.x, m.y], like=m.node)


@rewrite(Pat("Log", Pat("Exp", Pat.var("x"))))
def _log_exp(m: Match) -> Value:
    return m.x  # exact where exp does not overflow, and right (x) where it does


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


@rewrite(Pat("Exp", Pat("Log", Pat.var("x", pred=_non_negative))))
def _exp_log(m: Match) -> Value:
    return m.x  # exp(log 0) = exp(-inf) = 0, so x >= 0 is enough


@rewrite(Pat("Reshape", Pat("Reshape", Pat.var("x"), Pat.var("s1")), Pat.var("s2")))
def _reshape_reshape(m: Match) -> Value:
    return m.ctx.make("Reshape", [m.x, m.s2], m.node.attrs, like=m.node)


def _perm(node: Node) -> tuple[int, ...] | None:
    perm = node.attrs.get("perm")
    rank = node.inputs[0].shape.rank
    if perm is None:
        return None if rank is None else tuple(reversed(range(rank)))
    return tuple(p % len(perm) for p in perm)


@rewrite(Pat("Transpose", Pat.var("x")))
def _transpose_identity(m: Match) -> Value | None:
    perm = _perm(m.node)
    return m.x if perm is not None and perm == tuple(range(len(perm))) else None


@rewrite(Pat("Transpose", Pat("Transpose", Pat.var("x"), name="inner")))
def _transpose_transpose(m: Match) -> Value | None:
    p1, p2 = _perm(m.inner.node), _perm(m.node)
    if p1 is None or p2 is None or len(p1) != len(p2):
        return None
    composed = tuple(p1[i] for i in p2)
    if composed == tuple(range(len(composed))):
        return m.x
    return m.ctx.make("Transpose", [m.x], {"perm": composed}, like=m.node)


def _broadcast_factor(x: Value, b: Value) -> int | None:
    if not (x.shape.is_fully_defined() and b.shape.is_fully_defined()):
        return None
    n_x, n_b = x.shape.num_elements(), b.shape.num_elements()
    return n_b // n_x if n_x and n_b % n_x == 0 else None


def _scaled(m: Match, x: Value, factor: int) -> Value:
    if factor == 1:
        return x
    return m.ctx.make("Mul", [x, m.ctx.const(factor, x.dtype, like=m.node)], like=x.node, spec=(x.dtype, x.shape))


@rewrite(
    Pat("SumToShape", Pat(("BroadcastTo", "BroadcastToShapeOf"), Pat.var("x"), Pat.var("s"), name="b"), Pat.var("t"))
)
def _sum_of_broadcast(m: Match) -> Value | None:
    # Summing a broadcast copy back to the original shape multiplies by the number of copies.
    if not _shape_is(m.x, m.t, m) or not m.x.dtype.is_floating:
        return None
    factor = _broadcast_factor(m.x, m.b)
    return None if factor is None else _scaled(m, m.x, factor)


@rewrite(Pat("Sum", Pat(("BroadcastTo", "BroadcastToShapeOf"), Pat.var("x"), Pat.var("s"), name="b")))
def _reduce_sum_of_broadcast(m: Match) -> Value | None:
    if m.node.attrs.get("axis") is not None or m.node.attrs.get("keepdims") or not m.x.dtype.is_floating:
        return None
    factor = _broadcast_factor(m.x, m.b)
    if factor is None:
        return None
    total = m.ctx.make("Sum", [m.x], {"axis": None, "keepdims": False}, like=m.node)
    return _scaled(m, total, factor)


@rewrite(Pat(BINARY_BROADCAST, Pat.var("a"), Pat.var("b")))
def _implicit_broadcast(m: Match) -> Value | None:
    # op(broadcast_to(x, s), y) -> op(x, y) when y already has the shape s: the op broadcasts x itself,
    # and the broadcast view (and the op that made it) disappears from the program.
    for i, (v, other) in enumerate(((m.a, m.b), (m.b, m.a))):
        t = v.node.op_type
        if t not in ("BroadcastTo", "BroadcastToShapeOf"):
            continue
        x = v.node.inputs[0]
        if x.dtype == v.dtype and same_shape(other, v, _memo(m)) and same_shape(m.root, v, _memo(m)):
            inputs = [x, other] if i == 0 else [other, x]
            return m.ctx.make(m.node.op_type, inputs, m.node.attrs, like=m.node)
    return None


@rewrite(Pat("AddN"))
def _add_n_zeros(m: Match) -> Value | None:
    inputs = m.node.inputs
    keep = [v for v in inputs if not (uniform_value(v) is not None and uniform_value(v) == 0)]
    if len(keep) == len(inputs) and len(inputs) > 1:
        return None
    if not keep:
        return inputs[0]
    if len(keep) == 1:
        return keep[0] if keep[0].dtype == m.root.dtype else None
    return m.ctx.make("AddN", keep, like=m.node)


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


@rewrite(Pat("AddN"))
def _slice_gradients_to_concat(m: Match) -> Value | None:
    # The gradient of x[0:a], x[a:b], x[b:] ... summed back is those gradients side by side:
    # AddN(StridedSliceGrad(shape, g1, [0:a]), StridedSliceGrad(shape, g2, [a:b]), ...) -> concat(g1, g2, ...).
    inputs = m.node.inputs
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
            parts.append(gs[0] if len(gs) == 1 else m.ctx.make("AddN", gs, like=gs[0].node))
        at = end
    if at != shape[0] or len(parts) < 2:
        return None
    return m.ctx.make("ConcatV2", parts, {"axis": 0}, like=m.node)


@rewrite(Pat("Select", Pat.var("c"), Pat.var("x"), Pat.var("x")))
def _select_same(m: Match) -> Value | None:
    return m.x if covers(m.x, m.c, _memo(m)) else None


# --- dead code and common subexpressions --------------------------------------------------------------
def eliminate_dead_code(program: Program) -> int:
    """Drop nodes that no output, target or stateful node needs; returns how many were dropped.

    Stateful nodes that made it into the program are kept: the user's run executed them
    (variable reads raise for uninitialized variables, assignments have effects).
    """
    roots = [v.node for v in program.outputs] + list(program.targets) + [n for n in program.nodes if n.stateful]
    live = reachable(roots, lambda node: [*(v.node for v in node.inputs), *node.control])
    before = len(program.nodes)
    program.nodes = [n for n in program.nodes if n in live]
    return before - len(program.nodes)


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
                key = (node.op_type, tuple(map(_value_key, node.inputs)), attrs, node.kernel)
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


def _value_key(v: Value) -> tuple[int, int]:
    return (id(v.node), v.index)
