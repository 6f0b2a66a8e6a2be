"""The digits examples learn: a short run of each (a few hundred steps at most) cuts the loss and beats a floor.

The floors are far below what the full runs reach (see examples/digits_*.py) but far above
chance (10%), so a model that stopped learning fails. Nothing here is timed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("sklearn")

import _digits  # noqa: E402  (examples/_digits.py: tests/examples/conftest.py puts examples/ on the path)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ["logistic", "mlp", "cnn"]


def example(name: str) -> ModuleType:
    """examples/digits_<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(f"digits_{name}", EXAMPLES / f"digits_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data() -> _digits.Digits:
    return _digits.load_digits_split(seed=0)


def test_split_is_fixed_stratified_and_standardized_on_train_only(data):
    again = _digits.load_digits_split(seed=0)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    np.testing.assert_array_equal(data.y_test, again.y_test)
    assert (len(data.y_train), len(data.y_test)) == (1347, 450)
    assert data.x_train.shape == (1347, 64) and data.x_train.dtype == np.float32
    assert data.y_train.dtype == np.int32
    # Every class is in the test set in proportion (stratified): 17 to 19 of each of 10 classes.
    assert np.bincount(data.y_test, minlength=10).min() >= 17
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    assert not np.allclose(data.x_test.mean(axis=0), 0.0, atol=1e-5)  # test statistics were not used
    other = _digits.load_digits_split(seed=1)
    assert not np.array_equal(other.y_test, data.y_test)


# (model, steps, factor by which the whole-train-set loss must fall, test accuracy floor)
SHORT_RUNS = [
    ("logistic", 100, 5.0, 0.85),
    ("mlp", 100, 5.0, 0.85),
    ("cnn", 100, 2.5, 0.70),
]


@pytest.mark.parametrize(("name", "steps", "factor", "floor"), SHORT_RUNS, ids=[r[0] for r in SHORT_RUNS])
def test_short_training_run_learns(data, name, steps, factor, floor):
    model = example(name).build_model()
    with cr.Session(graph=model.graph) as sess:
        sess.run(model.init)
        result = _digits.train(sess, model, data, epochs=100, max_steps=steps, progress=False)
        assert sess.run(model.global_step) == steps
    assert result.model == name and result.steps == steps and result.losses.shape == (steps,)
    assert result.epochs == pytest.approx(steps / 43)  # 1347 / 32 -> 43 batches per epoch
    assert result.initial_loss > 2.0  # about log(10) before training
    assert result.final_loss < result.initial_loss / factor, result.summary()
    assert result.test_accuracy > floor, result.summary()
    # The mini-batch losses fall too: the last tenth's mean is well under the first tenth's.
    tenth = steps // 10
    assert result.losses[-tenth:].mean() < result.losses[:tenth].mean() / 2


def test_models_have_the_described_structure():
    logistic = example("logistic").build_model()
    mlp = example("mlp").build_model(hidden=(32, 16))
    cnn = example("cnn").build_model()
    assert logistic.num_parameters == 64 * 10 + 10
    assert mlp.num_parameters == (64 * 32 + 32) + (32 * 16 + 16) + (16 * 10 + 10)
    assert cnn.num_parameters == (9 * 16 + 16) + (9 * 16 * 32 + 32) + (128 * 64 + 64) + (64 * 10 + 10)
    assert isinstance(logistic.optimizer, cr.train.MomentumOptimizer)
    assert isinstance(mlp.optimizer, cr.train.AdamOptimizer) and isinstance(cnn.optimizer, cr.train.AdamOptimizer)
    types = {op.type for op in cnn.graph.get_operations()}
    assert {"Conv2D", "MaxPool", "AvgPool"} <= types
    for model in (logistic, mlp, cnn):
        assert model.logits.shape.as_list() == [None, 10]
        assert model.images.shape.as_list() == [None, 64] and model.labels.shape.as_list() == [None]


def test_checkpoint_restores_the_trained_model(tmp_path, capsys):
    mlp = example("mlp")
    args = ["--hidden", "16", "--epochs", "1", "--max-steps", "20", "--no-progress", "--save", str(tmp_path)]
    result = mlp.main(args)
    assert f"checkpoint: {tmp_path / 'mlp'}-20" in capsys.readouterr().out
    data = _digits.load_digits_split(seed=0)
    model = mlp.build_model(hidden=(16,))  # the same graph, fresh variables
    with cr.Session(graph=model.graph) as sess:
        model.saver.restore(sess, cr.train.latest_checkpoint(str(tmp_path)))
        assert sess.run(model.global_step) == 20
        accuracy = sess.run(model.accuracy, {model.images: data.x_test, model.labels: data.y_test})
    assert accuracy == result.test_accuracy


def test_plain_progress_lines_without_tqdm(data, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    model = example("logistic").build_model()
    lines: list[str] = []
    silent: list[str] = []
    with cr.Session(graph=model.graph) as sess:
        sess.run(model.init)
        _digits.train(sess, model, data, epochs=3, batch_size=256, progress=True, print_fn=lines.append)
        _digits.train(sess, model, data, epochs=1, batch_size=256, progress=False, print_fn=silent.append)
    assert [line.split("loss")[0].strip() for line in lines] == [f"logistic epoch {e}/3" for e in (1, 2, 3)]
    assert all(float(line.split("loss")[1]) > 0 for line in lines)
    assert silent == []


def test_plain_progress_prints_about_ten_lines(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    lines: list[str] = []
    bar = _digits.Progress(total=100, epochs=100, desc="m", enabled=True, print_fn=lines.append)
    assert bar.bar is None
    for epoch in range(1, 101):
        bar.epoch(epoch, 1.0, last=epoch == 100)
    assert 10 <= len(lines) <= 12 and lines[-1].startswith("m epoch 100/100")


def test_tqdm_bar_shows_the_loss(capsys):
    pytest.importorskip("tqdm")
    bar = _digits.Progress(total=3, epochs=1, desc="mlp")
    assert bar.bar is not None
    for loss in (2.0, 1.0, 0.5):
        bar.step(loss)
    bar.bar.refresh()
    bar.close()
    assert "loss=0.5000" in capsys.readouterr().err


def test_missing_scikit_learn_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"scikit-learn.*pip install"):
        _digits.load_digits_split()


@pytest.mark.parametrize("name", NAMES)
def test_example_scripts_run_on_their_own(name, tmp_path):
    # As a user runs a copied script: its own folder on the path, nothing from the test suite.
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / f"digits_{name}.py"), "--epochs", "1", "--max-steps", "5", "--no-progress"]
        + ["--save", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert f"{name}: test accuracy" in run.stdout and "5 steps" in run.stdout
    assert f"checkpoint: {tmp_path / name}-5" in run.stdout
    assert cr.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / f"{name}-5")
