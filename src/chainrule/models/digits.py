"""Classifiers for scikit-learn's bundled 8x8 digits images, built and trained with chainrule.

Three models share one training loop: multinomial logistic regression, a multilayer perceptron
and a small convolutional network (``cr.nn.conv2d`` + max and average pooling). Each is a graph
with placeholders for a mini-batch of images and labels, a loss, an accuracy tensor, the update
op of a ``cr.train`` optimizer (Adam or Momentum) and a ``cr.train.Saver``.

scikit-learn is optional (``pip install 'chainrule[examples]'``): it only supplies the data,
which ships inside the package, so nothing is downloaded.

Examples
--------
>>> from chainrule.models import digits
>>> data = digits.load_digits_split(seed=0)
>>> model = digits.build_mlp()
>>> result = digits.train(model, data, epochs=30)
>>> result.test_accuracy
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.models._progress import Progress

NUM_CLASSES = 10
IMAGE_SIZE = 8
NUM_FEATURES = IMAGE_SIZE * IMAGE_SIZE

__all__ = [
    "DigitsSplit",
    "DigitsModel",
    "TrainResult",
    "load_digits_split",
    "build_logistic",
    "build_mlp",
    "build_cnn",
    "build",
    "make_optimizer",
    "train",
    "evaluate",
    "BUILDERS",
    "add_training_arguments",
    "run_from_args",
]


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DigitsSplit:
    """The digits data split once into train and test sets.

    ``x_*`` are float32 ``[n, 64]`` features, one per pixel of the row-major 8x8 images: the
    intensity scaled to [0, 1], then (when standardized) ``(x - mean) / scale`` with the training
    set's per-pixel ``mean`` and ``scale``. ``y_*`` are int32 class labels 0..9.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    seed: int
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"DigitsSplit({len(self.y_train)} train / {len(self.y_test)} test, seed={self.seed})"


def load_digits_split(test_fraction: float = 0.25, seed: int = 0, standardize: bool = True) -> DigitsSplit:
    """Load scikit-learn's digits (1797 images) and split them, stratified by class, with a fixed seed.

    Parameters
    ----------
    test_fraction : share of each class held out for testing.
    seed : seed of the split (the same seed always gives the same split).
    standardize : center and scale each pixel with statistics of the training set only.

    Raises
    ------
    ImportError
        If scikit-learn is not installed (the message says how to install it).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            "the digits data set comes with scikit-learn, which is not installed: "
            "pip install 'chainrule[examples]' (or pip install scikit-learn)"
        ) from e
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    bunch = load_digits()
    # Pixel values are integers 0..16; dividing by 16 needs no statistics from the test set.
    x = (np.asarray(bunch.data, dtype=np.float64) / 16.0).astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int32)
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for c in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(test_fraction * len(idx)))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_i = rng.permutation(np.concatenate(train_idx))
    test_i = rng.permutation(np.concatenate(test_idx))
    x_train, x_test = x[train_i], x[test_i]
    if not standardize:
        return DigitsSplit(x_train, y[train_i], x_test, y[test_i], seed)
    mean = x_train.mean(axis=0)
    # Border pixels are (almost) always 0: a floor of one intensity level (1/16) on the scale keeps
    # a rare ink pixel in the test set from becoming a huge feature.
    scale = np.maximum(x_train.std(axis=0), np.float32(1.0 / 16.0))
    return DigitsSplit(
        (x_train - mean) / scale, y[train_i], (x_test - mean) / scale, y[test_i], seed, mean=mean, scale=scale
    )


# ------------------------------------------------------------------------------------------- models


@dataclass
class DigitsModel:
    """A digits classifier as a graph: feed ``images`` and ``labels``, run ``train_op`` or ``accuracy``.

    Attributes
    ----------
    name : "logistic", "mlp" or "cnn".
    graph : the model's own graph.
    images : float32 placeholder ``[None, 64]``.
    labels : int32 placeholder ``[None]``.
    logits : ``[None, 10]``.
    loss : mean softmax cross-entropy plus the L2 penalty on the weights.
    accuracy : share of the fed examples classified correctly.
    train_op : one optimizer step (also increments ``global_step``).
    global_step : int64 step counter.
    optimizer : the ``cr.train`` optimizer.
    initializer : initializes every variable (weights, optimizer slots, global step).
    saver : a ``cr.train.Saver`` of every variable, slots and global step included.
    weights : the trainable variables of the model (not the optimizer's slots).
    """

    name: str
    graph: cr.Graph
    images: cr.Tensor
    labels: cr.Tensor
    logits: cr.Tensor
    loss: cr.Tensor
    accuracy: cr.Tensor
    train_op: Any
    global_step: Any
    optimizer: Any
    initializer: Any
    saver: Any
    weights: list[Any] = field(default_factory=list)

    @property
    def num_parameters(self) -> int:
        """Number of trainable scalars in the model."""
        return int(sum(int(np.prod(v.shape.as_list())) for v in self.weights))

    def __repr__(self) -> str:
        return f"DigitsModel({self.name!r}, {self.num_parameters} parameters, {self.optimizer.get_name()})"


_DEFAULT_LEARNING_RATES = {"adam": 1e-3, "momentum": 0.05, "nesterov": 0.05, "sgd": 0.5}


def make_optimizer(name: str, learning_rate: float | None = None) -> Any:
    """A ``cr.train`` optimizer by name: "adam", "momentum" (0.9), "nesterov" (0.9) or "sgd".

    ``learning_rate`` None takes a default that works for these models.
    """
    key = name.lower()
    if key not in _DEFAULT_LEARNING_RATES:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(_DEFAULT_LEARNING_RATES)}")
    lr = _DEFAULT_LEARNING_RATES[key] if learning_rate is None else learning_rate
    if key == "adam":
        return cr.train.AdamOptimizer(lr)
    if key == "momentum":
        return cr.train.MomentumOptimizer(lr, momentum=0.9)
    if key == "nesterov":
        return cr.train.MomentumOptimizer(lr, momentum=0.9, use_nesterov=True)
    return cr.train.GradientDescentOptimizer(lr)


def _weight(rng: np.random.Generator, shape: Sequence[int], fan_in: int, gain: float, name: str) -> Any:
    # He (gain 2) / Glorot-like (gain 1) scaling keeps activations O(1) from the first step.
    init = rng.standard_normal(tuple(shape)) * np.sqrt(gain / fan_in)
    return cr.Variable(init.astype(np.float32), name=name)


def _bias(size: int, name: str = "biases") -> Any:
    return cr.Variable(np.zeros(size, dtype=np.float32), name=name)


def _dense(rng: np.random.Generator, x: cr.Tensor, size_in: int, size_out: int, scope: str, relu: bool) -> tuple:
    with cr.name_scope(scope):
        w = _weight(rng, (size_in, size_out), size_in, 2.0 if relu else 1.0, "weights")
        b = _bias(size_out)
        y = cr.nn.bias_add(cr.matmul(x, w), b)
        return (cr.nn.relu(y) if relu else y), w, b


def _conv(rng: np.random.Generator, x: cr.Tensor, channels_in: int, channels_out: int, scope: str) -> tuple:
    with cr.name_scope(scope):
        w = _weight(rng, (3, 3, channels_in, channels_out), 9 * channels_in, 2.0, "filters")
        b = _bias(channels_out)
        y = cr.nn.relu(cr.nn.bias_add(cr.nn.conv2d(x, w, strides=1, padding="SAME"), b))
        return y, w, b


def _inputs() -> tuple[cr.Tensor, cr.Tensor]:
    images = cr.placeholder(cr.float32, [None, NUM_FEATURES], name="images")
    labels = cr.placeholder(cr.int32, [None], name="labels")
    return images, labels


def _finish(
    name: str,
    graph: cr.Graph,
    images: cr.Tensor,
    labels: cr.Tensor,
    logits: cr.Tensor,
    weights: list[Any],
    biases: list[Any],
    l2: float,
    optimizer: str | Any,
    learning_rate: float | None,
) -> DigitsModel:
    """Loss, accuracy, optimizer step, initializer and Saver, common to every model (inside ``graph``)."""
    with cr.name_scope("loss"):
        xent = cr.reduce_mean(cr.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        loss = xent + l2 * cr.add_n([cr.nn.l2_loss(w) for w in weights]) if l2 else xent
    with cr.name_scope("accuracy"):
        correct = cr.equal(cr.cast(cr.argmax(logits, axis=1), cr.int32), labels)
        accuracy = cr.reduce_mean(cr.cast(correct, cr.float32))
    opt = make_optimizer(optimizer, learning_rate) if isinstance(optimizer, str) else optimizer
    global_step = cr.train.get_or_create_global_step()
    train_op = opt.minimize(loss, var_list=weights + biases, global_step=global_step)
    # Made last, so that the optimizer's slots and the global step are checkpointed too.
    initializer = cr.global_variables_initializer()
    saver = cr.train.Saver(max_to_keep=3)
    return DigitsModel(
        name=name,
        graph=graph,
        images=images,
        labels=labels,
        logits=logits,
        loss=loss,
        accuracy=accuracy,
        train_op=train_op,
        global_step=global_step,
        optimizer=opt,
        initializer=initializer,
        saver=saver,
        weights=weights + biases,
    )


def build_logistic(
    optimizer: str | Any = "momentum", learning_rate: float | None = None, l2: float = 1e-3, seed: int = 0
) -> DigitsModel:
    """Multinomial logistic regression: ``softmax(x W + b)``, 650 parameters, Momentum by default.

    Parameters
    ----------
    optimizer : "adam", "momentum", "nesterov", "sgd", or a ``cr.train`` optimizer.
    learning_rate : None for the optimizer's default (see :func:`make_optimizer`).
    l2 : weight of the L2 penalty ``l2 * sum(w**2) / 2`` on the weights (not the biases).
    seed : seed of the initial weights.
    """
    rng = np.random.default_rng(seed)
    graph = cr.Graph()
    with graph.as_default():
        images, labels = _inputs()
        logits, w, b = _dense(rng, images, NUM_FEATURES, NUM_CLASSES, "logistic", relu=False)
        return _finish("logistic", graph, images, labels, logits, [w], [b], l2, optimizer, learning_rate)


def build_mlp(
    hidden: Sequence[int] = (256,),
    optimizer: str | Any = "adam",
    learning_rate: float | None = None,
    l2: float = 1e-4,
    seed: int = 0,
) -> DigitsModel:
    """A multilayer perceptron with ReLU hidden layers of sizes ``hidden``, Adam by default.

    Parameters are those of :func:`build_logistic`, plus ``hidden``.
    """
    rng = np.random.default_rng(seed)
    graph = cr.Graph()
    with graph.as_default():
        images, labels = _inputs()
        x, size, weights, biases = images, NUM_FEATURES, [], []
        for i, units in enumerate(hidden):
            x, w, b = _dense(rng, x, size, int(units), f"hidden{i + 1}", relu=True)
            size = int(units)
            weights.append(w)
            biases.append(b)
        logits, w, b = _dense(rng, x, size, NUM_CLASSES, "output", relu=False)
        weights.append(w)
        biases.append(b)
        return _finish("mlp", graph, images, labels, logits, weights, biases, l2, optimizer, learning_rate)


def build_cnn(
    channels: tuple[int, int] = (16, 32),
    hidden: int = 64,
    optimizer: str | Any = "adam",
    learning_rate: float | None = None,
    l2: float = 1e-4,
    seed: int = 0,
) -> DigitsModel:
    """A small convolutional network, Adam by default.

    ``8x8x1 -> conv 3x3 (channels[0]) + ReLU -> max pool 2x2 -> 4x4 -> conv 3x3 (channels[1]) + ReLU
    -> average pool 2x2 -> 2x2 -> dense (hidden) + ReLU -> dense 10``. Other parameters are those of
    :func:`build_logistic`.
    """
    c1, c2 = (int(c) for c in channels)
    rng = np.random.default_rng(seed)
    graph = cr.Graph()
    with graph.as_default():
        images, labels = _inputs()
        x = cr.reshape(images, [-1, IMAGE_SIZE, IMAGE_SIZE, 1])
        x, w1, b1 = _conv(rng, x, 1, c1, "conv1")
        x = cr.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID", name="pool1")
        x, w2, b2 = _conv(rng, x, c1, c2, "conv2")
        x = cr.nn.avg_pool2d(x, ksize=2, strides=2, padding="VALID", name="pool2")
        flat_size = (IMAGE_SIZE // 4) ** 2 * c2
        x = cr.reshape(x, [-1, flat_size])
        x, w3, b3 = _dense(rng, x, flat_size, hidden, "dense", relu=True)
        logits, w4, b4 = _dense(rng, x, hidden, NUM_CLASSES, "output", relu=False)
        return _finish(
            "cnn", graph, images, labels, logits, [w1, w2, w3, w4], [b1, b2, b3, b4], l2, optimizer, learning_rate
        )


BUILDERS: dict[str, Callable[..., DigitsModel]] = {"logistic": build_logistic, "mlp": build_mlp, "cnn": build_cnn}


def build(name: str, **kwargs: Any) -> DigitsModel:
    """Build a model by name ("logistic", "mlp" or "cnn"); ``kwargs`` go to its builder."""
    if name not in BUILDERS:
        raise ValueError(f"unknown digits model {name!r}; choose one of {sorted(BUILDERS)}")
    return BUILDERS[name](**kwargs)


# ----------------------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    """What :func:`train` measured.

    Attributes
    ----------
    model : the model's name.
    epochs : epochs run (fractional when ``max_steps`` stopped the run mid-epoch).
    steps : optimizer steps run.
    batch_size : mini-batch size.
    losses : mini-batch loss of every step.
    epoch_losses : mean mini-batch loss of every (started) epoch.
    initial_loss, final_loss : loss on the whole training set before and after training.
    train_accuracy, test_accuracy : accuracies after training.
    seconds : wall time of the training loop (without the initial and final evaluations).
    """

    model: str
    epochs: float
    steps: int
    batch_size: int
    losses: np.ndarray
    epoch_losses: np.ndarray
    initial_loss: float
    final_loss: float
    train_accuracy: float
    test_accuracy: float
    seconds: float

    @property
    def seconds_per_epoch(self) -> float:
        """Mean wall time of one epoch."""
        return self.seconds / self.epochs if self.epochs else 0.0

    def summary(self) -> str:
        """One line: accuracy, loss before and after, time."""
        return (
            f"{self.model}: test accuracy {self.test_accuracy:.2%} (train {self.train_accuracy:.2%}), "
            f"loss {self.initial_loss:.4f} -> {self.final_loss:.4f}, {self.steps} steps in {self.epochs:g} epochs, "
            f"{self.seconds:.2f} s ({1000 * self.seconds_per_epoch:.0f} ms/epoch)"
        )


def evaluate(model: DigitsModel, sess: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on ``(x, y)`` in one run of the graph."""
    loss, acc = sess.run([model.loss, model.accuracy], {model.images: x, model.labels: y})
    return float(loss), float(acc)


def train(
    model: DigitsModel,
    data: DigitsSplit,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int = 0,
    sess: Any = None,
    max_steps: int | None = None,
    progress: bool = True,
    print_fn: Callable[[str], Any] = print,
) -> TrainResult:
    """Train ``model`` on ``data`` with shuffled mini-batches fed through its placeholders.

    Parameters
    ----------
    model : from :func:`build_logistic`, :func:`build_mlp` or :func:`build_cnn`.
    data : from :func:`load_digits_split`.
    epochs : passes over the training set (each in a new order drawn from ``seed``).
    batch_size : examples per step (the last batch of an epoch may be smaller).
    seed : seed of the batch order.
    sess : a session of ``model.graph`` whose variables are already initialized (e.g. to save a
        checkpoint afterwards); None makes one, initializes the variables, and closes it at the end.
    max_steps : stop after this many steps even if ``epochs`` are not done.
    progress : show a tqdm bar with the current loss (plain lines when tqdm is not installed).
    print_fn : where the plain progress lines go.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    own = sess is None
    if own:
        sess = cr.Session(graph=model.graph)
        sess.run(model.initializer)
    try:
        n = len(data.y_train)
        steps_per_epoch = -(-n // batch_size)
        total = epochs * steps_per_epoch if max_steps is None else min(max_steps, epochs * steps_per_epoch)
        initial_loss, _ = evaluate(model, sess, data.x_train, data.y_train)
        rng = np.random.default_rng(seed)
        fetches = [model.loss, model.train_op]
        losses: list[float] = []
        epoch_losses: list[float] = []
        bar = Progress(total, epochs, desc=model.name, enabled=progress, print_fn=print_fn)
        start = time.perf_counter()
        try:
            for epoch in range(1, epochs + 1):
                order = rng.permutation(n)
                first = len(losses)
                for lo in range(0, n, batch_size):
                    if len(losses) >= total:
                        break
                    idx = order[lo : lo + batch_size]
                    loss, _ = sess.run(fetches, {model.images: data.x_train[idx], model.labels: data.y_train[idx]})
                    losses.append(float(loss))
                    bar.step(losses[-1])
                if len(losses) > first:
                    epoch_losses.append(float(np.mean(losses[first:])))
                    bar.epoch(epoch, epoch_losses[-1], last=len(losses) >= total)
                if len(losses) >= total:
                    break
        finally:
            seconds = time.perf_counter() - start
            bar.close()
        final_loss, train_acc = evaluate(model, sess, data.x_train, data.y_train)
        _, test_acc = evaluate(model, sess, data.x_test, data.y_test)
    finally:
        if own:
            sess.close()
    return TrainResult(
        model=model.name,
        epochs=len(losses) / steps_per_epoch,
        steps=len(losses),
        batch_size=batch_size,
        losses=np.asarray(losses),
        epoch_losses=np.asarray(epoch_losses),
        initial_loss=initial_loss,
        final_loss=final_loss,
        train_accuracy=train_acc,
        test_accuracy=test_acc,
        seconds=seconds,
    )


# ------------------------------------------------------------------------------ example scripts' CLI


def add_training_arguments(parser: argparse.ArgumentParser, epochs: int, optimizer: str) -> argparse.ArgumentParser:
    """Add the options every digits example takes (epochs, batch size, optimizer, seeds, --save...)."""
    parser.add_argument("--epochs", type=int, default=epochs, help=f"passes over the training set (default {epochs})")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step (default 32)")
    parser.add_argument(
        "--optimizer",
        choices=sorted(_DEFAULT_LEARNING_RATES),
        default=optimizer,
        help=f"cr.train optimizer (default {optimizer})",
    )
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the optimizer's default)")
    parser.add_argument("--l2", type=float, default=None, help="L2 penalty weight (default: the model's default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and batch order (default 0)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the train/test split (default 0)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--save", metavar="DIR", default=None, help="save a checkpoint of the trained model in DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def run_from_args(name: str, args: argparse.Namespace, **build_kwargs: Any) -> TrainResult:
    """Build model ``name`` as ``args`` say (see :func:`add_training_arguments`), train it, print the results."""
    data = load_digits_split(seed=args.split_seed)
    if args.l2 is not None:
        build_kwargs["l2"] = args.l2
    model = build(name, optimizer=args.optimizer, learning_rate=args.lr, seed=args.seed, **build_kwargs)
    print(
        f"digits: {len(data.y_train)} train / {len(data.y_test)} test images (split seed {data.seed}); "
        f"{name}: {model.num_parameters} parameters, {model.optimizer.get_name()}, batch {args.batch_size}"
    )
    with cr.Session(graph=model.graph) as sess:
        sess.run(model.initializer)
        result = train(
            model,
            data,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            sess=sess,
            max_steps=args.max_steps,
            progress=not args.no_progress,
        )
        print(result.summary())
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            path = model.saver.save(sess, os.path.join(args.save, name), global_step=model.global_step)
            print(f"checkpoint: {path}")
    return result
