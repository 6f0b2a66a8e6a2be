"""Benchmark inputs: ADBench's GMM and LSTM files, their reference values, the digits data.

The ADBench file formats are those of microsoft/ADBench (docs/FileFormat.md); the files live in
``shared/adbench`` beside the project's checkout (override with ``CHAINRULE_ADBENCH``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def adbench_dir() -> Path | None:
    """The ADBench data folder: ``$CHAINRULE_ADBENCH``, else ``shared/adbench`` beside or above the checkout."""
    env = os.environ.get("CHAINRULE_ADBENCH")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        for candidate in (parent / "shared" / "adbench", parent.parent / "shared" / "adbench"):
            if (candidate / "gmm").is_dir():
                return candidate
    return None


# --- GMM -------------------------------------------------------------------------------------
@dataclass
class GMMInstance:
    """One GMM objective: parameters ``alphas[K]``, ``means[K, d]``, ``icf[K, d(d+1)/2]``, data ``x[n, d]``
    and the Wishart prior's ``gamma`` and ``m``."""

    alphas: np.ndarray
    means: np.ndarray
    icf: np.ndarray
    x: np.ndarray
    gamma: float
    m: int
    name: str = ""

    @property
    def d(self) -> int:
        return self.x.shape[1]

    @property
    def k(self) -> int:
        return self.alphas.shape[0]

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def params(self) -> list[np.ndarray]:
        return [self.alphas, self.means, self.icf]


def read_gmm(path: str | os.PathLike[str], replicate_point: bool = False) -> GMMInstance:
    """Read an ADBench GMM file: ``d K n``, K alphas, K means (d each), K icf rows (d(d+1)/2 each),
    the points (one a line; with ``replicate_point`` or when the file holds fewer than n, the first
    is repeated, as ADBench's reader does), and ``gamma m``."""
    with open(path) as f:
        rows = [line.split() for line in f if line.strip()]
    d, k, n = (int(v) for v in rows[0])
    pos = 1
    alphas = np.array([float(r[0]) for r in rows[pos : pos + k]])
    pos += k
    means = np.array([[float(v) for v in r] for r in rows[pos : pos + k]]).reshape(k, d)
    pos += k
    icf = np.array([[float(v) for v in r] for r in rows[pos : pos + k]]).reshape(k, d * (d + 1) // 2)
    pos += k
    point_rows = rows[pos:-1]
    gamma, m = float(rows[-1][0]), int(float(rows[-1][1]))
    if replicate_point or len(point_rows) < n:
        x = np.tile(np.array([float(v) for v in point_rows[0]]), (n, 1))
    else:
        x = np.array([[float(v) for v in r] for r in point_rows[:n]])
    return GMMInstance(alphas, means, icf, x.reshape(n, d), gamma, m, name=Path(path).stem)


def gmm_constants(inst: GMMInstance) -> tuple[float, float]:
    """The parameter-free terms of the objective: ``-(n d / 2) log 2 pi`` and ``-K C`` (the Wishart
    prior's normalizer, with the multivariate log-gamma)."""
    n, d, k = inst.n, inst.d, inst.k
    n_prime = d + inst.m + 1
    a = 0.5 * n_prime
    log_gamma_d = 0.25 * d * (d - 1) * math.log(math.pi) + sum(math.lgamma(a + 0.5 * (1 - j)) for j in range(1, d + 1))
    c = n_prime * d * (math.log(inst.gamma) - 0.5 * math.log(2)) - log_gamma_d
    return -0.5 * n * d * math.log(2 * math.pi), -k * c


def gmm_tri_index(d: int) -> np.ndarray:
    """Indices (d*d) into ``[0, icf[d:]...]`` that lay out Q's strictly lower triangle, filled
    column by column as ADBench does; 0 (the padded zero) on and above the diagonal."""
    idx = np.zeros((d, d), dtype=np.int32)
    pos = 1
    for j in range(d):
        for i in range(j + 1, d):
            idx[i, j] = pos
            pos += 1
    return idx.reshape(-1)


def gmm_files(directory: Path | None = None) -> dict[str, Path]:
    """The 1k-point GMM instances by name (``d10_K25``), ordered by d then K."""
    base = (directory or adbench_dir() or Path(".")) / "gmm" / "1k"
    found = {}
    for p in base.glob("gmm_d*_K*.txt"):
        found[p.stem[len("gmm_") :]] = p
    return dict(sorted(found.items(), key=lambda kv: _dk(kv[0])))


def _dk(name: str) -> tuple[int, int]:
    d, k = name.split("_")
    return int(d[1:]), int(k[1:])


# --- LSTM ------------------------------------------------------------------------------------
@dataclass
class LSTMInstance:
    """ADBench's diagonal LSTM: ``main[2l, 4b]`` (per layer a weight row then a bias row),
    ``extra[3, b]`` (input weight, output weight, output bias), ``state[2l, b]`` (per layer h then c)
    and the one-hot-like ``sequence[c, b]``."""

    main: np.ndarray
    extra: np.ndarray
    state: np.ndarray
    sequence: np.ndarray
    name: str = ""

    @property
    def layers(self) -> int:
        return self.main.shape[0] // 2

    @property
    def b(self) -> int:
        return self.extra.shape[1]

    def params(self) -> list[np.ndarray]:
        return [self.main, self.extra]

    def truncated(self, c: int) -> LSTMInstance:
        """The same model on the first ``c`` characters (for quick runs)."""
        return LSTMInstance(self.main, self.extra, self.state, self.sequence[:c], f"{self.name}[:{c}]")


def read_lstm(path: str | os.PathLike[str]) -> LSTMInstance:
    """Read an ADBench LSTM file: ``l c b``, then main params (2l rows of 4b), extra params (3 rows
    of b), state (2l rows of b) and the sequence (c rows of b), blocks separated by blank lines."""
    with open(path) as f:
        rows = [line.split() for line in f if line.strip()]
    layers, c, b = (int(v) for v in rows[0])
    values = [np.array([float(v) for v in r]) for r in rows[1:]]
    pos = 0
    main = np.stack(values[pos : pos + 2 * layers])
    pos += 2 * layers
    extra = np.stack(values[pos : pos + 3])
    pos += 3
    state = np.stack(values[pos : pos + 2 * layers])
    pos += 2 * layers
    sequence = np.stack(values[pos : pos + c])
    if main.shape != (2 * layers, 4 * b) or extra.shape != (3, b) or sequence.shape != (c, b):
        raise ValueError(
            f"{path}: unexpected block shapes {main.shape}, {extra.shape}, {state.shape}, {sequence.shape}"
        )
    return LSTMInstance(main, extra, state, sequence, name=Path(path).stem)


def lstm_files(directory: Path | None = None) -> dict[str, Path]:
    """The LSTM instances by name (``l2_c1024``)."""
    base = (directory or adbench_dir() or Path(".")) / "lstm"
    return {p.stem[len("lstm_") :]: p for p in sorted(base.glob("lstm_l*_c*.txt"))}


# --- references ------------------------------------------------------------------------------
def load_reference(name: str, directory: Path | None = None) -> dict[str, Any]:
    """A reference JSON from ``reference/`` (``gmm_test`` or ``lstm_l2_c1024``)."""
    base = (directory or adbench_dir() or Path(".")) / "reference"
    with open(base / f"{name}_expected.json") as f:
        return json.load(f)


# --- digits ------------------------------------------------------------------------------------
def digits() -> tuple[np.ndarray, np.ndarray, str]:
    """The 8x8 digits (1797 x 64 in [0, 1], labels 0..9): scikit-learn's copy when installed, else
    synthetic data of the same shape (noisy class prototypes) so the benchmark still runs."""
    try:
        from sklearn.datasets import load_digits

        data = load_digits()
        return data.data.astype(np.float64) / 16.0, data.target.astype(np.int64), "sklearn load_digits"
    except ImportError:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 10, 1797)
        prototypes = rng.uniform(0, 1, (10, 64))
        x = np.clip(prototypes[labels] + 0.2 * rng.standard_normal((1797, 64)), 0, 1)
        return x, labels.astype(np.int64), "synthetic (scikit-learn not installed)"
