"""PNG plots with matplotlib (an optional extra, in the test extra)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("matplotlib", reason="matplotlib is in the test extra; CI installs it")


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_plot_function_and_derivative(tmp_path):
    x = cr.placeholder(cr.float64, [None], name="x")
    y = cr.cos(x)
    (dy,) = cr.gradients(y, [x])
    xs = np.linspace(-np.pi, np.pi, 50)
    with cr.Session() as sess:
        ys, dys = sess.run([y, dy], {x: xs})
    out = cr.viz.plot_function_and_derivative(xs, ys, dys, -np.sin(xs), tmp_path / "plots" / "cos_derivative.png")
    assert out == str(tmp_path / "plots" / "cos_derivative.png")
    width, height = _png_size(tmp_path / "plots" / "cos_derivative.png")
    assert width > 500 and height > 300


def test_plot_curve(tmp_path):
    out = cr.viz.plot_curve([3.0, 2.0, 1.2, 0.9], tmp_path / "loss.png", title="loss")
    assert _png_size(tmp_path / "loss.png")[0] > 500
    assert out.endswith("loss.png")
