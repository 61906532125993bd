"""Radiator's own request metrics, aggregated in memory between flushes.

The web layer calls ``observe_request`` for every request; a job calls ``drain`` every few
seconds and writes the points to the telemetry store, so Radiator watches itself with the
same tools it offers everyone else.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from radiator.core.types import MetricKind, Point

__all__ = ["REQUESTS", "SelfMetrics"]

REQUESTS = "radiator.http.requests"
LATENCY = "radiator.http.latency_ms"
_MAX_SAMPLES = 2048  # per route and interval; beyond it a reservoir keeps a fair sample


@dataclass(slots=True)
class _RouteStats:
    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    samples: list[float] = field(default_factory=list)
    by_status: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))


def _quantile(sorted_values: list[float], q: float) -> float:
    index = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[index]


_TagKey = tuple[tuple[str, str], ...]


class SelfMetrics:
    """Thread-safe counters, observations and per-route request summaries of Radiator itself.

    ``count`` adds to a counter, ``observe`` records a value to summarise (count, avg, max),
    ``observe_request`` keeps per-route latency quantiles; ``drain`` turns everything since
    the previous drain into points and starts over.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], _RouteStats] = {}
        self._counters: dict[tuple[str, _TagKey], float] = defaultdict(float)
        self._observed: dict[tuple[str, _TagKey], list[float]] = defaultdict(list)
        self._seen = 0

    def count(self, name: str, tags: dict[str, str], amount: float = 1) -> None:
        key = (name, tuple(sorted(tags.items())))
        with self._lock:
            self._counters[key] += amount

    def observe(self, name: str, tags: dict[str, str], value: float) -> None:
        key = (name, tuple(sorted(tags.items())))
        with self._lock:
            values = self._observed[key]
            if len(values) < _MAX_SAMPLES:
                values.append(value)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        millis = seconds * 1000.0
        with self._lock:
            stats = self._routes.setdefault((route, method), _RouteStats())
            stats.count += 1
            stats.total_ms += millis
            stats.max_ms = max(stats.max_ms, millis)
            stats.by_status[f"{status // 100}xx"] += 1
            if len(stats.samples) < _MAX_SAMPLES:
                stats.samples.append(millis)
            else:
                # Deterministic stride replacement keeps memory bounded without randomness.
                self._seen += 1
                stats.samples[self._seen % _MAX_SAMPLES] = millis

    def drain(self, now: datetime) -> list[Point]:
        """Points for everything observed since the last drain; resets the counters."""
        with self._lock:
            routes, self._routes = self._routes, {}
            counters, self._counters = self._counters, defaultdict(float)
            observed, self._observed = self._observed, defaultdict(list)
        points: list[Point] = []
        for (name, tag_key), total in sorted(counters.items()):
            points.append(Point(name, total, now, dict(tag_key), MetricKind.COUNTER))
        for (name, tag_key), values in sorted(observed.items()):
            tags = dict(tag_key)
            points.append(
                Point(f"{name}.avg", sum(values) / len(values), now, tags, MetricKind.TIMER)
            )
            points.append(Point(f"{name}.max", max(values), now, tags, MetricKind.TIMER))
            points.append(Point(f"{name}.count", len(values), now, tags, MetricKind.COUNTER))
        for (route, method), stats in sorted(routes.items()):
            base = {"route": route, "method": method}
            for status_class, count in sorted(stats.by_status.items()):
                tags = {**base, "status": status_class}
                points.append(Point(REQUESTS, count, now, tags, MetricKind.COUNTER))
            ordered = sorted(stats.samples)
            summary = {
                "avg": stats.total_ms / stats.count,
                "p50": _quantile(ordered, 0.50),
                "p95": _quantile(ordered, 0.95),
                "p99": _quantile(ordered, 0.99),
                "max": stats.max_ms,
            }
            for stat, value in summary.items():
                points.append(Point(f"{LATENCY}.{stat}", value, now, base, MetricKind.TIMER))
        return points
