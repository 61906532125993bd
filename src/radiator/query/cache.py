"""Store reads shared by the queries of one request, safe to use from several threads.

A dashboard's panels often select the same series over the same window; they run in
parallel (``QueryService.run_many``) and each read is made once: a thread asking for a
value another thread is computing waits for it instead of reading it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["ReadCache"]

_MISSING = object()


class ReadCache:
    """Values by key, each computed once under its own lock."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def peek(self, key: Hashable) -> Any:
        """The value at ``key`` if it is there (None otherwise); never waits or computes."""
        return self._values.get(key)

    def get(
        self,
        key: Hashable,
        compute: Callable[[Any], Any],
        good: Callable[[Any], bool] = lambda _: True,
    ) -> Any:
        """The value at ``key``; computed (``compute(previous or None)``) when missing or
        not ``good``. A failing computation stores nothing and raises to its caller."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            value = self._values.get(key, _MISSING)
            if value is _MISSING or not good(value):
                value = compute(None if value is _MISSING else value)
                self._values[key] = value
            return value
