"""TensorFlow (CPU, float64) in graph mode: each objective and its ``GradientTape`` gradient traced
once by ``tf.function`` (Grappler on, XLA off); inputs are function arguments, so nothing folds."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from harness import data, problems  # noqa: E402
from harness.problems import Case  # noqa: E402

# TensorFlow does not read these itself; the runner sets them for --threads.
if os.environ.get("TF_NUM_INTRAOP_THREADS"):
    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["TF_NUM_INTRAOP_THREADS"]))
if os.environ.get("TF_NUM_INTEROP_THREADS"):
    tf.config.threading.set_inter_op_parallelism_threads(int(os.environ["TF_NUM_INTEROP_THREADS"]))

_OPTIONS = {"unrolled": False}


def configure(unrolled: bool = False) -> None:
    """``unrolled=True``: the LSTM as one unrolled graph instead of ``tf.scan``."""
    _OPTIONS["unrolled"] = unrolled


def available() -> str | None:
    return tf.__version__


def _np(values: Any) -> list[np.ndarray]:
    return [np.asarray(v) for v in values]


def _case(f: Any, params: list[tf.Tensor], consts: tuple[Any, ...]) -> Case:
    objective = tf.function(lambda *a: f(*a))

    @tf.function
    def gradient(*a: Any) -> Any:
        ps = a[: len(params)]
        with tf.GradientTape() as tape:
            tape.watch(ps)
            y = f(*a)
        return tape.gradient(y, ps)

    args = (*params, *consts)
    return Case(
        objective=lambda: objective(*args),
        gradient=lambda: gradient(*args),
        value=lambda: float(objective(*args)),
        grads=lambda: _np(gradient(*args)),
    )


def _t(a: Any) -> tf.Tensor:
    return tf.constant(np.asarray(a), dtype=tf.float64)


def gmm(inst: data.GMMInstance) -> Case:
    n, d, k = inst.n, inst.d, inst.k
    const, prior_const = data.gmm_constants(inst)
    tri_index = tf.constant(data.gmm_tri_index(d))

    def f(alphas: Any, means: Any, icf: Any, x: Any) -> Any:
        q = icf[:, :d]
        lower = icf[:, d:]
        padded = tf.concat([tf.zeros([k, 1], tf.float64), lower], axis=1)
        tri = tf.reshape(tf.gather(padded, tri_index, axis=1), [k, d, d])
        xc = x[None, :, :] - means[:, None, :]
        qxc = xc * tf.exp(q)[:, None, :] + tf.matmul(xc, tri, transpose_b=True)
        sum_q = tf.reduce_sum(q, 1)
        inner = (alphas + sum_q)[:, None] - 0.5 * tf.reduce_sum(qxc * qxc, axis=2)
        slse = tf.reduce_sum(tf.reduce_logsumexp(inner, axis=0))
        prior = tf.reduce_sum(
            0.5 * inst.gamma**2 * (tf.reduce_sum(tf.exp(q) ** 2, 1) + tf.reduce_sum(lower**2, 1)) - inst.m * sum_q
        )
        return const + slse - n * tf.reduce_logsumexp(alphas) + prior + prior_const

    return _case(f, [_t(inst.alphas), _t(inst.means), _t(inst.icf)], (_t(inst.x),))


def _lstm_scan(inst: data.LSTMInstance) -> Case:
    b, layers, c = inst.b, inst.layers, inst.sequence.shape[0]

    def f(main: Any, extra: Any, state: Any, sequence: Any) -> Any:
        def step(carry: Any, xs: Any) -> Any:
            hs, cs, _ = carry
            inp, gold = xs
            x = inp * extra[0]
            new_h, new_c = [], []
            for j in range(layers):
                gates = tf.concat([x, hs[j], x, hs[j]], axis=0) * main[2 * j] + main[2 * j + 1]
                forget = tf.sigmoid(gates[:b])
                ingate = tf.sigmoid(gates[b : 2 * b])
                outgate = tf.sigmoid(gates[2 * b : 3 * b])
                change = tf.tanh(gates[3 * b :])
                cell = cs[j] * forget + ingate * change
                h = outgate * tf.tanh(cell)
                new_h.append(h)
                new_c.append(cell)
                x = h
            y = x * extra[1] + extra[2]
            ynorm = y - tf.math.log(2.0 + tf.reduce_sum(tf.exp(y)))
            return tuple(new_h), tuple(new_c), tf.reduce_sum(gold * ynorm)

        init = (
            tuple(state[2 * j] for j in range(layers)),
            tuple(state[2 * j + 1] for j in range(layers)),
            tf.constant(0.0, tf.float64),
        )
        _, _, terms = tf.scan(step, (sequence[:-1], sequence[1:]), initializer=init)
        return -tf.reduce_sum(terms) / float((c - 1) * b)

    case = _case(f, [_t(inst.main), _t(inst.extra)], (_t(inst.state), _t(inst.sequence)))
    case.note = "time loop as tf.scan"
    return case


def _lstm_unrolled(inst: data.LSTMInstance) -> Case:
    b, layers, c = inst.b, inst.layers, inst.sequence.shape[0]

    def f(main: Any, extra: Any, state: Any, sequence: Any) -> Any:
        w = tf.unstack(main, num=2 * layers)
        in_w, out_w, out_b = tf.unstack(extra, num=3)
        s = tf.unstack(state, num=2 * layers)
        seq = tf.unstack(sequence, num=c)
        h = [s[2 * j] for j in range(layers)]
        cell = [s[2 * j + 1] for j in range(layers)]
        total = tf.constant(0.0, tf.float64)
        for t in range(c - 1):
            x = seq[t] * in_w
            for j in range(layers):
                gates = tf.concat([x, h[j], x, h[j]], axis=0) * w[2 * j] + w[2 * j + 1]
                forget = tf.sigmoid(gates[:b])
                ingate = tf.sigmoid(gates[b : 2 * b])
                outgate = tf.sigmoid(gates[2 * b : 3 * b])
                change = tf.tanh(gates[3 * b :])
                cell[j] = cell[j] * forget + ingate * change
                h[j] = outgate * tf.tanh(cell[j])
                x = h[j]
            y = x * out_w + out_b
            ynorm = y - tf.math.log(2.0 + tf.reduce_sum(tf.exp(y)))
            total = total + tf.reduce_sum(seq[t + 1] * ynorm)
        return -total / float((c - 1) * b)

    case = _case(f, [_t(inst.main), _t(inst.extra)], (_t(inst.state), _t(inst.sequence)))
    case.note = "unrolled graph, like chainrule's"
    return case


def lstm(inst: data.LSTMInstance) -> Case:
    """The time loop as ``tf.scan`` (a while loop in the graph), or with ``configure(unrolled=True)``
    unrolled like chainrule's graph: faster per run, but TensorFlow takes minutes to trace and
    optimize the 1023-step graph and its gradient (about 6 min for l2_c1024 here)."""
    return _lstm_unrolled(inst) if _OPTIONS["unrolled"] else _lstm_scan(inst)


def mlp(d: problems.MLPData) -> Case:
    x, onehot = _t(d.x), _t(d.onehot)
    params = [tf.Variable(p, dtype=tf.float64) for p in d.params]

    def loss_fn() -> Any:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = tf.tanh(tf.matmul(h, params[i]) + params[i + 1])
        logits = tf.matmul(h, params[-2]) + params[-1]
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits))

    loss = tf.function(loss_fn)

    @tf.function
    def grads() -> Any:
        with tf.GradientTape() as tape:
            value = loss_fn()
        return tape.gradient(value, params)

    @tf.function
    def step() -> Any:
        with tf.GradientTape() as tape:
            value = loss_fn()
        for p, g in zip(params, tape.gradient(value, params)):
            p.assign_sub(problems.MLP_LEARNING_RATE * g)
        return value

    return Case(objective=loss, gradient=step, value=lambda: float(loss()), grads=lambda: _np(grads()))


def chain(n: int) -> Case:
    ops = problems.chain_ops(n)

    def f(x: Any) -> Any:
        return problems.run_chain(ops, x, tf.sin, tf.tanh)

    return _case(f, [_t(problems.CHAIN_X0)], ())
