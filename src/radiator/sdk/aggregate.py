"""Client-side aggregation of metric calls over one flush interval, as StatsD does it.

Counters are summed into one delta, gauges keep their last value, and timings and
histogram values are summarised into ``<name>.count``, ``.sum``, ``.min``, ``.max``,
``.p50``, ``.p90``, ``.p95`` and ``.p99`` points of kind ``timer``, the same layout the
server's StatsD listener writes.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field

from radiator.core.types import MetricKind

__all__ = ["QUANTILES", "Aggregator", "SeriesKey"]

QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99))
MAX_SAMPLES = 1000  # per series and interval; past it a reservoir keeps a fair sample

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(slots=True)
class _Distribution:
    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    samples: list[float] = field(default_factory=list)

    def add(self, value: float, rng: random.Random) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(value)
        else:
            slot = rng.randrange(self.count)
            if slot < MAX_SAMPLES:
                self.samples[slot] = value


def _quantile(ordered: list[float], q: float) -> float:
    # Nearest rank, like StatsD and Radiator's own request metrics.
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Aggregator:
    """Thread-safe per-interval state with at most ``max_series`` distinct series.

    ``add`` returns False when the value was dropped because the series limit is reached;
    ``drain`` returns the points of the interval (as native-format dicts without a time)
    and starts a new interval.
    """

    def __init__(self, max_series: int) -> None:
        self.max_series = max_series
        self._lock = threading.Lock()
        self._rng = random.Random()  # noqa: S311 - sampling, not security
        self._counters: dict[SeriesKey, float] = {}
        self._gauges: dict[SeriesKey, float] = {}
        self._distributions: dict[SeriesKey, _Distribution] = {}

    def _size(self) -> int:
        return len(self._counters) + len(self._gauges) + len(self._distributions)

    def add(self, kind: MetricKind, key: SeriesKey, value: float) -> bool:
        with self._lock:
            if kind is MetricKind.COUNTER:
                table: dict[SeriesKey, float] = self._counters
                if key not in table and self._size() >= self.max_series:
                    return False
                table[key] = table.get(key, 0.0) + value
            elif kind is MetricKind.GAUGE:
                if key not in self._gauges and self._size() >= self.max_series:
                    return False
                self._gauges[key] = value
            else:
                found = self._distributions.get(key)
                if found is None:
                    if self._size() >= self.max_series:
                        return False
                    found = self._distributions[key] = _Distribution()
                found.add(value, self._rng)
            return True

    def __len__(self) -> int:
        with self._lock:
            return self._size()

    def drain(self) -> list[dict[str, object]]:
        with self._lock:
            counters, self._counters = self._counters, {}
            gauges, self._gauges = self._gauges, {}
            distributions, self._distributions = self._distributions, {}
        points: list[dict[str, object]] = []
        for (name, tags), total in counters.items():
            points.append(_point(name, total, MetricKind.COUNTER, tags))
        for (name, tags), level in gauges.items():
            points.append(_point(name, level, MetricKind.GAUGE, tags))
        for (name, tags), dist in distributions.items():
            ordered = sorted(dist.samples)
            stats = [
                ("count", float(dist.count)),
                ("sum", dist.total),
                ("min", dist.low),
                ("max", dist.high),
            ]
            stats.extend((label, _quantile(ordered, q)) for label, q in QUANTILES)
            for label, value in stats:
                points.append(_point(f"{name}.{label}", value, MetricKind.TIMER, tags))
        return points


def _point(
    name: str, value: float, kind: MetricKind, tags: tuple[tuple[str, str], ...]
) -> dict[str, object]:
    return {"name": name, "value": value, "kind": kind.value, "tags": dict(tags)}
