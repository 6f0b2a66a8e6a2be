"""``chainrule demo`` (chainrule.demo): the cos table, the minimization, the digits MLP's accuracy and checkpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli, demo


def test_demo_prints_the_table_trains_and_saves_a_checkpoint(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out_dir = tmp_path / "demo"
    assert cli.main(["demo", "--out", str(out_dir), "--epochs", "3", "--no-progress"]) == 0
    out = capsys.readouterr().out
    # The cos table: a header and 9 rows, d/dx cos x equal to -sin x.
    assert re.search(r"x\s+cos x\s+d/dx cos x\s+-sin x", out)
    rows = re.findall(r"^\s*(-?\d+\.\d{6})\s+(-?\d+\.\d{6})\s+(-?\d+\.\d{6})\s+(-?\d+\.\d{6})$", out, re.M)
    assert len(rows) == 9 and all(row[2] == row[3] or abs(float(row[2]) - float(row[3])) < 2e-6 for row in rows)
    assert "pi        = 3.1415926536" in out
    accuracy = re.search(r"test accuracy: (\d+\.\d+)%", out)
    assert accuracy and float(accuracy.group(1)) > 80.0
    restored = re.search(r"restored into a new session: test accuracy (\d+\.\d+)%", out)
    assert restored and restored.group(1) == accuracy.group(1)
    checkpoint = cr.train.latest_checkpoint(str(out_dir / "digits_mlp"))
    assert checkpoint is not None and os.path.isfile(checkpoint)
    assert f"Output folder: {out_dir}" in out and checkpoint in out
    # The cos example's pictures: the plot, the graph page, TensorBoard logs; the MLP's loss curve.
    assert "d/dx cos(x) as mathematics: -sin(x)" in out
    for name in ("cos_derivative.png", "cos_graph.html", "digits_mlp_loss.png"):
        assert (out_dir / name).stat().st_size > 1000, name
    for run in ("cos", "digits_mlp"):
        assert any(f.name.startswith("events.out.tfevents") for f in (out_dir / "tensorboard" / run).iterdir())
    assert f"tensorboard --logdir {out_dir / 'tensorboard'}" in out


def test_demo_steps_are_a_list_and_share_a_context(tmp_path, capsys):
    seen = []

    def writer(ctx: demo.DemoContext) -> None:
        path = ctx.path("extra", "note.txt")
        with open(path, "w") as f:
            f.write("hello")
        ctx.artifact("a note", path)
        seen.append(ctx.out_dir)

    ctx = demo.demo(tmp_path, steps=[demo.cos_derivative, writer])
    out = capsys.readouterr().out
    assert seen == [str(tmp_path)] and ctx.artifacts == [("a note", str(tmp_path / "extra" / "note.txt"))]
    assert "d/dx cos x" in out and os.path.join("extra", "note.txt") + "  (a note)" in out
    assert demo.DEMO_STEPS.index(demo.digits_mlp) < demo.DEMO_STEPS.index(demo.digits_artifacts)


def test_demo_without_scikit_learn_still_succeeds(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    ctx = demo.demo(tmp_path, progress=False)
    out = capsys.readouterr().out
    skipped = [line for line in out.splitlines() if "scikit-learn is not installed" in line]
    assert len(skipped) == 1 and "pip install" in skipped[0]
    assert "pi        = 3.1415926536" in out
    assert ctx.artifacts and not any("digits" in path for _, path in ctx.artifacts)


def test_demo_default_output_folder_is_a_new_temporary_folder(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(demo.tempfile, "mkdtemp", lambda prefix: str(tmp_path / (prefix + "x")))
    ctx = demo.demo(steps=[])
    assert ctx.out_dir == str(tmp_path / "chainrule-demo-x") and os.path.isdir(ctx.out_dir)
    assert f"Output folder: {ctx.out_dir}" in capsys.readouterr().out


def test_python_dash_m_chainrule_runs_the_cli():
    def run_module(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True, text=True, timeout=60)

    run = run_module("--version")
    assert run.returncode == 0 and run.stdout.strip() == cr.__version__
    run = run_module("demo", "--help")
    assert run.returncode == 0 and "--out DIR" in run.stdout and "--epochs" in run.stdout


def test_demo_shows_a_progress_bar_with_the_loss(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    bars = []

    class RecordingBar:  # stands in for tqdm.tqdm, so what the bar is told does not depend on refresh timing
        def __init__(self, total, **kwargs):
            self.total, self.desc, self.n, self.postfix, self.closed = total, kwargs.get("desc"), 0, [], False
            bars.append(self)

        def set_postfix(self, loss, refresh=True):
            self.postfix.append(loss)

        def update(self, n=1):
            self.n += n

        def close(self):
            self.closed = True

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=RecordingBar))
    ctx = demo.DemoContext(out_dir=str(tmp_path), digits_epochs=2, progress=True)
    demo.digits_mlp(ctx)
    (bar,) = bars
    assert bar.desc == "digits MLP" and bar.total == bar.n == 86 and bar.closed  # 1347 / 32 -> 43 steps an epoch
    losses = ctx.results["digits"]["losses"]
    assert bar.postfix == [f"{loss:.4f}" for loss in losses] and losses[-5:].mean() < losses[:5].mean()
    bars.clear()
    demo.digits_mlp(demo.DemoContext(out_dir=str(tmp_path / "quiet"), digits_epochs=1, progress=False))
    assert bars == []


def test_the_command_line_has_no_bench_command(capsys):
    # The benchmarks are scripts in a source checkout (python benchmarks/bench.py), not in the package.
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "demo" in out and "python benchmarks/bench.py" in out
    with pytest.raises(SystemExit):
        cli.main(["bench"])
    assert "invalid choice: 'bench'" in capsys.readouterr().err


def test_table_numbers_that_round_to_zero_print_without_a_minus_sign(tmp_path, capsys):
    assert demo.fixed(-1.2246e-16, 10) == "  0.000000"  # -sin(pi) in floating point
    assert demo.fixed(-0.0, 5, 2) == " 0.00" and demo.fixed(-4e-7, 10) == "  0.000000"
    assert demo.fixed(-6e-7, 10) == " -0.000001" and demo.fixed(0.5, 10) == "  0.500000"
    demo.demo(tmp_path, steps=[demo.cos_derivative])  # x from -pi to pi: sin(+-pi), cos(+-pi/2) are 1e-16
    out = capsys.readouterr().out
    rows = re.findall(r"^\s*(-?\d+\.\d{6})\s+(-?\d+\.\d{6})\s+(-?\d+\.\d{6})\s+(-?\d+\.\d{6})$", out, re.M)
    assert len(rows) == 9 and "-0.000000" not in out
    assert rows[0] == ("-3.141593", "-1.000000", "0.000000", "0.000000")
    assert rows[2][1] == "0.000000" and rows[4] == ("0.000000", "1.000000", "0.000000", "0.000000")


def test_loss_plot_is_logarithmic_where_the_loss_spans_decades_and_says_which_loss():
    pytest.importorskip("matplotlib")
    falling = np.geomspace(2.3, 0.01, 430)  # 10 epochs of 43 steps, as the MLP's loss falls
    fig = demo.loss_figure(falling, steps_per_epoch=43)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "train cross-entropy + L2 penalty (log scale)"
    assert "train cross-entropy + L2 penalty" in ax.get_title()
    assert [line.get_label() for line in ax.get_lines()] == ["each mini-batch", "mean over each epoch"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), falling.reshape(10, 43).mean(axis=1))
    flat = demo.loss_figure(np.linspace(1.0, 0.5, 86), steps_per_epoch=43)
    assert flat.axes[0].get_yscale() == "linear" and flat.axes[0].get_ylabel() == "train cross-entropy + L2 penalty"
    assert demo.spans_decades([2.0, 0.2]) and not demo.spans_decades([2.0, 0.21])
    assert not demo.spans_decades([1.0, 0.0]) and not demo.spans_decades([]) and not demo.spans_decades([1, np.nan])


def test_demo_loss_curve_and_tensorboard_scalar_name_the_loss(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    ctx = demo.demo(tmp_path, digits_epochs=2, progress=False, steps=[demo.digits_mlp, demo.digits_artifacts])
    out = capsys.readouterr().out
    assert ctx.results["digits"]["loss_plot_scale"] == "log"  # from about 2.3 to well under 0.23 in two epochs
    assert "loss curve (train cross-entropy + L2 penalty)" in out
    assert re.search(r"train cross-entropy \+ L2 penalty on the whole training set: 2\.\d{4} -> 0\.\d{4}", out)
    events = (tmp_path / "tensorboard" / "digits_mlp").iterdir()
    assert any(b"train/cross_entropy_plus_l2" in f.read_bytes() for f in events)


def test_help_names_the_example_and_not_an_unnamed_lecture(capsys):
    for argv in (["--help"], ["demo", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        text = capsys.readouterr().out
        assert "lecture" not in text.lower() and "cos" in text, argv
    assert "gradient descent" in text and "digits" in text  # the demo's own help says what it runs
    assert "lecture" not in (cli.__doc__ or "").lower() and "lecture" not in (demo.__doc__ or "").lower()
