"""Default rewrites are bitwise exact; bit-changing ones need ``Options(fast_math=True)`` (issue 12, item 6)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

X = np.array([1000.0, -0.0, 0.0, 1e-300, 0.1, 3.7, np.nan, np.inf, -np.inf, 1e308])


def _bits(a: np.ndarray) -> bytes:
    a = np.asarray(a)
    return np.where(np.isnan(a), np.nan, a).tobytes()  # NaNs equal (one payload); signed zeros distinct


CASES = {
    "log_exp": lambda x: cr.log(cr.exp(x)),
    "exp_log": lambda x: cr.exp(cr.log(cr.square(x))),
    "add_zero": lambda x: x + 0.0,
    "zero_minus": lambda x: 0.0 - x,
    "add_n_zeros": lambda x: cr.add_n([x, cr.zeros([10], dtype=cr.float64)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_default_compiled_equals_uncompiled_bitwise(name):
    graph = cr.Graph()
    with graph.as_default():
        x = cr.placeholder(cr.float64, [10], name="x")
        y = CASES[name](x)
    with np.errstate(all="ignore"):
        with cr.Session(graph=graph, optimize=False) as plain:
            want = plain.run(y, {x: X})
        for optimize in (True, compiler.Options(codegen=False)):
            with cr.Session(graph=graph, optimize=optimize) as sess:
                assert _bits(sess.run(y, {x: X})) == _bits(want)


def test_log_exp_at_overflow_is_inf_by_default_and_x_under_fast_math():
    x = cr.placeholder(cr.float64, [], name="x")
    y = cr.log(cr.exp(x))
    with np.errstate(over="ignore"):
        with cr.Session(graph=x.graph) as sess:
            assert sess.run(y, {x: 1000.0}) == np.inf
        with cr.Session(graph=x.graph, optimize=compiler.Options(fast_math=True)) as fast:
            assert fast.run(y, {x: 1000.0}) == 1000.0
