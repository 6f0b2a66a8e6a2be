"""The Session's plan cache: one plan per fetch/feed set whatever the feed order, and a bounded count."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.framework.lru import LRUCache, size_from_environment
from chainrule.runtime import session as session_module


def test_feed_dict_order_is_not_part_of_the_plan_key() -> None:
    with cr.Graph().as_default():
        a = cr.placeholder(cr.float64, [2], name="a")
        b = cr.placeholder(cr.float64, [2], name="b")
        y = a - 2.0 * b
        with cr.Session() as sess:
            one = sess.run(y, {a: [1.0, 2.0], b: [3.0, 5.0]})
            other = sess.run(y, {b: [3.0, 5.0], a: [1.0, 2.0]})
            assert len(sess.plans) == 1
            np.testing.assert_array_equal(one, [-5.0, -8.0])
            np.testing.assert_array_equal(other, [-5.0, -8.0])
            # The general path (a fetch the fast path does not take) shares the same plan.
            third = sess.run({"y": y}, {b: np.array([1.0, 1.0]), a: np.array([0.0, 0.0])})
            np.testing.assert_array_equal(third["y"], [-2.0, -2.0])
            assert len(sess.plans) == 1


def test_feeds_in_creation_order_and_reversed_give_the_same_values_with_three_feeds() -> None:
    with cr.Graph().as_default():
        xs = [cr.placeholder(cr.float64, [], name=f"x{i}") for i in range(3)]
        y = xs[0] * 100.0 + xs[1] * 10.0 + xs[2]
        with cr.Session() as sess:
            forward = {xs[0]: 1.0, xs[1]: 2.0, xs[2]: 3.0}
            backward = {xs[2]: 3.0, xs[0]: 1.0, xs[1]: 2.0}
            assert sess.run(y, forward) == 123.0
            assert sess.run(y, backward) == 123.0
            assert len(sess.plans) == 1


def test_plan_cache_is_bounded_least_recently_used_first() -> None:
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, [], name="x")
        outputs = [x * float(i) for i in range(40)]
        with cr.Session() as sess:
            sess.plan_cache_size = 8
            for i, t in enumerate(outputs):
                assert sess.run(t, {x: 2.0}) == 2.0 * i
                assert len(sess.plans) <= 8
            assert len(sess.plans) == 8
            # The most recent fetches are kept; an evicted one is built again and still right.
            kept = sess.plans[-1]
            assert sess.run(outputs[-1], {x: 1.0}) == 39.0
            assert sess.plans[-1] is kept
            assert sess.run(outputs[0], {x: 1.0}) == 0.0
            assert len(sess.plans) == 8


def test_plan_cache_size_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(session_module.PLAN_CACHE_SIZE_VARIABLE, "3")
    with cr.Graph().as_default():
        x = cr.placeholder(cr.float64, [], name="x")
        with cr.Session() as sess:
            assert sess.plan_cache_size == 3
            for i in range(10):
                sess.run(x + float(i), {x: 0.0})
            assert len(sess.plans) == 3


def test_plan_cache_size_must_be_positive() -> None:
    with cr.Session(graph=cr.Graph()) as sess, pytest.raises(ValueError, match="plan_cache_size"):
        sess.plan_cache_size = 0


def test_lru_cache_bound_and_order() -> None:
    cache: LRUCache[str] = LRUCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # "a" is now the most recent
    cache.put("c", "C")
    assert cache.values() == ["A", "C"] and "b" not in cache and cache.evictions == 1
    assert cache.put("a", "other") == "A"  # a second put of a kept key returns the first value
    with pytest.raises(ValueError):
        LRUCache(0)


@pytest.mark.parametrize("text", ["0", "-1", "many"])
def test_size_from_environment_rejects_bad_values(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("CHAINRULE_TEST_SIZE", text)
    with pytest.raises(ValueError, match="CHAINRULE_TEST_SIZE"):
        size_from_environment("CHAINRULE_TEST_SIZE", 5)


def test_size_from_environment_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINRULE_TEST_SIZE", raising=False)
    assert size_from_environment("CHAINRULE_TEST_SIZE", 5) == 5
