"""Samples for the random ops (``cr.random``): forward checks of shapes and dtypes only (ref=None).

The values themselves (seeding, statistics, bounds) are tested in tests/ops/test_random_ops.py.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.testing.samples import ErrorSample, OpSample, error, rand, sample

IAE = cr.errors.InvalidArgumentError

SAMPLES: list[OpSample] = [
    sample("random.normal", lambda: cr.random.normal([2, 3], seed=1), ref=None, order=0),
    sample("random.normal", lambda: cr.random.normal([], dtype=cr.float64), ref=None, order=0, label="scalar float64"),
    sample("random.normal", lambda: cr.random.normal([0, 3]), ref=None, order=0, label="empty"),
    # Shape given as a tensor: static when the input's shape is known, dynamic with unknown dims.
    sample(
        "random.normal", lambda x: cr.random.normal(cr.shape(x)), rand(2, 1, 3), ref=None, order=0, label="shape tensor"
    ),
    sample(
        "random.normal",
        lambda m, s: cr.random.normal([2, 3], mean=m, stddev=s, dtype=m.dtype),
        rand(3),
        rand(seed=1),
        ref=None,
        order=0,
        label="mean stddev tensors",
    ),
    sample("random.uniform", lambda: cr.random.uniform([4], seed=2), ref=None, order=0),
    sample(
        "random.uniform",
        lambda: cr.random.uniform([2, 2], -1.0, 3.0, dtype=cr.float64),
        ref=None,
        order=0,
        label="bounds",
    ),
    sample("random.uniform", lambda: cr.random.uniform([1, 0]), ref=None, order=0, label="empty"),
    sample(
        "random.uniform", lambda x: cr.random.uniform(cr.shape(x)), rand(3, 2), ref=None, order=0, label="shape tensor"
    ),
    sample(
        "random.uniform", lambda: cr.random.uniform([5], maxval=10, dtype=cr.int32), ref=None, order=0, label="int32"
    ),
    sample(
        "random.uniform",
        lambda x: cr.random.uniform(cr.shape(x), minval=-5, maxval=5, dtype=cr.int64),
        rand(2, 2),
        ref=None,
        order=0,
        label="int64 shape tensor",
    ),
    sample(
        "random.uniform",
        lambda lo, hi: cr.random.uniform([3], lo, hi, dtype=cr.int32),
        np.array(2, np.int32),
        np.array(7, np.int32),
        ref=None,
        order=0,
        label="int bounds tensors",
    ),
    sample("random.truncated_normal", lambda: cr.random.truncated_normal([3, 2], seed=3), ref=None, order=0),
    sample(
        "truncated_normal",
        lambda m: cr.truncated_normal([4], mean=m, stddev=0.5, dtype=m.dtype),
        rand(4),
        ref=None,
        order=0,
        label="mean tensor",
    ),
    sample("random.truncated_normal", lambda: cr.random.truncated_normal([0]), ref=None, order=0, label="empty"),
    sample("random.shuffle", lambda x: cr.random.shuffle(x, seed=1), rand(5, 2), ref=None, order=0),
    sample("random_shuffle", cr.random_shuffle, rand(0, 3), ref=None, order=0, label="empty"),
    sample("random.shuffle", cr.random.shuffle, rand(), ref=None, order=0, label="scalar"),
    sample("multinomial", lambda x: cr.multinomial(x, 7, seed=2), rand(3, 4), ref=None, order=0),
    sample(
        "random.categorical",
        lambda x: cr.random.categorical(x, 2, dtype=cr.int32),
        rand(2, 3),
        ref=None,
        order=0,
        label="int32",
    ),
    sample("multinomial", lambda x: cr.multinomial(x, 0), rand(2, 3), ref=None, order=0, label="no samples"),
]

ERRORS: list[ErrorSample] = [
    error(
        "random.normal",
        lambda: cr.random.normal([2], dtype=cr.int32),
        error=cr.errors.InvalidDTypeError,
        match="RandomStandardNormal.*floating.*int32",
    ),
    error(
        "random.normal",
        lambda: cr.random.normal([2, -1]),
        error=IAE,
        match="RandomStandardNormal.*negative",
        label="negative",
    ),
    error(
        "random.normal",
        cr.random.normal,
        np.array([2.0, 3.0]),
        error=cr.errors.InvalidDTypeError,
        match="RandomStandardNormal.*shape.*int32 or int64",
        label="float shape",
    ),
    error(
        "random.normal",
        cr.random.normal,
        np.array([[2, 3]], np.int32),
        error=IAE,
        match="RandomStandardNormal.*1-D",
        label="2-D shape",
    ),
    error(
        "random.normal",
        cr.random.normal,
        np.array([2, -3], np.int32),
        error=IAE,
        match=r"shape \[2, -3\] has negative dimensions.*RandomStandardNormal",
        label="negative at run",
        at_run=True,
    ),
    error(
        "random.uniform",
        lambda: cr.random.uniform([2], dtype=cr.int32),
        error=ValueError,
        match="uniform.*maxval.*int32",
    ),
    error(
        "random.uniform",
        lambda: cr.random.uniform([2], dtype=cr.bool),
        error=cr.errors.InvalidDTypeError,
        match="RandomUniform.*floating.*bool",
        label="bool",
    ),
    error(
        "random.uniform",
        lambda: cr.random.uniform([2], 3, 3, dtype=cr.int32),
        error=IAE,
        match="RandomUniformInt.*minval < maxval",
        label="empty range",
    ),
    error(
        "random.uniform",
        lambda lo, hi: cr.random.uniform([2], lo, hi, dtype=cr.int32),
        np.array(5, np.int32),
        np.array(3, np.int32),
        error=IAE,
        match="minval < maxval.*RandomUniformInt",
        label="empty range at run",
        at_run=True,
    ),
    error(
        "random.truncated_normal",
        lambda: cr.random.truncated_normal([2], dtype=cr.int32),
        error=cr.errors.InvalidDTypeError,
        match="TruncatedNormal.*floating.*int32",
    ),
    error(
        "multinomial",
        lambda x: cr.multinomial(x, 2),
        rand(3),
        error=IAE,
        match="Multinomial.*matrix",
        label="1-D logits",
    ),
    error(
        "multinomial",
        lambda x: cr.multinomial(x, -1),
        rand(2, 3),
        error=IAE,
        match="Multinomial.*nonnegative",
        label="negative samples",
    ),
    error(
        "random.categorical",
        lambda x: cr.random.categorical(x, 2, dtype=cr.float32),
        rand(2, 3),
        error=cr.errors.InvalidDTypeError,
        match="Multinomial.*int32 or int64",
        label="float dtype",
    ),
]
