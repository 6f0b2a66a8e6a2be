"""Random elementwise graphs (and their gradients) give the same values with and without the compiler.

Shapes broadcast against each other, values are reused by several ops, ``add_n`` mixes
them: the cases where fusion's in-place writes, CSE and the algebraic rules could go wrong.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import compiler

SHAPES = [(3, 4), (3, 1), (1, 4), (4,), ()]
UNARY = [cr.sin, cr.cos, cr.tanh, cr.sigmoid, cr.negative, cr.square, cr.exp, lambda t: cr.log(cr.square(t) + 1.0)]
BINARY = [cr.add, cr.subtract, cr.multiply, lambda a, b: a / (cr.square(b) + 1.0), cr.maximum]

step = st.tuples(st.integers(0, 3), st.integers(0, 100), st.integers(0, 100), st.integers(0, 100))


@settings(max_examples=60, deadline=None)
@given(shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3), steps=st.lists(step, min_size=1, max_size=14))
def test_random_elementwise_graphs_agree(shapes, steps):
    graph = cr.Graph()
    rng = np.random.default_rng(len(steps))
    with graph.as_default():
        xs = [cr.placeholder(cr.float64, s, name=f"x{i}") for i, s in enumerate(shapes)]
        values = list(xs)
        for kind, i, j, k in steps:
            a, b, c = values[i % len(values)], values[j % len(values)], values[k % len(values)]
            if kind == 0:
                values.append(UNARY[i % len(UNARY)](a))
            elif kind == 1:
                values.append(BINARY[j % len(BINARY)](a, b))
            elif kind == 2 and a.shape == b.shape == c.shape:
                values.append(cr.add_n([a, b, c, a] if i % 2 else [a, b]))
            else:
                values.append(a * 1.0 + cr.zeros_like(a) - (-b) * 0.5)
        out = values[-1]
        total = cr.reduce_sum(out) + cr.reduce_sum(values[len(xs) :][0] if len(values) > len(xs) else out)
        grads = cr.gradients(total, xs)
        fetches = [out, total] + [g for g in grads if g is not None]
    feed = {x: rng.uniform(-1.5, 1.5, size=x.shape.as_list()) for x in xs}
    results = []
    for optimize in (False, True, compiler.Options(codegen=False)):
        with cr.Session(graph=graph, optimize=optimize) as sess:
            results.append(sess.run(fetches, feed))
            results.append(sess.run(fetches, feed))  # a second run reuses the plan (and its buffers)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 5), shape=st.sampled_from([(64, 300), (20_000,)]))
def test_large_arrays_with_reused_buffers_agree(n, shape):
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, shape, name="x")
        y = x
        parts = []
        for i in range(n):
            y = cr.tanh(y * 1.1 + 0.1 * i)
            parts.append(y)
        out = cr.add_n(parts) * cr.sigmoid(x)
        (g,) = cr.gradients(cr.reduce_sum(out * out), [x])
    value = np.linspace(-2, 2, int(np.prod(shape))).reshape(shape)
    with cr.Session(graph=graph, optimize=False) as plain, cr.Session(graph=graph) as fast:
        want = plain.run([out, g], {x: value})
        first = fast.run([out, g], {x: value})
        again = fast.run([out, g], {x: value * 0.5})
        third = fast.run([out, g], {x: value})
        (plan,) = fast.plans
    assert "buf_" in plan.source  # large intermediates are written into kept buffers
    for a, b, c in zip(want, first, third):
        np.testing.assert_allclose(b, a, rtol=1e-12)
        np.testing.assert_array_equal(c, b)
    assert not np.array_equal(again[0], first[0])
