"""Lists, tuples, dicts (nested) in and out of every transform, checked against the flat version of each."""

import numpy as np
import pytest

import chainrule as cr

W = np.array([[1.0, -0.5], [0.3, 2.0]])
B = np.array([0.5, -0.25])
S = np.array(1.5)
X = np.array([0.3, 1.2])
P = {"w": W, "b": [B, (S,)]}


def model(p, x):
    """dict in, tuple (holding a dict) out."""
    h = cr.tanh(cr.matmul(p["w"], x[:, None])[:, 0] + p["b"][0]) * p["b"][1][0]
    return h, {"s": cr.reduce_sum(h * h)}


def model_np(w, b, s, x):
    h = np.tanh(w @ x + b) * s
    return h, np.sum(h * h)


def loss(p, x):
    return model(p, x)[1]["s"]


def flat_loss(w, b, s, x):
    return loss({"w": w, "b": [b, (s,)]}, x)


def test_function_and_grad():
    h, d = cr.function(model)(P, X)
    want_h, want_s = model_np(W, B, S, X)
    np.testing.assert_allclose(h, want_h)
    np.testing.assert_allclose(d["s"], want_s)
    g = cr.grad(loss)(P, X)
    assert set(g) == {"w", "b"} and isinstance(g["b"], list) and isinstance(g["b"][1], tuple)
    gw, gb, gs = cr.grad(flat_loss, argnums=(0, 1, 2))(W, B, S, X)
    np.testing.assert_allclose(g["w"], gw)
    np.testing.assert_allclose(g["b"][0], gb)
    np.testing.assert_allclose(g["b"][1][0], gs)
    (v, (gp, gx)) = cr.value_and_grad(loss, argnums=(0, 1))(P, X)
    np.testing.assert_allclose(v, model_np(W, B, S, X)[1])
    np.testing.assert_allclose(gp["w"], gw)
    np.testing.assert_allclose(gx, cr.grad(flat_loss, argnums=3)(W, B, S, X))


def test_vjp_jvp_linearize():
    out, pull = cr.vjp(model, P, X)
    gp, gx = pull((np.zeros(2), {"s": 1.0}))
    np.testing.assert_allclose(gp["w"], cr.grad(flat_loss)(W, B, S, X))
    tangent = ({"w": np.ones_like(W), "b": [np.zeros(2), (np.array(0.0),)]}, np.zeros(2))
    _, (th, td) = cr.jvp(model, (P, X), tangent)
    assert isinstance(td, dict)
    np.testing.assert_allclose(td["s"], np.sum(cr.grad(flat_loss)(W, B, S, X)))
    _, f_jvp = cr.linearize(model, P, X)
    lh, ld = f_jvp(*tangent)
    np.testing.assert_allclose(lh, th)
    np.testing.assert_allclose(ld["s"], td["s"])


def test_jacobian_hessian_hvp_elementwise_grad():
    jac = cr.jacobian(model)(P, X)  # output structure outside, input structure inside
    assert isinstance(jac, tuple) and set(jac[1]) == {"s"}
    np.testing.assert_allclose(jac[1]["s"]["w"], cr.grad(flat_loss)(W, B, S, X))
    assert jac[0]["w"].shape == (2, 2, 2)
    hess = cr.hessian(loss)(P, X)
    assert set(hess) == {"w", "b"} and set(hess["w"]) == {"w", "b"}
    flat_h = cr.hessian(flat_loss)(W, B, S, X)
    np.testing.assert_allclose(hess["w"]["w"], flat_h)
    v = {"w": np.ones_like(W), "b": [np.zeros(2), (np.array(0.0),)]}
    hv = cr.hvp(lambda p: loss(p, X), P, v)
    np.testing.assert_allclose(hv["w"], np.einsum("ijkl,kl->ij", flat_h, np.ones_like(W)))
    eg = cr.elementwise_grad(model)(P, X)
    assert set(eg) == {"w", "b"}


def test_vmap_prefix_axes_in_and_out():
    xs = np.stack([X, -X, 2 * X])
    bs = np.stack([B, B + 1, B - 1])
    # the whole parameter dict shared, x mapped
    h, d = cr.vmap(model, in_axes=(None, 0))(P, xs)
    for i in range(3):
        np.testing.assert_allclose(h[i], model_np(W, B, S, xs[i])[0])
    # a prefix tree: only b[0] mapped inside the dict; the output's batch axis placed per leaf
    p_b = {"w": W, "b": [bs, (S,)]}
    h2, d2 = cr.vmap(model, in_axes=({"w": None, "b": [0, None]}, 0), out_axes=(1, {"s": 0}))(p_b, xs)
    assert h2.shape == (2, 3) and d2["s"].shape == (3,)
    for i in range(3):
        want_h, want_s = model_np(W, bs[i], S, xs[i])
        np.testing.assert_allclose(h2[:, i], want_h)
        np.testing.assert_allclose(d2["s"][i], want_s)


def test_vmap_prefix_errors_name_the_place():
    xs = np.stack([X, X])
    with pytest.raises(ValueError, match=r"in_axes\[0\]: keys \['b'\] for a dict with keys \['b', 'w'\]"):
        cr.vmap(model, in_axes=({"b": 0}, 0))(P, xs)
    with pytest.raises(ValueError, match=r"in_axes\[0\]: 1 entries at \['b'\] for a list of 2"):
        cr.vmap(model, in_axes=({"w": None, "b": [0]}, 0))(P, xs)
    with pytest.raises(TypeError, match=r"each entry must be an int or None, got 'x' at \['w'\]"):
        cr.vmap(model, in_axes=({"w": "x", "b": None}, 0))(P, xs)


def test_custom_rules_and_checkpoint_take_structures():
    ck = cr.checkpoint(model)
    g = cr.grad(lambda p, x: ck(p, x)[1]["s"])(P, X)
    np.testing.assert_allclose(g["w"], cr.grad(flat_loss)(W, B, S, X))
    np.testing.assert_allclose(g["b"][1][0], cr.grad(flat_loss, argnums=2)(W, B, S, X))
