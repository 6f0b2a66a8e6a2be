"""Shape rewrites never drop an error or change a memory order (the op fuzzer's findings, issue 12 item 3).

``reshape(reshape(x, s1), s2) -> reshape(x, s2)`` dropped the inner reshape's error when x's shape
was not known statically, and changed the memory order of what it returned (a later sum's bits);
``transpose(transpose(x, p), p)`` became ``x`` on an input of unknown rank, where the run as written
raises.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import compiler

MODES = {
    "compiled": True,
    "interpreted": compiler.Options(codegen=False),
    "fast_math": compiler.Options(fast_math=True),
}


def _raises_in_every_mode(fetch, feed):
    with cr.Session(graph=fetch.graph, optimize=False) as plain:
        with pytest.raises(cr.errors.InvalidArgumentError):
            plain.run(fetch, feed)
    for mode, optimize in MODES.items():
        with cr.Session(graph=fetch.graph, optimize=optimize) as sess:
            with pytest.raises(cr.errors.InvalidArgumentError):
                sess.run(fetch, feed)
                pytest.fail(f"{mode}: no error")


def test_reshape_of_reshape_keeps_the_inner_reshape_s_error():
    x = cr.placeholder(cr.float64, [None], name="x")
    y = cr.reshape(cr.reshape(x, [2, 3]), [-1])  # 5 elements do not make a 2 x 3 matrix
    _raises_in_every_mode(y, {x: np.arange(5.0)})


def test_transposes_that_cancel_keep_the_error_on_an_input_of_unknown_rank():
    x = cr.placeholder(cr.float64, None, name="x")
    y = cr.transpose(cr.transpose(x, [1, 0]), [1, 0])
    _raises_in_every_mode(y, {x: np.zeros((2, 3, 4))})


def test_reshape_of_reshape_keeps_the_memory_order_by_default():
    # reshape(a.T, [1200]) copies into row order; reshape(a.T, [30, 40]) is a.T itself (column
    # order): the row sums of the two add in different orders.
    a = cr.placeholder(cr.float64, [40, 30], name="a")
    y = cr.reduce_sum(cr.reshape(cr.reshape(cr.transpose(a), [1200]), [30, 40]), axis=1)
    value = np.random.default_rng(0).standard_normal((40, 30))
    with cr.Session(graph=a.graph, optimize=False) as plain:
        want = plain.run(y, {a: value})
    with cr.Session(graph=a.graph) as sess:
        assert sess.run(y, {a: value}).tobytes() == want.tobytes()
    assert "reshape_reshape" in compiler.optimize(y, feeds=[a], options=compiler.Options(fast_math=True)).stats


def test_a_reshape_to_a_scalar_shape_is_refused_as_in_tensorflow():
    x = cr.placeholder(cr.int64, None, name="x")
    with pytest.raises(cr.errors.InvalidArgumentError, match="Shape must be rank 1 but is rank 0"):
        cr.reshape(x, cr.constant(-1))
