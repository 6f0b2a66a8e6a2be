"""JAX (CPU, float64): ``jax.jit`` of the objective and of ``jax.grad``; the LSTM's time loop is a
``lax.scan`` (an unrolled Python loop of 1023 steps takes minutes for XLA to compile)."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

from harness import data, problems  # noqa: E402
from harness.problems import Case  # noqa: E402


def available() -> str | None:
    return jax.__version__


def _ready(v: Any) -> Any:
    return jax.block_until_ready(v)


def _np(values: Any) -> list[np.ndarray]:
    return [np.asarray(v) for v in values]


def _case(f: Any, args: tuple[Any, ...], argnums: tuple[int, ...]) -> Case:
    fj = jax.jit(f)
    gj = jax.jit(jax.grad(f, argnums=argnums))
    return Case(
        objective=lambda: _ready(fj(*args)),
        gradient=lambda: _ready(gj(*args)),
        value=lambda: float(fj(*args)),
        grads=lambda: _np(gj(*args)),
    )


def gmm(inst: data.GMMInstance) -> Case:
    n, d, k = inst.n, inst.d, inst.k
    const, prior_const = data.gmm_constants(inst)
    tri_index = jnp.asarray(data.gmm_tri_index(d))

    def f(alphas: Any, means: Any, icf: Any, x: Any) -> Any:
        q = icf[:, :d]
        lower = icf[:, d:]
        padded = jnp.concatenate([jnp.zeros((k, 1)), lower], axis=1)
        tri = jnp.take(padded, tri_index, axis=1).reshape(k, d, d)
        xc = x[None, :, :] - means[:, None, :]
        qxc = xc * jnp.exp(q)[:, None, :] + jnp.matmul(xc, jnp.swapaxes(tri, 1, 2))
        sum_q = q.sum(1)
        inner = (alphas + sum_q)[:, None] - 0.5 * jnp.sum(qxc * qxc, axis=2)
        slse = jnp.sum(jax.nn.logsumexp(inner, axis=0))
        prior = jnp.sum(0.5 * inst.gamma**2 * (jnp.sum(jnp.exp(q) ** 2, 1) + jnp.sum(lower**2, 1)) - inst.m * sum_q)
        return const + slse - n * jax.nn.logsumexp(alphas) + prior + prior_const

    args = tuple(jnp.asarray(a) for a in (inst.alphas, inst.means, inst.icf, inst.x))
    return _case(f, args, (0, 1, 2))


def lstm(inst: data.LSTMInstance) -> Case:
    b, layers, c = inst.b, inst.layers, inst.sequence.shape[0]

    def f(main: Any, extra: Any, state: Any, seq: Any) -> Any:
        def step(carry: Any, xs: Any) -> Any:
            hs, cs = carry
            inp, gold = xs
            x = inp * extra[0]
            new_h, new_c = [], []
            for j in range(layers):
                gates = jnp.concatenate([x, hs[j], x, hs[j]]) * main[2 * j] + main[2 * j + 1]
                forget = jax.nn.sigmoid(gates[:b])
                ingate = jax.nn.sigmoid(gates[b : 2 * b])
                outgate = jax.nn.sigmoid(gates[2 * b : 3 * b])
                change = jnp.tanh(gates[3 * b :])
                cell = cs[j] * forget + ingate * change
                h = outgate * jnp.tanh(cell)
                new_h.append(h)
                new_c.append(cell)
                x = h
            y = x * extra[1] + extra[2]
            ynorm = y - jnp.log(2.0 + jnp.sum(jnp.exp(y)))
            return (tuple(new_h), tuple(new_c)), jnp.sum(gold * ynorm)

        init = (tuple(state[2 * j] for j in range(layers)), tuple(state[2 * j + 1] for j in range(layers)))
        _, terms = lax.scan(step, init, (seq[:-1], seq[1:]))
        return -jnp.sum(terms) / ((c - 1) * b)

    args = tuple(jnp.asarray(a) for a in (inst.main, inst.extra, inst.state, inst.sequence))
    case = _case(f, args, (0, 1))
    case.note = "time loop as lax.scan"
    return case


def _mlp_loss(params: Any, x: Any, onehot: Any) -> Any:
    h = x
    for i in range(0, len(params) - 2, 2):
        h = jnp.tanh(h @ params[i] + params[i + 1])
    logits = h @ params[-2] + params[-1]
    return -jnp.mean(jnp.sum(onehot * jax.nn.log_softmax(logits, axis=1), axis=1))


def mlp(d: problems.MLPData) -> Case:
    x, onehot = jnp.asarray(d.x), jnp.asarray(d.onehot)
    state = {"params": [jnp.asarray(p) for p in d.params]}
    loss = jax.jit(_mlp_loss)
    grad = jax.jit(jax.grad(_mlp_loss))

    @jax.jit
    def step(params: Any, x: Any, onehot: Any) -> Any:
        value, grads = jax.value_and_grad(_mlp_loss)(params, x, onehot)
        return [p - problems.MLP_LEARNING_RATE * g for p, g in zip(params, grads)], value

    def train() -> Any:
        state["params"], value = _ready(step(state["params"], x, onehot))
        return value

    return Case(
        objective=lambda: _ready(loss(state["params"], x, onehot)),
        gradient=train,
        value=lambda: float(loss(state["params"], x, onehot)),
        grads=lambda: _np(grad(state["params"], x, onehot)),
    )


def chain(n: int) -> Case:
    ops = problems.chain_ops(n)

    def f(x: Any) -> Any:
        return problems.run_chain(ops, x, jnp.sin, jnp.tanh)

    fj, gj = jax.jit(f), jax.jit(jax.grad(f))
    x = jnp.asarray(problems.CHAIN_X0, dtype=jnp.float64)
    return Case(
        objective=lambda: _ready(fj(x)),
        gradient=lambda: _ready(gj(x)),
        value=lambda: float(fj(x)),
        grads=lambda: [np.asarray(gj(x))],
    )
