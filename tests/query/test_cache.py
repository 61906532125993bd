"""The read cache shared by the queries of one request: each value is computed once even
when several threads ask for it at the same time; a failure stores nothing."""

from __future__ import annotations

import threading
import time

import pytest

from radiator.query.cache import ReadCache


def test_concurrent_askers_wait_for_one_computation() -> None:
    cache, calls, results = ReadCache(), [], []
    start = threading.Barrier(4)

    def compute(_: object) -> int:
        calls.append(1)
        time.sleep(0.05)  # long enough for the other threads to arrive and wait
        return 42

    def ask() -> None:
        start.wait()
        results.append(cache.get("k", compute))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 4 and len(calls) == 1


def test_a_value_not_good_enough_is_computed_again_from_the_previous() -> None:
    cache = ReadCache()
    assert cache.get("k", lambda _: {"a"}) == {"a"}
    grown = cache.get("k", lambda previous: previous | {"b"}, lambda v: "b" in v)
    assert grown == {"a", "b"}
    assert cache.peek("k") == {"a", "b"}
    assert cache.get("k", lambda _: {"c"}, lambda v: "a" in v) == {"a", "b"}


def test_a_failing_computation_stores_nothing() -> None:
    cache = ReadCache()

    def fail(_: object) -> int:
        raise ValueError("read failed")

    with pytest.raises(ValueError, match="read failed"):
        cache.get("k", fail)
    assert cache.peek("k") is None
    assert cache.get("k", lambda _: 7) == 7
