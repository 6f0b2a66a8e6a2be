"""A small convolutional network (cr.nn.conv2d, max_pool2d, avg_pool2d) on scikit-learn's digits, with Adam.

Run:  python examples/digits_cnn.py [--epochs 20] [--channels 16 32] [--save DIR] [--quick]
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


def build_model(
    channels: Sequence[int] = (16, 32), dense: int = 64, learning_rate: float = 1e-3, l2: float = 1e-4, seed: int = 0
) -> _digits.Model:
    """``8x8x1 -> conv 3x3 + ReLU -> max pool 2x2 -> conv 3x3 + ReLU -> average pool 2x2 -> dense + ReLU -> 10``."""
    c1, c2 = (int(c) for c in channels)
    rng = np.random.default_rng(seed)
    graph = cr.Graph()

    def variables(shape: tuple[int, ...], relu: bool, name: str) -> tuple:
        w = cr.Variable(_digits.initial_weights(rng, shape, relu=relu), name=name)
        return w, cr.Variable(np.zeros(shape[-1], np.float32), name="biases")

    with graph.as_default():
        images = cr.placeholder(cr.float32, [None, _digits.NUM_FEATURES], name="images")
        labels = cr.placeholder(cr.int32, [None], name="labels")
        x = cr.reshape(images, [-1, _digits.IMAGE_SIZE, _digits.IMAGE_SIZE, 1])  # NHWC
        with cr.name_scope("conv1"):
            w1, b1 = variables((3, 3, 1, c1), relu=True, name="filters")
            x = cr.nn.relu(cr.nn.bias_add(cr.nn.conv2d(x, w1, strides=1, padding="SAME"), b1))
        x = cr.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID", name="pool1")  # 4x4
        with cr.name_scope("conv2"):
            w2, b2 = variables((3, 3, c1, c2), relu=True, name="filters")
            x = cr.nn.relu(cr.nn.bias_add(cr.nn.conv2d(x, w2, strides=1, padding="SAME"), b2))
        x = cr.nn.avg_pool2d(x, ksize=2, strides=2, padding="VALID", name="pool2")  # 2x2
        flat = (_digits.IMAGE_SIZE // 4) ** 2 * c2
        x = cr.reshape(x, [-1, flat])
        with cr.name_scope("dense"):
            w3, b3 = variables((flat, dense), relu=True, name="weights")
            x = cr.nn.relu(cr.matmul(x, w3) + b3)
        with cr.name_scope("output"):
            w4, b4 = variables((dense, 10), relu=False, name="weights")
            logits = cr.matmul(x, w4) + b4
        weights = [w1, w2, w3, w4]
        with cr.name_scope("loss"):
            xent = cr.reduce_mean(cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
            loss = xent + l2 * cr.add_n([cr.nn.l2_loss(w) for w in weights])  # the biases unpenalized
        with cr.name_scope("accuracy"):
            correct = cr.equal(cr.cast(cr.argmax(logits, axis=1), cr.int32), labels)
            accuracy = cr.reduce_mean(cr.cast(correct, cr.float32))
        global_step = cr.train.get_or_create_global_step()
        optimizer = cr.train.AdamOptimizer(learning_rate)
        train_op = optimizer.minimize(loss, global_step=global_step)
        init = cr.global_variables_initializer()  # made last: it also covers Adam's slots
        saver = cr.train.Saver(max_to_keep=3)
    return _digits.Model(
        name="cnn",
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
        weights=weights + [b1, b2, b3, b4],
    )


def main(argv: Sequence[str] | None = None) -> _digits.TrainResult:
    parser = _digits.training_arguments(__doc__, epochs=20, learning_rate=1e-3, l2=1e-4)
    parser.add_argument("--channels", type=int, nargs=2, default=[16, 32], help="channels of the two convolutions")
    parser.add_argument("--dense", type=int, default=64, help="units of the dense layer (default 64)")
    args = parser.parse_args(argv)
    epochs = _digits.QUICK_EPOCHS if args.quick else args.epochs
    data = _digits.load_digits_split(seed=args.split_seed)
    model = build_model(args.channels, args.dense, args.lr, args.l2, args.seed)
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
