"""Every script in examples/ in its short mode (``--quick``): each reaches its result, not merely runs.

Each example's ``main(argv)`` returns what it computed; the tests check it against an independent
reference (NumPy's least squares, the Bayes-optimal classifier, central differences, TensorBoard's
own event reader). Then each script runs as a user runs a copy: ``python examples/<name>.py --quick``
in a fresh folder, nothing from the test suite on its path.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> ModuleType:
    """examples/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cos_derivative_is_minus_sin_and_descent_reaches_pi(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    result = example("cos").main(["--quick", "--out", str(tmp_path / "cos.png"), "--graph", str(tmp_path / "g.html")])
    out = capsys.readouterr().out
    xs = result["xs"]
    np.testing.assert_allclose(result["dy_dx"], -np.sin(xs), rtol=0, atol=0)
    np.testing.assert_allclose(result["d2y_dx2"], -np.cos(xs), rtol=0, atol=0)
    assert result["max_error"] == 0.0
    assert result["steps"] == 100 and abs(result["x_min"] - np.pi) < 1e-3
    assert (tmp_path / "cos.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "cos.png").stat().st_size > 10_000
    page = (tmp_path / "g.html").read_text()
    assert result["graph_page"] == str(tmp_path / "g.html") and "gradients/Cos_grad" in page
    assert "nothing is computed yet: <cr.Tensor 'Cos:0'" in out and "reads as -sin(x)" in out


def test_linear_regression_matches_least_squares(capsys):
    module = example("linear_regression")
    result = module.main(["--quick"])
    np.testing.assert_allclose(result["weights"], result["least_squares"][:3], atol=1e-3)
    assert result["bias"] == pytest.approx(result["least_squares"][3], abs=1e-3)
    np.testing.assert_allclose(result["weights"], module.TRUE_WEIGHTS, atol=0.02)  # 500 points, noise 0.1
    assert result["first_loss"] > 10 and result["final_loss"] < 1.2 * module.NOISE**2
    assert "least squares" in capsys.readouterr().out


def test_logistic_regression_is_as_accurate_as_the_bayes_classifier():
    module = example("logistic_regression")
    result = module.main(["--quick"])
    # Two unit-variance Gaussians: the best boundary is the perpendicular bisector of the centers.
    x_test, y_test = module.make_data(500, seed=1)
    mu0, mu1 = module.CENTERS
    bayes = np.mean(((x_test - (mu0 + mu1) / 2) @ (mu1 - mu0) > 0) == y_test)
    assert 0.9 < bayes < 1.0
    assert result["test_accuracy"] >= bayes - 0.01, (result["test_accuracy"], bayes)
    assert result["first_loss"] == pytest.approx(np.log(2), rel=1e-6)  # zero weights: p = 1/2
    assert result["final_loss"] < result["first_loss"] / 4
    direction = result["weights"] / np.linalg.norm(result["weights"])
    assert direction @ ((mu1 - mu0) / np.linalg.norm(mu1 - mu0)) > 0.98  # the boundary is the bisector's


def test_custom_op_forward_and_registered_gradient():
    result = example("custom_op").main(["--quick"])
    np.testing.assert_array_equal(result["y"], [[1.0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(result["dx"], [[10.0, 0, 0], [0, 0, 0]])  # d/dx (10 * x[0, 0])


def test_newton_cg_with_scipy_converges_with_exact_hessian_vector_products():
    pytest.importorskip("scipy.optimize")
    pytest.importorskip("sklearn.datasets")
    result = example("newton_cg_scipy").main(["--quick"])
    assert result["result"].success and result["gradient_norm"] < 1e-5
    assert result["hvp_error"] < 1e-6  # H v against a central difference of the gradient
    assert result["calls"]["hessp"] > result["result"].nit  # several CG steps per Newton step
    assert result["train_accuracy"] > 0.98 and result["test_accuracy"] > 0.9


def test_tensorboard_logging_writes_what_tensorboard_reads(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = example("tensorboard_logging").main(["--quick", "--logdir", str(tmp_path)])
    assert result["final_loss"] < 0.01 < result["losses"][0]
    acc = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["summaries/loss"] and tags["graph"] is True
    assert sorted(tags["histograms"]) == ["summaries/hidden_weights", "summaries/prediction"]
    events = acc.Scalars("summaries/loss")
    assert [e.step for e in events] == list(range(0, 200, 10))
    np.testing.assert_allclose([e.value for e in events], result["losses"], rtol=1e-6)
    assert acc.Histograms("summaries/hidden_weights")[0].histogram_value.num == 16
    assert any(node.name.startswith("gradients/") for node in acc.Graph().node)


# (script, floor on the test accuracy after the quick run's 3 epochs: the full runs reach about 97-98%)
DIGITS_QUICK = [("digits_logistic", 0.93), ("digits_mlp", 0.92), ("digits_cnn", 0.75)]


@pytest.mark.parametrize(("name", "floor"), DIGITS_QUICK, ids=[d[0] for d in DIGITS_QUICK])
def test_digits_quick_mode_learns(name, floor):
    pytest.importorskip("sklearn")
    result = example(name).main(["--quick", "--no-progress", "--epochs", "500"])  # --quick wins
    assert result.epochs == 3 and result.steps == 3 * 43
    assert result.test_accuracy > floor, result.summary()
    assert result.final_loss < result.initial_loss / 4


# (script, extra arguments, a line its output must have)
SCRIPTS = [
    ("cos", ["--out", "cos.png"], "minimum of cos found at x = 3.141"),
    ("linear_regression", [], "least squares"),
    ("logistic_regression", [], "test accuracy 9"),
    ("custom_op", [], "matches central differences to second order"),
    ("newton_cg_scipy", [], "Optimization terminated successfully"),
    ("newton_cg_logistic", [], "Newton-CG "),
    ("tensorboard_logging", ["--logdir", "logs"], "tensorboard --logdir logs"),
]


@pytest.mark.parametrize(("name", "extra", "expected"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_script_runs_on_its_own_in_quick_mode(name, extra, expected, tmp_path):
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert expected in run.stdout, run.stdout


def test_every_example_script_is_tested_here_or_beside():
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    here = {s[0] for s in SCRIPTS} | {d[0] for d in DIGITS_QUICK}
    assert scripts == here  # newton_cg_logistic's values: tests/transforms/test_newton_cg_example.py
