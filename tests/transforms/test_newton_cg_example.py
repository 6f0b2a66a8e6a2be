"""A tiny run of examples/newton_cg_logistic.py (skipped without scikit-learn)."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("scipy.optimize")
pytest.importorskip("sklearn.datasets")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "newton_cg_logistic.py"


def load_example():
    spec = importlib.util.spec_from_file_location("newton_cg_logistic", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_newton_cg_logistic_regression_tiny():
    example = load_example()
    newton = example.run(max_samples=300, l2=1e-2, methods=("Newton-CG",), maxiter=50, verbose=False)["Newton-CG"]
    assert newton["result"].success
    assert newton["train_acc"] > 0.95 and newton["test_acc"] > 0.85
    bfgs = example.run(max_samples=300, l2=1e-2, methods=("BFGS",), maxiter=newton["result"].nit, verbose=False)["BFGS"]
    # With as many iterations, the Hessian-vector products get Newton-CG further than BFGS.
    assert newton["result"].fun <= bfgs["result"].fun + 1e-12
