"""Small deterministic stand-ins for the data sets the ported TF 1.x programs download.

The originals read MNIST (``tensorflow.examples.tutorials.mnist.input_data``), text8 or a CSV from the
network or disk; the ported copies import this module instead (each program's header says so). The
arrays have the originals' shapes per example and dtypes, fewer examples, and are the same on every
run, so TensorFlow's numbers recorded once and chainrule's numbers come from the same inputs.
"""

from __future__ import annotations

import numpy as np


class DataSet:
    """One split, with the parts of TF 1.x's ``mnist.train`` the tutorials use."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images = images
        self.labels = labels
        self.num_examples = images.shape[0]
        self._position = 0

    def next_batch(self, batch_size: int, shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The next ``batch_size`` examples in order, wrapping around (TF shuffles; here the order is fixed)."""
        index = (self._position + np.arange(batch_size)) % self.num_examples
        self._position = int((self._position + batch_size) % self.num_examples)
        return self.images[index], self.labels[index]


class Datasets:
    def __init__(self, train: DataSet, validation: DataSet, test: DataSet) -> None:
        self.train = train
        self.validation = validation
        self.test = test


def _digits(count: int, seed: int, one_hot: bool, reshape: bool = True) -> DataSet:
    """``count`` 28x28 "images" in [0, 1) whose label is a fixed linear function of the pixels (learnable)."""
    rng = np.random.RandomState(seed)
    images = rng.uniform(0.0, 1.0, size=(count, 784)).astype(np.float32)
    projection = np.random.RandomState(12345).normal(size=(784, 10))
    classes = np.argmax(images @ projection, axis=1)
    labels = np.eye(10, dtype=np.float32)[classes] if one_hot else classes.astype(np.uint8)
    if not reshape:
        images = images.reshape(count, 28, 28, 1)
    return DataSet(images, labels)


class input_data:  # noqa: N801 - the name the programs import (``from ... import input_data``)
    """Stands in for ``tensorflow.examples.tutorials.mnist.input_data``."""

    @staticmethod
    def read_data_sets(train_dir: str = "", one_hot: bool = False, reshape: bool = True, **_: object) -> Datasets:
        return Datasets(
            _digits(550, 1, one_hot, reshape), _digits(50, 2, one_hot, reshape), _digits(100, 3, one_hot, reshape)
        )


def words(count: int = 2000, vocabulary: int = 60) -> list[str]:
    """A deterministic "text8": ``count`` words from ``vocabulary`` distinct ones, Zipf-like frequencies."""
    rng = np.random.RandomState(7)
    ranks = np.minimum(rng.zipf(1.3, size=count), vocabulary) - 1
    return [f"w{r}" for r in ranks]


def birth_life() -> tuple[np.ndarray, int]:
    """Stands in for chiphuyen's data/birth_life_2010.txt: (birth rate, life expectancy) rows, float32."""
    rng = np.random.RandomState(11)
    birth = rng.uniform(1.0, 7.0, size=190)
    life = 80.0 - 5.0 * birth + rng.normal(scale=2.0, size=190)
    data = np.stack([birth, life], axis=1).astype(np.float32)
    return data, data.shape[0]
