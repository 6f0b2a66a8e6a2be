"""A bounded, thread-safe mapping that forgets its least recently used entries.

The caches that grow with what a program does (a ``cr.function``'s traced signatures, a
Session's plans per fetch/feed set) are bounded by one of these, so a program that calls them
with ever new signatures keeps a fixed amount of memory instead of growing without limit.
Each bound has a default, can be set by an environment variable, and per object by its
``maxsize`` attribute.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


def size_from_environment(variable: str, default: int) -> int:
    """The positive integer in the environment variable ``variable``, else ``default``."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{variable}={text!r}: expected a positive integer") from None
    if value < 1:
        raise ValueError(f"{variable}={text!r}: expected a positive integer")
    return value


class LRUCache(Generic[V]):
    """At most ``maxsize`` entries; adding one more drops the least recently used (read or written).

    ``maxsize`` may be changed at any time (smaller: the oldest entries go at the next ``put``).
    ``evictions`` counts the entries dropped so far.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"LRUCache maxsize must be >= 1, got {maxsize}")
        self.maxsize = maxsize
        self.evictions = 0
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The entry for ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> V:
        """Store ``value`` under ``key`` unless another thread stored one first; returns the stored one."""
        with self._lock:
            existing = self._entries.get(key)
            if existing is not None:
                self._entries.move_to_end(key)
                return existing
            self._entries[key] = value
            while len(self._entries) > max(1, self.maxsize):
                self._entries.popitem(last=False)
                self.evictions += 1
            return value

    def values(self) -> list[V]:
        """The entries, least recently used first."""
        with self._lock:
            return list(self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries
