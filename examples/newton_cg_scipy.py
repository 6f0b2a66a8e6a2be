"""Newton-CG with SciPy: scipy.optimize.minimize driven by chainrule's gradient and Hessian-vector product.

A multinomial logistic regression on scikit-learn's digits, written as a graph whose input is the
flat parameter vector ``w`` (a placeholder, as SciPy hands the optimizer's current point in):

- the loss and its gradient come from one ``sess.run([loss, grad], ...)``;
- the Hessian-vector product ``H v`` is the gradient of ``grad . v``: reverse mode over reverse
  mode, a graph built once, so the 650 x 650 Hessian is never formed.

SciPy's Newton-CG calls ``fun`` and ``hessp``; each call is one run of the same session. The
script checks ``H v`` against a central difference of the gradient at the solution.
(``cr.optimize.minimize`` does all of this in one call: see ``newton_cg_logistic.py``.)

Run:  python examples/newton_cg_scipy.py [--quick]
(needs SciPy, and scikit-learn for the bundled data: ``pip install 'chainrule[examples]'``)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule as cr

NUM_CLASSES = 10


def load(max_samples: int | None, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Standardized digits features with a bias column (float64), split 75/25 into train and test."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(seed).permutation(len(data.target))[:max_samples]
    x, y = data.data[order].astype(np.float64), data.target[order].astype(np.int32)
    split = int(0.75 * len(y))
    mean, std = x[:split].mean(axis=0), x[:split].std(axis=0) + 1e-8
    x = np.hstack([(x - mean) / std, np.ones((len(y), 1))])
    return x[:split], y[:split], x[split:], y[split:]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2", type=float, default=1e-2, help="weight of the L2 penalty (default 0.01)")
    parser.add_argument("--maxiter", type=int, default=100, help="Newton iterations at most (default 100)")
    parser.add_argument("--quick", action="store_true", help="500 of the 1797 images (for CI)")
    args = parser.parse_args(argv)
    from scipy.optimize import minimize

    x_train, y_train, x_test, y_test = load(500 if args.quick else None)
    num_features = x_train.shape[1]
    size = num_features * NUM_CLASSES

    graph = cr.Graph()
    with graph.as_default():
        w = cr.placeholder(cr.float64, [size], name="w")  # SciPy's current point
        v = cr.placeholder(cr.float64, [size], name="v")  # the direction of a Hessian-vector product
        features = cr.placeholder(cr.float64, [None, num_features], name="features")
        labels = cr.placeholder(cr.int32, [None], name="labels")
        weights = cr.reshape(w, [num_features, NUM_CLASSES])
        logits = cr.matmul(features, weights)
        xent = cr.reduce_mean(cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        loss = xent + 0.5 * args.l2 * cr.reduce_sum(cr.square(weights[:-1]))  # no penalty on the bias row
        (grad,) = cr.gradients(loss, [w])
        (hvp,) = cr.gradients(cr.reduce_sum(grad * v), [w])  # d/dw (grad . v) = H v

    calls = {"fun": 0, "hessp": 0}
    train = {features: x_train, labels: y_train}
    with cr.Session(graph=graph) as sess:

        def fun(point: np.ndarray) -> tuple[float, np.ndarray]:
            calls["fun"] += 1
            value, gradient = sess.run([loss, grad], {**train, w: point})
            return float(value), gradient

        def hessp(point: np.ndarray, direction: np.ndarray) -> np.ndarray:
            calls["hessp"] += 1
            return sess.run(hvp, {**train, w: point, v: direction})

        start = time.perf_counter()
        result = minimize(
            fun, np.zeros(size), jac=True, hessp=hessp, method="Newton-CG", options={"maxiter": args.maxiter}
        )
        seconds = time.perf_counter() - start
        used = dict(calls)  # the checks below call fun and hessp too

        # H v at the solution against a central difference of the gradient along v.
        direction = np.random.default_rng(0).standard_normal(size)
        eps = 1e-5
        numeric = (fun(result.x + eps * direction)[1] - fun(result.x - eps * direction)[1]) / (2 * eps)
        hvp_error = float(np.max(np.abs(hessp(result.x, direction) - numeric)) / np.max(np.abs(numeric)))
        gradient_norm = float(np.linalg.norm(fun(result.x)[1]))

    def accuracy(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.argmax(x @ result.x.reshape(num_features, NUM_CLASSES), axis=1) == y))

    train_accuracy, test_accuracy = accuracy(x_train, y_train), accuracy(x_test, y_test)
    print(f"digits: {len(y_train)} train / {len(y_test)} test images, {size} parameters, l2 = {args.l2}")
    print(f"Newton-CG: {result.message} {result.nit} iterations in {seconds:.2f} s:")
    print(f"  {used['fun']} loss-and-gradient runs, {used['hessp']} Hessian-vector products")
    print(f"loss {result.fun:.6f}, |gradient| {gradient_norm:.1e}, H v vs central differences {hvp_error:.1e}")
    print(f"accuracy: train {train_accuracy:.1%}, test {test_accuracy:.1%}")
    return {
        "result": result,
        "gradient_norm": gradient_norm,
        "hvp_error": hvp_error,
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "calls": used,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
