"""The benchmark problems, their sizes, and plain-NumPy references every tool is checked against.

Each tool module (``harness.tools.<tool>``) implements the same math for each problem and
returns a :class:`Case`: ``objective`` and ``gradient`` are the timed calls (framework-native
results, synchronized), ``value`` and ``grads`` give NumPy results for the correctness checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness import data

PROBLEMS = ("gmm", "lstm", "mlp", "chain")


@dataclass
class Case:
    """One problem at one size, set up by one tool."""

    objective: Callable[[], Any]
    gradient: Callable[[], Any] | None
    value: Callable[[], float]
    grads: Callable[[], list[np.ndarray]] | None
    note: str = ""


# --- GMM ---------------------------------------------------------------------------------------
def gmm_numpy(alphas: np.ndarray, means: np.ndarray, icf: np.ndarray, inst: data.GMMInstance) -> float:
    """ADBench's GMM objective in NumPy (the formulation every tool uses: Q's strictly lower part by
    a gather, ``Q (x - mu)`` as ``exp(q) * xc + xc @ L^T`` batched over components)."""
    x = inst.x
    d, k = inst.d, inst.k
    const, prior_const = data.gmm_constants(inst)
    q = icf[:, :d]
    lower = icf[:, d:]
    padded = np.concatenate([np.zeros((k, 1)), lower], axis=1)
    tri = padded[:, data.gmm_tri_index(d)].reshape(k, d, d)
    xc = x[None, :, :] - means[:, None, :]  # K, n, d
    qxc = xc * np.exp(q)[:, None, :] + xc @ tri.transpose(0, 2, 1)
    inner = (alphas + q.sum(1))[:, None] - 0.5 * (qxc * qxc).sum(2)  # K, n
    shift = inner.max(0)
    slse = np.sum(np.log(np.exp(inner - shift).sum(0)) + shift)
    a_max = alphas.max()
    lse_alphas = np.log(np.exp(alphas - a_max).sum()) + a_max
    prior = np.sum(0.5 * inst.gamma**2 * ((np.exp(q) ** 2).sum(1) + (lower**2).sum(1)) - inst.m * q.sum(1))
    return float(const + slse - inst.n * lse_alphas + prior + prior_const)


# --- LSTM --------------------------------------------------------------------------------------
def lstm_numpy(main: np.ndarray, extra: np.ndarray, inst: data.LSTMInstance) -> float:
    """ADBench's diagonal LSTM loss in NumPy, step by step as the reference writes it."""
    b, layers, seq = inst.b, inst.layers, inst.sequence
    h = [inst.state[2 * j] for j in range(layers)]
    c = [inst.state[2 * j + 1] for j in range(layers)]
    total = 0.0
    for t in range(seq.shape[0] - 1):
        x = seq[t] * extra[0]
        for j in range(layers):
            gates = np.concatenate([x, h[j], x, h[j]]) * main[2 * j] + main[2 * j + 1]
            f = _sigmoid(gates[:b])
            i = _sigmoid(gates[b : 2 * b])
            o = _sigmoid(gates[2 * b : 3 * b])
            g = np.tanh(gates[3 * b :])
            c[j] = c[j] * f + i * g
            h[j] = o * np.tanh(c[j])
            x = h[j]
        y = x * extra[1] + extra[2]
        ynorm = y - np.log(2.0 + np.sum(np.exp(y)))
        total = total + np.sum(seq[t + 1] * ynorm)
    return float(-total / ((seq.shape[0] - 1) * b))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# --- MLP on digits -------------------------------------------------------------------------------
MLP_HIDDEN = (128, 128)
MLP_LEARNING_RATE = 0.1


@dataclass
class MLPData:
    x: np.ndarray
    labels: np.ndarray
    onehot: np.ndarray
    params: list[np.ndarray]  # W1, b1, W2, b2, W3, b3 (initial values)
    source: str


def mlp_data() -> MLPData:
    """The digits, one-hot labels and a fixed initialization of a 64-128-128-10 tanh network."""
    x, labels, source = data.digits()
    onehot = np.eye(10)[labels]
    rng = np.random.default_rng(1234)
    sizes = (x.shape[1], *MLP_HIDDEN, 10)
    params: list[np.ndarray] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in))
        params.append(np.zeros(fan_out))
    return MLPData(x, labels, onehot, params, source)


def mlp_numpy(params: list[np.ndarray], x: np.ndarray, onehot: np.ndarray) -> float:
    """Mean softmax cross-entropy of the tanh MLP (full batch)."""
    h = x
    for i in range(0, len(params) - 2, 2):
        h = np.tanh(h @ params[i] + params[i + 1])
    logits = h @ params[-2] + params[-1]
    shift = logits.max(1, keepdims=True)
    logp = logits - shift - np.log(np.exp(logits - shift).sum(1, keepdims=True))
    return float(-np.mean(np.sum(onehot * logp, axis=1)))


def mlp_numpy_grads(params: list[np.ndarray], x: np.ndarray, onehot: np.ndarray) -> list[np.ndarray]:
    """The loss's gradient by hand-written backpropagation (the reference for every tool)."""
    hs = [x]
    for i in range(0, len(params) - 2, 2):
        hs.append(np.tanh(hs[-1] @ params[i] + params[i + 1]))
    logits = hs[-1] @ params[-2] + params[-1]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - onehot) / x.shape[0]
    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    for layer in range(len(params) // 2 - 1, -1, -1):
        grads[2 * layer] = hs[layer].T @ delta
        grads[2 * layer + 1] = delta.sum(0)
        if layer:
            delta = (delta @ params[2 * layer].T) * (1 - hs[layer] ** 2)
    return grads


# --- overhead: a chain of scalar elementwise ops ---------------------------------------------------
CHAIN_OPS = ("sin", "mul", "tanh", "add")
CHAIN_X0 = 0.7


def chain_ops(n: int) -> list[str]:
    """The ``n`` ops of the overhead chain ``y <- sin(y); y <- y * x; y <- tanh(y); y <- y + x`` (repeated,
    starting from ``y = x``): values stay bounded, the derivative stays of order one, and no rewrite
    can shorten the chain."""
    return [CHAIN_OPS[i % len(CHAIN_OPS)] for i in range(n)]


def run_chain(ops: Sequence[str], x: Any, sin: Callable[[Any], Any], tanh: Callable[[Any], Any]) -> Any:
    """The chain applied to ``x`` with a framework's own ``sin`` and ``tanh`` (every tool runs this loop)."""
    y = x
    for op in ops:
        if op == "sin":
            y = sin(y)
        elif op == "mul":
            y = y * x
        elif op == "tanh":
            y = tanh(y)
        else:
            y = y + x
    return y


def chain_numpy(x: float, n: int) -> tuple[float, float]:
    """The chain's value and derivative (forward mode by hand)."""
    v, dv = np.float64(x), 1.0
    for op in chain_ops(n):
        if op == "sin":
            v, dv = np.sin(v), dv * np.cos(v)
        elif op == "mul":
            v, dv = v * x, dv * x + v
        elif op == "tanh":
            v = np.tanh(v)
            dv = dv * (1 - v * v)
        else:
            v, dv = v + x, dv + 1.0
    return float(v), float(dv)


# --- sizes ---------------------------------------------------------------------------------------
def sizes(problem: str, quick: bool) -> list[str]:
    """Size names for ``problem``: all files for a full run, a few small ones for a quick run."""
    if problem == "gmm":
        names = list(data.gmm_files())
        if quick:
            names = [n for n in ("d2_K5", "d10_K25") if n in names] or names[:2]
        return names
    if problem == "lstm":
        names = list(data.lstm_files())
        return ["l2_c1024[:64]"] if quick else names
    if problem == "mlp":
        return ["digits"]
    if problem == "chain":
        return ["n200"]
    raise ValueError(f"unknown problem {problem!r}")


def load(problem: str, size: str) -> Any:
    """The input for ``problem`` at ``size`` (an instance object, MLPData, or the chain length)."""
    if problem == "gmm":
        if size == "test":
            return data.read_gmm(data.adbench_dir() / "gmm" / "test.txt")
        return data.read_gmm(data.gmm_files()[size])
    if problem == "lstm":
        base, _, cut = size.partition("[:")
        inst = data.read_lstm(data.lstm_files()[base])
        return inst.truncated(int(cut.rstrip("]"))) if cut else inst
    if problem == "mlp":
        return mlp_data()
    if problem == "chain":
        return int(size[1:])
    raise ValueError(f"unknown problem {problem!r}")
