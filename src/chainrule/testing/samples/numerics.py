"""Samples for the ops of ``chainrule.ops.numerics_ops``: ``check_numerics`` and ``verify_tensor_all_finite``.

Both are identities on finite values (so their references are the identity, and their gradients
pass the incoming gradient through, checked); on a NaN or an infinity they raise at run time with
TensorFlow's message.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, positive, rand, sample

SAMPLES: list[OpSample] = [
    sample("check_numerics", lambda x: cr.check_numerics(x, "sample"), rand(2, 3), ref=lambda x: x),
    sample("check_numerics", lambda x: cr.check_numerics(x, "sample"), rand(3), ref=lambda x: x, label="1-d"),
    sample(
        "check_numerics", lambda x: cr.check_numerics(x, "sample"), np.zeros((0, 2)), ref=lambda x: x, label="empty"
    ),
    sample(
        "check_numerics",
        lambda x, w: cr.check_numerics(cr.log(x), "log") * w,
        positive(2, 3),
        rand(3),
        ref=lambda x, w: np.log(x) * w,
        label="broadcast",
    ),
    sample("verify_tensor_all_finite", lambda x: cr.verify_tensor_all_finite(x * x, "sq"), rand(4), ref=np.square),
]

ERRORS: list[ErrorSample] = [
    error(
        "check_numerics",
        lambda x: cr.check_numerics(x, "ints"),
        np.arange(3, dtype=np.int32),
        error=cr.errors.InvalidDTypeError,
        match="DataType int32 not in list of allowed values: float16, float32, float64",
    ),
    error(
        "check_numerics",
        lambda x: cr.check_numerics(cr.log(x), "log of x"),
        np.array([1.0, -1.0, 2.0]),
        error=cr.errors.InvalidArgumentError,
        match=r"^log of x : Tensor had NaN values\n  while running op '.*CheckNumerics' \(CheckNumerics\)",
        at_run=True,
        label="nan",
    ),
    error(
        "check_numerics",
        lambda x: cr.check_numerics(1.0 / x, "inverse"),
        np.array([0.0, -0.0, 2.0]),
        error=cr.errors.InvalidArgumentError,
        match=r"^inverse : Tensor had Inf values",
        at_run=True,
        label="inf",
    ),
    error(
        "check_numerics",
        lambda x: cr.check_numerics(cr.log(x), "both"),
        np.array([0.0, -1.0, 2.0]),
        error=cr.errors.InvalidArgumentError,
        match=r"^both : Tensor had Inf and NaN values",
        at_run=True,
        label="inf and nan",
    ),
    error(
        "verify_tensor_all_finite",
        lambda x: cr.verify_tensor_all_finite(cr.sqrt(x), "root"),
        np.array([-1.0, 4.0]),
        error=cr.errors.InvalidArgumentError,
        match=r"^root : Tensor had NaN values",
        at_run=True,
    ),
]
