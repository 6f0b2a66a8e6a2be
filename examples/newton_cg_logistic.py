"""Multinomial logistic regression on the digits data: Newton-CG vs BFGS with cr.optimize.minimize.

The model is written once with chainrule ops. ``cr.optimize.minimize`` traces it into a graph
once and hands SciPy the gradient (one graph run gives value and gradient) and, for Newton-CG,
Hessian-vector products from a reverse-over-reverse graph: the 650 x 650 Hessian is never
formed. BFGS gets the same gradient and builds its own dense inverse-Hessian approximation.

Run:  python examples/newton_cg_logistic.py [--quick]    (needs scikit-learn for the bundled data and
SciPy: ``pip install 'chainrule[examples]'``; nothing is downloaded)
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import chainrule as cr


def loss(w: cr.Tensor, features: cr.Tensor, labels: cr.Tensor, l2: float) -> cr.Tensor:
    """Mean cross-entropy of a linear softmax classifier plus an L2 penalty on the weights."""
    num_features = features.shape[1]
    weights = cr.reshape(w, [num_features, -1])
    logits = cr.matmul(features, weights)
    xent = cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return cr.reduce_mean(xent) + 0.5 * l2 * cr.reduce_sum(cr.square(weights[:-1]))  # no penalty on the bias row


def load(max_samples: int | None = None, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Standardized digits features with a bias column, split 75/25 into train and test."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x, y = data.data.astype(np.float64), data.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(y))[:max_samples]
    x, y = x[order], y[order]
    split = int(0.75 * len(y))
    mean, std = x[:split].mean(axis=0), x[:split].std(axis=0) + 1e-8
    x = np.hstack([(x - mean) / std, np.ones((len(y), 1))])
    return x[:split], y[:split], x[split:], y[split:]


def accuracy(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(x @ w.reshape(x.shape[1], -1), axis=1) == y))


def run(
    max_samples: int | None = None,
    l2: float = 1e-3,
    methods: tuple[str, ...] = ("Newton-CG", "BFGS"),
    maxiter: int = 1000,
    verbose: bool = True,
) -> dict[str, Any]:
    """Fit with each method; returns {method: {"result", "seconds", "train_acc", "test_acc"}}."""
    x_train, y_train, x_test, y_test = load(max_samples)
    w0 = np.zeros(x_train.shape[1] * 10)
    results = {}
    if verbose:
        print(f"digits: {len(y_train)} train / {len(y_test)} test, {w0.size} parameters, l2={l2}")
        header = ("method", "iters", "f evals", "hessp", "seconds", "loss", "train", "test")
        print("{:<10} {:>6} {:>8} {:>6} {:>8} {:>10} {:>7} {:>7}".format(*header))
    for method in methods:
        start = time.perf_counter()
        res = cr.optimize.minimize(loss, w0, args=(x_train, y_train, l2), method=method, options={"maxiter": maxiter})
        seconds = time.perf_counter() - start
        entry = {
            "result": res,
            "seconds": seconds,
            "train_acc": accuracy(res.x, x_train, y_train),
            "test_acc": accuracy(res.x, x_test, y_test),
        }
        results[method] = entry
        if verbose:
            print(
                f"{method:<10} {res.nit:>6} {res.nfev:>8} {res.get('nhev', 0):>6} {seconds:>8.2f} {res.fun:>10.5f} "
                f"{entry['train_acc']:>7.3f} {entry['test_acc']:>7.3f}"
            )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 of the 1797 images, 50 iterations (for CI)")
    if parser.parse_args().quick:
        run(max_samples=300, l2=1e-2, maxiter=50)
    else:
        run()
