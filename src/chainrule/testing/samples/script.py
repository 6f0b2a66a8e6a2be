"""Samples for the ops of ``chainrule.ops.script_ops``: ``py_func``, ``numpy_function``, ``Print``,
``print``, ``identity_n``, and ``Assert`` with the ``assert_*`` checks built on it.

``py_func`` has no gradient of its own; its samples give it one with ``gradient_override_map``
(TensorFlow's recipe), so the table checks that path to second order.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, rand, sample


@cr.RegisterGradient("SampleTablePyFuncSinGrad")
def _sin_grad(op, grad):
    return grad * cr.cos(op.inputs[0])


def _py_sin(x, stateful=True):
    with cr.get_default_graph().gradient_override_map(
        {"PyFunc": "SampleTablePyFuncSinGrad", "PyFuncStateless": "SampleTablePyFuncSinGrad"}
    ):
        y = cr.py_func(np.sin, [x], x.dtype, stateful=stateful)
    y.set_shape(x.shape)
    return y


def _np_sort(x):
    y = cr.numpy_function(lambda a: np.sort(a), [x], x.dtype)
    y.set_shape(x.shape)
    return y


def _printed(x, w):
    with cr.control_dependencies([cr.print("sample", x, output_stream=lambda text: None)]):
        return cr.Print(x * w, [x, w], message="sample table: ", first_n=0)


def _asserted(x, w):
    checks = [cr.Assert(cr.reduce_all(cr.abs(x) < 10.0), [x]), cr.assert_less_equal(w, 10.0), cr.assert_rank(x, 2)]
    with cr.control_dependencies(checks):
        return cr.identity(x) * w


def _identity_n(x, w):
    a, b = cr.identity_n([x, w])
    return a * b


SAMPLES: list[OpSample] = [
    sample("py_func", _py_sin, rand(3, 2), ref=np.sin, label="stateful"),
    sample("py_func", lambda x: _py_sin(x), np.zeros((0, 3)), ref=np.sin, label="empty"),
    sample(
        "numpy_function",
        _np_sort,
        rand(5),
        ref=np.sort,
        order=0,
    ),
    sample("Print", _printed, rand(2, 3), rand(3), ref=lambda x, w: x * w),
    sample("Assert", _asserted, rand(2, 3), rand(3), ref=lambda x, w: x * w),
    sample("Assert", _asserted, np.zeros((0, 3)), rand(3), ref=lambda x, w: x * w, label="empty"),
    sample("identity_n", _identity_n, rand(2, 3), rand(3), ref=lambda x, w: x * w),
]

ERRORS: list[ErrorSample] = [
    error(
        "assert_less",
        lambda x: cr.assert_less(x, 0.5, message="too big"),
        np.array([0.25, 0.75]),
        error=cr.errors.InvalidArgumentError,
        match=r"assertion failed: \[too big\] \[Condition x < y did not hold element-wise:\] "
        r"\[x \(Placeholder:0\) = \] \[0.25 0.75\]",
        at_run=True,
    ),
    error(
        "Assert",
        lambda x: cr.Assert(x > 1.0, ["x is", x]),
        np.array(0.5),
        error=cr.errors.InvalidArgumentError,
        match=r"assertion failed: \[x is\] \[0.5\]",
        at_run=True,
    ),
    error(
        "Assert",
        lambda x: cr.Assert(x, [x]),
        np.array(0.5),
        error=cr.errors.InvalidDTypeError,
        match="condition must be bool",
    ),
    error(
        "py_func",
        lambda x: cr.py_func(lambda a: a.astype(np.float64), [x], cr.float32),
        rand(3).astype(np.float32),
        error=cr.errors.InvalidArgumentError,
        match="0-th value returned by pyfunc_.* is float64, but expects float32",
        at_run=True,
    ),
    error(
        "py_func",
        lambda x: cr.py_func(lambda a: (a, a), [x], [x.dtype]),
        rand(3),
        error=cr.errors.InvalidArgumentError,
        match="returns 2 values, but expects to see 1 values",
        at_run=True,
    ),
]
