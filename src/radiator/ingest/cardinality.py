"""Per-metric series limits, so one badly tagged metric cannot swamp the store."""

from __future__ import annotations

import threading
from collections.abc import Mapping

__all__ = ["SeriesLimiter"]


class SeriesLimiter:
    """Admits a point when its series (name + tag set) is known or the metric is under its
    limit. Thread-safe. Memory: one 64-bit hash per admitted series.

    Series are remembered for the life of the process (and re-learnt from the store at
    start-up through ``learn``), so a restart does not reset the limit for metrics that
    already hit it.
    """

    def __init__(self, max_series_per_metric: int) -> None:
        self.limit = max_series_per_metric
        self._series: dict[str, set[int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(tags: Mapping[str, str]) -> int:
        """The series key of a tag set, whatever order its tags come in."""
        return hash(frozenset(tags.items())) if tags else 0

    def admit(self, name: str, tags: Mapping[str, str]) -> bool:
        return self.admit_key(name, self.key(tags))

    def admit_key(self, name: str, key: int) -> bool:
        """``admit`` with a key from ``key(tags)`` computed once for several points."""
        known = self._series.get(name)
        if known is not None and key in known:  # the common case, without the lock
            return True
        with self._lock:
            known = self._series.setdefault(name, set())
            if key in known:
                return True
            if len(known) >= self.limit:
                return False
            known.add(key)
            return True

    def learn(self, name: str, tags: Mapping[str, str]) -> None:
        """Remember an existing series without applying the limit."""
        with self._lock:
            self._series.setdefault(name, set()).add(self.key(tags))

    def series_count(self, name: str) -> int:
        return len(self._series.get(name, ()))
