"""Plain NumPy: the objectives only (the reference implementations in ``problems``)."""

from __future__ import annotations

import numpy as np

from harness import data, problems
from harness.problems import Case


def available() -> str | None:
    return np.__version__


def gmm(inst: data.GMMInstance) -> Case:
    f = lambda: problems.gmm_numpy(inst.alphas, inst.means, inst.icf, inst)  # noqa: E731
    return Case(objective=f, gradient=None, value=f, grads=None)


def lstm(inst: data.LSTMInstance) -> Case:
    f = lambda: problems.lstm_numpy(inst.main, inst.extra, inst)  # noqa: E731
    return Case(objective=f, gradient=None, value=f, grads=None)


def mlp(d: problems.MLPData) -> Case:
    f = lambda: problems.mlp_numpy(d.params, d.x, d.onehot)  # noqa: E731
    return Case(objective=f, gradient=None, value=f, grads=None)


def chain(n: int) -> Case:
    def f() -> float:
        # Scalar NumPy, op by op: the interpreter's own cost per elementwise op.
        x = np.float64(problems.CHAIN_X0)
        y = problems.run_chain(problems.chain_ops(n), x, np.sin, np.tanh)
        return float(y)

    return Case(objective=f, gradient=None, value=f, grads=None)
