"""The whole op table on the Numba backend: every sample's outputs and gradients equal the NumPy backend's.

Float64 to 1e-12 relative (of each result's largest magnitude), float32 forward values to float32's own
tolerance; integers and booleans exactly. Ops that do not lower run their NumPy kernels (a region's
fallback), so every sample runs. A fixed budget by default, one sample per op function (Numba compiles
about 0.3 s per plan on a cold cache); ``CHAINRULE_NATIVE_SAMPLES_PER_OP=all`` runs every sample.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.testing.op_table import budgeted, run_sample_graph, sample_graph, value_mismatch
from chainrule.testing.samples import all_samples

pytest.importorskip("numba")

TABLE = all_samples()


def _assert_same(sample_id, fetches, got, want, rtol):
    problem = value_mismatch(fetches, got, want, rtol, where="numba")
    assert problem is None, f"{sample_id}: {problem}"


@pytest.mark.parametrize("sample", budgeted(TABLE.samples), ids=lambda s: s.id)
def test_outputs_and_gradients_equal_numpy_backend(sample):
    built = sample_graph(sample, sample.args)
    want = run_sample_graph(built, sample.args, "numpy")
    got = run_sample_graph(built, sample.args, "numba")
    _assert_same(sample.id, built.fetches, got, want, rtol=1e-12)


@pytest.mark.parametrize("sample", budgeted([s for s in TABLE.samples if s.float32]), ids=lambda s: s.id)
def test_float32_outputs_equal_numpy_backend(sample):
    args = tuple(a.astype(np.float32) if a.dtype == np.float64 else a for a in sample.args)
    built = sample_graph(sample, args, gradients=False)
    want = run_sample_graph(built, args, "numpy")
    got = run_sample_graph(built, args, "numba")
    _assert_same(sample.id, built.fetches, got, want, rtol=2e-6)
