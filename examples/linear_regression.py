"""Linear regression by gradient descent: placeholders for the data, variables for the weights, a Session.

The data are made here: 3 features, ``y = x . [2, -3, 0.5] + 1 + noise``. The model is
``x W + b``, the loss the mean squared error, and ``GradientDescentOptimizer.minimize`` adds the
gradient and the update ops to the graph; each ``sess.run(train_op, feed)`` is one step. The
answer is checked against NumPy's least squares, which solves the same problem in closed form.

Run:  python examples/linear_regression.py [--steps 300] [--lr 0.1] [--quick]
(NumPy only; ``--quick`` takes fewer steps).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule as cr

TRUE_WEIGHTS = np.array([2.0, -3.0, 0.5])
TRUE_BIAS = 1.0
NOISE = 0.1  # standard deviation of the noise added to y


def make_data(n: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points: float32 features ``[n, 3]`` and targets ``[n, 1]``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, TRUE_WEIGHTS.size))
    y = x @ TRUE_WEIGHTS + TRUE_BIAS + NOISE * rng.standard_normal(n)
    return x.astype(np.float32), y[:, None].astype(np.float32)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="gradient descent steps (default 300)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--quick", action="store_true", help="100 steps (for CI)")
    args = parser.parse_args(argv)
    steps = 100 if args.quick else args.steps
    x_data, y_data = make_data()

    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float32, [None, 3], name="x")  # a batch of any size
        y = cr.placeholder(cr.float32, [None, 1], name="y")
        w = cr.Variable(np.zeros((3, 1), np.float32), name="weights")
        b = cr.Variable(0.0, name="bias")  # a Python float becomes float32, as in TensorFlow
        prediction = cr.matmul(x, w) + b
        loss = cr.reduce_mean(cr.square(prediction - y), name="mse")
        train_op = cr.train.GradientDescentOptimizer(args.lr).minimize(loss)
        init = cr.global_variables_initializer()

    feed = {x: x_data, y: y_data}
    with cr.Session(graph=graph) as sess:
        sess.run(init)
        first_loss = float(sess.run(loss, feed))
        for step in range(1, steps + 1):
            _, loss_value = sess.run([train_op, loss], feed)
            if step == 1 or step % max(1, steps // 5) == 0:
                print(f"step {step:4d}: mean squared error {loss_value:.6f}")
        weights, bias, final_loss = sess.run([w, b, loss], feed)

    # The same fit in closed form: least squares on [x, 1].
    design = np.hstack([x_data, np.ones((len(x_data), 1), np.float32)]).astype(np.float64)
    exact, *_ = np.linalg.lstsq(design, y_data[:, 0].astype(np.float64), rcond=None)
    print(f"weights {np.round(weights[:, 0], 4)}, bias {bias:.4f} (least squares: {np.round(exact, 4)})")
    print(f"mean squared error {first_loss:.4f} -> {final_loss:.6f} (noise variance {NOISE**2:.4f})")
    return {
        "weights": weights[:, 0],
        "bias": float(bias),
        "least_squares": exact,
        "first_loss": first_loss,
        "final_loss": float(final_loss),
        "steps": steps,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
