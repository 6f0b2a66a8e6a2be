"""cr.checkpoint / cr.remat: the backward pass recomputes; values and derivatives unchanged; memory saved."""

import numpy as np
import pytest

import chainrule as cr

X = np.array([[0.3, -1.2, 0.7], [0.1, 0.4, -0.5]])


def chain(x, n=4):
    for _ in range(n):
        x = cr.tanh(x)
    return x


def chain_np(x, n=4):
    for _ in range(n):
        x = np.tanh(x)
    return x


def tanh_count_and_buffers(transform, *args):
    """Tanh evaluations in the compiled plan (fused members included) and the bytes of its kept buffers."""
    concrete = transform.get_concrete_function(*args)
    count = 0
    for node in concrete.plan.program.nodes:
        types = node.extra.describe() if node.op_type == "Fused" else [node.op_type]
        count += sum(t == "Tanh" for t in types)
    return count, concrete.session.run_state.buffers.nbytes


def test_remat_is_checkpoint():
    assert cr.remat is cr.checkpoint


def test_the_backward_pass_recomputes_and_keeps_less():
    x = np.random.default_rng(0).standard_normal((100, 100))  # 80 kB per value: the plan keeps buffers
    seg = cr.checkpoint(chain)
    plain = cr.grad(lambda x: cr.reduce_sum(chain(chain(x)) * x))
    remat = cr.grad(lambda x: cr.reduce_sum(seg(seg(x)) * x))
    np.testing.assert_allclose(remat(x), plain(x), rtol=1e-12)
    n_plain, bytes_plain = tanh_count_and_buffers(plain, x)
    n_remat, bytes_remat = tanh_count_and_buffers(remat, x)
    assert n_plain == 8
    assert n_remat == 16  # each segment's four tanh layers once more, in the backward pass
    assert bytes_remat < bytes_plain  # 880000 vs 1360000 bytes when recorded
    # Without the barrier the compiler's common-subexpression merge folds the recomputation back.
    merged = cr.grad(lambda x: cr.reduce_sum(cr.checkpoint(chain, prevent_cse=False)(x) * x))
    merged(x)
    assert tanh_count_and_buffers(merged, x)[0] == 4


def test_values_and_derivatives_equal_the_plain_function():
    seg = cr.checkpoint(chain)
    np.testing.assert_allclose(seg(X), chain_np(X))
    f_plain = lambda x: cr.reduce_sum(chain(x) * x)  # noqa: E731
    f_remat = lambda x: cr.reduce_sum(seg(x) * x)  # noqa: E731
    np.testing.assert_allclose(cr.grad(f_remat)(X), cr.grad(f_plain)(X), rtol=1e-12)
    np.testing.assert_allclose(cr.hessian(f_remat)(X), cr.hessian(f_plain)(X), rtol=1e-10, atol=1e-12)
    t = np.ones_like(X)
    np.testing.assert_allclose(cr.jvp(seg, (X,), (t,))[1], cr.jvp(chain, (X,), (t,))[1], rtol=1e-12)
    np.testing.assert_allclose(cr.linearize(seg, X)[1](t), cr.jvp(chain, (X,), (t,))[1], rtol=1e-12)
    cr.test.check_gradients(lambda x: seg(x) * x, [X], order=2)


def test_graph_code_and_closures():
    w = cr.placeholder(cr.float64, [3])

    @cr.checkpoint
    def layer(x):
        return cr.tanh(x * w)  # w is read from outside: it is differentiated through the recomputation

    x = cr.placeholder(cr.float64, [2, 3])
    loss = cr.reduce_sum(layer(layer(x)))
    gx, gw = cr.gradients(loss, [x, w])
    wv = np.array([0.5, -1.0, 2.0])
    with cr.Session() as sess:
        got = sess.run([gx, gw], {x: X, w: wv})
    ref_loss = cr.reduce_sum(cr.tanh(cr.tanh(x * w) * w))
    with cr.Session() as sess:
        want = sess.run(cr.gradients(ref_loss, [x, w]), {x: X, w: wv})
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_static_argnums_pytrees_and_vmap():
    @cr.checkpoint(static_argnums=(1,))
    def f(p, n):
        return {"y": chain(p["a"], n) * p["b"], "n": n}

    p = {"a": X, "b": X**2}
    out = f(p, 3)
    np.testing.assert_allclose(out["y"], chain_np(X, 3) * X**2)
    g = cr.grad(lambda p: cr.reduce_sum(f(p, 3)["y"]))(p)
    want = cr.grad(lambda p: cr.reduce_sum(chain(p["a"], 3) * p["b"]))(p)
    np.testing.assert_allclose(g["a"], want["a"], rtol=1e-12)
    np.testing.assert_allclose(g["b"], want["b"], rtol=1e-12)
    seg = cr.checkpoint(chain)
    per_row = cr.vmap(cr.grad(lambda x: cr.reduce_sum(seg(x))))(X)
    batched = cr.grad(lambda x: cr.reduce_sum(cr.vmap(seg)(x)))(X)
    want_rows = cr.grad(lambda x: cr.reduce_sum(chain(x)))(X)
    np.testing.assert_allclose(per_row, want_rows, rtol=1e-12)
    np.testing.assert_allclose(batched, want_rows, rtol=1e-12)


@pytest.mark.parametrize("shape", [(0, 3), (1,), ()])
def test_shapes(shape):
    x = np.full(shape, 0.5)
    g = cr.grad(lambda x: cr.reduce_sum(cr.checkpoint(chain)(x)))(x)
    assert np.shape(g) == shape
    np.testing.assert_allclose(g, cr.grad(lambda x: cr.reduce_sum(chain(x)))(x))


def test_errors():
    with pytest.raises(NotImplementedError, match=r"cr\.checkpoint: saving policies are not supported"):
        cr.checkpoint(chain, policy=lambda *a: True)
    with pytest.raises(TypeError, match=r"cr\.checkpoint\(<lambda>\): the function returned no tensor \(NoneType\)"):
        cr.grad(lambda x: cr.reduce_sum(x) + (cr.checkpoint(lambda x: None)(x) or 0.0))(X)


@pytest.mark.parametrize("prevent_cse", [True, False])
def test_arguments_that_depend_on_each_other_are_separate_variables(prevent_cse):
    f = cr.checkpoint(lambda a, b: cr.sin(a) * b, prevent_cse=prevent_cse)
    g = cr.grad(lambda x: cr.reduce_sum(f(x, 2.0 * x)))(X)
    np.testing.assert_allclose(g, 2 * (np.cos(X) * X + np.sin(X)), rtol=1e-12)


def test_a_function_of_no_arguments_builds_graph_code():
    w = cr.placeholder(cr.float64, [3])
    f = cr.checkpoint(lambda: cr.tanh(w) * 2.0)
    (g,) = cr.gradients(cr.reduce_sum(f()), [w])
    wv = np.array([0.1, 0.2, 0.3])
    with cr.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {w: wv}), 2 * (1 - np.tanh(wv) ** 2))
