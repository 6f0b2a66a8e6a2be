"""HIPS autograd (float64): the NumPy code traced on every call, ``autograd.grad`` for gradients."""

from __future__ import annotations

from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp

from harness import data, problems
from harness.problems import Case


def available() -> str | None:
    try:
        from importlib.metadata import version

        return version("autograd")
    except Exception:  # noqa: BLE001 - the version is only for the report
        return "installed"


def _case(f: Any, params: tuple[np.ndarray, ...], consts: tuple[Any, ...]) -> Case:
    packed = lambda p: f(*p, *consts)  # noqa: E731
    grad = autograd.grad(packed)
    return Case(
        objective=lambda: packed(params),
        gradient=lambda: grad(params),
        value=lambda: float(packed(params)),
        grads=lambda: [np.asarray(g) for g in grad(params)],
    )


def gmm(inst: data.GMMInstance) -> Case:
    n, d, k = inst.n, inst.d, inst.k
    const, prior_const = data.gmm_constants(inst)
    tri_index = data.gmm_tri_index(d)

    def f(alphas: Any, means: Any, icf: Any, x: Any) -> Any:
        q = icf[:, :d]
        lower = icf[:, d:]
        padded = anp.concatenate([anp.zeros((k, 1)), lower], axis=1)
        tri = anp.reshape(padded[:, tri_index], (k, d, d))
        xc = x[None, :, :] - means[:, None, :]
        qxc = xc * anp.exp(q)[:, None, :] + anp.matmul(xc, anp.transpose(tri, (0, 2, 1)))
        sum_q = anp.sum(q, 1)
        inner = (alphas + sum_q)[:, None] - 0.5 * anp.sum(qxc * qxc, axis=2)
        slse = anp.sum(logsumexp(inner, axis=0))
        prior = anp.sum(0.5 * inst.gamma**2 * (anp.sum(anp.exp(q) ** 2, 1) + anp.sum(lower**2, 1)) - inst.m * sum_q)
        return const + slse - n * logsumexp(alphas) + prior + prior_const

    return _case(f, (inst.alphas, inst.means, inst.icf), (inst.x,))


def lstm(inst: data.LSTMInstance) -> Case:
    b, layers = inst.b, inst.layers

    def f(main: Any, extra: Any, state: Any, seq: Any) -> Any:
        c = seq.shape[0]
        h = [state[2 * j] for j in range(layers)]
        cell = [state[2 * j + 1] for j in range(layers)]
        total = 0.0
        for t in range(c - 1):
            x = seq[t] * extra[0]
            for j in range(layers):
                gates = anp.concatenate([x, h[j], x, h[j]]) * main[2 * j] + main[2 * j + 1]
                forget = 1.0 / (1.0 + anp.exp(-gates[:b]))
                ingate = 1.0 / (1.0 + anp.exp(-gates[b : 2 * b]))
                outgate = 1.0 / (1.0 + anp.exp(-gates[2 * b : 3 * b]))
                change = anp.tanh(gates[3 * b :])
                cell[j] = cell[j] * forget + ingate * change
                h[j] = outgate * anp.tanh(cell[j])
                x = h[j]
            y = x * extra[1] + extra[2]
            ynorm = y - anp.log(2.0 + anp.sum(anp.exp(y)))
            total = total + anp.sum(seq[t + 1] * ynorm)
        return -total / ((c - 1) * b)

    return _case(f, (inst.main, inst.extra), (inst.state, inst.sequence))


def _mlp_loss(params: Any, x: np.ndarray, onehot: np.ndarray) -> Any:
    h = x
    for i in range(0, len(params) - 2, 2):
        h = anp.tanh(anp.dot(h, params[i]) + params[i + 1])
    logits = anp.dot(h, params[-2]) + params[-1]
    logp = logits - logsumexp(logits, axis=1, keepdims=True)
    return -anp.mean(anp.sum(onehot * logp, axis=1))


def mlp(d: problems.MLPData) -> Case:
    state = {"params": [p.copy() for p in d.params]}
    value_and_grad = autograd.value_and_grad(_mlp_loss)

    def step() -> Any:
        value, grads = value_and_grad(state["params"], d.x, d.onehot)
        state["params"] = [p - problems.MLP_LEARNING_RATE * g for p, g in zip(state["params"], grads)]
        return value

    return Case(
        objective=lambda: _mlp_loss(state["params"], d.x, d.onehot),
        gradient=step,
        value=lambda: float(_mlp_loss(state["params"], d.x, d.onehot)),
        grads=lambda: [np.asarray(g) for g in autograd.grad(_mlp_loss)(state["params"], d.x, d.onehot)],
    )


def chain(n: int) -> Case:
    ops = problems.chain_ops(n)

    def f(x: Any) -> Any:
        return problems.run_chain(ops, x, anp.sin, anp.tanh)

    grad = autograd.grad(f)
    x = problems.CHAIN_X0
    return Case(
        objective=lambda: f(x),
        gradient=lambda: grad(x),
        value=lambda: float(f(x)),
        grads=lambda: [np.asarray(grad(x))],
    )
