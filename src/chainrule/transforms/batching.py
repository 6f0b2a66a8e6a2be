"""``cr.vmap``: vectorize a per-example function over a leading axis, as a graph-to-graph transform.

``vmap(f)`` traces ``f`` once on *one* example (placeholders of the per-example shapes, in a
graph of its own), then rewrites that graph op by op into the caller's graph with a batch
axis in front: every tensor of the per-example graph becomes either a *batched* tensor (batch
axis 0) or an *unbatched* one (it does not depend on any mapped input). An op whose inputs are
all unbatched is copied as it is; otherwise its batching rule builds the batched op(s):
elementwise ops align ranks and broadcast, reductions and axis-taking ops shift their axes,
reshapes and slices get the batch dimension prepended, gathers fold the batch into their
indices, and so on. An op without a rule raises ``UnimplementedError`` naming it.

Because ``f`` may itself call transforms (``cr.jacobian``, ``cr.grad``, ``cr.jvp``), their
derivative graphs are batched too: ``cr.vmap(cr.jacobian(f))`` computes the Jacobians of many
small independent problems in one batched pass per row or column instead of a Python loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.framework import errors
from chainrule.framework.graph import FunctionGraph, Operation, Tensor, function_bodies, is_tensor_like, reachable
from chainrule.framework.tensor_shape import TensorShape

# conv_ops and nn_ops are imported for their declarations: their batching rules are registered here.
from chainrule.ops import (  # noqa: F401
    array_ops,
    control_flow_ops,
    conv_ops,
    indexing_ops,
    linalg_ops,
    math_ops,
    nn_ops,
    reduction_ops,
)
from chainrule.ops.constant_op import constant, convert_to_tensor, placeholder
from chainrule.ops.registry import OpDef, apply_op, constant_value, get_op_def, register_batch_rule
from chainrule.ops.shape_rules import known_dims
from chainrule.transforms import pytree
from chainrule.transforms.function import Function

# A batching rule: ``rule(ctx, op, inputs, batched) -> [(tensor, batched) per output]`` where
# ``inputs`` are the op's inputs already moved to the outer graph (batch axis 0 where batched).
# Rules are part of the op's declaration (``OpDef.batch``); the ones below are registered onto it.
BatchRule = Callable[..., Sequence[tuple[Tensor, bool]]]


class BatchContext:
    """The batch being built: its size (static when known) and helpers the rules share."""

    def __init__(self, size: int | None, size_from: Tensor) -> None:
        self.size = size
        self._size_from = size_from
        self._size_tensor: Tensor | None = None

    def size_vector(self) -> Tensor:
        """``[B]`` as an int32 vector (a constant when B is static)."""
        if self.size is not None:
            return constant(np.array([self.size], dtype=np.int32))
        if self._size_tensor is None:
            self._size_tensor = array_ops.shape(self._size_from)[0:1]
        return self._size_tensor

    def materialize(self, t: Tensor, batched: bool) -> Tensor:
        """``t`` with a batch axis: unbatched values are broadcast to ``[B] + shape``."""
        if batched:
            return t
        t = t[None]
        if self.size is not None and t.shape.is_fully_defined():
            return array_ops.broadcast_to(t, [self.size] + t.shape.as_list()[1:])
        return array_ops.broadcast_to(t, array_ops.concat([self.size_vector(), array_ops.shape(t)[1:]], 0))

    def prepend_batch(self, shape: Tensor, fill: int | None = None) -> Tensor:
        """A shape vector with ``B`` (or ``fill``) in front, as static as the inputs allow."""
        value = constant_value(shape)
        if value is not None:
            dims = [int(d) for d in np.ravel(value)]
            if fill is not None or self.size is not None:
                return constant(np.array([self.size if fill is None else fill, *dims], dtype=np.int32))
            # A Pack of the dynamic size and constants: shape inference still sees the known dims.
            return array_ops.stack([self.size_vector()[0], *(constant(np.int32(d)) for d in dims)])
        head = self.size_vector() if fill is None else constant(np.array([fill], dtype=np.int32))
        shape = math_ops.cast(shape, head.dtype) if shape.dtype != head.dtype else shape
        return array_ops.concat([head, shape], 0)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _rank(t: Tensor, batched: bool, op: Operation) -> int:
    rank = t.shape.rank
    if rank is None:
        raise errors.UnimplementedError(None, op, f"cr.vmap needs the ranks of the inputs of {op.describe()}")
    return rank - 1 if batched else rank


def _reapply(op: Operation, inputs: Sequence[Tensor], **changes: Any) -> tuple[Tensor, ...]:
    """The op again on other inputs (attributes changed as given), keeping its gradient override."""
    attrs = op.kernel_attrs
    attrs.update(changes)
    override = op.gradient_op_type if op.gradient_overridden else None
    return apply_op(op.type, list(inputs), attrs, gradient_op_type=override).outputs


def _all_batched(outs: Sequence[Tensor]) -> list[tuple[Tensor, bool]]:
    return [(t, True) for t in outs]


def _align(t: Tensor, batched: bool, per_rank: int, out_rank: int) -> Tensor:
    """A batched tensor with size-1 axes inserted after the batch axis, up to ``out_rank`` per example."""
    if not batched or per_rank >= out_rank:
        return t
    return t[(slice(None),) + (None,) * (out_rank - per_rank)]


def _unsupported(op: Operation, why: str) -> errors.UnimplementedError:
    return errors.UnimplementedError(None, op, f"cr.vmap cannot batch {op.describe()}: {why}")


def _need_unbatched(op: Operation, batched: Sequence[bool], indices: Sequence[int], what: str) -> None:
    if any(batched[i] for i in indices):
        raise _unsupported(op, f"its {what} differs between examples (batching it is not supported)")


def _norm(axis: int, rank: int) -> int:
    return axis % rank if rank else axis


# --------------------------------------------------------------------------------------------
# elementwise
# --------------------------------------------------------------------------------------------
def _elementwise(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    ranks = [_rank(t, b, op) for t, b in zip(inputs, batched)]
    out_rank = max(ranks)
    aligned = [_align(t, b, r, out_rank) for t, b, r in zip(inputs, batched, ranks)]
    return _all_batched(_reapply(op, aligned))


def _same_shape_elementwise(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    """Ops whose inputs must have equal shapes: give every input the batch axis."""
    return _all_batched(_reapply(op, [ctx.materialize(t, b) for t, b in zip(inputs, batched)]))


def _by_loop(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    """The fallback for ops without a rule (custom ops): the op once per example, results stacked."""
    if ctx.size is None:
        raise errors.UnimplementedError(
            None,
            op,
            f"cr.vmap: no batching rule for op type '{op.type}' ({op.describe()}), and the batch size is not "
            "known statically, so it cannot be batched by a loop; register a rule with "
            "cr.transforms.batching.register_batch_rule",
        )
    per_example = [_reapply(op, [t[i] if b else t for t, b in zip(inputs, batched)]) for i in range(ctx.size)]
    return [(array_ops.stack([outs[k] for outs in per_example]), True) for k in range(len(op.outputs))]


def batch_rule(op_def: OpDef) -> BatchRule:
    """The rule ``cr.vmap`` uses for an op: its declared one, elementwise batching, or a loop."""
    if op_def.batch is not None:
        return op_def.batch
    return _elementwise if op_def.elementwise is not None else _by_loop


register_batch_rule("AddN", _same_shape_elementwise)


def _changes_state(op: Operation) -> bool:
    return get_op_def(op.type).stateful and op.type not in ("Placeholder", "ReadVariable")


def _control_flow_by_loop(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    """A cond or loop whose inputs differ between examples: each example takes its own branch or trip count.

    Run once per example, a side effect in a branch or body would happen once per example, which
    no per-example function means; such functions are refused as other stateful ops are.
    """
    # The first op in the functions ``op`` runs (at any depth) that changes state or draws random numbers.
    changer = control_flow_ops.find_in_functions(
        (inner for _, function_ops in function_bodies(op) for inner in function_ops), _changes_state
    )
    if changer is not None:
        raise _unsupported(
            op, f"it runs {changer.describe()}, and stateful ops (variables, random numbers) cannot be batched"
        )
    return _by_loop(ctx, op, inputs, batched)


register_batch_rule("If", _control_flow_by_loop)
register_batch_rule("While", _control_flow_by_loop)
register_batch_rule("SigmoidCrossEntropyWithLogits", _same_shape_elementwise)
register_batch_rule("SparseSoftmaxCrossEntropyWithLogits", _same_shape_elementwise)


def _bias_add(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    value, bias = inputs
    if not batched[1]:
        return _all_batched(_reapply(op, inputs))
    rank = _rank(value, batched[0], op)
    return [(math_ops.add(_align(value, batched[0], rank, rank), _align(bias, True, 1, rank)), True)]


register_batch_rule("BiasAdd", _bias_add)


# --------------------------------------------------------------------------------------------
# shape queries
# --------------------------------------------------------------------------------------------
def _per_example_shape(x: Tensor) -> TensorShape:
    return TensorShape(None) if x.shape.dims is None else TensorShape(x.shape.dims[1:])


def _shape(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    (x,) = inputs
    dtype = op.get_attr("out_type")
    per = _per_example_shape(x)
    if per.is_fully_defined():
        return [(constant(np.array(per.as_list(), dtype=dtype.as_numpy_dtype)), False)]
    return [(array_ops.shape(x, out_type=dtype)[1:], False)]


def _size(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    (x,) = inputs
    dtype = op.get_attr("out_type")
    per = _per_example_shape(x)
    if per.is_fully_defined():
        return [(constant(np.array(per.num_elements(), dtype=dtype.as_numpy_dtype)), False)]
    return [(reduction_ops.reduce_prod(array_ops.shape(x, out_type=dtype)[1:]), False)]


def _rank_rule(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    (x,) = inputs
    if x.shape.rank is not None:
        return [(constant(np.array(x.shape.rank - 1, dtype=np.int32)), False)]
    return [(array_ops.rank(x) - 1, False)]


register_batch_rule("Shape", _shape)
register_batch_rule("Size", _size)
register_batch_rule("Rank", _rank_rule)


# --------------------------------------------------------------------------------------------
# reductions and ops along an axis
# --------------------------------------------------------------------------------------------
def _reduce(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    (x,) = inputs
    rank = _rank(x, True, op)
    axis = op.get_attr("axis")
    axes = tuple(range(1, rank + 1)) if axis is None else tuple(_norm(a, rank) + 1 for a in axis)
    return _all_batched(_reapply(op, [x], axis=axes))


for _t in ("Sum", "Max", "Min", "Prod", "LogSumExpShift", "All", "Any"):
    register_batch_rule(_t, _reduce)


def _shift_axis(name: str = "axis", extra: int = 0, negative_ok: bool = False) -> BatchRule:
    """Ops with one int axis attribute (``extra``: the op's output has that many more axes)."""

    def rule(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
        rank = _rank(inputs[0], batched[0], op) + extra
        axis = op.get_attr(name)
        if negative_ok and axis < 0:
            new = axis
        else:
            new = _norm(axis, rank) + 1
        return _all_batched(_reapply(op, [ctx.materialize(t, b) for t, b in zip(inputs, batched)], **{name: new}))

    return rule


for _t in ("ArgMax", "ArgMin", "Cumsum", "Cumprod", "ShiftAlongAxis", "LinearScan", "Unpack", "Split"):
    register_batch_rule(_t, _shift_axis())
for _t in ("Softmax", "LogSoftmax", "SoftmaxCrossEntropyWithLogits"):
    register_batch_rule(_t, _shift_axis(negative_ok=True))
register_batch_rule("ExpandDims", _shift_axis(extra=1))


def _split_v(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [1], "size_splits")
    x, sizes = inputs
    rank = _rank(x, True, op)
    return _all_batched(_reapply(op, [x, sizes], axis=_norm(op.get_attr("axis"), rank) + 1))


def _pack(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    rank = _rank(inputs[0], batched[0], op) + 1
    xs = [ctx.materialize(t, b) for t, b in zip(inputs, batched)]
    return _all_batched(_reapply(op, xs, axis=_norm(op.get_attr("axis"), rank) + 1))


def _concat(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    rank = _rank(inputs[0], batched[0], op)
    xs = [ctx.materialize(t, b) for t, b in zip(inputs, batched)]
    return _all_batched(_reapply(op, xs, axis=_norm(op.get_attr("axis"), rank) + 1))


def _reverse(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    rank = _rank(inputs[0], True, op)
    return _all_batched(_reapply(op, inputs, axis=tuple(_norm(a, rank) + 1 for a in op.get_attr("axis"))))


def _transpose(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    rank = _rank(inputs[0], True, op)
    perm = op.get_attr("perm")
    perm = tuple(reversed(range(rank))) if perm is None else perm
    return _all_batched(_reapply(op, inputs, perm=(0,) + tuple(_norm(p, rank) + 1 for p in perm)))


def _squeeze(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    (x,) = inputs
    rank = _rank(x, True, op)
    axis = op.get_attr("axis")
    if axis is None:
        per = _per_example_shape(x)
        if not per.is_fully_defined():
            raise _unsupported(op, "squeeze without axes needs the per-example shape")
        axis = tuple(i for i, d in enumerate(per.as_list()) if d == 1)
    return _all_batched(_reapply(op, [x], axis=tuple(_norm(a, rank) + 1 for a in axis)))


register_batch_rule("SplitV", _split_v)
register_batch_rule("Pack", _pack)
register_batch_rule("ConcatV2", _concat)
register_batch_rule("ReverseV2", _reverse)
register_batch_rule("Transpose", _transpose)
register_batch_rule("Squeeze", _squeeze)


# --------------------------------------------------------------------------------------------
# shapes given as tensors: prepend the batch dimension
# --------------------------------------------------------------------------------------------
def _reshape(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [1], "target shape")
    x, shape = inputs
    return [(array_ops.reshape(x, ctx.prepend_batch(shape)), True)]


def _shape_length(op: Operation, shape: Tensor, what: str) -> int:
    """How many entries the 1-D shape tensor ``shape`` has: the per-example rank it describes."""
    n = shape.shape[0] if shape.shape.rank == 1 else None
    if n is None:
        raise _unsupported(op, f"the length of the {what} must be known")
    return n


def _broadcast_to(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [1], "target shape")
    x, shape = inputs
    n = _shape_length(op, shape, "target shape")
    x = _align(x, True, _rank(x, True, op), n)
    return [(array_ops.broadcast_to(x, ctx.prepend_batch(shape)), True)]


def _sum_to_shape(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [1], "target shape")
    x, shape = inputs
    n = _shape_length(op, shape, "target shape")
    lead = _rank(x, True, op) - n  # per-example leading axes that un-broadcasting sums away
    target = ctx.prepend_batch(array_ops.concat([constant(np.ones(lead, np.int32)), shape], 0) if lead else shape)
    out = array_ops.sum_to_shape(x, target)
    if lead:
        out = array_ops.reshape(out, ctx.prepend_batch(shape))
    return [(out, True)]


def _fill(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [0], "shape")
    dims, value = inputs
    n = _shape_length(op, dims, "shape")
    return [(array_ops.broadcast_to(_align(value, True, 0, n), ctx.prepend_batch(dims)), True)]


def _tile(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [1], "multiples")
    x, multiples = inputs
    return [(array_ops.tile(x, ctx.prepend_batch(multiples, fill=1)), True)]


def _slice(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [1, 2], "begin or size")
    x, begin, size = inputs
    return [(indexing_ops.slice(x, ctx.prepend_batch(begin, fill=0), ctx.prepend_batch(size, fill=-1)), True)]


def _pad(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [1], "paddings")
    x, paddings, *rest = inputs
    value = constant_value(paddings)
    if value is not None:
        new = constant(np.concatenate([np.zeros((1, 2), value.dtype), value.reshape(-1, 2)]))
    else:
        new = array_ops.concat([constant(np.zeros((1, 2), dtype=paddings.dtype.as_numpy_dtype)), paddings], 0)
    if not (rest and batched[2]):
        return _all_batched(_reapply(op, [ctx.materialize(x, batched[0]), new, *rest]))
    # A padding value per example: pad with zeros, then add the value where the mask says "padding".
    if x.dtype.is_bool:
        raise _unsupported(op, "a bool padding value that differs between examples")
    x = ctx.materialize(x, batched[0])
    zero = constant(np.zeros((), x.dtype.as_numpy_dtype))
    base = _reapply(op, [x, new, zero])[0]
    mask = _reapply(op, [array_ops.zeros_like(x), new, constant(np.ones((), x.dtype.as_numpy_dtype))])[0]
    rank = _rank(x, True, op)
    return [(base + mask * _align(rest[0], True, 0, rank), True)]


register_batch_rule("Reshape", _reshape)
register_batch_rule("BroadcastTo", _broadcast_to)
register_batch_rule("SumToShape", _sum_to_shape)
register_batch_rule("Fill", _fill)
register_batch_rule("Tile", _tile)
register_batch_rule("Slice", _slice)
for _t in ("PadV2", "MirrorPad", "MirrorPadGrad"):
    register_batch_rule(_t, _pad)


# --------------------------------------------------------------------------------------------
# indexing
# --------------------------------------------------------------------------------------------
_FULL_SLICE = ("slice", None, None, None)


def _strided_slice(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, range(1, len(inputs)), "index")
    return _all_batched(_reapply(op, inputs, spec=(_FULL_SLICE, *op.get_attr("spec"))))


def _strided_slice_grad(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [0] + list(range(2, len(inputs))), "shape or index")
    shape, g, *index = inputs
    g = ctx.materialize(g, batched[1])
    return _all_batched(_reapply(op, [ctx.prepend_batch(shape), g, *index], spec=(_FULL_SLICE, *op.get_attr("spec"))))


def _with_batch_index(ctx: BatchContext, op: Operation, indices: Tensor, batched: bool) -> Tensor:
    """Batched multi-indices ``[B, ..., 1 + k]``: each example's position in the batch, then its own index."""
    full = ctx.materialize(indices, batched)
    rank = 1 + _rank(full, True, op)
    np_dtype = full.dtype.as_numpy_dtype
    if ctx.size is not None:
        b = constant(np.arange(ctx.size, dtype=np_dtype).reshape([-1] + [1] * (rank - 1)))
    else:
        b = array_ops.reshape(
            array_ops.range(0, ctx.size_vector()[0], dtype=full.dtype),
            constant(np.array([-1] + [1] * (rank - 1), np.int32)),
        )
    if full.shape.is_fully_defined():
        target: Any = full.shape.as_list()[:-1] + [1]
    else:
        target = array_ops.concat([array_ops.shape(full)[:-1], constant(np.array([1], np.int32))], 0)
    return array_ops.concat([array_ops.broadcast_to(b, target), full], -1)


def _gather_nd(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    params, indices = inputs
    if not batched[0]:
        return _all_batched(_reapply(op, inputs))  # each example's indices into the shared params
    return _all_batched(_reapply(op, [params, _with_batch_index(ctx, op, indices, batched[1])]))


def _scatter_as_gather(ctx: BatchContext, indices: Tensor, updates: Tensor, shape: Tensor) -> Tensor | None:
    """A scatter of batched updates at constant, distinct indices, as a gather (no accumulation needed).

    This is the gradient of a gather at constant indices (a permutation, say): every output row
    receives at most one update, so ``out[b, i] = updates[b, inv[i]]`` with a zero row for the
    indices nobody writes. Much faster than an accumulating scatter over a batch.
    """
    idx, shape_value = constant_value(indices), constant_value(shape)
    if idx is None or shape_value is None or idx.ndim == 0:
        return None
    k = idx.shape[-1]
    dims = [int(d) for d in shape_value]
    if k == 0 or k > len(dims) or idx.size == 0:
        return None
    flat = idx.reshape(-1, k).astype(np.int64)
    if (flat < 0).any() or (flat >= np.array(dims[:k])).any():
        return None  # let the op report the bad index
    lin = np.ravel_multi_index(tuple(flat.T), dims[:k])
    if len(np.unique(lin)) != lin.size:
        return None
    rows, rest = int(np.prod(dims[:k])), dims[k:]
    m = lin.size
    inv = np.full(rows, m, dtype=np.int32)
    inv[lin] = np.arange(m, dtype=np.int32)
    source = array_ops.reshape(updates, ctx.prepend_batch(constant(np.array([m, *rest], np.int32))))
    if m < rows:  # a zero row for the positions nobody writes
        pads = np.zeros((2 + len(rest), 2), np.int32)
        pads[1, 1] = 1
        source = array_ops.pad(source, pads)
    out = indexing_ops.gather(source, inv, axis=1)
    return array_ops.reshape(out, ctx.prepend_batch(constant(np.array(dims, np.int32))))


def _scatter_nd(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [2], "output shape")
    indices, updates, shape = inputs
    if not batched[0]:
        fast = _scatter_as_gather(ctx, indices, updates, shape)
        if fast is not None:
            return [(fast, True)]
    full = _with_batch_index(ctx, op, indices, batched[0])
    return _all_batched(_reapply(op, [full, ctx.materialize(updates, batched[1]), ctx.prepend_batch(shape)]))


def _gather(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    params, indices = inputs
    axis = op.get_attr("axis")
    p_rank = _rank(params, batched[0], op)
    i_rank = _rank(indices, batched[1], op)
    axis = _norm(axis, p_rank)
    if batched[0] and not batched[1]:
        return _all_batched(_reapply(op, inputs, axis=axis + 1))
    if not batched[0]:
        out = _reapply(op, inputs)[0]  # the batch axis lands at position ``axis``
        if axis:
            perm = [axis, *range(axis), *range(axis + 1, p_rank + i_rank)]
            out = array_ops.transpose(out, perm)
        return [(out, True)]
    # Both batched: gather along ``axis`` with each example's own indices, as a gather_nd over
    # (batch position, index) after moving ``axis`` next to the batch axis.
    moved = params
    if axis:
        moved = array_ops.transpose(params, [0, axis + 1, *range(1, axis + 1), *range(axis + 2, p_rank + 1)])
    out = indexing_ops.gather_nd(moved, _with_batch_index(ctx, op, indices[..., None], True))  # [B, idx, before, after]
    if axis:
        start = 1 + i_rank
        perm = [0, *range(start, start + axis), *range(1, start), *range(start + axis, p_rank + i_rank)]
        out = array_ops.transpose(out, perm)  # [B, before, idx, after]
    return [(out, True)]


def _one_hot(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    _need_unbatched(op, batched, [1], "depth")
    indices, depth, on, off = inputs
    axis = op.get_attr("axis")
    rank = _rank(indices, batched[0], op) + 1
    new_axis = axis if axis < 0 else _norm(axis, rank) + 1
    if not (batched[2] or batched[3]):
        return _all_batched(_reapply(op, [ctx.materialize(indices, batched[0]), depth, on, off], axis=new_axis))
    # Values per example: a bool one-hot, then a where between the aligned values.
    true, false = constant(np.array(True)), constant(np.array(False))
    mask = _reapply(op, [ctx.materialize(indices, batched[0]), depth, true, false], axis=new_axis)[0]
    on_b, off_b = (_align(t, b, 0, rank) for t, b in ((on, batched[2]), (off, batched[3])))
    return [(math_ops.where(mask, on_b, off_b), True)]


register_batch_rule("StridedSlice", _strided_slice)
register_batch_rule("StridedSliceGrad", _strided_slice_grad)
register_batch_rule("GatherNd", _gather_nd)
register_batch_rule("ScatterNd", _scatter_nd)
register_batch_rule("GatherV2", _gather)
register_batch_rule("OneHot", _one_hot)


# --------------------------------------------------------------------------------------------
# linear algebra
# --------------------------------------------------------------------------------------------
def _matrix_elementwise(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    """Ops on the last two axes with broadcasting leading axes (matmul, solves): align the ranks."""
    return _elementwise(ctx, op, inputs, batched)


def _leading_batch(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    """Ops that work on trailing axes and loop over any leading ones."""
    return _all_batched(_reapply(op, [ctx.materialize(t, b) for t, b in zip(inputs, batched)]))


def _einsum(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    ranks = tuple(_rank(t, b, op) for t, b in zip(inputs, batched))
    parsed = linalg_ops.parse_einsum(op.get_attr("equation"), ranks)
    if parsed is None:
        raise _unsupported(op, "einsum with '...' needs the ranks of its operands")
    subs, out = parsed
    used = set("".join(subs) + out)
    letter = next(c for c in linalg_ops.EINSUM_LETTERS if c not in used)
    terms = [letter + s if b else s for s, b in zip(subs, batched)]
    return [(linalg_ops.einsum(",".join(terms) + "->" + letter + out, *inputs), True)]


for _t in ("MatMul", "MatrixSolve", "MatrixTriangularSolve"):
    register_batch_rule(_t, _matrix_elementwise)
for _t in (
    "MatrixInverse",
    "Cholesky",
    "MatrixDeterminant",
    "LogMatrixDeterminant",
    "MatrixDiagPart",
    "MatrixDiag",
    "MatrixSetDiag",
    "MatrixBandPart",
    "LinalgMatrixTranspose",
    "SingularValues",
    "SvdVectors",
    "SelfAdjointEigV2",
):
    register_batch_rule(_t, _leading_batch)
register_batch_rule("Einsum", _einsum)


# --------------------------------------------------------------------------------------------
# images: fold the batch into the image batch axis N
# --------------------------------------------------------------------------------------------
def _fold_images(ctx: BatchContext, op: Operation, inputs: list[Tensor], batched: list[bool]) -> Any:
    if any(batched[1:]):
        raise _unsupported(op, "only the images may differ between examples, not the filters or sizes")
    x = inputs[0]
    if x.shape.rank != 5:
        raise _unsupported(op, "the images need a known rank")
    per = array_ops.shape(x)[1:] if not x.shape.is_fully_defined() else x.shape.as_list()[1:]
    if isinstance(per, list):
        flat = array_ops.reshape(x, [-1, *per[1:]])
    else:
        flat = array_ops.reshape(x, array_ops.concat([constant(np.array([-1], np.int32)), per[1:]], 0))
    (out,) = _reapply(op, [flat, *inputs[1:]])
    out_shape: Tensor | list[int] = array_ops.concat(
        [ctx.size_vector(), constant(np.array([-1], np.int32)), array_ops.shape(out)[1:]], 0
    )
    out_dims = known_dims(out.shape)
    if ctx.size is not None and out_dims is not None:
        out_shape = [ctx.size, -1, *out_dims[1:]]
    return [(array_ops.reshape(out, out_shape), True)]


for _t in ("Conv2D", "MaxPool", "AvgPool"):
    register_batch_rule(_t, _fold_images)


# --------------------------------------------------------------------------------------------
# the transform
# --------------------------------------------------------------------------------------------
def batch_graph(
    ops: Sequence[Operation],
    env: dict[Tensor, tuple[Tensor, bool]],
    ctx: BatchContext,
) -> None:
    """Rewrite ``ops`` (a per-example graph, in creation order) into the default graph, extending ``env``.

    ``env`` maps each per-example tensor to its outer tensor and whether it is batched.
    """
    for op in ops:
        if all(t in env for t in op.outputs):
            continue
        for t in op.inputs:
            if t not in env:
                raise ValueError(f"cr.vmap: {t.name} (an input of {op.describe()}) was not mapped")
        inputs = [env[t][0] for t in op.inputs]
        batched = [env[t][1] for t in op.inputs]
        if op.type == "Placeholder":
            raise ValueError(f"cr.vmap: the function created its own placeholder {op.describe()}")
        if get_op_def(op.type).stateful and get_op_def(op.type).batch is None:
            raise _unsupported(op, "stateful ops (variables, random numbers) cannot be batched")
        if not any(batched):
            outs = [(t, False) for t in _copy_or_fold(op, inputs)]
        else:
            outs = list(batch_rule(get_op_def(op.type))(ctx, op, inputs, batched))
        for t, (new, b) in zip(op.outputs, outs):
            env[t] = (new, b)


_FOLD_LIMIT = 4096  # elements: fold small per-example constants (shapes, indices), never big data


def _copy_or_fold(op: Operation, inputs: list[Tensor]) -> tuple[Tensor, ...]:
    """An op that no example changes: a constant when its (small) inputs are all known, else a copy.

    Folding lets the rules see constant indices and shapes (e.g. a scatter at constant indices
    becomes a gather), which per-example graphs are full of.
    """
    values = [v for v in (constant_value(t) for t in inputs) if v is not None]
    op_def = get_op_def(op.type)
    if (
        op.type != "Const"
        and len(values) == len(inputs)
        and sum(np.size(v) for v in values) <= _FOLD_LIMIT
        and not op_def.stateful
    ):
        try:
            result = op_def.kernel(np, *values, **op.kernel_attrs)
        except Exception:  # noqa: BLE001 - let the copied op report the error when it runs
            result = None
        if result is not None:
            results = result if len(op.outputs) > 1 else (result,)
            if all(np.size(r) <= _FOLD_LIMIT for r in results):
                return tuple(
                    constant(np.asarray(r, dtype=t.dtype.as_numpy_dtype).reshape(t.shape.as_list()))
                    if t.shape.is_fully_defined()
                    else constant(np.asarray(r, dtype=t.dtype.as_numpy_dtype))
                    for r, t in zip(results, op.outputs)
                )
    return _reapply(op, inputs)


def _ancestors(outputs: Sequence[Tensor]) -> list[Operation]:
    seen = reachable((t.op for t in outputs), lambda op: [*(t.op for t in op.inputs), *op.control_inputs])
    return sorted(seen, key=lambda o: o.id)


def _is_axis(a: Any) -> bool:
    return a is None or (isinstance(a, (int, np.integer)) and not isinstance(a, bool))


def _axes_for(in_axes: Any, args: Sequence[Any]) -> list[list[Any]]:
    """The mapped axis of each leaf of each argument: ``in_axes`` is an int, None, or a prefix tree of the arguments."""
    if _is_axis(in_axes):
        return [[in_axes] * len(pytree.flatten(a)[0]) for a in args]
    if not isinstance(in_axes, (tuple, list)):
        raise TypeError(
            f"cr.vmap: in_axes must be an int, None, or a tuple with one entry per argument, got {in_axes!r}"
        )
    if len(in_axes) != len(args):
        raise ValueError(f"cr.vmap: in_axes has {len(in_axes)} entries but the function got {len(args)} arguments")
    return [
        pytree.broadcast_prefix(ax, a, f"cr.vmap: in_axes[{i}]", _is_axis)
        for i, (ax, a) in enumerate(zip(in_axes, args))
    ]


def _move_to_front(t: Tensor, axis: int) -> Tensor:
    rank = t.shape.rank
    if rank is None:
        raise ValueError(f"cr.vmap: mapping over axis {axis} needs the rank of {t.name}")
    if not -rank <= axis < rank:
        raise ValueError(f"cr.vmap: in_axes {axis} is out of range for {t.name} of shape {t.shape}")
    axis %= rank
    if axis == 0:
        return t
    return array_ops.transpose(t, [axis, *range(axis), *range(axis + 1, rank)])


def _move_from_front(t: Tensor, axis: int) -> Tensor:
    rank = t.shape.rank
    if rank is None:
        raise ValueError(f"cr.vmap: out_axes {axis} needs the rank of the output {t.name}")
    axis %= rank
    if axis == 0:
        return t
    return array_ops.transpose(t, [*range(1, axis + 1), 0, *range(axis + 1, rank)])


def _vmap_build(fun: Callable[..., Any], in_axes: Any, out_axes: Any, what: str) -> Callable[..., Any]:
    def build(*args: Any, **kwargs: Any) -> Any:
        axes = _axes_for(in_axes, args)
        outer: list[tuple[Tensor, int | None]] = []
        arg_parts: list[tuple[Any, list[Any], list[int | None]]] = []
        for a, leaf_axes in zip(args, axes):
            leaves, td = pytree.flatten(a)
            kinds: list[int | None] = []
            for leaf, ax in zip(leaves, leaf_axes):
                if is_tensor_like(leaf) or isinstance(leaf, np.ndarray):
                    t = convert_to_tensor(leaf)
                    if ax is not None:
                        t = _move_to_front(t, ax)
                    outer.append((t, ax))
                    kinds.append(len(outer) - 1)
                else:
                    kinds.append(None)  # a static Python value, passed as it is
            arg_parts.append((td, leaves, kinds))
        kw_leaves, kw_td = pytree.flatten(kwargs)
        kw_kinds: list[int | None] = []
        for leaf in kw_leaves:  # keyword arguments are shared by all examples
            if is_tensor_like(leaf) or isinstance(leaf, np.ndarray):
                outer.append((convert_to_tensor(leaf), None))
                kw_kinds.append(len(outer) - 1)
            else:
                kw_kinds.append(None)
        mapped = [t for t, ax in outer if ax is not None]
        if not mapped:
            raise ValueError(f"{what}: in_axes maps no array argument (all are None)")
        sizes = {t.shape[0] for t in mapped if t.shape[0] is not None}
        if len(sizes) > 1:
            raise ValueError(f"{what}: mapped arguments have different sizes along the mapped axis: {sorted(sizes)}")
        ctx = BatchContext(sizes.pop() if sizes else None, mapped[0])

        # Trace one example in a graph of its own; tensors it reads from outside are shared by all examples.
        inner = FunctionGraph(mapped[0].graph, name="vmap")
        env: dict[Tensor, tuple[Tensor, bool]] = {}
        with inner.as_default():
            holders = []
            for t, ax in outer:
                shape = t.shape if ax is None else _per_example_shape(t)
                p = placeholder(t.dtype, shape if shape.dims is not None else None, name="example")
                holders.append(p)
                env[p] = (t, ax is not None)

            def rebuild(td: Any, leaves: list[Any], kinds: list[int | None]) -> Any:
                return pytree.unflatten(td, [leaf if k is None else holders[k] for leaf, k in zip(leaves, kinds)])

            new_args = [rebuild(*part) for part in arg_parts]
            out = fun(*new_args, **rebuild(kw_td, kw_leaves, kw_kinds))
        for captured, holder in inner.captures.items():
            env[holder] = (captured, False)
        out_leaves, out_td = pytree.flatten(out)
        tensors = [convert_to_tensor(x) for x in out_leaves if is_tensor_like(x)]
        for t in tensors:
            if t.graph is not inner:
                raise ValueError(f"{what}: the function returned {t!r}, a tensor it did not compute from its arguments")
        with mapped[0].graph.name_scope("vmap"):
            batch_graph(_ancestors(tensors), env, ctx)
            o_axes = _out_axes(out_axes, out, len(out_leaves), what)
            results = []
            for leaf, ax in zip(out_leaves, o_axes):
                if not is_tensor_like(leaf):
                    t, b = convert_to_tensor(np.asarray(leaf)), False
                else:
                    t, b = env[convert_to_tensor(leaf)]
                if ax is None:
                    if b:
                        raise ValueError(f"{what}: out_axes is None for an output that depends on the mapped inputs")
                    results.append(t)
                    continue
                results.append(_move_from_front(ctx.materialize(t, b), ax))
        return pytree.unflatten(out_td, results)

    return build


def _out_axes(out_axes: Any, out: Any, n: int, what: str) -> list[Any]:
    """Where the batch axis goes in each output leaf: an int, None, or a prefix tree of the output."""
    if _is_axis(out_axes):
        return [out_axes] * n
    return pytree.broadcast_prefix(out_axes, out, f"{what}: out_axes", _is_axis)


def vmap(
    fun: Callable[..., Any],
    in_axes: int | None | Sequence[int | None] = 0,
    out_axes: Any = 0,
    *,
    backend: Any = None,
) -> Function:
    """Vectorize ``fun`` (written for one example) over an axis of its array arguments.

    Parameters
    ----------
    fun : a function of chainrule tensors (it may use ``cr.grad``, ``cr.jacobian``, ``cr.jvp`` ...).
    in_axes : the mapped axis of every argument (an int), or one entry per positional argument
        (an int, or None for an argument shared by all examples), where an entry may itself be a
        tuple/list/dict matching that argument's structure down to where it gives an axis
        (JAX's prefix trees: ``in_axes=({"w": None, "b": 0}, 0)``).
    out_axes : where the batch axis goes in the outputs (an int, or a prefix tree of the output).
    backend : what runs the graph (``"numpy"``, ``"numba"``, a ``Backend``); None: the
        ``CHAINRULE_BACKEND`` environment variable's, else NumPy.

    Returns
    -------
    A function with the same arguments, NumPy in and NumPy out (traced once per signature and
    cached), or building ops inline when called with tensors. ``fun`` is traced once, on one
    example, and its graph rewritten with a batch axis; there is no Python loop over examples.

    Examples
    --------
    >>> per_row = cr.jacobian(lambda x: cr.sin(x) * cr.reduce_sum(x))     # one example: [3] -> [3, 3]
    >>> cr.vmap(per_row)(np.ones((1000, 3))).shape                       # 1000 of them, batched
    (1000, 3, 3)
    """
    name = getattr(fun, "__name__", type(fun).__name__)
    what = f"cr.vmap({name})"
    return Function(fun, symbolic=_vmap_build(fun, in_axes, out_axes, what), name=what, backend=backend)
