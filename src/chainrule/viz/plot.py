"""PNG plots with matplotlib (an optional extra), drawn without pyplot so no GUI backend or global state is touched."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np


def _figure(width: float = 7.0, height: float = 4.2) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            "Plotting needs matplotlib; install it with: pip install 'chainrule[viz]' (or: pip install matplotlib)"
        ) from e
    fig = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike[str]) -> str:
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    fig.savefig(path)
    return path


def plot_function_and_derivative(
    xs: Any,
    ys: Any,
    dys: Any,
    ref: Any = None,
    path: str | os.PathLike[str] = "derivative.png",
    *,
    f_label: str = "cos(x)",
    df_label: str = "d/dx cos(x) by chainrule",
    ref_label: str = "-sin(x)",
    title: str | None = None,
) -> str:
    """Plot a function, the derivative chainrule computed, and (dotted, on top) a reference derivative.

    Parameters
    ----------
    xs, ys, dys : 1-D arrays: the points, the function's values and the computed derivative.
    ref : optional 1-D array: the known derivative, drawn dotted over ``dys`` (e.g. ``-np.sin(xs)``).
    path : the PNG file to write.
    f_label, df_label, ref_label : legend entries.
    title : figure title (by default names the function).

    Returns
    -------
    The path written.
    """
    xs, ys, dys = (np.asarray(a, dtype=np.float64).ravel() for a in (xs, ys, dys))
    fig = _figure()
    ax = fig.add_subplot()
    ax.axhline(0, color="#94a3b8", linewidth=0.8)
    ax.plot(xs, ys, color="#2563eb", linewidth=2, label=f_label)
    ax.plot(xs, dys, color="#ea580c", linewidth=3.5, alpha=0.75, label=df_label)
    if ref is not None:
        ax.plot(
            xs, np.asarray(ref, dtype=np.float64).ravel(), color="#111827", linestyle=":", linewidth=2, label=ref_label
        )
    ax.set_xlabel("x")
    ax.set_title(title or f"{f_label} and its derivative")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    return _save(fig, path)


def plot_curve(
    values: Sequence[float] | Any,
    path: str | os.PathLike[str] = "loss.png",
    *,
    steps: Sequence[float] | Any = None,
    title: str = "training loss",
    xlabel: str = "step",
    ylabel: str = "loss",
) -> str:
    """Plot one curve (e.g. the loss per training step) to a PNG file and return its path."""
    values = np.asarray(values, dtype=np.float64).ravel()
    steps = np.arange(len(values)) if steps is None else np.asarray(steps, dtype=np.float64).ravel()
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(steps, values, color="#2563eb", linewidth=2, marker="o" if len(values) <= 40 else None, markersize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return _save(fig, path)
