"""Multinomial logistic regression on scikit-learn's digits, trained with mini-batch Momentum.

Run:  python examples/digits_logistic.py [--epochs 30] [--lr 0.05] [--save DIR] [--quick]
(needs scikit-learn for the bundled data, nothing is downloaded; tqdm for a progress bar:
``pip install 'chainrule[examples]'``). The data, the mini-batch loop and the options are in
``_digits.py`` beside this file; copy both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import numpy as np

import _digits
import chainrule as cr


def build_model(learning_rate: float = 0.05, l2: float = 1e-3, seed: int = 0) -> _digits.Model:
    """``softmax(x W + b)``: 650 parameters, trained with Momentum (0.9)."""
    rng = np.random.default_rng(seed)
    graph = cr.Graph()
    with graph.as_default():
        images = cr.placeholder(cr.float32, [None, _digits.NUM_FEATURES], name="images")
        labels = cr.placeholder(cr.int32, [None], name="labels")
        with cr.name_scope("logistic"):
            w = cr.Variable(_digits.initial_weights(rng, (_digits.NUM_FEATURES, 10), relu=False), name="weights")
            b = cr.Variable(np.zeros(10, np.float32), name="biases")
            logits = cr.matmul(images, w) + b
        with cr.name_scope("loss"):
            xent = cr.reduce_mean(cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
            loss = xent + l2 * cr.nn.l2_loss(w)  # l2 * sum(w**2) / 2, the biases unpenalized
        with cr.name_scope("accuracy"):
            correct = cr.equal(cr.cast(cr.argmax(logits, axis=1), cr.int32), labels)
            accuracy = cr.reduce_mean(cr.cast(correct, cr.float32))
        global_step = cr.train.get_or_create_global_step()
        optimizer = cr.train.MomentumOptimizer(learning_rate, momentum=0.9)
        train_op = optimizer.minimize(loss, global_step=global_step)
        init = cr.global_variables_initializer()  # made last: it also covers the optimizer's slots
        saver = cr.train.Saver(max_to_keep=3)
    return _digits.Model(
        name="logistic",
        graph=graph,
        images=images,
        labels=labels,
        logits=logits,
        loss=loss,
        accuracy=accuracy,
        train_op=train_op,
        global_step=global_step,
        optimizer=optimizer,
        init=init,
        saver=saver,
        weights=[w, b],
    )


def main(argv: Sequence[str] | None = None) -> _digits.TrainResult:
    parser = _digits.training_arguments(__doc__, epochs=30, learning_rate=0.05, l2=1e-3)
    args = parser.parse_args(argv)
    epochs = _digits.QUICK_EPOCHS if args.quick else args.epochs
    data = _digits.load_digits_split(seed=args.split_seed)
    model = build_model(args.lr, args.l2, args.seed)
    print(f"{model.name}: {model.num_parameters} parameters, {model.optimizer.get_name()}, batch {args.batch_size}")
    with cr.Session(graph=model.graph) as sess:
        sess.run(model.init)
        result = _digits.train(
            sess, model, data, epochs, args.batch_size, args.seed, args.max_steps, progress=not args.no_progress
        )
        print(result.summary())
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            path = model.saver.save(sess, os.path.join(args.save, model.name), global_step=model.global_step)
            print(f"checkpoint: {path}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
