"""Random DAGs give the same bits compiled (default options) as run as written, values and gradients.

Issue 12, item 6: hypothesis builds graphs of elementwise, broadcasting, reduction, matmul and
shape ops, with the constants that the algebraic rules look for (``x * 1``, ``x - 0``, ``--x``,
``log(exp x)``, reshapes and transposes of reshapes and transposes, sums of broadcasts, slices
that tile...), on shapes with size-0 and size-1 dimensions and values that include ``inf``,
``nan``, ``-0.0``, subnormals and numbers near the float64 limit. The forward value and the
gradients must be byte for byte those of the uncompiled run (NaNs equal whatever their payload;
signed zeros distinct), on the first run and on a second one that reuses the plan's buffers.

CI runs a fixed, derandomized budget; ``CHAINRULE_FUZZ_EXAMPLES=500`` runs longer locally.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr

SPECIAL = np.array(
    [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 0.1, 1e-310, -1e-310, 1e308, -1e308, 1e154, np.inf, -np.inf, np.nan]
)

f64 = cr.float64


def _bits(value) -> tuple[str, tuple[int, ...], bytes]:
    a = np.asarray(value)
    if a.dtype.kind == "f":
        a = np.where(np.isnan(a), np.array(np.nan, a.dtype), a)
    return a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes()


UNARY = [
    cr.sin,
    cr.exp,
    cr.log,
    cr.sqrt,
    cr.square,
    cr.negative,
    cr.abs,
    cr.tanh,
    cr.sigmoid,
    cr.math.reciprocal,
    cr.nn.relu,
    cr.identity,
    lambda a: cr.negative(cr.negative(a)),
    lambda a: cr.log(cr.exp(a)),
    lambda a: cr.exp(cr.log(cr.square(a))),
    lambda a: a * 1.0,
    lambda a: 1.0 * a,
    lambda a: a / 1.0,
    lambda a: a * -1.0,
    lambda a: a - 0.0,
    lambda a: a - cr.constant(-0.0, f64),
    lambda a: a + 0.0,
    lambda a: 0.0 - a,
    lambda a: a * 0.0,
    lambda a: a * cr.zeros_like(a),
    lambda a: -cr.ones_like(a) * a,
    lambda a: cr.add_n([a, cr.zeros_like(a)]),
    lambda a: cr.where(a > 0.0, a, a),
    lambda a: cr.cast(cr.cast(a, cr.float32), f64),
    lambda a: cr.reshape(cr.reshape(a, [-1]), cr.shape(a)),
    lambda a: cr.transpose(cr.transpose(a)),
    lambda a: cr.transpose(cr.sin(cr.transpose(a)) * 2.0 + 1.0),  # column-ordered values in between
    lambda a: cr.transpose(cr.exp(cr.transpose(a))) + a,
    lambda a: cr.stop_gradient(a) + a,
]

BINARY = [
    cr.add,
    cr.subtract,
    cr.multiply,
    cr.divide,
    cr.maximum,
    cr.minimum,
    cr.pow,
    lambda a, b: cr.add_n([a, a, b]) if a.shape == b.shape else a + b,
    lambda a, b: (-a) * (-b),
]


def _reduce(kind: int, a):
    rank = a.shape.rank
    if kind == 0 or rank == 0:
        return cr.reduce_sum(a)
    if kind == 1:
        return cr.reduce_sum(a, axis=-1, keepdims=True)
    if kind == 2:
        return cr.reduce_mean(a, axis=0, keepdims=True)
    return cr.reduce_sum(cr.broadcast_to(a, [3, *a.shape.as_list()]), axis=0)


step = st.tuples(st.integers(0, 6), st.integers(0, 1000), st.integers(0, 1000))


@settings(
    max_examples=int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", 150)),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    rows=st.sampled_from([0, 1, 3]),
    cols=st.sampled_from([0, 1, 4]),
    kinds=st.lists(st.integers(0, 4), min_size=1, max_size=3),
    steps=st.lists(step, min_size=1, max_size=10),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_graphs_compiled_equal_uncompiled_bitwise(rows, cols, kinds, steps, seed):
    shapes = [(rows, cols), (rows, 1), (1, cols), (cols,), ()]
    graph = cr.Graph()
    with graph.as_default():
        xs = [cr.placeholder(f64, shapes[k], name=f"x{i}") for i, k in enumerate(kinds)]
        w = cr.placeholder(f64, [cols, cols], name="w")
        values = list(xs)  # w (cols x cols) only multiplies: it need not broadcast with the rest
        for kind, i, j in steps:
            a, b = values[i % len(values)], values[j % len(values)]
            if a.shape.rank == 2 and a.shape[1] != cols:  # only [rows, cols]-compatible values mix
                a = cr.broadcast_to(a, [rows, cols])
            if b.shape.rank == 2 and b.shape[1] != cols:
                b = cr.broadcast_to(b, [rows, cols])
            if kind <= 1:
                values.append(UNARY[(i + j) % len(UNARY)](a))
            elif kind <= 3:
                values.append(BINARY[(i * 7 + j) % len(BINARY)](a, b))
            elif kind == 4:
                values.append(_reduce(j % 4, a))
            elif kind == 5:
                values.append(cr.matmul(cr.broadcast_to(a, [rows, cols]), w))
            else:  # slices of axis 0 that tile it: their gradients add up to one concat
                row = cr.reduce_sum(a, axis=0, keepdims=True) if a.shape.rank == 2 else a
                full = cr.broadcast_to(row, [3, cols])
                tiled = cr.concat([cr.sin(full[:1]), full[1:] * b if b.shape.rank != 2 else full[1:]], 0)
                values.append(cr.reduce_sum(tiled, axis=0, keepdims=True))
        out = values[-1]
        total = cr.reduce_sum(out) + cr.reduce_sum(values[len(xs)])
        grads = [g for g in cr.gradients(total, [*xs, w]) if g is not None]
        fetches = [out, total, *grads]
    rng = np.random.default_rng(seed)
    feed = {x: rng.choice(SPECIAL, size=x.shape.as_list()) for x in [*xs, w]}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with cr.Session(graph=graph, optimize=False) as plain:
            want = plain.run(fetches, feed)
        with cr.Session(graph=graph) as compiled:
            runs = [compiled.run(fetches, feed), compiled.run(fetches, feed)]
    for got in runs:
        for tensor, a, b in zip(fetches, want, got, strict=True):
            assert _bits(b) == _bits(a), f"{tensor.name}: compiled {b!r} != uncompiled {a!r}"
