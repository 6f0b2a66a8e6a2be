"""cr.vmap: axes, structures, composition with derivative transforms, caching and errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms.batching import register_batch_rule

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 3))


def f(x):  # one example: [3] -> [3]
    return cr.sin(x) * cr.reduce_sum(x * x) + x[::-1]


def f_np(x):
    return np.sin(x) * np.sum(x * x, axis=-1, keepdims=True) + x[..., ::-1]


def test_vmap_numpy_in_numpy_out_and_cached(op_counter):
    g = cr.vmap(f)
    np.testing.assert_allclose(g(X), f_np(X))
    op_counter.update(graphs=0, ops=0)
    np.testing.assert_allclose(g(X * 2), f_np(X * 2))
    assert op_counter == {"graphs": 0, "ops": 0}
    assert g.trace_count == 1


def test_in_axes_out_axes_and_shared_arguments():
    w = rng.standard_normal(3)

    def h(x, w, scale):
        return cr.reduce_sum(x * w) * scale, x + w

    s, y = cr.vmap(h, in_axes=(1, None, None))(X.T, w, 2.0)
    np.testing.assert_allclose(s, 2.0 * X @ w)
    np.testing.assert_allclose(y, X + w)
    s, y = cr.vmap(h, in_axes=(0, None, None), out_axes=(0, 1))(X, w, 2.0)
    np.testing.assert_allclose(y, (X + w).T)


def test_keyword_arguments_are_shared_and_ops_are_named_under_vmap():
    w = rng.standard_normal(3)
    out = cr.vmap(lambda x, w=None: x * w)(X, w=w)
    np.testing.assert_allclose(out, X * w)
    x = cr.placeholder(cr.float64, [5, 3])
    y = cr.vmap(f)(x)
    assert y.op.name.startswith("vmap/")


def test_structures_and_unbatched_outputs_are_broadcast():
    def h(d):
        return {"sum": d["a"] + d["b"][0], "const": cr.constant(1.0, cr.float64), "py": 3}

    out = cr.vmap(h)({"a": X, "b": X[:, ::-1]})
    np.testing.assert_allclose(out["sum"], X + X[:, 2:3])
    np.testing.assert_array_equal(out["const"], np.ones(5))
    np.testing.assert_array_equal(out["py"], np.full(5, 3))


def test_per_example_jacobians_without_a_loop():
    loop = np.stack([cr.jacobian(f)(x) for x in X])
    for mode in ("rev", "fwd"):
        np.testing.assert_allclose(cr.vmap(cr.jacobian(f, mode=mode))(X), loop, rtol=1e-12)


def test_per_example_gradients_jvps_and_hessians():
    w = rng.standard_normal(3)
    y = rng.standard_normal(5)

    def loss(w, x, y):
        return (cr.reduce_sum(cr.tanh(w * x)) - y) ** 2

    per_example = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(w, X, y)
    loop = np.stack([cr.grad(loss)(w, x, t) for x, t in zip(X, y)])
    np.testing.assert_allclose(per_example, loop, rtol=1e-12)
    hess = cr.vmap(cr.hessian(loss), in_axes=(None, 0, 0))(w, X, y)
    np.testing.assert_allclose(hess, np.stack([cr.hessian(loss)(w, x, t) for x, t in zip(X, y)]), rtol=1e-10)

    def jvp_one(x, v):
        return cr.jvp(f, (x,), (v,))[1]

    V = rng.standard_normal((5, 3))
    jv = cr.vmap(jvp_one)(X, V)
    np.testing.assert_allclose(jv, np.einsum("bij,bj->bi", np.stack([cr.jacobian(f)(x) for x in X]), V), rtol=1e-12)


def test_nested_vmap():
    Z = rng.standard_normal((4, 5, 3))
    np.testing.assert_allclose(cr.vmap(cr.vmap(f))(Z), f_np(Z))


def test_inline_with_an_unknown_batch_size():
    x = cr.placeholder(cr.float64, [None, 3])
    y = cr.vmap(cr.jacobian(f))(x)
    assert y.shape.as_list() == [None, 3, 3]
    with cr.Session() as sess:
        for n in (1, 4):
            np.testing.assert_allclose(sess.run(y, {x: X[:n]}), np.stack([cr.jacobian(f)(v) for v in X[:n]]))


def test_gathers_with_per_example_indices():
    params = rng.standard_normal((5, 4, 4))
    idx = np.array([[0, 3], [1, 1], [2, 0], [3, 2], [0, 0]], np.int32)

    def pick(p, i):
        return cr.gather(p, i, axis=0), cr.gather(p, i, axis=1)

    a, b = cr.vmap(pick)(params, idx)
    np.testing.assert_array_equal(a, np.stack([p[i] for p, i in zip(params, idx)]))
    np.testing.assert_array_equal(b, np.stack([p[:, i] for p, i in zip(params, idx)]))


def test_errors_are_clear():
    with pytest.raises(ValueError, match="maps no array argument"):
        cr.vmap(f, in_axes=None)(X)
    with pytest.raises(ValueError, match="different sizes"):
        cr.vmap(lambda a, b: a + b)(X, X[:3])
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        cr.vmap(lambda a, b: a + b, in_axes=(0,))(X, X)
    with pytest.raises(cr.errors.UnimplementedError, match="stateful"):
        cr.vmap(lambda x: x * cr.random.uniform([3], dtype=cr.float64))(X)


def test_an_op_without_a_rule_is_batched_by_a_loop_and_a_rule_can_be_registered():
    calls = []

    @cr.custom_op("TwiceForVmapTest")
    def twice(x):
        calls.append(x.shape)
        return 2 * x

    # No rule: the op runs once per example and the results are stacked.
    np.testing.assert_allclose(cr.vmap(lambda x: twice(x) + 1)(X), 2 * X + 1)
    assert calls == [(3,)] * len(X)

    # A loop needs the batch size when the graph is built; without it the error names the op.
    with cr.Graph().as_default():
        unknown = cr.placeholder(cr.float64, [None, 3])
        with pytest.raises(cr.errors.UnimplementedError, match="(?s)TwiceForVmapTest.*register_batch_rule"):
            cr.vmap(lambda x: twice(x) + 1)(unknown)

    # An elementwise op: batching is the op itself on the batched input, one call for the batch.
    register_batch_rule("TwiceForVmapTest", lambda ctx, op, inputs, batched: [(twice(inputs[0]), True)])
    calls.clear()
    np.testing.assert_allclose(cr.vmap(lambda x: twice(x) + 1)(X * 3), 6 * X + 1)
    assert calls == [X.shape]


def test_tensors_and_variables_read_from_outside_are_shared_by_all_examples():
    w = cr.Variable(rng.standard_normal(3), name="w")
    b = cr.constant(0.5, dtype=cr.float64)
    x = cr.placeholder(cr.float64, [5, 3])
    y = cr.vmap(lambda v: cr.reduce_sum(v * w) + b)(x)
    (dw,) = cr.gradients(cr.reduce_sum(y), [w])
    with cr.Session() as sess:
        sess.run(cr.global_variables_initializer())
        w_value = sess.run(w)
        out, grad = sess.run([y, dw], {x: X})
    np.testing.assert_allclose(out, X @ w_value + 0.5)
    np.testing.assert_allclose(grad, X.sum(axis=0))


def test_a_loop_with_a_side_effect_is_refused_as_other_stateful_ops_are():
    counter = cr.Variable(0.0, dtype=cr.float64, name="counter")

    def per_example(x):
        def body(i, a):
            with cr.control_dependencies([counter.assign_add(1.0)]):
                return i + 1, a * 2

        return cr.while_loop(lambda i, a: i < 2, body, [cr.constant(0), x])[1]

    with pytest.raises(cr.errors.UnimplementedError, match=r"(?s)runs 'AssignAdd'.*stateful ops"):
        cr.vmap(per_example)(X)
    # Without the side effect, the same loop is batched (one loop per example).
    pure = cr.vmap(lambda x: cr.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, a * 2), [cr.constant(0), x])[1])
    np.testing.assert_allclose(pure(X), 4 * X)
