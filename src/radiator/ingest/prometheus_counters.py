"""Cumulative Prometheus counters to deltas, one batch at a time, with undo.

A scrape or a remote-write request is turned into points, then submitted; submitting can
still fail (the ingest buffer is full). If the counters' remembered values had already
moved on, the increase carried by that batch would be lost for good, and a retried
remote-write request would even look like a counter reset. So each batch records what it
changed and ``rollback`` puts it back: the next scrape, or the sender's retry, then yields
the same increase again.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping

from radiator.ingest.cumulative import CumulativeToDelta

__all__ = ["CounterBatch", "CounterTracker"]

_Key = tuple[str, tuple[tuple[str, str], ...]]


class CounterTracker:
    """Per-series state of cumulative counters: a ``CumulativeToDelta`` for the values plus
    the time of the newest sample taken, which decides whether a series is known at all.

    - The first sample of a series stores nothing (there is no earlier value to subtract),
      unless the source says the counter started since the previous scrape.
    - A sample not newer than the newest one taken for its series is a duplicate (a
      retried request, an unchanged exposition timestamp) and yields nothing.
    - A value below the previous one is a reset: the delta is the new value.
    Memory is bounded by ``max_series`` (least recently updated series are forgotten).
    Thread-safe.
    """

    def __init__(self, max_series: int = 1_000_000) -> None:
        self._deltas = CumulativeToDelta(max_series)
        self._newest: dict[_Key, int] = {}
        self._max = max_series
        self._lock = threading.Lock()

    def batch(self) -> CounterBatch:
        """Start a batch whose changes can be undone with ``CounterBatch.rollback``."""
        return CounterBatch(self)

    def _take(
        self,
        key: _Key,
        tags: Mapping[str, str],
        value: float,
        time_us: int,
        is_new_start: bool,
        undo: dict[_Key, tuple[int | None, float | None]],
    ) -> tuple[bool, float | None]:
        """(taken, delta): ``taken`` is False for duplicates."""
        with self._lock:
            newest = self._newest.get(key)
            if newest is not None and time_us <= newest:
                return False, None
            raw = self._deltas.delta(key[0], tags, value, is_new_start=is_new_start)
            self._newest.pop(key, None)
            self._newest[key] = time_us
            if len(self._newest) > self._max:
                del self._newest[next(iter(self._newest))]
        # Unknown here means unknown, whatever CumulativeToDelta may still remember from
        # before a rollback or an eviction.
        first = value if is_new_start else None
        delta = first if newest is None else raw
        if key not in undo:
            undo[key] = (newest, _previous(value, raw) if newest is not None else None)
        return True, delta

    def _restore(self, undo: dict[_Key, tuple[int | None, float | None]]) -> None:
        with self._lock:
            for key, (newest, previous) in undo.items():
                if newest is None:
                    self._newest.pop(key, None)
                    continue
                self._newest[key] = newest
                if previous is not None:
                    self._deltas.delta(key[0], dict(key[1]), previous)


def _previous(value: float, delta: float | None) -> float | None:
    """The value remembered before ``value`` was taken, as far as it matters for the next
    delta. A delta equal to the value is a reset (or a start from zero); remembering +inf
    makes the next value count in full, which is what either case yields."""
    if delta is None:
        return None
    if delta == value:
        return math.inf
    return value - delta


class CounterBatch:
    """The counter updates of one scrape or one request; see ``CounterTracker``."""

    def __init__(self, tracker: CounterTracker) -> None:
        self._tracker = tracker
        self._undo: dict[_Key, tuple[int | None, float | None]] = {}
        self.duplicates = 0

    def delta(
        self,
        name: str,
        tags: Mapping[str, str],
        value: float,
        time_us: int,
        *,
        is_new_start: bool = False,
    ) -> float | None:
        """The increase of this series since its previous sample, or None when there is
        nothing to store (first sample, duplicate, or a series forgotten for memory)."""
        key = (name, tuple(sorted(tags.items())))
        taken, delta = self._tracker._take(key, tags, value, time_us, is_new_start, self._undo)
        if not taken:
            self.duplicates += 1
        return delta

    def rollback(self) -> None:
        """Forget this batch: every series it touched is as it was before the batch."""
        self._tracker._restore(self._undo)
        self._undo = {}
