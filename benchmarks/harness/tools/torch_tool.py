"""PyTorch (CPU, float64, eager): objectives under ``torch.no_grad``, gradients by ``torch.autograd.grad``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from harness import data, problems
from harness.problems import Case

torch.set_default_dtype(torch.float64)


def available() -> str | None:
    return torch.__version__


def _np(values: Any) -> list[np.ndarray]:
    return [v.detach().numpy().copy() for v in values]


def _leaves(*arrays: np.ndarray) -> list[torch.Tensor]:
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def _case(f: Callable[..., torch.Tensor], params: list[torch.Tensor], consts: tuple[Any, ...]) -> Case:
    def objective() -> torch.Tensor:
        with torch.no_grad():
            return f(*params, *consts)

    def gradient() -> Any:
        return torch.autograd.grad(f(*params, *consts), params)

    return Case(
        objective=objective,
        gradient=gradient,
        value=lambda: float(objective()),
        grads=lambda: _np(gradient()),
    )


def gmm(inst: data.GMMInstance) -> Case:
    n, d, k = inst.n, inst.d, inst.k
    const, prior_const = data.gmm_constants(inst)
    tri_index = torch.as_tensor(data.gmm_tri_index(d), dtype=torch.long)

    def f(alphas: Any, means: Any, icf: Any, x: Any) -> Any:
        q = icf[:, :d]
        lower = icf[:, d:]
        padded = torch.cat([torch.zeros(k, 1), lower], dim=1)
        tri = padded[:, tri_index].reshape(k, d, d)
        xc = x[None, :, :] - means[:, None, :]
        qxc = xc * torch.exp(q)[:, None, :] + torch.matmul(xc, tri.transpose(1, 2))
        sum_q = q.sum(1)
        inner = (alphas + sum_q)[:, None] - 0.5 * torch.sum(qxc * qxc, dim=2)
        slse = torch.sum(torch.logsumexp(inner, dim=0))
        prior = torch.sum(
            0.5 * inst.gamma**2 * (torch.sum(torch.exp(q) ** 2, 1) + torch.sum(lower**2, 1)) - inst.m * sum_q
        )
        return const + slse - n * torch.logsumexp(alphas, dim=0) + prior + prior_const

    return _case(f, _leaves(inst.alphas, inst.means, inst.icf), (torch.as_tensor(inst.x),))


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
                gates = torch.cat([x, h[j], x, h[j]]) * main[2 * j] + main[2 * j + 1]
                forget = torch.sigmoid(gates[:b])
                ingate = torch.sigmoid(gates[b : 2 * b])
                outgate = torch.sigmoid(gates[2 * b : 3 * b])
                change = torch.tanh(gates[3 * b :])
                cell[j] = cell[j] * forget + ingate * change
                h[j] = outgate * torch.tanh(cell[j])
                x = h[j]
            y = x * extra[1] + extra[2]
            ynorm = y - torch.log(2.0 + torch.sum(torch.exp(y)))
            total = total + torch.sum(seq[t + 1] * ynorm)
        return -total / ((c - 1) * b)

    return _case(f, _leaves(inst.main, inst.extra), (torch.as_tensor(inst.state), torch.as_tensor(inst.sequence)))


def _mlp_loss(params: list[torch.Tensor], x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    h = x
    for i in range(0, len(params) - 2, 2):
        h = torch.tanh(h @ params[i] + params[i + 1])
    logits = h @ params[-2] + params[-1]
    return torch.nn.functional.cross_entropy(logits, labels)


def mlp(d: problems.MLPData) -> Case:
    x, labels = torch.as_tensor(d.x), torch.as_tensor(d.labels)
    params = _leaves(*d.params)

    def objective() -> torch.Tensor:
        with torch.no_grad():
            return _mlp_loss(params, x, labels)

    def step() -> torch.Tensor:
        loss = _mlp_loss(params, x, labels)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(problems.MLP_LEARNING_RATE * g)
        return loss

    return Case(
        objective=objective,
        gradient=step,
        value=lambda: float(objective()),
        grads=lambda: _np(torch.autograd.grad(_mlp_loss(params, x, labels), params)),
    )


def chain(n: int) -> Case:
    ops = problems.chain_ops(n)

    def f(x: torch.Tensor) -> torch.Tensor:
        return problems.run_chain(ops, x, torch.sin, torch.tanh)

    return _case(f, _leaves(np.float64(problems.CHAIN_X0)), ())
