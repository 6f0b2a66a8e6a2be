"""Samples for the reductions and scans (``chainrule.ops.reduction_ops``).

Max/min samples keep their values distinct (a tie makes the gradient a one-sided
derivative, which central differences do not see); ties have their own test in
``tests/ops/test_reduction_ops.py``. Prod/cumprod samples include zeros, up to
second order: their gradients never divide by ``x``.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, positive, rand, sample

# (input shape, axis, keepdims): all axes, one axis, negative axes, lists, no axes, size 1, size 0.
REDUCE_CASES = [
    ((2, 3), None, False),
    ((2, 3), 0, False),
    ((2, 3), -1, True),
    ((2, 3), [0, 1], True),
    ((2, 3, 4), [0, 2], False),
    ((2, 3, 4), (-1, 0), True),
    ((2, 3), [], False),
    ((), None, False),
    ((1, 3), 0, False),
    ((4, 1), 1, True),
    ((0, 3), 0, False),
    ((0, 3), 1, True),
    ((3, 0), None, False),
]
# Max/min over an empty axis is an error (see ERRORS); an empty *kept* axis is fine.
NONEMPTY_CASES = [c for c in REDUCE_CASES if np.prod(c[0]) > 0] + [((3, 0), 0, False), ((0, 3), 1, True)]


def _label(shape, axis, keepdims):
    dims = "x".join(map(str, shape)) or "scalar"
    return f"{dims} axis={axis}" + (" keepdims" if keepdims else "")


def _numpy_axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _distinct(*shape, seed=0):
    """Values in [-2, 2] at least 0.1 apart, so no max/min is tied or flips under a small step."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(np.linspace(-2.0, 2.0, max(n, 2)))[:n].reshape(shape)


def _reductions(name, fn, ref, cases, data=rand, **kw):
    out = []
    for i, (shape, axis, keepdims) in enumerate(cases):
        out.append(
            sample(
                name,
                lambda x, a=axis, k=keepdims: fn(x, axis=a, keepdims=k),
                data(*shape, seed=i),
                ref=lambda x, a=axis, k=keepdims: ref(x, axis=_numpy_axis(a), keepdims=k),
                label=_label(shape, axis, keepdims),
                **kw,
            )
        )
    return out


def _int_mean(x, axis=None, keepdims=False):
    """TensorFlow's integer mean: the sum divided by the count, truncated toward zero."""
    total = np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    count = max(x.size // max(total.size, 1), 1)
    return (np.sign(total) * (np.abs(total) // count)).astype(x.dtype)


def _mean(x, axis=None, keepdims=False):
    with np.errstate(invalid="ignore"):
        return np.mean(x, axis=axis, keepdims=keepdims)


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))


def _cum_ref(np_fn, identity):
    def ref(x, axis=0, exclusive=False, reverse=False):
        if reverse:
            x = np.flip(x, axis)
        out = np_fn(x, axis=axis, dtype=x.dtype)
        if exclusive:
            pad = [(0, 0)] * x.ndim
            pad[axis % x.ndim] = (1, 0)
            out = np.pad(out, pad, constant_values=identity)
            out = np.moveaxis(np.moveaxis(out, axis, 0)[: x.shape[axis]], 0, axis)
        return np.flip(out, axis) if reverse else out

    return ref


_cumsum_ref = _cum_ref(np.cumsum, 0)
_cumprod_ref = _cum_ref(np.cumprod, 1)

# (input shape, axis, exclusive, reverse)
CUM_CASES = [
    ((5,), 0, False, False),
    ((2, 4), 1, False, False),
    ((2, 4), 0, True, False),
    ((2, 4), -1, False, True),
    ((2, 4), 1, True, True),
    ((3, 1), 1, True, False),
    ((0, 3), 0, False, False),
    ((3, 0), -1, True, True),
]


def _scans(name, fn, ref, data=rand, **kw):
    return [
        sample(
            name,
            lambda x, a=axis, e=ex, r=rev: fn(x, axis=a, exclusive=e, reverse=r),
            data(*shape, seed=i),
            ref=lambda x, a=axis, e=ex, r=rev: ref(x, axis=a, exclusive=e, reverse=r),
            label="x".join(map(str, shape))
            + f" axis={axis}"
            + (" exclusive" if ex else "")
            + (" reverse" if rev else ""),
            **kw,
        )
        for i, (shape, axis, ex, rev) in enumerate(CUM_CASES)
    ]


_ints = np.array([[3, -7, 2], [-5, 4, 9]], dtype=np.int32)
_with_zero = np.array([[1.5, 0.0, -1.2], [0.7, 1.1, 1.3]])
_two_zeros = np.array([[0.0, 1.5, 0.0, -1.2], [0.6, 0.0, 0.8, 1.3], [1.2, -0.9, 0.7, 1.4]])
_big = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.5]])

SAMPLES: list[OpSample] = [
    # --- reduce_sum ---
    *_reductions("reduce_sum", cr.reduce_sum, np.sum, REDUCE_CASES),
    sample(
        "reduce_sum",
        lambda x: cr.reduce_sum(x, 1),
        _ints,
        ref=lambda x: np.sum(x, 1, dtype=x.dtype),
        label="int32",
        order=0,
    ),
    sample(
        "reduce_sum",
        lambda x: cr.reduce_sum(x, reduction_indices=[0], keep_dims=True),
        rand(2, 3),
        ref=lambda x: np.sum(x, 0, keepdims=True),
        label="TF1 aliases",
    ),
    # --- reduce_mean ---
    *_reductions("reduce_mean", cr.reduce_mean, _mean, REDUCE_CASES),
    sample(
        "reduce_mean",
        lambda x: cr.reduce_mean(x, 1),
        _ints,
        ref=lambda x: _int_mean(x, 1),
        label="int32 truncates",
        order=0,
    ),
    sample(
        "reduce_mean", lambda x: cr.reduce_mean(x), _ints.astype(np.int64), ref=_int_mean, label="int64 all", order=0
    ),
    sample(
        "reduce_mean",
        lambda x: cr.reduce_mean(x, 0, keepdims=True),
        np.zeros((0, 2), np.int32),
        ref=lambda x: np.zeros((1, 2), np.int32),
        label="int32 empty axis is 0",
        order=0,
    ),
    # --- reduce_max / reduce_min (distinct values: see the module docstring) ---
    *_reductions("reduce_max", cr.reduce_max, np.max, NONEMPTY_CASES, data=_distinct),
    *_reductions("reduce_min", cr.reduce_min, np.min, NONEMPTY_CASES, data=_distinct),
    sample("reduce_max", lambda x: cr.reduce_max(x, 0), _ints, ref=lambda x: np.max(x, 0), label="int32", order=0),
    sample("reduce_min", lambda x: cr.reduce_min(x, -1), _ints, ref=lambda x: np.min(x, -1), label="int32", order=0),
    # --- reduce_prod (zeros included: the gradient is exact there to second order) ---
    *_reductions("reduce_prod", cr.reduce_prod, np.prod, REDUCE_CASES),
    sample("reduce_prod", lambda x: cr.reduce_prod(x, 1), _with_zero, ref=lambda x: np.prod(x, 1), label="one zero"),
    sample("reduce_prod", lambda x: cr.reduce_prod(x), _with_zero, ref=np.prod, label="one zero, all axes"),
    sample(
        "reduce_prod",
        lambda x: cr.reduce_prod(x, [0, 1], keepdims=True),
        _two_zeros,
        ref=lambda x: np.prod(x, (0, 1), keepdims=True),
        label="two zeros",
    ),
    sample(
        "reduce_prod", lambda x: cr.reduce_prod(x, 0), _two_zeros, ref=lambda x: np.prod(x, 0), label="zeros per column"
    ),
    sample(
        "reduce_prod",
        lambda x: cr.reduce_prod(x, 0),
        _ints,
        ref=lambda x: np.prod(x, 0, dtype=x.dtype),
        label="int32",
        order=0,
    ),
    # --- reduce_logsumexp ---
    *_reductions("reduce_logsumexp", cr.reduce_logsumexp, _logsumexp, REDUCE_CASES),
    sample(
        "reduce_logsumexp",
        lambda x: cr.reduce_logsumexp(x, 1),
        _big,
        ref=lambda x: _logsumexp(x, 1),
        label="+-1000",
        grad_delta=1e-9,
    ),
    sample(
        "reduce_logsumexp",
        lambda x: cr.reduce_logsumexp(x, -1, keepdims=True),
        np.array([[-np.inf, -np.inf], [0.0, -np.inf], [np.inf, 1.0]]),
        ref=lambda x: np.array([[-np.inf], [0.0], [np.inf]], dtype=x.dtype),
        label="infinities",
        order=0,
    ),
    # --- argmax / argmin (int64 by default; the first index on ties) ---
    sample("argmax", lambda x: cr.argmax(x, 0), rand(3, 4), ref=lambda x: np.argmax(x, 0), order=0),
    sample(
        "argmax", lambda x: cr.argmax(x, -1), rand(2, 3, 4), ref=lambda x: np.argmax(x, -1), label="axis=-1", order=0
    ),
    sample("argmax", lambda x: cr.argmax(x), rand(5), ref=np.argmax, label="1-D default axis", order=0),
    sample(
        "argmax",
        lambda x: cr.argmax(x, 1, output_type=cr.int32),
        np.array([[1, 3, 3], [2, 2, 0]], np.int32),
        ref=lambda x: np.argmax(x, 1).astype(np.int32),
        label="int32 ties",
        order=0,
    ),
    sample("argmax", lambda x: cr.argmax(x, 1), rand(0, 3), ref=lambda x: np.argmax(x, 1), label="0x3", order=0),
    sample("argmin", lambda x: cr.argmin(x, 1), rand(3, 4), ref=lambda x: np.argmin(x, 1), order=0),
    sample(
        "argmin",
        lambda x: cr.argmin(x, dimension=0),
        np.array([[1.0, 3.0], [1.0, -3.0], [0.5, -3.0]]),
        ref=lambda x: np.argmin(x, 0),
        label="ties",
        order=0,
    ),
    # --- cumsum / cumprod ---
    *_scans("cumsum", cr.cumsum, _cumsum_ref),
    *_scans(
        "cumprod",
        cr.cumprod,
        _cumprod_ref,
        data=lambda *s, seed: positive(*s, seed=seed) * np.sign(rand(*s, seed=seed)),
    ),
    sample(
        "cumsum",
        lambda x: cr.cumsum(x, 1, exclusive=True),
        _ints,
        ref=lambda x: _cumsum_ref(x, 1, True),
        label="int32",
        order=0,
    ),
    sample(
        "cumprod",
        lambda x: cr.cumprod(x, 1, reverse=True),
        _ints,
        ref=lambda x: _cumprod_ref(x, 1, False, True),
        label="int32",
        order=0,
    ),
    *[
        sample(
            "cumprod",
            lambda x, e=ex, r=rev: cr.cumprod(x, 1, exclusive=e, reverse=r),
            _two_zeros,
            ref=lambda x, e=ex, r=rev: _cumprod_ref(x, 1, e, r),
            label="zeros" + (" exclusive" if ex else "") + (" reverse" if rev else ""),
        )
        for ex in (False, True)
        for rev in (False, True)
    ],
]

_IAE = cr.errors.InvalidArgumentError
_IDE = cr.errors.InvalidDTypeError
_x23 = rand(2, 3)
ERRORS: list[ErrorSample] = [
    error("reduce_sum", lambda x: cr.reduce_sum(x, 2), _x23, error=_IAE, match=r"Sum.*axis 2 is out of bounds.*rank 2"),
    error(
        "reduce_sum",
        lambda x: cr.reduce_sum(x, [0, -3]),
        _x23,
        error=_IAE,
        match=r"Sum.*axis -3 is out of bounds",
        label="unknown dims",
        static_shapes=False,
    ),
    error(
        "reduce_sum",
        lambda x: cr.reduce_sum(x, [1, -1]),
        _x23,
        error=_IAE,
        match=r"Sum.*duplicate axes",
        label="duplicate",
    ),
    error(
        "reduce_sum",
        lambda x: cr.reduce_sum(x, 0.5),
        _x23,
        error=_IDE,
        match=r"Sum.*axis must be an int",
        label="float axis",
    ),
    error("reduce_sum", cr.reduce_sum, np.array([True, False]), error=_IDE, match=r"Sum.*bool.*numeric", label="bool"),
    error(
        "reduce_mean", lambda x: cr.reduce_mean(x, 5), _x23, error=_IAE, match=r"reduce_mean.*axis 5 is out of bounds"
    ),
    error("reduce_max", lambda x: cr.reduce_max(x, -3), _x23, error=_IAE, match=r"Max.*axis -3 is out of bounds"),
    error("reduce_min", lambda x: cr.reduce_min(x, 2), _x23, error=_IAE, match=r"Min.*axis 2 is out of bounds"),
    error("reduce_prod", lambda x: cr.reduce_prod(x, [0, 2]), _x23, error=_IAE, match=r"Prod.*axis 2 is out of bounds"),
    error("reduce_logsumexp", lambda x: cr.reduce_logsumexp(x, 2), _x23, error=_IAE, match=r"reduce_logsumexp.*axis 2"),
    error(
        "reduce_logsumexp",
        cr.reduce_logsumexp,
        _ints,
        error=_IDE,
        match=r"reduce_logsumexp.*int32.*floating",
        label="int",
    ),
    error(
        "reduce_max",
        lambda x: cr.reduce_max(x, 0),
        rand(0, 3),
        error=_IAE,
        match=r"Max.*zero-size array",
        label="empty axis",
        at_run=True,
    ),
    error(
        "reduce_min",
        lambda x: cr.reduce_min(x),
        rand(0),
        error=_IAE,
        match=r"Min.*zero-size array",
        label="empty",
        at_run=True,
        static_shapes=False,
    ),
    error("argmax", lambda x: cr.argmax(x, 2), _x23, error=_IAE, match=r"ArgMax.*axis 2 is out of bounds"),
    error(
        "argmax", cr.argmax, np.array(1.0), error=_IAE, match=r"ArgMax.*axis 0 is out of bounds.*rank 0", label="scalar"
    ),
    error(
        "argmin",
        lambda x: cr.argmin(x, output_type=cr.float32),
        _x23,
        error=_IDE,
        match=r"ArgMin.*output_type",
        label="dtype",
    ),
    error(
        "argmax", lambda x: cr.argmax(x, 0), rand(0, 3), error=_IAE, match=r"ArgMax.*empty", label="empty", at_run=True
    ),
    error("cumsum", lambda x: cr.cumsum(x, 2), _x23, error=_IAE, match=r"Cumsum.*axis 2 is out of bounds"),
    error(
        "cumprod",
        cr.cumprod,
        np.array(2.0),
        error=_IAE,
        match=r"Cumprod.*axis 0 is out of bounds.*rank 0",
        label="scalar",
    ),
]

# --- reduce_all, reduce_any, count_nonzero, arg_max/arg_min (TF 1.x) ----------------------------
_bools = np.array([[True, False, True], [True, True, True]])
SAMPLES += [
    *[
        sample(
            name,
            lambda x, a=axis, k=keepdims, f=fn: f(x, axis=a, keepdims=k),
            _bools if shape == (2, 3) else np.ones(shape, bool),
            ref=lambda x, a=axis, k=keepdims, r=ref: r(x, axis=_numpy_axis(a), keepdims=k),
            label=_label(shape, axis, keepdims),
            order=0,
        )
        for name, fn, ref in [("reduce_all", cr.reduce_all, np.all), ("reduce_any", cr.reduce_any, np.any)]
        for shape, axis, keepdims in [((2, 3), None, False), ((2, 3), 1, False), ((2, 3), 0, True), ((0, 3), 0, False)]
    ],
    sample(
        "reduce_all",
        lambda x: cr.reduce_all(x, reduction_indices=[1], keep_dims=True),
        _bools,
        ref=lambda x: np.all(x, axis=1, keepdims=True),
        label="TF 1.x keywords",
        order=0,
    ),
    sample(
        "count_nonzero",
        cr.count_nonzero,
        np.array([[0.0, 1.5, 0.0], [2.0, -1.0, 0.0]]),
        ref=lambda x: np.int64(np.count_nonzero(x)),
        order=0,
    ),
    sample(
        "count_nonzero",
        lambda x: cr.count_nonzero(x, axis=0, keepdims=True, dtype=cr.int32),
        np.array([[0, 1, 0], [2, -1, 0]], np.int32),
        ref=lambda x: np.count_nonzero(x, axis=0, keepdims=True).astype(np.int32),
        label="int axis=0 int32",
        order=0,
    ),
    sample(
        "count_nonzero",
        lambda x: cr.count_nonzero(x, reduction_indices=1),
        _bools,
        ref=lambda x: np.count_nonzero(x, axis=1).astype(np.int64),
        label="bool",
        order=0,
    ),
    sample("arg_max", lambda x: cr.arg_max(x, 1), _distinct(2, 3), ref=lambda x: np.argmax(x, 1), order=0),
    sample(
        "arg_min",
        lambda x: cr.arg_min(x, 0, output_type=cr.int32),
        _distinct(2, 3),
        ref=lambda x: np.argmin(x, 0).astype(np.int32),
        order=0,
    ),
]

ERRORS += [
    error("reduce_all", cr.reduce_all, rand(2), error=_IDE, match=r"All.*float64.*bool"),
    error("reduce_any", lambda x: cr.reduce_any(x, 1), np.ones(2, bool), error=_IAE, match=r"Any.*axis 1 is out"),
]
