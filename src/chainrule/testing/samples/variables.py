"""Samples for the ops around variables: ``placeholder_with_default``, the orthogonal initializer's op.

Its static shape is the ``shape`` argument, so relaxed shapes (``[None, 3]``) are tested in
tests/ops/test_variables_api.py; the table's cases give the input's own shape.

Variables themselves (state in a Session) are tested in tests/ops/test_variable_scope.py and
tests/ops/test_state_ops.py; the table reaches ops that compute from their inputs.
"""

from __future__ import annotations

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, rand, sample

SAMPLES: list[OpSample] = [
    sample("placeholder_with_default", lambda x: cr.placeholder_with_default(x, x.shape), rand(2, 3), ref=lambda x: x),
    sample(
        "placeholder_with_default",
        lambda x: cr.placeholder_with_default(x, x.shape),
        rand(),
        ref=lambda x: x,
        label="scalar",
    ),
    sample(
        "placeholder_with_default",
        lambda x: cr.placeholder_with_default(x, x.shape),
        rand(0, 2),
        ref=lambda x: x,
        label="empty",
    ),
]

# The orthogonal initializer's QR step (its values are tested in tests/ops/test_init_ops.py).
SAMPLES += [
    sample("orthogonal_initializer", lambda: cr.orthogonal_initializer(seed=1)([4, 3]), ref=None, order=0),
    sample(
        "orthogonal_initializer",
        lambda: cr.orthogonal_initializer(gain=2.0, dtype=cr.float64)([2, 5]),
        ref=None,
        order=0,
        label="wide",
    ),
]

ERRORS: list[ErrorSample] = [
    error(
        "placeholder_with_default",
        lambda x: cr.placeholder_with_default(x, [3, 2]),
        rand(2, 3),
        error=cr.errors.InvalidArgumentError,
        match="PlaceholderWithDefault.*not compatible with shape",
    ),
    error(
        "orthogonal_initializer",
        lambda: cr.orthogonal_initializer()([3]),
        error=ValueError,
        match="at least two-dimensional",
    ),
]
