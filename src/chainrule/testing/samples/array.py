"""Samples for the array ops (``chainrule.ops.array_ops``).

Index-like arguments (shapes, axes, paddings) are mostly closure constants, so the static
shape of the output is known; a few samples feed integer indices as placeholders instead.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, rand, sample

I32 = np.int32
InvalidArgument = cr.errors.InvalidArgumentError


def _i(*values):
    return np.array(values, dtype=I32)


def _scatter_ref(indices, updates, shape):
    out = np.zeros(shape, dtype=updates.dtype)
    np.add.at(out, tuple(np.moveaxis(indices, -1, 0)), updates)
    return out


def _one_hot_ref(indices, depth, on=1.0, off=0.0, axis=-1, dtype=np.float32):
    mask = np.moveaxis(np.asarray(indices)[..., None] == np.arange(depth), -1, axis)
    return np.where(mask, on, off).astype(dtype)


def _sparse_to_dense_ref(indices, shape, values, default):
    out = np.full(shape, default, dtype=np.asarray(values).dtype)
    idx = np.asarray(indices).reshape(-1, len(shape))
    out[tuple(idx.T)] = values
    return out


def _getitem_samples():
    keys = [
        ("int", 1, (3, 4)),
        ("negative int", -1, (3, 4)),
        ("two ints", (2, -3), (3, 4)),
        ("slice", (slice(1, 3), slice(None)), (4, 3)),
        ("negative step", (slice(None, None, -1),), (4, 3)),
        ("negative step, stride 2", (slice(None, None, -2), slice(1, None)), (5, 3)),
        ("negative start and stop", (slice(-1, -4, -1), -1), (5, 3)),
        ("reversed from index", (slice(2, None, -1),), (4,)),
        ("ellipsis", (Ellipsis, 1), (2, 3, 4)),
        ("ellipsis middle", (0, Ellipsis, slice(None, None, -1)), (2, 3, 4)),
        ("newaxis", (None, slice(None), None), (3, 2)),
        ("newaxis and ellipsis", (Ellipsis, None), (3, 2)),
        ("empty slice", (slice(2, 2),), (4, 3)),
        ("size-0 input", (slice(None), 1), (0, 3)),
        ("step past end", (slice(None, None, 5),), (3, 2)),
        ("scalar result", (1, 2), (3, 4)),
    ]
    out = [
        sample("getitem", lambda x, k=k: x[k], rand(*s, seed=n), ref=lambda x, k=k: x[k], label=label)
        for n, (label, k, s) in enumerate(keys)
    ]
    out += [
        sample(
            "getitem",
            lambda x, i: x[i],
            rand(3, 4),
            _i(2).reshape(()),
            ref=lambda x, i: x[int(i)],
            label="tensor index",
        ),
        sample(
            "getitem",
            lambda x, i: x[::-1, i],
            rand(3, 4),
            np.array(-1, I32),
            ref=lambda x, i: x[::-1, int(i)],
            label="negative tensor index",
        ),
        sample(
            "getitem", lambda x: cr.getitem(x, (Ellipsis, 0)), rand(2, 2), ref=lambda x: x[..., 0], label="function"
        ),
    ]
    return out


SAMPLES: list[OpSample] = [
    # --- shape queries ---------------------------------------------------------------------------
    sample("shape", cr.shape, rand(2, 3), ref=lambda x: np.array(x.shape, I32), order=0),
    sample("shape", cr.shape, rand(0, 3), ref=lambda x: np.array(x.shape, I32), order=0, label="size-0"),
    sample("shape", cr.shape, rand(), ref=lambda x: np.array(x.shape, I32), order=0, label="scalar"),
    sample(
        "shape", lambda x: cr.shape(x, out_type=cr.int64), rand(2), ref=lambda x: np.array([2]), order=0, label="int64"
    ),
    sample("size", cr.size, rand(2, 3), ref=lambda x: np.array(x.size, I32), order=0),
    sample("size", cr.size, rand(0, 3), ref=lambda x: np.array(0, I32), order=0, label="size-0"),
    sample("rank", cr.rank, rand(2, 3), ref=lambda x: np.array(2, I32), order=0),
    sample("rank", cr.rank, rand(), ref=lambda x: np.array(0, I32), order=0, label="scalar"),
    # --- reshape, identity, stop_gradient -----------------------------------------------------------
    sample("reshape", lambda x: cr.reshape(x, [3, 2]), rand(2, 3), ref=lambda x: x.reshape(3, 2)),
    sample("reshape", lambda x: cr.reshape(x, [-1]), rand(2, 3), ref=lambda x: x.reshape(-1), label="flatten"),
    sample("reshape", lambda x: cr.reshape(x, [-1, 2]), rand(2, 3), ref=lambda x: x.reshape(-1, 2), label="-1 first"),
    sample("reshape", lambda x: cr.reshape(x, [1, 1]), rand(), ref=lambda x: x.reshape(1, 1), label="scalar"),
    sample("reshape", lambda x: cr.reshape(x, []), rand(1), ref=lambda x: x.reshape(()), label="to scalar"),
    sample("reshape", lambda x: cr.reshape(x, [3, 0, 1]), rand(0, 3), ref=lambda x: x.reshape(3, 0, 1), label="size-0"),
    sample(
        "reshape",
        lambda x, y: cr.reshape(x, cr.shape(y)),
        rand(6),
        rand(3, 2),
        ref=lambda x, y: x.reshape(3, 2),
        wrt=(0,),
        label="shape of tensor",
    ),
    sample("identity", cr.identity, rand(2, 3), ref=lambda x: x),
    sample("identity", cr.identity, rand(0), ref=lambda x: x, label="size-0"),
    sample("stop_gradient", cr.stop_gradient, rand(2, 3), ref=lambda x: x, order=0),
    sample(
        "stop_gradient",
        lambda x: x * cr.stop_gradient(x),
        rand(3),
        ref=lambda x: x * x,
        label="in product",
        grad_rtol=1e-5,
        order=0,
    ),
    # --- fill, zeros, ones -----------------------------------------------------------------------------
    sample("fill", lambda v: cr.fill([2, 3], v), np.array(1.5), ref=lambda v: np.full((2, 3), v)),
    sample("fill", lambda v: cr.fill([0, 2], v), np.array(1.5), ref=lambda v: np.full((0, 2), v), label="size-0"),
    sample("fill", lambda v: cr.fill([], v), np.array(-0.5), ref=lambda v: v, label="scalar"),
    sample("zeros", lambda: cr.zeros([2, 3]), ref=lambda: np.zeros((2, 3), np.float32), order=0),
    sample(
        "zeros",
        lambda: cr.zeros([0, 2], dtype=cr.int32),
        ref=lambda: np.zeros((0, 2), I32),
        order=0,
        label="int size-0",
    ),
    sample("zeros", lambda: cr.zeros([]), ref=lambda: np.zeros((), np.float32), order=0, label="scalar"),
    sample("ones", lambda: cr.ones([3]), ref=lambda: np.ones(3, np.float32), order=0),
    sample("ones", lambda: cr.ones((2, 1), dtype=cr.float64), ref=lambda: np.ones((2, 1)), order=0, label="float64"),
    sample("ones", lambda: cr.ones([2], dtype=cr.bool), ref=lambda: np.ones(2, bool), order=0, label="bool"),
    sample("zeros_like", cr.zeros_like, rand(2, 3), ref=np.zeros_like),
    sample("zeros_like", cr.zeros_like, rand(0, 2), ref=np.zeros_like, label="size-0"),
    sample("zeros_like", cr.zeros_like, _i(1, 2, 3), ref=np.zeros_like, order=0, label="int"),
    sample(
        "zeros_like",
        lambda x: cr.zeros_like(x, dtype=cr.int32),
        rand(2),
        ref=lambda x: np.zeros(2, I32),
        order=0,
        label="dtype",
    ),
    sample("ones_like", cr.ones_like, rand(2, 3), ref=np.ones_like),
    sample("ones_like", cr.ones_like, rand(), ref=np.ones_like, label="scalar"),
    sample("ones_like", cr.ones_like, np.array([True, False]), ref=np.ones_like, order=0, label="bool"),
    # --- broadcasting -------------------------------------------------------------------------------
    sample("broadcast_to", lambda x: cr.broadcast_to(x, [2, 3]), rand(3), ref=lambda x: np.broadcast_to(x, (2, 3))),
    sample(
        "broadcast_to",
        lambda x: cr.broadcast_to(x, [2, 3]),
        rand(2, 1),
        ref=lambda x: np.broadcast_to(x, (2, 3)),
        label="size-1",
    ),
    sample(
        "broadcast_to",
        lambda x: cr.broadcast_to(x, [0, 2]),
        rand(),
        ref=lambda x: np.broadcast_to(x, (0, 2)),
        label="scalar to size-0",
    ),
    sample("sum_to_shape", lambda x: cr.sum_to_shape(x, [3]), rand(2, 3), ref=lambda x: x.sum(0)),
    sample(
        "sum_to_shape",
        lambda x: cr.sum_to_shape(x, [2, 1]),
        rand(2, 3),
        ref=lambda x: x.sum(1, keepdims=True),
        label="keep dims",
    ),
    sample("sum_to_shape", lambda x: cr.sum_to_shape(x, []), rand(2, 3), ref=lambda x: x.sum(), label="scalar"),
    sample(
        "sum_to_shape",
        lambda x: cr.sum_to_shape(x, [1, 3]),
        np.arange(6, dtype=np.int32).reshape(2, 3),
        ref=lambda x: x.sum(0, keepdims=True, dtype=np.int32),
        order=0,
        label="int32",
    ),
    sample(
        "sum_to_shape",
        lambda x: cr.sum_to_shape(x, [3]),
        np.arange(6, dtype=np.int8).reshape(2, 3),
        ref=lambda x: x.sum(0, dtype=np.int8),
        order=0,
        label="int8",
    ),
    sample(
        "sum_to_shape",
        lambda x: cr.sum_to_shape(x, [1, 3]),
        rand(0, 3),
        ref=lambda x: x.sum(0, keepdims=True),
        label="size-0",
    ),
    # --- stack, unstack ---------------------------------------------------------------------------------
    sample("stack", lambda a, b: cr.stack([a, b]), rand(2, 3), rand(2, 3, seed=1), ref=lambda a, b: np.stack([a, b])),
    sample(
        "stack",
        lambda a, b, c: cr.stack([a, b, c], axis=1),
        rand(2),
        rand(2, seed=1),
        rand(2, seed=2),
        ref=lambda a, b, c: np.stack([a, b, c], 1),
        label="axis 1",
    ),
    sample(
        "stack",
        lambda a, b: cr.stack([a, b], axis=-1),
        rand(2, 3),
        rand(2, 3, seed=1),
        ref=lambda a, b: np.stack([a, b], -1),
        label="axis -1",
    ),
    sample(
        "stack",
        lambda a, b: cr.stack([a, b], axis=-2),
        rand(2, 3),
        rand(2, 3, seed=1),
        ref=lambda a, b: np.stack([a, b], -2),
        label="axis -2",
    ),
    sample(
        "stack", lambda a, b: cr.stack([a, b]), rand(), rand(seed=1), ref=lambda a, b: np.stack([a, b]), label="scalars"
    ),
    sample("stack", lambda a: cr.stack([a], axis=1), rand(0, 2), ref=lambda a: np.stack([a], 1), label="size-0"),
    sample(
        "stack", lambda x: cr.stack([x, 2.0 * x]), rand(3), ref=lambda x: np.stack([x, 2 * x]), label="python scalar"
    ),
    sample("unstack", lambda x: cr.unstack(x, num=3), rand(3, 2), ref=list),
    sample("unstack", cr.unstack, rand(2, 3), ref=list, unknown_dims=False, label="inferred num"),
    sample(
        "unstack",
        lambda x: cr.unstack(x, num=3, axis=-1),
        rand(2, 3),
        ref=lambda x: list(np.moveaxis(x, -1, 0)),
        label="axis -1",
    ),
    sample(
        "unstack",
        lambda x: cr.unstack(x, num=2, axis=1),
        rand(0, 2),
        ref=lambda x: list(np.moveaxis(x, 1, 0)),
        label="size-0",
    ),
    sample("unstack", lambda x: cr.unstack(x, num=1), rand(1, 3), ref=list, label="one"),
    sample("unstack", lambda x: cr.unstack(x, num=3)[1], rand(3), ref=lambda x: x[1], label="one output used"),
    # --- transpose, expand_dims, squeeze, reverse ------------------------------------------------------
    sample("transpose", cr.transpose, rand(2, 3), ref=np.transpose),
    sample(
        "transpose",
        lambda x: cr.transpose(x, [1, 2, 0]),
        rand(2, 3, 2),
        ref=lambda x: x.transpose(1, 2, 0),
        label="perm",
    ),
    sample("transpose", lambda x: cr.transpose(x, [1, 0]), rand(0, 3), ref=lambda x: x.T, label="size-0"),
    sample("transpose", cr.transpose, rand(), ref=np.transpose, label="scalar"),
    sample("expand_dims", lambda x: cr.expand_dims(x, 0), rand(2, 3), ref=lambda x: x[None]),
    sample("expand_dims", lambda x: cr.expand_dims(x, -1), rand(2, 3), ref=lambda x: x[..., None], label="axis -1"),
    sample("expand_dims", lambda x: cr.expand_dims(x, 1), rand(2, 3), ref=lambda x: x[:, None], label="axis 1"),
    sample("expand_dims", lambda x: cr.expand_dims(x, 0), rand(), ref=lambda x: x[None], label="scalar"),
    sample("expand_dims", lambda x: cr.expand_dims(x, -2), rand(0, 2), ref=lambda x: x[:, None], label="size-0"),
    sample("squeeze", cr.squeeze, rand(1, 3, 1), ref=np.squeeze),
    sample("squeeze", lambda x: cr.squeeze(x, [0]), rand(1, 3, 1), ref=lambda x: x.squeeze(0), label="axis list"),
    sample("squeeze", lambda x: cr.squeeze(x, -1), rand(1, 3, 1), ref=lambda x: x.squeeze(-1), label="axis -1"),
    sample("squeeze", lambda x: cr.squeeze(x, axis=[0, 2]), rand(1, 3, 1), ref=np.squeeze, label="two axes"),
    sample("squeeze", cr.squeeze, rand(1, 0, 1), ref=np.squeeze, label="size-0"),
    sample("squeeze", cr.squeeze, rand(1, 1), ref=np.squeeze, label="to scalar"),
    sample("reverse", lambda x: cr.reverse(x, [1]), rand(2, 3), ref=lambda x: x[:, ::-1]),
    sample("reverse", lambda x: cr.reverse(x, [0, -1]), rand(2, 3), ref=lambda x: x[::-1, ::-1], label="two axes"),
    sample("reverse", lambda x: cr.reverse(x, 0), rand(4), ref=lambda x: x[::-1], label="int axis"),
    sample("reverse", lambda x: cr.reverse(x, []), rand(2), ref=lambda x: x, label="no axes"),
    sample("reverse", lambda x: cr.reverse(x, [1]), rand(0, 3), ref=lambda x: x[:, ::-1], label="size-0"),
    # --- concat, split -------------------------------------------------------------------------------
    sample(
        "concat",
        lambda a, b: cr.concat([a, b], 1),
        rand(2, 3),
        rand(2, 1, seed=1),
        ref=lambda a, b: np.concatenate([a, b], 1),
    ),
    sample(
        "concat",
        lambda a, b, c: cr.concat([a, b, c], 0),
        rand(1, 2),
        rand(2, 2, seed=1),
        rand(1, 2, seed=2),
        ref=lambda a, b, c: np.concatenate([a, b, c]),
        label="three",
    ),
    sample(
        "concat",
        lambda a, b: cr.concat([a, b], -1),
        rand(2, 2),
        rand(2, 1, seed=1),
        ref=lambda a, b: np.concatenate([a, b], -1),
        label="axis -1",
    ),
    sample(
        "concat",
        lambda a, b: cr.concat([a, b], 0),
        rand(0, 2),
        rand(3, 2, seed=1),
        ref=lambda a, b: np.concatenate([a, b]),
        label="size-0",
    ),
    sample("concat", lambda a: cr.concat([a], 0), rand(3), ref=lambda a: a, label="one"),
    sample(
        "concat",
        lambda a: cr.concat([a, 2.0 * a], 0),
        rand(2),
        ref=lambda a: np.concatenate([a, 2 * a]),
        label="same tensor twice",
    ),
    sample("split", lambda x: cr.split(x, 2), rand(4, 3), ref=lambda x: np.split(x, 2)),
    sample("split", lambda x: cr.split(x, 3, axis=1), rand(2, 3), ref=lambda x: np.split(x, 3, 1), label="axis 1"),
    sample(
        "split",
        lambda x: cr.split(x, [1, -1], axis=-1),
        rand(2, 4),
        ref=lambda x: np.split(x, [1], -1),
        label="sizes with -1",
    ),
    sample(
        "split", lambda x: cr.split(x, [2, 0, 1], 0), rand(3, 2), ref=lambda x: np.split(x, [2, 2]), label="size-0 part"
    ),
    sample("split", lambda x: cr.split(x, 1), rand(3), ref=lambda x: [x], label="one"),
    sample("split", lambda x: cr.split(x, [3]), rand(3), ref=lambda x: [x], label="one size"),
    sample("split", lambda x: cr.split(x, 2)[1], rand(4), ref=lambda x: x[2:], label="one output used"),
    # --- slice, pad, tile ----------------------------------------------------------------------------
    sample("slice", lambda x: cr.slice(x, [1, 0], [2, -1]), rand(3, 4), ref=lambda x: x[1:3, 0:]),
    sample(
        "slice", lambda x: cr.slice(x, [0, 1, 1], [1, 2, 1]), rand(2, 3, 2), ref=lambda x: x[0:1, 1:3, 1:2], label="3-D"
    ),
    sample("slice", lambda x: cr.slice(x, [2, 0], [0, 3]), rand(3, 3), ref=lambda x: x[2:2], label="size-0"),
    sample("slice", lambda x: cr.slice(x, [], []), rand(), ref=lambda x: x, label="scalar"),
    sample(
        "slice",
        lambda x, b: cr.slice(x, b, [2, 2]),
        rand(3, 4),
        _i(1, 2),
        ref=lambda x, b: x[1:3, 2:4],
        label="begin tensor",
    ),
    sample("pad", lambda x: cr.pad(x, [[1, 0], [2, 1]]), rand(2, 3), ref=lambda x: np.pad(x, [(1, 0), (2, 1)])),
    sample(
        "pad",
        lambda x: cr.pad(x, [[1, 1]], constant_values=1.5),
        rand(2),
        ref=lambda x: np.pad(x, 1, constant_values=1.5),
        label="constant_values",
    ),
    sample(
        "pad",
        lambda x, c: cr.pad(x, [[0, 1], [1, 1]], constant_values=c),
        rand(2, 2),
        np.array(-0.5),
        ref=lambda x, c: np.pad(x, [(0, 1), (1, 1)], constant_values=c),
        label="tensor constant_values",
    ),
    sample(
        "pad",
        lambda x: cr.pad(x, [[1, 1], [0, 0]]),
        rand(0, 2),
        ref=lambda x: np.pad(x, [(1, 1), (0, 0)]),
        label="size-0",
    ),
    sample("pad", lambda x: cr.pad(x, []), rand(), ref=lambda x: x, label="scalar"),
    sample(
        "pad",
        lambda x: cr.pad(x, [[2, 1], [1, 0]], "REFLECT"),
        rand(3, 2),
        ref=lambda x: np.pad(x, [(2, 1), (1, 0)], mode="reflect"),
        label="REFLECT",
    ),
    sample(
        "pad",
        lambda x: cr.pad(x, [[2, 3], [1, 1]], mode="symmetric"),
        rand(3, 2),
        ref=lambda x: np.pad(x, [(2, 3), (1, 1)], mode="symmetric"),
        label="SYMMETRIC",
    ),
    sample(
        "pad",
        lambda x: cr.pad(x, [[0, 0], [1, 1]], "SYMMETRIC"),
        rand(0, 2),
        ref=lambda x: np.pad(x, [(0, 0), (1, 1)], mode="symmetric"),
        label="SYMMETRIC size-0",
    ),
    sample(
        "pad",
        lambda x: cr.pad(x, [[1, 1]], "REFLECT"),
        rand(2),
        ref=lambda x: np.pad(x, 1, mode="reflect"),
        label="REFLECT 1-D",
    ),
    sample("tile", lambda x: cr.tile(x, [2, 1]), rand(2, 3), ref=lambda x: np.tile(x, (2, 1))),
    sample("tile", lambda x: cr.tile(x, [3]), rand(2), ref=lambda x: np.tile(x, 3), label="1-D"),
    sample("tile", lambda x: cr.tile(x, [2, 1, 2]), rand(1, 2, 2), ref=lambda x: np.tile(x, (2, 1, 2)), label="3-D"),
    sample("tile", lambda x: cr.tile(x, [1, 0]), rand(2, 3), ref=lambda x: np.tile(x, (1, 0)), label="zero multiple"),
    sample("tile", lambda x: cr.tile(x, [2, 2]), rand(0, 2), ref=lambda x: np.tile(x, (2, 2)), label="size-0"),
    sample("tile", lambda x: cr.tile(x, []), rand(), ref=lambda x: x, label="scalar"),
    # --- gather, gather_nd, scatter_nd ------------------------------------------------------------------
    sample("gather", lambda p: cr.gather(p, [0, 2, 2, 4]), rand(5, 2), ref=lambda p: p[[0, 2, 2, 4]]),
    sample("gather", lambda p, i: cr.gather(p, i), rand(4), _i(3, 3, 0), ref=lambda p, i: p[i], label="indices tensor"),
    sample(
        "gather",
        lambda p: cr.gather(p, [[1, 0], [1, 1]], axis=1),
        rand(2, 3, 2),
        ref=lambda p: np.take(p, [[1, 0], [1, 1]], axis=1),
        label="axis 1, 2-D indices",
    ),
    sample("gather", lambda p: cr.gather(p, [2, 0], axis=-1), rand(2, 3), ref=lambda p: p[:, [2, 0]], label="axis -1"),
    sample("gather", lambda p: cr.gather(p, 1), rand(3, 2), ref=lambda p: p[1], label="scalar index"),
    sample("gather", lambda p: cr.gather(p, np.zeros(0, I32)), rand(3, 2), ref=lambda p: p[:0], label="no indices"),
    sample("gather", lambda p: cr.gather(p, [0, 0]), rand(1, 0), ref=lambda p: p[[0, 0]], label="size-0 slices"),
    sample(
        "gather_nd",
        lambda p: cr.gather_nd(p, [[0, 1], [2, 3], [0, 1]]),
        rand(3, 4),
        ref=lambda p: p[[0, 2, 0], [1, 3, 1]],
    ),
    sample(
        "gather_nd", lambda p: cr.gather_nd(p, [[1], [0], [1]]), rand(2, 3), ref=lambda p: p[[1, 0, 1]], label="rows"
    ),
    sample(
        "gather_nd",
        lambda p, i: cr.gather_nd(p, i),
        rand(2, 2, 2),
        _i(1, 0, 1, 0, 0, 1).reshape(2, 1, 3),
        ref=lambda p, i: p[i[..., 0], i[..., 1], i[..., 2]],
        label="batched indices",
    ),
    sample(
        "gather_nd",
        lambda p: cr.gather_nd(p, np.zeros((0, 2), I32)),
        rand(2, 3),
        ref=lambda p: np.zeros(0),
        label="no indices",
    ),
    sample(
        "scatter_nd",
        lambda u: cr.scatter_nd([[0], [2], [0]], u, [4, 2]),
        rand(3, 2),
        ref=lambda u: _scatter_ref(np.array([[0], [2], [0]]), u, (4, 2)),
    ),
    sample(
        "scatter_nd",
        lambda u: cr.scatter_nd([[0, 1], [1, 0], [0, 1]], u, [2, 2]),
        rand(3),
        ref=lambda u: _scatter_ref(np.array([[0, 1], [1, 0], [0, 1]]), u, (2, 2)),
        label="elements, duplicates",
    ),
    sample(
        "scatter_nd",
        lambda i, u: cr.scatter_nd(i, u, [3]),
        _i(2, 0).reshape(2, 1),
        rand(2),
        ref=lambda i, u: _scatter_ref(i, u, (3,)),
        label="indices tensor",
    ),
    sample(
        "scatter_nd",
        lambda u: cr.scatter_nd(np.zeros((0, 1), I32), u, [2, 3]),
        rand(0, 3),
        ref=lambda u: np.zeros((2, 3)),
        label="no updates",
    ),
    # --- range, one_hot, sparse_to_dense ----------------------------------------------------------------
    sample("range", lambda: cr.range(5), ref=lambda: np.arange(5, dtype=I32), order=0),
    sample("range", lambda: cr.range(1, 10, 3), ref=lambda: np.arange(1, 10, 3, dtype=I32), order=0, label="delta"),
    sample("range", lambda: cr.range(5, 1, -2), ref=lambda: np.arange(5, 1, -2, dtype=I32), order=0, label="negative"),
    sample(
        "range",
        lambda: cr.range(0.5, 2.0, 0.5),
        ref=lambda: np.arange(0.5, 2.0, 0.5, dtype=np.float32),
        order=0,
        label="float",
    ),
    sample("range", lambda: cr.range(3, dtype=cr.float64), ref=lambda: np.arange(3.0), order=0, label="dtype"),
    sample("range", lambda: cr.range(0), ref=lambda: np.arange(0, dtype=I32), order=0, label="empty"),
    sample("one_hot", lambda: cr.one_hot([0, 2, -1, 3], 3), ref=lambda: _one_hot_ref([0, 2, -1, 3], 3), order=0),
    sample(
        "one_hot",
        lambda i: cr.one_hot(i, 3, axis=0),
        _i(1, 0, 1, 2).reshape(2, 2),
        ref=lambda i: _one_hot_ref(i, 3, axis=0),
        order=0,
        label="axis 0, 2-D",
    ),
    sample(
        "one_hot",
        lambda on, off: cr.one_hot([0, 2, 1, 5], 3, on, off),
        np.array(2.0),
        np.array(-1.0),
        ref=lambda on, off: _one_hot_ref([0, 2, 1, 5], 3, on, off, dtype=on.dtype),
        label="on/off tensors",
    ),
    sample(
        "one_hot",
        lambda: cr.one_hot(1, 2, dtype=cr.int32),
        ref=lambda: np.array([0, 1], I32),
        order=0,
        label="scalar int32",
    ),
    sample(
        "one_hot",
        lambda: cr.one_hot(np.zeros(0, I32), 2),
        ref=lambda: np.zeros((0, 2), np.float32),
        order=0,
        label="size-0",
    ),
    sample(
        "sparse_to_dense",
        lambda v, d: cr.sparse_to_dense([[0, 1], [1, 2]], [2, 3], v, d),
        rand(2),
        np.array(0.5),
        ref=lambda v, d: _sparse_to_dense_ref([[0, 1], [1, 2]], (2, 3), v, d),
    ),
    sample(
        "sparse_to_dense",
        lambda v: cr.sparse_to_dense(2, [4], v),
        np.array(1.5),
        ref=lambda v: _sparse_to_dense_ref(2, (4,), v, 0),
        label="scalar index",
    ),
    sample(
        "sparse_to_dense",
        lambda v: cr.sparse_to_dense([0, 3], [5], v, -1.0),
        rand(2),
        ref=lambda v: _sparse_to_dense_ref([0, 3], (5,), v, -1),
        label="vector indices",
    ),
    sample(
        "sparse_to_dense",
        lambda v, d: cr.sparse_to_dense([[1, 1], [0, 0]], [2, 2], v, d),
        np.array(3.0),
        np.array(-2.0),
        ref=lambda v, d: _sparse_to_dense_ref([[1, 1], [0, 0]], (2, 2), v, d),
        label="scalar value",
    ),
    sample(
        "sparse_to_dense",
        lambda v: cr.sparse_to_dense(np.zeros((0, 2), I32), [2, 0], v),
        rand(0),
        ref=lambda v: np.zeros((2, 0)),
        label="size-0",
    ),
    sample(
        "sparse_to_dense",
        lambda x, g: cr.sparse_to_dense([cr.zeros_like(cr.shape(x))], cr.shape(x), cr.reshape(g, [-1])[0], 0),
        rand(2, 3),
        rand(2, 3, seed=1),
        ref=lambda x, g: np.where(np.arange(6).reshape(2, 3) == 0, g.flat[0], 0).astype(g.dtype),
        label="ZeroOut gradient",
    ),
    *_getitem_samples(),
]

ERRORS: list[ErrorSample] = [
    error("reshape", lambda x: cr.reshape(x, [4]), rand(2, 3), error=InvalidArgument, match="Reshape.*cannot reshape"),
    error(
        "reshape",
        lambda x: cr.reshape(x, cr.constant(-1)),
        rand(2, 3),
        error=InvalidArgument,
        match="Reshape.*Shape must be rank 1 but is rank 0",
        label="scalar shape",
    ),
    error(
        "sum_to_shape",
        lambda x: cr.sum_to_shape(x, [1]),
        np.array([True, False]),
        error=TypeError,
        match="SumToShape.*bool",
        label="bool",
    ),
    error(
        "cast",
        lambda x: cr.cast(x, "string"),
        rand(2),
        error=TypeError,
        match="Cast.*float64 to string",
        label="string",
    ),
    error("zeros", lambda: cr.zeros([2], "string"), error=TypeError, match="constant.*to dtype string", label="string"),
    error("fill", lambda: cr.fill([2], "a"), error=TypeError, match="Fill.*string", label="string"),
    error(
        "reshape", lambda x: cr.reshape(x, [-1, -1]), rand(2, 3), error=InvalidArgument, match="Reshape.*at most one"
    ),
    error(
        "reshape",
        lambda x: cr.reshape(x, [4]),
        rand(2, 3),
        error=InvalidArgument,
        match="Reshape.*cannot reshape",
        at_run=True,
        static_shapes=False,
        label="at run",
    ),
    error("fill", lambda v: cr.fill([2], v), rand(2), error=InvalidArgument, match="Fill.*scalar"),
    # a float size would be truncated (2.5 -> 2) or overflow (inf): refused, as TensorFlow does
    error(
        "fill",
        lambda d: cr.fill(d, 1.0),
        np.array([2.5]),
        error=TypeError,
        match="Fill.*int32 or int64",
        label="float dims",
    ),
    error("stack", lambda a, b: cr.stack([a, b]), rand(2), rand(3), error=InvalidArgument, match="Pack.*same shape"),
    error(
        "stack",
        lambda a, b: cr.stack([a, b], axis=2),
        rand(2),
        rand(2),
        error=InvalidArgument,
        match="Pack.*out of bounds",
    ),
    error("unstack", cr.unstack, rand(2, 3), error=ValueError, match="cannot infer num", static_shapes=False),
    error("unstack", lambda x: cr.unstack(x, num=3), rand(2, 3), error=InvalidArgument, match="Unpack.*num is 3"),
    error(
        "transpose",
        lambda x: cr.transpose(x, [0, 0]),
        rand(2, 3),
        error=InvalidArgument,
        match="Transpose.*permutation",
    ),
    error(
        "expand_dims",
        lambda x: cr.expand_dims(x, 3),
        rand(2, 3),
        error=InvalidArgument,
        match="ExpandDims.*out of range",
    ),
    error("squeeze", lambda x: cr.squeeze(x, [1]), rand(1, 3), error=InvalidArgument, match="Squeeze.*cannot squeeze"),
    error(
        "squeeze",
        lambda x: cr.squeeze(x, [1]),
        rand(1, 3),
        error=InvalidArgument,
        match="Squeeze.*squeeze",
        at_run=True,
        static_shapes=False,
        label="at run",
    ),
    error("reverse", lambda x: cr.reverse(x, [1, -1]), rand(2, 3), error=InvalidArgument, match="ReverseV2.*twice"),
    error(
        "concat",
        lambda a, b: cr.concat([a, b], 1),
        rand(2, 3),
        rand(3, 3),
        error=InvalidArgument,
        match=r"ConcatV2.*must match.*\(2, 3\).*\(3, 3\)",
    ),
    error(
        "concat",
        lambda a, b: cr.concat([a, b], 0),
        rand(2),
        np.ones(2, np.float32),
        error=cr.errors.InvalidDTypeError,
        match="ConcatV2.*same dtype",
    ),
    error(
        "concat", lambda a, b: cr.concat([a, b], 0), rand(), rand(), error=InvalidArgument, match="ConcatV2.*scalars"
    ),
    error("split", lambda x: cr.split(x, 2), rand(3, 2), error=InvalidArgument, match="Split.*equal parts"),
    error("split", lambda x: cr.split(x, [1, 1]), rand(3), error=InvalidArgument, match="SplitV.*add up"),
    error(
        "split",
        lambda x: cr.split(x, [1, 1]),
        rand(3),
        error=InvalidArgument,
        match="add up.*SplitV",
        at_run=True,
        static_shapes=False,
        label="at run",
    ),
    error("slice", lambda x: cr.slice(x, [1, 0], [3, 1]), rand(3, 2), error=InvalidArgument, match="Slice.*exceeds"),
    error(
        "slice", lambda x: cr.slice(x, [1], [1]), rand(3, 2), error=InvalidArgument, match="Slice.*one entry per dim"
    ),
    error(
        "slice",
        lambda x: cr.slice(x, [1, 0], [3, 1]),
        rand(3, 2),
        error=InvalidArgument,
        match="out of bounds.*Slice",
        at_run=True,
        static_shapes=False,
        label="at run",
    ),
    error("pad", lambda x: cr.pad(x, [1, 1]), rand(2), error=InvalidArgument, match=r"PadV2.*paddings must have shape"),
    error("pad", lambda x: cr.pad(x, [[-1, 0]]), rand(2), error=InvalidArgument, match=r"PadV2.*non-negative"),
    error(
        "pad",
        lambda x: cr.pad(x, [[2, 0]], "REFLECT"),
        rand(2),
        error=InvalidArgument,
        match="MirrorPad.*REFLECT paddings",
    ),
    error(
        "pad",
        lambda x: cr.pad(x, [[2, 0]], "REFLECT"),
        rand(2),
        error=InvalidArgument,
        match="REFLECT paddings.*MirrorPad",
        at_run=True,
        static_shapes=False,
        label="at run",
    ),
    error("pad", lambda x: cr.pad(x, [[1, 0]], "WRAP"), rand(2), error=ValueError, match="pad mode"),
    error("tile", lambda x: cr.tile(x, [2]), rand(2, 3), error=InvalidArgument, match="Tile.*one entry per dimension"),
    error("tile", lambda x: cr.tile(x, [2, -1]), rand(2, 3), error=InvalidArgument, match="Tile.*non-negative"),
    error(
        "gather",
        lambda p: cr.gather(p, [0, 3]),
        rand(3),
        error=InvalidArgument,
        match="out of bounds.*GatherV2",
        at_run=True,
    ),
    error(
        "gather",
        lambda p: cr.gather(p, [-1]),
        rand(3),
        error=InvalidArgument,
        match=r"\[0, 3\).*GatherV2",
        at_run=True,
        label="negative",
    ),
    error(
        "gather",
        lambda p, i: cr.gather(p, i),
        rand(3),
        rand(2),
        error=cr.errors.InvalidDTypeError,
        match="GatherV2.*integer",
    ),
    error(
        "gather", lambda p: cr.gather(p, [0], axis=1), rand(3), error=InvalidArgument, match="GatherV2.*out of bounds"
    ),
    error(
        "gather_nd",
        lambda p: cr.gather_nd(p, [[0, 0, 0]]),
        rand(2, 2),
        error=InvalidArgument,
        match="GatherNd.*params has rank",
    ),
    error(
        "gather_nd",
        lambda p: cr.gather_nd(p, [[0, 2]]),
        rand(2, 2),
        error=InvalidArgument,
        match="out of bounds.*GatherNd",
        at_run=True,
    ),
    error(
        "scatter_nd",
        lambda u: cr.scatter_nd([[0], [1]], u, [3, 2]),
        rand(2, 3),
        error=InvalidArgument,
        match="ScatterNd.*updates must have shape",
    ),
    error(
        "scatter_nd",
        lambda u: cr.scatter_nd([[0], [3]], u, [3]),
        rand(2),
        error=InvalidArgument,
        match="out of bounds.*ScatterNd",
        at_run=True,
    ),
    error("range", lambda: cr.range(0, 5, 0), error=InvalidArgument, match="Range.*delta must not be 0"),
    error("range", lambda: cr.range(5, 0, 1), error=InvalidArgument, match="Range.*must not lie beyond"),
    error("one_hot", lambda i: cr.one_hot(i, 3), rand(2), error=cr.errors.InvalidDTypeError, match="OneHot.*integer"),
    error(
        "one_hot",
        lambda on, off: cr.one_hot([0], 2, on, off),
        rand(),
        np.float32(0),
        error=TypeError,
        match="expected float64",
    ),
    error(
        "sparse_to_dense",
        lambda v: cr.sparse_to_dense([[0, 1], [0, 1]], [2, 2], v),
        rand(2),
        error=InvalidArgument,
        match="repeated.*SparseToDense",
        at_run=True,
    ),
    error(
        "sparse_to_dense",
        lambda v: cr.sparse_to_dense([[0, 2]], [2, 2], v),
        rand(1),
        error=InvalidArgument,
        match="out of bounds.*SparseToDense",
        at_run=True,
    ),
    error(
        "sparse_to_dense",
        lambda v: cr.sparse_to_dense([[0, 1]], [2], v),
        rand(1),
        error=InvalidArgument,
        match="SparseToDense.*output_shape has 1",
    ),
    error(
        "sparse_to_dense",
        lambda v: cr.sparse_to_dense([0, 1], [3], v),
        rand(3),
        error=InvalidArgument,
        match="SparseToDense.*3 entries but there are 2",
    ),
    error("getitem", lambda x: x[3], rand(3), error=InvalidArgument, match="StridedSlice.*out of bounds"),
    error("getitem", lambda x: x[0, 0], rand(3), error=InvalidArgument, match="StridedSlice.*too many indices"),
    error("getitem", lambda x: x[::0], rand(3), error=InvalidArgument, match="StridedSlice.*step cannot be zero"),
    error("getitem", lambda x: x[[0, 3]], rand(3), error=IndexError, match="index 3 is out of bounds for axis 0"),
    error(
        "getitem",
        lambda x: x[3],
        rand(3),
        error=InvalidArgument,
        match="StridedSlice.*out of bounds",
        at_run=True,
        static_shapes=False,
        label="at run",
    ),
    error(
        "broadcast_to",
        lambda x: cr.broadcast_to(x, [2, 4]),
        rand(3),
        error=InvalidArgument,
        match="BroadcastTo.*Incompatible",
    ),
    error(
        "sum_to_shape",
        lambda x: cr.sum_to_shape(x, [4]),
        rand(2, 3),
        error=InvalidArgument,
        match="SumToShape.*Incompatible",
    ),
]

# --- top_k, boolean_mask --------------------------------------------------------------------------


def _top_k_ref(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return [np.take_along_axis(x, idx, -1), idx.astype(np.int32)]


def _distinct_values(*shape, seed=0):
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(np.linspace(-2.0, 2.0, max(n, 2)))[:n].reshape(shape)


_mask23 = np.array([[True, False, True], [False, True, True]])
SAMPLES += [
    sample("nn.top_k", lambda x: cr.nn.top_k(x, 2), _distinct_values(5), ref=lambda x: _top_k_ref(x, 2)),
    sample(
        "nn.top_k",
        lambda x: cr.nn.top_k(x, k=3),
        _distinct_values(2, 3, 4, seed=1),
        ref=lambda x: _top_k_ref(x, 3),
        label="batch",
    ),
    sample(
        "nn.top_k", lambda x: cr.nn.top_k(x, 4), _distinct_values(2, 4), ref=lambda x: _top_k_ref(x, 4), label="k=n"
    ),
    sample("nn.top_k", lambda x: cr.nn.top_k(x, 0), rand(2, 3), ref=lambda x: _top_k_ref(x, 0), label="k=0"),
    # Ties: the lower index first (as TensorFlow).
    sample(
        "nn.top_k",
        lambda x: cr.nn.top_k(x, 3),
        np.array([[1, 3, 3, 2, 3], [5, 5, 1, 5, 0]], np.int32),
        ref=lambda x: [np.array([[3, 3, 3], [5, 5, 5]], np.int32), np.array([[1, 2, 4], [0, 1, 3]], np.int32)],
        label="int ties",
        order=0,
    ),
    sample(
        "math.top_k", lambda x: cr.math.top_k(x, 1).values, _distinct_values(3, 2), ref=lambda x: _top_k_ref(x, 1)[0]
    ),
    sample(
        "boolean_mask",
        lambda x: cr.boolean_mask(x, _mask23),
        rand(2, 3, 4),
        ref=lambda x: x[_mask23],
        label="2-D mask",
    ),
    sample(
        "boolean_mask",
        lambda x: cr.boolean_mask(x, [True, False, True, True], axis=1),
        rand(2, 4, 3),
        ref=lambda x: x[:, [0, 2, 3]],
        label="axis=1",
    ),
    sample(
        "boolean_mask",
        lambda x: cr.boolean_mask(x, [False, False, False]),
        rand(3, 2),
        ref=lambda x: x[[False, False, False]],
        label="none true",
    ),
    sample("boolean_mask", lambda x: cr.boolean_mask(x, _mask23), rand(2, 3), ref=lambda x: x[_mask23], label="full"),
]

ERRORS += [
    error("nn.top_k", lambda x: cr.nn.top_k(x, 4), rand(2, 3), error=ValueError, match=r"TopKV2.*at least k = 4"),
    error(
        "nn.top_k",
        lambda x: cr.nn.top_k(x, 4),
        rand(2, 3),
        error=ValueError,
        match=r"at least k = 4.*TopKV2",
        label="run",
        at_run=True,
        static_shapes=False,
    ),
    error(
        "nn.top_k", lambda x: cr.nn.top_k(x, 1), np.array(2.0), error=ValueError, match=r"TopKV2.*rank", label="scalar"
    ),
    error("boolean_mask", lambda x, m: cr.boolean_mask(x, m), rand(2, 3), rand(2, 3), error=TypeError, match="bool"),
    error(
        "boolean_mask",
        lambda x: cr.boolean_mask(x, [True, False]),
        rand(3, 2),
        error=ValueError,
        match="mask shape.*incompatible",
        label="shape",
    ),
]
