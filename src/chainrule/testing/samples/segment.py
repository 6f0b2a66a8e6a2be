"""Samples for the segment reductions (``chainrule.ops.segment_ops``).

Segment ids are constants in the samples (the sorted ops' output length is ``max(id) + 1``, known
statically only for constant ids); placeholder ids are tested in ``tests/ops/test_segment_ops.py``.
Max/min data are distinct (a tie makes the derivative one-sided); ties have their own test.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, rand, sample

_IAE = cr.errors.InvalidArgumentError


def _distinct(*shape, seed=0):
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(np.linspace(-2.0, 2.0, max(n, 2)))[:n].reshape(shape)


def segment_ref(kind, data, ids, rows, unsorted=False):
    """A per-segment loop: ``kind`` of the rows of ``data`` with each id, TensorFlow's empty fills."""
    ids = np.asarray(ids)
    flat = ids.reshape(-1)
    values = data.reshape((flat.size, *data.shape[ids.ndim :]))
    out = []
    for i in range(rows):
        members = values[flat == i]
        if len(members) == 0:
            if kind == "prod":
                fill = 1
            elif unsorted and kind in ("max", "min"):
                info = np.finfo(data.dtype) if data.dtype.kind == "f" else np.iinfo(data.dtype)
                fill = info.min if kind == "max" else info.max
            else:
                fill = 0
            out.append(np.full(values.shape[1:], fill, data.dtype))
        else:
            out.append(getattr(np, kind)(members, axis=0).astype(data.dtype))
    return np.stack(out) if out else np.zeros((0, *values.shape[1:]), data.dtype)


_SORTED_IDS = [0, 0, 1, 3, 3, 3]  # segment 2 is empty
_UNSORTED_IDS = [2, 0, -1, 2, 0, 4]  # -1 is dropped; segments 1 and 3 are empty
_UNSORTED_NONEMPTY_IDS = [2, 0, -1, 2, 0, 1]
_IDS_2D = [[1, 0, 1], [-1, 1, 0]]

SAMPLES: list[OpSample] = []
for _kind in ("sum", "mean", "max", "min", "prod"):
    _fn = getattr(cr, f"segment_{_kind}")
    _data = _distinct if _kind in ("max", "min") else rand
    SAMPLES += [
        sample(
            f"segment_{_kind}",
            lambda d, f=_fn: f(d, _SORTED_IDS),
            _data(6, seed=1),
            ref=lambda d, k=_kind: segment_ref(k, d, _SORTED_IDS, 4),
        ),
        sample(
            f"segment_{_kind}",
            lambda d, f=_fn: f(d, np.array(_SORTED_IDS, np.int64)),
            _data(6, 2, seed=2),
            ref=lambda d, k=_kind: segment_ref(k, d, _SORTED_IDS, 4),
            label="rows int64 ids",
        ),
        sample(
            f"segment_{_kind}",
            lambda d, f=_fn: f(d, np.zeros(0, np.int32)),
            rand(0, 3),
            ref=lambda d, k=_kind: segment_ref(k, d, [], 0),
            label="empty",
        ),
    ]
for _kind in ("sum", "max", "min", "prod", "mean"):
    _fn = getattr(cr, f"unsorted_segment_{_kind}")
    _data = _distinct if _kind in ("max", "min") else rand
    # The empty fill of max/min (the dtype's extreme) would swamp the checker's scalar: no empty segments.
    _ids, _n = (_UNSORTED_NONEMPTY_IDS, 3) if _kind in ("max", "min") else (_UNSORTED_IDS, 5)
    SAMPLES += [
        sample(
            f"unsorted_segment_{_kind}",
            lambda d, f=_fn, i=_ids, n=_n: f(d, i, n),
            _data(6, seed=3),
            ref=lambda d, k=_kind, i=_ids, n=_n: segment_ref(k, d, i, n, unsorted=True),
        ),
        sample(
            f"unsorted_segment_{_kind}",
            lambda d, f=_fn: f(d, _IDS_2D, 2),
            _data(2, 3, 2, seed=4),
            ref=lambda d, k=_kind: segment_ref(k, d, _IDS_2D, 2, unsorted=True),
            label="2-D ids",
        ),
    ]
SAMPLES += [
    # One zero in a segment: the gradient is the product of the others (exact, to second order).
    sample(
        "segment_prod",
        lambda d: cr.segment_prod(d, [0, 0, 0, 1, 1]),
        np.array([1.5, 0.0, -2.0, 0.7, 1.3]),
        ref=lambda d: segment_ref("prod", d, [0, 0, 0, 1, 1], 2),
        label="a zero",
    ),
    # Two zeros: every partial derivative is 0 (TensorFlow's rule; right to first order).
    sample(
        "unsorted_segment_prod",
        lambda d: cr.unsorted_segment_prod(d, [1, 0, 1, 1], 2),
        np.array([0.0, 1.5, 0.0, 2.0]),
        ref=lambda d: segment_ref("prod", d, [1, 0, 1, 1], 2, unsorted=True),
        label="two zeros",
        order=1,
    ),
    sample(
        "segment_sum",
        lambda d: cr.segment_sum(d, [0, 1, 1]),
        np.array([[1, 2], [3, 4], [5, 6]], np.int32),
        ref=lambda d: np.array([[1, 2], [8, 10]], np.int32),
        label="int",
        order=0,
    ),
    sample(
        "segment_mean",
        lambda d: cr.segment_mean(d, [0, 0, 1, 1, 1]),
        np.array([1, 2, -3, -4, -4], np.int32),
        ref=lambda d: np.array([1, -3], np.int32),  # TensorFlow truncates: -11 / 3 -> -3
        label="int truncates",
        order=0,
    ),
    sample(
        "unsorted_segment_max",
        lambda d: cr.unsorted_segment_max(d, [0, 0], 2),
        np.array([1, 2], np.int32),
        ref=lambda d: np.array([2, np.iinfo(np.int32).min], np.int32),
        label="int empty: lowest",
        order=0,
    ),
    sample(
        "unsorted_segment_min",
        lambda d: cr.unsorted_segment_min(d, [0, 2, 0], 4),
        rand(3, 2),
        ref=lambda d: segment_ref("min", d, [0, 2, 0], 4, unsorted=True),
        label="empty: highest",
        order=0,
    ),
]

ERRORS: list[ErrorSample] = [
    error(
        "segment_sum",
        lambda d, i: cr.segment_sum(d, i),
        rand(4),
        np.array([1, 0, 2, 2], np.int32),
        error=_IAE,
        match="segment ids are not increasing.*SegmentSum",
        label="unsorted ids",
        at_run=True,
    ),
    error(
        "segment_max",
        lambda d, i: cr.segment_max(d, i),
        rand(2),
        np.array([-1, 0], np.int32),
        error=_IAE,
        match="segment ids must be >= 0.*SegmentMax",
        label="negative id",
        at_run=True,
    ),
    error(
        "segment_sum",
        lambda d: cr.segment_sum(d, [0, 0]),
        rand(3),
        error=_IAE,
        match=r"SegmentSum.*segment_ids \(2,\).*first dimension 3",
        label="length",
    ),
    error(
        "segment_sum",
        lambda d: cr.segment_sum(d, [0.0, 1.0]),
        rand(2),
        error=cr.errors.InvalidDTypeError,
        match="SegmentSum.*segment_ids.*int32 or int64",
        label="float ids",
    ),
    error(
        "unsorted_segment_sum",
        lambda d, i: cr.unsorted_segment_sum(d, i, 3),
        rand(3),
        np.array([0, 3, 1], np.int32),
        error=_IAE,
        match=r"segment_ids\[1\] = 3 is out of range \[0, 3\).*UnsortedSegmentSum",
        at_run=True,
    ),
    error(
        "unsorted_segment_max",
        lambda d: cr.unsorted_segment_max(d, [[0, 1]], 2),
        rand(2, 3),
        error=_IAE,
        match=r"UnsortedSegmentMax.*prefix of data shape",
        label="ids shape",
    ),
]
