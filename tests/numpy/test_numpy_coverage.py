"""The coverage list of HIPS autograd's NumPy functions (docs/numpy_coverage.md) is current, every
function it calls covered has cases in the function table, and the others refuse tensors clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as onp
import pytest
from test_numpy_functions import CASES

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.numpy import coverage

DOC = Path(__file__).resolve().parents[2] / "docs" / "numpy_coverage.md"
TESTED = {c.id.split("[")[0] for c in CASES}


def test_the_coverage_page_is_generated_from_the_lists():
    assert DOC.read_text() == coverage.table(), (
        "regenerate: python -m chainrule.numpy.coverage > docs/numpy_coverage.md"
    )


def test_counts():
    covered = [n for n in coverage.AUTOGRAD_DIFFERENTIATED if coverage.covered(n)]
    assert len(coverage.AUTOGRAD_DIFFERENTIATED) == 115
    assert len(covered) >= 113
    assert set(coverage.AUTOGRAD_DIFFERENTIATED) - set(covered) == {"msort", "make_diagonal"}


@pytest.mark.parametrize("name", coverage.AUTOGRAD_DIFFERENTIATED + coverage.AUTOGRAD_NONDIFFERENTIABLE)
def test_every_covered_function_has_cases_in_the_table(name):
    if not coverage.covered(name):
        assert name in coverage.NOT_COVERED
        return
    public = coverage.PUBLIC_NAME.get(name, name)
    if public in ("ndarray.astype", "shape", "ndim", "size", "isscalar", "result_type", "iscomplexobj"):
        return  # tested in test_tensor_as_ndarray.py / below
    assert public in TESTED, f"no case of chainrule.numpy.{public} in test_numpy_functions.py"


def test_static_queries_on_tensors():
    x = cr.placeholder(cr.float32, [2, 3])
    assert cnp.shape(x) == (2, 3) and cnp.ndim(x) == 2 and cnp.size(x) == 6 and cnp.size(x, 1) == 3
    assert cnp.result_type(x, 1.0) == onp.float32 and cnp.result_type(x, onp.float64) == onp.float64
    assert not cnp.isscalar(x) and not cnp.iscomplexobj(x)


@pytest.mark.parametrize("name", [n for n in coverage.NOT_COVERED if hasattr(onp, n)])
def test_functions_not_covered_refuse_tensors_with_their_name(name):
    x = cr.placeholder(cr.float64, [3])
    with pytest.raises(cr.errors.UnimplementedError, match=rf"chainrule\.numpy\.{name} is not supported"):
        getattr(cnp, name)(x, 1) if name in ("searchsorted", "argpartition") else getattr(cnp, name)(x)
