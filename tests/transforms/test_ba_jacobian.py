"""ADBench bundle adjustment: objective and sparse Jacobian (vmap of a per-observation jacobian) vs the reference."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("ba_problem", ROOT / "benchmarks" / "ba_problem.py")
ba = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("ba_problem", ba)  # dataclasses look their module up while the file runs
_spec.loader.exec_module(ba)

DATA = ba.adbench_dir()
pytestmark = pytest.mark.skipif(
    not (DATA / "ba" / "test.txt").exists(), reason=f"ADBench data not found at {DATA} (set CHAINRULE_ADBENCH)"
)
TOL = 1e-8  # ADBench's own tests


def _close(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= TOL * np.maximum(1.0, np.abs(want))), np.max(np.abs(got - want))


@pytest.fixture(scope="module")
def instance():
    return ba.read_ba(DATA / "ba" / "test.txt")


@pytest.fixture(scope="module")
def reference():
    return json.loads((DATA / "reference" / "ba_test_expected.json").read_text())


def test_objective_matches_reference(instance, reference):
    reproj, w_err = ba.objective(*ba.args(instance))
    _close(reproj.reshape(-1), reference["reproj_err"])
    _close(w_err, reference["w_err"])


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_sparse_jacobian_matches_reference(instance, reference, mode):
    blocks = ba.make_jacobian_blocks(mode)(*ba.args(instance))
    jac = ba.sparse_jacobian(instance, *blocks)
    shape = reference["J_shape"]
    assert jac.shape == (shape["nrows"], shape["ncols"])
    assert jac.nnz == shape["nnz"] and len(jac.indptr) == shape["len_rows"]
    assert jac.has_canonical_format
    row_nnz = np.diff(jac.indptr)
    assert (row_nnz[: 2 * instance.p] == 15).all() and (row_nnz[2 * instance.p :] == 1).all()
    _close(jac.data, reference["J_vals"])


def _dense_numeric_jacobian(inst, eps=1e-6):
    """Central differences of the objective w.r.t. (cams, X, w), ADBench's column order."""
    params = [inst.cams.copy(), inst.X.copy(), inst.w.copy()]
    sizes = [p.size for p in params]
    cols = []
    for k, p in enumerate(params):
        for i in range(p.size):
            outs = []
            for sign in (1, -1):
                q = [a.copy() for a in params]
                step = eps * max(1.0, abs(p.flat[i]))
                q[k].flat[i] += sign * step
                reproj, w_err = ba.objective(q[0], q[1], q[2], inst.feats, inst.obs)
                outs.append(np.concatenate([reproj.reshape(-1), w_err]))
            cols.append((outs[0] - outs[1]) / (2 * step))
    assert len(cols) == sum(sizes)
    return np.stack(cols, axis=1)


def test_small_angle_branch_and_several_cameras_match_central_differences(instance):
    # Camera 0 with zero rotation takes Rodrigues' first-order branch; camera 1 a generic rotation.
    inst = ba.read_ba(DATA / "ba" / "test.txt")
    inst.cams = inst.cams.copy()
    inst.cams[0, :3] = 0.0
    inst.cams[1, :3] = [0.1, -0.2, 0.3]
    inst.X = inst.X + np.linspace(0, 1, inst.m)[:, None]
    jac = ba.sparse_jacobian(inst, *ba.jacobian_blocks(*ba.args(inst))).toarray()
    numeric = _dense_numeric_jacobian(inst)
    np.testing.assert_allclose(jac, numeric, rtol=1e-5, atol=1e-5)
