"""The benchmark problems in chainrule: one graph per problem, inputs fed as placeholders (so no
rewrite can fold the data away), run by ``cr.Session`` through its public API only."""

from __future__ import annotations

import importlib.util
import inspect
from typing import Any

import numpy as np

import chainrule as cr
from harness import data, problems
from harness.problems import Case

_SESSION_KWARGS: dict[str, Any] = {}
_OPTIONS = {"lstm_scan": False}


def available() -> str | None:
    return cr.__version__


def numba_backend() -> bool:
    """Whether the native backend can run here: Numba imports and this chainrule has ``chainrule.backends.numba``."""
    try:
        if importlib.util.find_spec("chainrule.backends.numba") is None:
            return False
        import numba  # noqa: F401
    except ImportError:  # no chainrule.backends package, or a broken Numba install
        return False
    return True


def supports_optimize_flag() -> bool:
    """Whether ``cr.Session(optimize=...)`` exists (for an A/B run without graph rewrites)."""
    try:
        return "optimize" in inspect.signature(cr.Session).parameters
    except (TypeError, ValueError):
        return False


def configure(lstm_scan: bool = False, **session_kwargs: Any) -> None:
    """Keyword arguments for every Session this module makes (``optimize=False`` for the A/B run);
    ``lstm_scan=True``: the LSTM as one ``cr.foldl`` over the characters instead of unrolled."""
    _OPTIONS["lstm_scan"] = lstm_scan
    _SESSION_KWARGS.clear()
    _SESSION_KWARGS.update(session_kwargs)


def _session(graph: cr.Graph) -> cr.Session:
    return cr.Session(graph=graph, **_SESSION_KWARGS)


def _flat(values: list[Any]) -> list[np.ndarray]:
    return [np.asarray(v) for v in values]


# --- GMM ---------------------------------------------------------------------------------------
def gmm_graph(alphas: cr.Tensor, means: cr.Tensor, icf: cr.Tensor, x: cr.Tensor, inst: data.GMMInstance) -> cr.Tensor:
    """ADBench's GMM objective in chainrule ops (same formulation as ``problems.gmm_numpy``)."""
    n, d, k = inst.n, inst.d, inst.k
    const, prior_const = data.gmm_constants(inst)
    q = icf[:, :d]
    lower = icf[:, d:]
    padded = cr.concat([cr.zeros([k, 1], cr.float64), lower], axis=1)
    tri = cr.reshape(cr.gather(padded, data.gmm_tri_index(d), axis=1), [k, d, d])
    xc = x[None, :, :] - means[:, None, :]  # K, n, d
    qxc = xc * cr.exp(q)[:, None, :] + cr.matmul(xc, tri, transpose_b=True)
    sum_q = cr.reduce_sum(q, axis=1)
    inner = (alphas + sum_q)[:, None] - 0.5 * cr.reduce_sum(qxc * qxc, axis=2)  # K, n
    slse = cr.reduce_sum(cr.reduce_logsumexp(inner, axis=0))
    prior = cr.reduce_sum(
        0.5 * inst.gamma**2 * (cr.reduce_sum(cr.square(cr.exp(q)), axis=1) + cr.reduce_sum(cr.square(lower), axis=1))
        - inst.m * sum_q
    )
    return const + slse - n * cr.reduce_logsumexp(alphas) + prior + prior_const


def gmm(inst: data.GMMInstance) -> Case:
    graph = cr.Graph()
    with graph.as_default():
        alphas = cr.placeholder(cr.float64, inst.alphas.shape, name="alphas")
        means = cr.placeholder(cr.float64, inst.means.shape, name="means")
        icf = cr.placeholder(cr.float64, inst.icf.shape, name="icf")
        x = cr.placeholder(cr.float64, inst.x.shape, name="x")
        f = gmm_graph(alphas, means, icf, x, inst)
        grads = cr.gradients(f, [alphas, means, icf])
    sess = _session(graph)
    feed = {alphas: inst.alphas, means: inst.means, icf: inst.icf, x: inst.x}
    return Case(
        objective=lambda: sess.run(f, feed),
        gradient=lambda: sess.run(grads, feed),
        value=lambda: float(sess.run(f, feed)),
        grads=lambda: _flat(sess.run(grads, feed)),
    )


# --- LSTM --------------------------------------------------------------------------------------
def _lstm_char(x: cr.Tensor, h: list[cr.Tensor], cell: list[cr.Tensor], w: list[cr.Tensor], b: int) -> cr.Tensor:
    """One character through every layer (``h`` and ``cell`` updated in place); the top layer's output."""
    for j in range(len(h)):
        gates = cr.concat([x, h[j], x, h[j]], axis=0) * w[2 * j] + w[2 * j + 1]
        forget = cr.sigmoid(gates[:b])
        ingate = cr.sigmoid(gates[b : 2 * b])
        outgate = cr.sigmoid(gates[2 * b : 3 * b])
        change = cr.tanh(gates[3 * b :])
        cell[j] = cell[j] * forget + ingate * change
        h[j] = outgate * cr.tanh(cell[j])
        x = h[j]
    return x


def _lstm_char_loss(top: cr.Tensor, following: cr.Tensor, out_w: cr.Tensor, out_b: cr.Tensor) -> cr.Tensor:
    y = top * out_w + out_b
    ynorm = y - cr.log(2.0 + cr.reduce_sum(cr.exp(y)))
    return cr.reduce_sum(following * ynorm)


def lstm_graph(main: cr.Tensor, extra: cr.Tensor, state: cr.Tensor, sequence: cr.Tensor, inst: Any) -> cr.Tensor:
    """ADBench's diagonal LSTM loss, unrolled over the sequence (as ``problems.lstm_numpy``)."""
    b, layers, c = inst.b, inst.layers, inst.sequence.shape[0]
    w = cr.unstack(main, num=2 * layers)
    in_w, out_w, out_b = cr.unstack(extra, num=3)
    s = cr.unstack(state, num=2 * layers)
    seq = cr.unstack(sequence, num=c)
    h = [s[2 * j] for j in range(layers)]
    cell = [s[2 * j + 1] for j in range(layers)]
    total: Any = 0.0
    for t in range(c - 1):
        top = _lstm_char(seq[t] * in_w, h, cell, w, b)
        total = total + _lstm_char_loss(top, seq[t + 1], out_w, out_b)
    return -total / float((c - 1) * b)


def lstm_scan_graph(main: cr.Tensor, extra: cr.Tensor, state: cr.Tensor, sequence: cr.Tensor, inst: Any) -> cr.Tensor:
    """The same loss as ``lstm_graph``, as one ``cr.foldl`` over the characters (one ``While`` op)."""
    b, layers, c = inst.b, inst.layers, inst.sequence.shape[0]
    w = cr.unstack(main, num=2 * layers)
    in_w, out_w, out_b = cr.unstack(extra, num=3)
    s = cr.unstack(state, num=2 * layers)

    def step(carry: Any, chars: Any) -> Any:
        h, cell, total = list(carry[0]), list(carry[1]), carry[2]
        current, following = chars
        top = _lstm_char(current * in_w, h, cell, w, b)
        return (tuple(h), tuple(cell), total + _lstm_char_loss(top, following, out_w, out_b))

    initial = (
        tuple(s[2 * j] for j in range(layers)),
        tuple(s[2 * j + 1] for j in range(layers)),
        cr.constant(0.0, cr.float64),
    )
    _, _, total = cr.foldl(step, (sequence[:-1], sequence[1:]), initializer=initial)
    return -total / float((c - 1) * b)


def lstm(inst: data.LSTMInstance) -> Case:
    graph = cr.Graph()
    with graph.as_default():
        ph = [
            cr.placeholder(cr.float64, v.shape, name=n)
            for n, v in (("main", inst.main), ("extra", inst.extra), ("state", inst.state), ("sequence", inst.sequence))
        ]
        f = (lstm_scan_graph if _OPTIONS["lstm_scan"] else lstm_graph)(*ph, inst)
        grads = cr.gradients(f, ph[:2])
    sess = _session(graph)
    feed = dict(zip(ph, (inst.main, inst.extra, inst.state, inst.sequence)))
    return Case(
        objective=lambda: sess.run(f, feed),
        gradient=lambda: sess.run(grads, feed),
        value=lambda: float(sess.run(f, feed)),
        grads=lambda: _flat(sess.run(grads, feed)),
    )


# --- MLP training step ---------------------------------------------------------------------------
def mlp(d: problems.MLPData) -> Case:
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, d.x.shape, name="x")
        labels = cr.placeholder(cr.float64, d.onehot.shape, name="labels")
        params = [cr.Variable(p, name=f"p{i}") for i, p in enumerate(d.params)]
        h = x
        for i in range(0, len(params) - 2, 2):
            h = cr.tanh(cr.matmul(h, params[i]) + params[i + 1])
        logits = cr.matmul(h, params[-2]) + params[-1]
        loss = cr.reduce_mean(cr.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        check_grads = cr.gradients(loss, params)
        train = cr.train.GradientDescentOptimizer(problems.MLP_LEARNING_RATE).minimize(loss, var_list=params)
        init = cr.global_variables_initializer()
    sess = _session(graph)
    sess.run(init)
    feed = {x: d.x, labels: d.onehot}
    return Case(
        objective=lambda: sess.run(loss, feed),
        gradient=lambda: sess.run([train, loss], feed),
        value=lambda: float(sess.run(loss, feed)),
        grads=lambda: _flat(sess.run(check_grads, feed)),
        note="J = one SGD step (loss, gradients, variable updates)",
    )


# --- overhead chain ------------------------------------------------------------------------------
def chain(n: int) -> Case:
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [], name="x")
        y = problems.run_chain(problems.chain_ops(n), x, cr.sin, cr.tanh)
        (dx,) = cr.gradients(y, [x])
    sess = _session(graph)
    feed = {x: np.float64(problems.CHAIN_X0)}
    return Case(
        objective=lambda: sess.run(y, feed),
        gradient=lambda: sess.run(dx, feed),
        value=lambda: float(sess.run(y, feed)),
        grads=lambda: [np.asarray(sess.run(dx, feed))],
    )
