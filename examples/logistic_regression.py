"""Binary logistic regression on two Gaussian clouds, with mini-batches, Adam and a held-out accuracy.

The data are made here: two classes of 2-D points around (-1, -1) and (1.5, 1). The model is
``p(class 1 | x) = sigmoid(x . w + b)``; the loss is ``cr.nn.sigmoid_cross_entropy_with_logits``
(stable for large logits, unlike ``log(sigmoid(.))``), averaged over a mini-batch. The accuracy is
one more tensor of the same graph, run on the test points.

Run:  python examples/logistic_regression.py [--epochs 20] [--quick]
(NumPy only; ``--quick`` trains for fewer epochs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule as cr

CENTERS = np.array([[-1.0, -1.0], [1.5, 1.0]])


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points per class: float32 features ``[2n, 2]`` and float32 labels 0/1 ``[2n]``, shuffled."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([center + rng.standard_normal((n, 2)) for center in CENTERS])
    y = np.repeat([0.0, 1.0], n)
    order = rng.permutation(2 * n)
    return x[order].astype(np.float32), y[order].astype(np.float32)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set (default 20)")
    parser.add_argument("--batch-size", type=int, default=32, help="points per step (default 32)")
    parser.add_argument("--lr", type=float, default=0.05, help="Adam's learning rate (default 0.05)")
    parser.add_argument("--quick", action="store_true", help="5 epochs (for CI)")
    args = parser.parse_args(argv)
    epochs = 5 if args.quick else args.epochs
    x_train, y_train = make_data(500, seed=0)
    x_test, y_test = make_data(500, seed=1)

    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float32, [None, 2], name="x")
        labels = cr.placeholder(cr.float32, [None], name="labels")
        w = cr.Variable(np.zeros(2, np.float32), name="weights")
        b = cr.Variable(0.0, name="bias")
        logits = cr.reduce_sum(x * w, axis=1) + b  # x . w for each row
        loss = cr.reduce_mean(cr.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
        predicted = cr.cast(logits > 0.0, cr.float32)  # p > 1/2
        accuracy = cr.reduce_mean(cr.cast(cr.equal(predicted, labels), cr.float32))
        train_op = cr.train.AdamOptimizer(args.lr).minimize(loss)
        init = cr.global_variables_initializer()  # after minimize: it also covers Adam's slots

    rng = np.random.default_rng(0)
    train_set = {x: x_train, labels: y_train}
    with cr.Session(graph=graph) as sess:
        sess.run(init)
        first_loss = float(sess.run(loss, train_set))
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(y_train))
            for lo in range(0, len(order), args.batch_size):
                batch = order[lo : lo + args.batch_size]
                sess.run(train_op, {x: x_train[batch], labels: y_train[batch]})
            print(f"epoch {epoch:2d}: loss {sess.run(loss, train_set):.4f}")
        final_loss, weights, bias = sess.run([loss, w, b], train_set)
        test_accuracy = float(sess.run(accuracy, {x: x_test, labels: y_test}))
    print(f"weights {np.round(weights, 3)}, bias {bias:.3f}: the boundary is the line x . w + b = 0")
    print(f"loss {first_loss:.4f} -> {final_loss:.4f}, test accuracy {test_accuracy:.1%}")
    return {
        "weights": weights,
        "bias": float(bias),
        "first_loss": first_loss,
        "final_loss": float(final_loss),
        "test_accuracy": test_accuracy,
        "epochs": epochs,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
