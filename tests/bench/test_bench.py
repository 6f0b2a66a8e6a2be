"""Smoke test of the benchmark runner (chainrule and NumPy only, tiny sizes, no peers needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from harness import data, problems, report, runner, worker
from harness.problems import Case
from harness.tools import chainrule_tool

needs_adbench = pytest.mark.skipif(data.adbench_dir() is None, reason="shared/adbench not found")

TINY = {"min_reps": 1, "max_reps": 2, "min_time": 0.0, "max_time": 0.05}


def test_tri_index_fills_the_strict_lower_triangle_column_by_column():
    # ADBench: icf[d:] fills column 0 below the diagonal, then column 1, ...
    d = 4
    lower = np.arange(1.0, d * (d - 1) // 2 + 1)
    tri = np.concatenate([[0.0], lower])[data.gmm_tri_index(d)].reshape(d, d)
    expected = np.zeros((d, d))
    pos = 0
    for j in range(d):
        for i in range(j + 1, d):
            expected[i, j] = lower[pos]
            pos += 1
    np.testing.assert_array_equal(tri, expected)


@needs_adbench
def test_readers_shapes():
    gmm = data.read_gmm(data.adbench_dir() / "gmm" / "test.txt")
    assert (gmm.d, gmm.k, gmm.n) == (2, 3, 1) and gmm.icf.shape == (3, 3) and gmm.gamma == 1.0 and gmm.m == 0
    big = data.read_gmm(data.gmm_files()["d2_K5"])
    assert big.x.shape == (1000, 2) and big.means.shape == (5, 2)
    lstm = data.read_lstm(data.lstm_files()["l2_c1024"])
    assert lstm.main.shape == (4, 56) and lstm.extra.shape == (3, 14) and lstm.sequence.shape == (1024, 14)


@needs_adbench
def test_chainrule_matches_the_adbench_gmm_reference():
    case = chainrule_tool.gmm(problems.load("gmm", "test"))
    ref = data.load_reference("gmm_test")
    assert worker.relative_error(case.value(), ref["objective"]) < 1e-8
    grad = np.concatenate([g.ravel() for g in case.grads()])
    assert worker.relative_error(grad, ref["gradient"]) < 1e-8


def test_chain_and_mlp_references_agree_with_chainrule():
    case = chainrule_tool.chain(12)
    value, derivative = problems.chain_numpy(problems.CHAIN_X0, 12)
    assert case.value() == pytest.approx(value, rel=1e-12)
    assert case.grads()[0] == pytest.approx(derivative, rel=1e-12)


def test_a_wrong_chainrule_value_fails_loudly(monkeypatch):
    class Wrong:
        @staticmethod
        def chain(n):
            return Case(objective=lambda: 0.0, gradient=None, value=lambda: 1.0, grads=None)

    spec = {"timing": TINY, "check": True}
    with pytest.raises(worker.CheckFailed, match="CHECK FAILED: chainrule chain"):
        worker.run_task("chainrule", Wrong, {"problem": "chain", "size": "n8"}, spec)


def test_runner_end_to_end_on_tiny_sizes(tmp_path):
    have = data.adbench_dir() is not None
    sizes = {"mlp": ["digits"], "chain": ["n20"]}
    if have:
        sizes = {"gmm": ["d2_K5"], "lstm": ["l2_c1024[:6]"], **sizes}
    cfg = runner.Config(
        problems=list(sizes),
        sizes=sizes,
        tools=["chainrule", "numpy"],
        allocators=["tuned", "default"],
        timing=dict(TINY),
        check_sizes={"gmm": ["test"]} if have else {},
        memory=("gmm", "d2_K5") if have else None,
        worker_timeout=600,
        verbose=False,
    )
    res = runner.run(cfg)
    assert res["failures"] == []
    med = runner.medians(res)
    for p, names in sizes.items():
        for s in names:
            for alloc in cfg.allocators:
                assert med[(alloc, p, s, "chainrule", "F")] > 0
                assert med[(alloc, p, s, "chainrule", "J")] > 0
                assert med[(alloc, p, s, "numpy", "F")] > 0
    table = runner.text_table(res)
    assert "chainrule" in table and "chain" in table
    md = report.markdown(res, command="pytest")
    assert "## Machine" in md and "## Correctness" in md and "FAILED" not in md
    if have:
        kinds = {(m["tool"], m["kind"]) for m in res["memory"]}
        assert {("chainrule", "F"), ("chainrule", "J"), ("numpy", "F")} <= kinds
        assert "Peak memory of the GMM gradient" in md


def test_bench_script_replaces_the_cli_command():
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench.py"
    run = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "python benchmarks/bench.py" in run.stdout and "--full" in run.stdout
    # The installed package carries no harness and no `chainrule bench`.
    with pytest.raises(ModuleNotFoundError):
        __import__("chainrule.bench")
    run = subprocess.run([sys.executable, "-m", "chainrule", "bench"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "invalid choice: 'bench'" in run.stderr


def test_harness_is_imported_from_the_checkout():
    assert Path(runner.__file__).resolve().parent == Path(__file__).resolve().parents[2] / "benchmarks" / "harness"
    env = runner._env({})
    paths = env["PYTHONPATH"].split(os.pathsep)
    assert paths[0] == str(runner.BENCHMARKS_DIR) and str(Path(cr.__file__).resolve().parents[1]) in paths


def test_the_native_backend_tool_is_listed_only_where_it_can_run(monkeypatch):
    monkeypatch.setattr(chainrule_tool, "numba_backend", lambda: False)
    assert "chainrule-numba" not in runner.available_tools(peers=False)
    monkeypatch.setattr(chainrule_tool, "numba_backend", lambda: True)
    assert "chainrule-numba" in runner.available_tools(peers=False)


def test_the_native_backend_tool_runs_chainrule_on_the_numba_backend():
    from harness import tools

    module = tools.load("chainrule-numba")
    try:
        assert module._SESSION_KWARGS == {"backend": "numba"}
    finally:
        module.configure()


def test_numba_backend_probe_is_false_without_the_backend_module(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "chainrule.backends.numba" else real(name, *a)
    )
    assert chainrule_tool.numba_backend() is False
