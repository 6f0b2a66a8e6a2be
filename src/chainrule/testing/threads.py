"""Helpers for tests of thread safety: start threads together, switch between them often."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads every few bytecodes, so a missing lock or a shared stack shows up quickly."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_in_threads(n: int, target: Callable[[int], Any]) -> list[Any]:
    """Run ``target(i)`` in ``n`` threads started together; re-raise the first error; the results by i."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as e:  # noqa: BLE001 - reported in the calling thread
            failures.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return results
