"""The digits models learn: a short run of each (a few hundred steps at most) cuts the loss and beats a floor.

The floors are far below what the full runs reach (see examples/digits_*.py) but far above
chance (10%), so a model that stopped learning fails. Nothing here is timed.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("sklearn")

from chainrule.models import digits  # noqa: E402
from chainrule.models._progress import Progress  # noqa: E402


@pytest.fixture(scope="module")
def data() -> digits.DigitsSplit:
    return digits.load_digits_split(seed=0)


def test_split_is_fixed_stratified_and_standardized_on_train_only(data):
    again = digits.load_digits_split(seed=0)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    np.testing.assert_array_equal(data.y_test, again.y_test)
    assert (len(data.y_train), len(data.y_test)) == (1347, 450)
    assert data.x_train.shape == (1347, 64) and data.x_train.dtype == np.float32
    assert data.y_train.dtype == np.int32
    # Every class is in the test set in proportion (stratified): 17 to 19 of each of 10 classes.
    assert np.bincount(data.y_test, minlength=10).min() >= 17
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    assert not np.allclose(data.x_test.mean(axis=0), 0.0, atol=1e-5)  # test statistics were not used
    other = digits.load_digits_split(seed=1)
    assert not np.array_equal(other.y_test, data.y_test)


# (model, steps, factor by which the whole-train-set loss must fall, test accuracy floor)
SHORT_RUNS = [
    ("logistic", 100, 5.0, 0.85),
    ("mlp", 100, 5.0, 0.85),
    ("cnn", 100, 2.5, 0.70),
]


@pytest.mark.parametrize(("name", "steps", "factor", "floor"), SHORT_RUNS, ids=[r[0] for r in SHORT_RUNS])
def test_short_training_run_learns(data, name, steps, factor, floor):
    model = digits.build(name)
    result = digits.train(model, data, epochs=100, max_steps=steps, progress=False)
    assert result.steps == steps and result.losses.shape == (steps,)
    assert result.epochs == pytest.approx(steps / 43)  # 1347 / 32 -> 43 batches per epoch
    assert result.initial_loss > 2.0  # about log(10) before training
    assert result.final_loss < result.initial_loss / factor, result.summary()
    assert result.test_accuracy > floor, result.summary()
    # The mini-batch losses fall too: the last tenth's mean is well under the first tenth's.
    tenth = steps // 10
    assert result.losses[-tenth:].mean() < result.losses[:tenth].mean() / 2


def test_models_have_the_described_structure():
    logistic, mlp, cnn = digits.build_logistic(), digits.build_mlp(hidden=(32, 16)), digits.build_cnn()
    assert logistic.num_parameters == 64 * 10 + 10
    assert mlp.num_parameters == (64 * 32 + 32) + (32 * 16 + 16) + (16 * 10 + 10)
    assert cnn.num_parameters == (9 * 16 + 16) + (9 * 16 * 32 + 32) + (128 * 64 + 64) + (64 * 10 + 10)
    assert isinstance(logistic.optimizer, cr.train.MomentumOptimizer)
    assert isinstance(mlp.optimizer, cr.train.AdamOptimizer)
    types = {op.type for op in cnn.graph.get_operations()}
    assert {"Conv2D", "MaxPool", "AvgPool"} <= types
    assert cnn.logits.shape.as_list() == [None, 10]
    with pytest.raises(ValueError, match="unknown digits model"):
        digits.build("resnet")
    with pytest.raises(ValueError, match="unknown optimizer"):
        digits.make_optimizer("lbfgs")


def test_checkpoint_restores_the_trained_model(data, tmp_path):
    model = digits.build_mlp(hidden=(16,))
    with cr.Session(graph=model.graph) as sess:
        sess.run(model.initializer)
        result = digits.train(model, data, epochs=1, max_steps=20, sess=sess, progress=False)
        path = model.saver.save(sess, str(tmp_path / "model"), global_step=model.global_step)
        logits = sess.run(model.logits, {model.images: data.x_test})
    assert path.endswith("model-20")
    with cr.Session(graph=model.graph) as sess:
        model.saver.restore(sess, cr.train.latest_checkpoint(str(tmp_path)))
        assert sess.run(model.global_step) == 20
        np.testing.assert_array_equal(sess.run(model.logits, {model.images: data.x_test}), logits)
        assert digits.evaluate(model, sess, data.x_test, data.y_test)[1] == result.test_accuracy


def test_plain_progress_lines_without_tqdm(data, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    lines: list[str] = []
    model = digits.build_logistic()
    digits.train(model, data, epochs=3, batch_size=256, progress=True, print_fn=lines.append)
    assert [line.split("loss")[0].strip() for line in lines] == [f"logistic epoch {e}/3" for e in (1, 2, 3)]
    assert all(float(line.split("loss")[1]) > 0 for line in lines)
    silent: list[str] = []
    digits.train(model, data, epochs=1, batch_size=256, progress=False, print_fn=silent.append)
    assert silent == []


def test_plain_progress_prints_about_ten_lines():
    lines: list[str] = []
    bar = Progress(total=100, epochs=100, desc="m", enabled=True, print_fn=lines.append)
    bar._bar = None  # plain mode whether or not tqdm is installed
    for epoch in range(1, 101):
        bar.epoch(epoch, 1.0)
    assert 10 <= len(lines) <= 12 and lines[-1].startswith("m epoch 100/100")


def test_tqdm_bar_shows_the_loss(data, capsys):
    pytest.importorskip("tqdm")
    bar = Progress(total=3, epochs=1, desc="mlp")
    assert bar.uses_tqdm
    for loss in (2.0, 1.0, 0.5):
        bar.step(loss)
    bar._bar.refresh()
    bar.close()
    assert "loss=0.5000" in capsys.readouterr().err


def test_missing_scikit_learn_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"scikit-learn.*pip install"):
        digits.load_digits_split()


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["logistic", "mlp", "cnn"])
def test_example_scripts_run(name, tmp_path, capsys):
    main = runpy.run_path(str(EXAMPLES / f"digits_{name}.py"), run_name="example")["main"]
    result = main(["--epochs", "1", "--max-steps", "5", "--no-progress", "--save", str(tmp_path)])
    assert result.model == name and result.steps == 5
    out = capsys.readouterr().out
    assert "test accuracy" in out and f"checkpoint: {tmp_path / name}-5" in out
    assert cr.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / f"{name}-5")
