"""A ``cr.function``/``cr.grad`` keeps a bounded number of traced signatures (least recently used go first)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms.function import CACHE_SIZE, CACHE_SIZE_VARIABLE


def test_grad_trace_cache_is_bounded_after_many_signatures() -> None:
    f = cr.grad(lambda x: cr.reduce_sum(cr.sin(x) * x))
    assert f.cache_maxsize == CACHE_SIZE
    f.cache_maxsize = 16
    for n in range(1, 200):
        x = np.linspace(0.0, 1.0, n)
        np.testing.assert_allclose(f(x), np.sin(x) + x * np.cos(x), rtol=1e-12)
        assert f.cache_size() <= 16
    assert f.cache_size() == 16
    assert f.trace_count == 199


def test_recent_signature_is_kept_and_evicted_one_retraced() -> None:
    f = cr.function(lambda x: x * 2.0)
    f.cache_maxsize = 2
    f(np.ones(1))
    f(np.ones(2))
    f(np.ones(1))  # now the most recent
    f(np.ones(3))  # drops the float64[2] trace
    assert f.trace_count == 3
    f(np.ones(1))
    assert f.trace_count == 3
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
    assert f.trace_count == 4


def test_cache_size_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_SIZE_VARIABLE, "4")
    f = cr.function(lambda x: x + 1.0)
    assert f.cache_maxsize == 4
    for n in range(1, 10):
        f(np.zeros(n))
    assert f.cache_size() == 4


def test_cache_maxsize_must_be_positive() -> None:
    f = cr.function(lambda x: x)
    with pytest.raises(ValueError, match="cache_maxsize"):
        f.cache_maxsize = 0
