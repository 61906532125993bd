"""Turning cumulative counters (Prometheus, OTLP cumulative sums) into the deltas Radiator
stores (see ``core.types.MetricKind``)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

__all__ = ["CumulativeToDelta"]


class CumulativeToDelta:
    """Remembers the last cumulative value of each series and returns the increase.

    - The first value seen for a series returns None: there is nothing to subtract yet
      (unless ``start_time_us`` shows the counter started after the previous scrape, see
      ``delta``).
    - A value lower than the previous one is a counter reset: the delta is the new value,
      as Prometheus' ``increase`` assumes.
    Thread-safe; memory is one float per series, bounded by ``max_series`` (least recently
    updated series are forgotten first).
    """

    def __init__(self, max_series: int = 1_000_000) -> None:
        self._last: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._max = max_series
        self._lock = threading.Lock()

    def delta(
        self, name: str, tags: Mapping[str, str], value: float, *, is_new_start: bool = False
    ) -> float | None:
        """The increase since the previous value of this series.

        ``is_new_start`` says the source knows this counter started from zero within the
        current interval (e.g. an OTLP start time after the previous point); then the first
        value counts in full.
        """
        key = (name, tuple(sorted(tags.items())))
        with self._lock:
            previous = self._last.pop(key, None)
            self._last[key] = value
            if len(self._last) > self._max:
                del self._last[next(iter(self._last))]
        if previous is None:
            return value if is_new_start else None
        return value if value < previous else value - previous
