"""Unary ops on float32 scalars keep float32 on every supported NumPy (issue 12, the NumPy floor)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.ufunc_steps import ONE, constant_token


@pytest.mark.parametrize("fn", [cr.math.rsqrt, cr.math.reciprocal])
@pytest.mark.parametrize("optimize", [False, True])
def test_float32_scalar_keeps_its_dtype(fn, optimize):
    x = cr.placeholder(cr.float32, [], name="x")
    y = fn(x)
    with cr.Session(graph=x.graph, optimize=optimize) as sess:
        out = sess.run(y, {x: np.float32(4.0)})
    assert out.dtype == np.float32 and y.dtype == cr.float32


def test_the_one_token_is_in_the_output_dtype():
    # NumPy 1.x promotes the Python int 1 against a float32 scalar to float64.
    one = constant_token(ONE, np.dtype(np.float32))
    assert type(one) is np.float32 and one == 1
