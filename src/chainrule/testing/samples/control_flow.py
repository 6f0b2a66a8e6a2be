"""Samples for control flow (``chainrule.ops.control_flow_ops``): ``cond``, ``case``, ``while_loop``.

Each shape is sampled with data that takes either branch, so the table's forward, gradient
(to second order), JVP and error checks cover both.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, rand, sample

SHAPES = [(3,), (2, 2), (), (0,)]


def _cond(x, w):
    return cr.cond(cr.reduce_sum(x) > 0, lambda: cr.sin(x) * w, lambda: cr.log(1 + x * x) - w)


def _cond_ref(x, w):
    return np.sin(x) * w if np.sum(x) > 0 else np.log(1 + x * x) - w


def _case(x):
    total = cr.reduce_sum(x)
    return cr.case(
        [(total < -1, lambda: x * x), (total < 1, lambda: cr.exp(x))],
        default=lambda: cr.tanh(x) * 3,
    )


def _case_ref(x):
    total = np.sum(x)
    return x * x if total < -1 else np.exp(x) if total < 1 else np.tanh(x) * 3


def _data(shape, branch, seed):
    """Data whose sum is positive (branch 0) or negative (branch 1); ``(0,)`` sums to 0 (false)."""
    x = rand(*shape, low=0.2, high=1.5, seed=seed)
    return x if branch == 0 else -x


SAMPLES: list[OpSample] = (
    [
        sample(
            "cond",
            _cond,
            _data(s, b, i),
            np.array(1.3),
            ref=_cond_ref,
            label=f"{'x'.join(map(str, s)) or 'scalar'} {'true' if b == 0 else 'false'}",
        )
        for i, s in enumerate(SHAPES)
        for b in (0, 1)
        if not (s == (0,) and b == 0)
    ]
    + [
        sample("case", _case, x, ref=_case_ref, label=label)
        for x, label in [
            (np.array([-2.0, -0.5]), "first"),
            (np.array([0.3, -0.1]), "second"),
            (np.array([1.5, 0.7]), "default"),
            (np.zeros((0,)), "size-0"),
        ]
    ]
    + [
        sample(
            "case",
            lambda x: cr.case(
                [(cr.reduce_sum(x) < 0, lambda: -x), (cr.reduce_sum(x) > 0, lambda: x * x)],
                default=lambda: x,
                exclusive=True,
            ),
            x,
            ref=lambda x: -x if np.sum(x) < 0 else x * x if np.sum(x) > 0 else x,
            label=f"exclusive {label}",
        )
        for x, label in [(np.array([-1.0, 0.5]), "first"), (np.array([1.0, 0.5]), "second")]
    ]
)


def _loop(x, w):
    """y <- y * w + sin(y) while sum|y| < 4, at most 20 times: a data-dependent trip count."""
    _, y = cr.while_loop(
        lambda i, y: cr.logical_and(cr.reduce_sum(cr.abs(y)) < 4.0, i < 20),
        lambda i, y: (i + 1, y * w + cr.sin(y)),
        [cr.constant(0), x],
    )
    return y


def _loop_ref(x, w):
    y, i = x, 0
    while np.sum(np.abs(y)) < 4.0 and i < 20:
        y, i = y * w + np.sin(y), i + 1
    return y


SAMPLES += [
    sample("while_loop", _loop, x, np.array(1.3), ref=_loop_ref, label=label, grad_rtol=1e-4)
    for x, label in [
        (np.array([0.3, -0.2]), "vector"),
        (np.array(0.7), "scalar"),
        (np.array(5.0), "no trip"),
        (np.zeros((0,)), "size-0"),
        (np.array([[0.2, 0.1], [-0.3, 0.4]]), "2x2"),
    ]
]


def _scan_ref(fn, xs, acc, reverse=False):
    out = []
    for x in xs[::-1] if reverse else xs:
        acc = fn(acc, x)
        out.append(acc)
    return np.array(out[::-1] if reverse else out).reshape((len(xs), *np.shape(acc)))


_SEQ = rand(5, 2, seed=7)
SAMPLES += [
    sample(
        "scan",
        lambda xs, w: cr.scan(lambda a, x: cr.tanh(a * w + x), xs, initializer=cr.zeros([2], xs.dtype)),
        _SEQ,
        np.array(0.8),
        ref=lambda xs, w: _scan_ref(lambda a, x: np.tanh(a * w + x), xs, np.zeros(2)),
        label="tanh recurrence",
        grad_rtol=1e-4,
        unknown_dims=False,
    ),
    sample(
        "scan",
        lambda xs: cr.scan(lambda a, x: a * x, xs, reverse=True),
        _SEQ,
        ref=lambda xs: np.cumprod(xs[::-1], axis=0)[::-1],
        label="reverse, no initializer",
        unknown_dims=False,
    ),
    sample(
        "map_fn",
        lambda xs: cr.map_fn(lambda x: cr.reduce_sum(cr.sin(x) * x), xs),
        _SEQ,
        ref=lambda xs: np.sum(np.sin(xs) * xs, axis=1),
        unknown_dims=False,
    ),
    sample(
        "foldl",
        lambda xs: cr.foldl(lambda a, x: a * 0.5 + x * x, xs),
        _SEQ,
        ref=lambda xs: _scan_ref(lambda a, x: a * 0.5 + x * x, xs[1:], xs[0])[-1],
        unknown_dims=False,
    ),
    sample(
        "foldr",
        lambda xs: cr.foldr(lambda a, x: a * 0.5 + x * x, xs),
        _SEQ,
        ref=lambda xs: _scan_ref(lambda a, x: a * 0.5 + x * x, xs[:-1][::-1], xs[-1])[-1],
        unknown_dims=False,
    ),
]

ERRORS: list[ErrorSample] = [
    error(
        "cond",
        lambda x: cr.cond(cr.reduce_sum(x) > 0, lambda: x, lambda: cr.cast(x, cr.int32)),
        np.ones(2),
        error=TypeError,
        match="If.*output 0.*float64.*int32",
    ),
    error(
        "cond", lambda x: cr.cond(x, lambda: x, lambda: x), np.ones(()), error=TypeError, match="If.*predicate.*bool"
    ),
    error(
        "case",
        lambda x: cr.case([(x > 0, lambda: x), (x > 1, lambda: -x)], default=lambda: x, exclusive=True),
        np.array(2.0),
        error=cr.errors.InvalidArgumentError,
        match="more than one predicate is true",
        at_run=True,
    ),
]
