"""What the three digits examples share: the data, the training loop, a progress display, the options.

``digits_logistic.py``, ``digits_mlp.py`` and ``digits_cnn.py`` each build their own model (the
placeholders, the layers, the loss and a ``cr.train`` optimizer, in plain sight), open a
``Session`` and hand both to :func:`train`, which feeds the model shuffled mini-batches. Copy this
file along with the example you start from.

scikit-learn supplies the data (1797 8x8 images bundled with it, nothing is downloaded); tqdm,
when installed, draws the progress bar: ``pip install 'chainrule[examples]'``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import chainrule as cr

NUM_CLASSES = 10
IMAGE_SIZE = 8
NUM_FEATURES = IMAGE_SIZE * IMAGE_SIZE
QUICK_EPOCHS = 3  # --quick: a short run that still learns (about 130 steps of 32 images)


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Digits:
    """The digits split into train and test sets: float32 features ``[n, 64]``, int32 labels 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits_split(test_fraction: float = 0.25, seed: int = 0) -> Digits:
    """scikit-learn's digits, split stratified by class with a fixed seed, then standardized.

    Each pixel (intensity 0..16, scaled to [0, 1]) is centered and scaled with the training set's
    statistics only. Raises ImportError, saying what to install, without scikit-learn.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as e:
        raise ImportError(
            "the digits data set comes with scikit-learn, which is not installed: "
            "pip install 'chainrule[examples]' (or pip install scikit-learn)"
        ) from e
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, stratify=y, random_state=seed)
    mean = x_train.mean(axis=0)
    # Border pixels are (almost) always 0: a floor of one intensity level (1/16) on the scale keeps
    # a rare ink pixel in the test set from becoming a huge feature.
    scale = np.maximum(x_train.std(axis=0), np.float32(1.0 / 16.0))
    return Digits((x_train - mean) / scale, y_train, (x_test - mean) / scale, y_test)


def initial_weights(rng: np.random.Generator, shape: tuple[int, ...], relu: bool) -> np.ndarray:
    """Random float32 weights of ``shape`` (fan-in: every axis but the last) that keep activations O(1).

    He scaling (variance 2 / fan-in) for a layer followed by a ReLU, 1 / fan-in otherwise.
    """
    fan_in = math.prod(shape[:-1])
    return (rng.standard_normal(shape) * np.sqrt((2.0 if relu else 1.0) / fan_in)).astype(np.float32)


# ------------------------------------------------------------------------------------------ a model


@dataclass
class Model:
    """What :func:`train` needs from an example's graph (see ``build_model`` in each example)."""

    name: str
    graph: cr.Graph
    images: Any  # float32 placeholder [None, 64]
    labels: Any  # int32 placeholder [None]
    logits: Any  # [None, 10]
    loss: Any  # the mean cross-entropy plus the L2 penalty
    accuracy: Any  # share of the fed examples classified correctly
    train_op: Any  # one optimizer step (it also increments global_step)
    global_step: Any
    optimizer: Any
    init: Any  # initializes every variable: weights, optimizer slots, global step
    saver: Any  # a cr.train.Saver of all of them
    weights: list[Any] = field(default_factory=list)  # the trainable variables

    @property
    def num_parameters(self) -> int:
        return int(sum(np.prod(v.shape.as_list()) for v in self.weights))


# ----------------------------------------------------------------------------------------- training


class Progress:
    """A tqdm bar with the current loss when tqdm is installed; else about ``lines`` plain epoch lines."""

    def __init__(
        self,
        total: int,
        epochs: int,
        desc: str,
        enabled: bool = True,
        print_fn: Callable[[str], Any] = print,
        lines: int = 10,
    ) -> None:
        self.bar: Any = None
        self._desc, self._epochs, self._print, self._enabled = desc, epochs, print_fn, enabled
        self._every = max(1, math.ceil(epochs / max(1, lines)))
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True)

    def step(self, loss: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            self.bar.update(1)

    def epoch(self, epoch: int, loss: float, last: bool = False) -> None:
        """Epoch ``epoch`` (from 1) done with mean mini-batch loss ``loss``; ``last``: the run stops here."""
        if self._enabled and self.bar is None and (last or epoch == 1 or epoch % self._every == 0):
            self._print(f"{self._desc} epoch {epoch:>{len(str(self._epochs))}}/{self._epochs}  loss {loss:.4f}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@dataclass
class TrainResult:
    """What :func:`train` measured; ``losses``: every step's mini-batch loss."""

    model: str
    epochs: float
    steps: int
    losses: np.ndarray
    initial_loss: float  # on the whole training set
    final_loss: float
    train_accuracy: float
    test_accuracy: float
    seconds: float  # the training loop's wall time

    def summary(self) -> str:
        return (
            f"{self.model}: test accuracy {self.test_accuracy:.2%} (train {self.train_accuracy:.2%}), "
            f"loss {self.initial_loss:.4f} -> {self.final_loss:.4f}, {self.steps} steps in {self.epochs:g} epochs, "
            f"{self.seconds:.2f} s"
        )


def train(
    sess: cr.Session,
    model: Model,
    data: Digits,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    max_steps: int | None = None,
    progress: bool = True,
    print_fn: Callable[[str], Any] = print,
) -> TrainResult:
    """Run ``model.train_op`` on shuffled mini-batches of ``data`` (a new order each epoch) in ``sess``.

    ``sess`` is a session of ``model.graph`` with its variables initialized; the trained variables
    stay in it (to save a checkpoint, say). ``max_steps`` stops early.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    n = len(data.y_train)
    steps_per_epoch = -(-n // batch_size)
    total = epochs * steps_per_epoch if max_steps is None else min(max_steps, epochs * steps_per_epoch)
    train_set = {model.images: data.x_train, model.labels: data.y_train}
    initial_loss = sess.run(model.loss, train_set)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    bar = Progress(total, epochs, desc=model.name, enabled=progress, print_fn=print_fn)
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n)
            for lo in range(0, n, batch_size):
                batch = order[lo : lo + batch_size]
                feed = {model.images: data.x_train[batch], model.labels: data.y_train[batch]}
                loss, _ = sess.run([model.loss, model.train_op], feed)
                losses.append(float(loss))
                bar.step(losses[-1])
                if len(losses) == total:
                    break
            epoch_losses = losses[(epoch - 1) * steps_per_epoch :]
            bar.epoch(epoch, float(np.mean(epoch_losses)), last=len(losses) == total)
            if len(losses) == total:
                break
    finally:
        seconds = time.perf_counter() - start
        bar.close()
    final_loss, train_accuracy = sess.run([model.loss, model.accuracy], train_set)
    test_accuracy = sess.run(model.accuracy, {model.images: data.x_test, model.labels: data.y_test})
    return TrainResult(
        model=model.name,
        epochs=len(losses) / steps_per_epoch,
        steps=len(losses),
        losses=np.asarray(losses),
        initial_loss=float(initial_loss),
        final_loss=float(final_loss),
        train_accuracy=float(train_accuracy),
        test_accuracy=float(test_accuracy),
        seconds=seconds,
    )


# ------------------------------------------------------------------------------------------ options


def training_arguments(doc: str, epochs: int, learning_rate: float, l2: float) -> argparse.ArgumentParser:
    """A parser with the options every digits example takes; ``doc``: the example's docstring."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=epochs, help=f"passes over the training set (default {epochs})")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step (default 32)")
    parser.add_argument("--lr", type=float, default=learning_rate, help=f"learning rate (default {learning_rate:g})")
    parser.add_argument("--l2", type=float, default=l2, help=f"weight of the L2 penalty (default {l2:g})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and batch order (default 0)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the train/test split (default 0)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--save", metavar="DIR", default=None, help="save a checkpoint of the trained model in DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EPOCHS} epochs, whatever --epochs says (for CI)")
    return parser
