"""Server-side aggregation of StatsD samples per flush interval, as StatsD itself does it.

What each flush writes (``name`` and tags as sent; ``T`` timestamps kept, else flush time):

| StatsD type | stored as |
| --- | --- |
| ``c`` | ``name``, kind counter: the sum of value / sample rate over the interval |
| ``g`` | ``name``, kind gauge: the last value, ``+N``/``-N`` applied; repeated every flush |
|       | until not updated for ``gauge_ttl_seconds`` |
| ``s`` | ``name``, kind gauge: how many distinct members arrived in the interval |
| ``ms`` ``h`` ``d`` | ``name.count`` ``.sum`` ``.min`` ``.max`` ``.p50`` ``.p90`` ``.p95`` |
|       | ``.p99``, kind timer (count and sum corrected for the sample rate) |
| ``_sc`` | ``name.status``, kind gauge: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN |
| ``_e`` | an event (kind from tag ``kind``, else custom; service from tag ``service``) |

Memory is bounded: at most ``max_keys`` distinct series (plus events and service checks)
per interval and at most ``max_keys`` remembered gauges; samples past that are dropped and
counted, as are set members past ``MAX_SET_MEMBERS`` (across all sets of an interval) and
events past ``MAX_EVENTS``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from radiator.core.types import EventKind
from radiator.errors import OverloadedError
from radiator.ingest.builder import BatchBuilder
from radiator.ingest.selfmetrics import SelfMetrics
from radiator.ingest.service import IngestPipeline
from radiator.ingest.statsd import (
    LineError,
    ParseResult,
    ServiceCheck,
    StatsdEvent,
    StatsdParser,
    Tags,
)
from radiator.ingest.statsd_summary import TimerSummary

__all__ = ["MAX_EVENTS", "MAX_SET_MEMBERS", "FlushReport", "StatsdAggregator"]

_log = logging.getLogger(__name__)

MAX_SET_MEMBERS = 1_000_000  # distinct set members per interval, across all sets
MAX_EVENTS = 10_000  # events per interval
_EVENT_KINDS = frozenset(kind.value for kind in EventKind)
_Key = tuple[str, Tags, int | None]  # name, tags, own timestamp


@dataclass(slots=True)
class FlushReport:
    """What one flush did: points and events handed to the pipeline, and what was lost."""

    points: int = 0
    events: int = 0
    rejected: int = 0
    dropped_overloaded: int = 0


@dataclass(slots=True)
class _Interval:
    counters: dict[_Key, float] = field(default_factory=dict)
    timers: dict[_Key, TimerSummary] = field(default_factory=dict)
    sets: dict[_Key, set[int]] = field(default_factory=dict)
    stamped_gauges: dict[_Key, float] = field(default_factory=dict)
    events: list[StatsdEvent] = field(default_factory=list)
    checks: dict[_Key, int] = field(default_factory=dict)
    keys: int = 0
    members: int = 0  # set members, across all sets
    packets: int = 0
    lines: int = 0
    overflow: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    first_error: tuple[str, LineError] | None = None


class StatsdAggregator:
    """Parses datagrams and aggregates them until ``flush``.

    ``add`` is called by the one receiving thread (the event loop); ``flush`` by a job
    thread. The parser runs outside the lock, so a flush never waits for parsing.
    """

    def __init__(
        self,
        metrics: SelfMetrics,
        *,
        max_keys: int = 100_000,
        gauge_ttl_seconds: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._max_keys = max_keys
        self._gauge_ttl = gauge_ttl_seconds
        self._monotonic = monotonic
        self._parser = StatsdParser()
        self._lock = threading.Lock()
        self._now = _Interval()
        # Untimestamped gauges outlive the interval: (name, tags) -> [value, last update].
        self._gauges: dict[tuple[str, Tags], list[float]] = {}
        self.packets_received = 0  # since start, for tests and benchmarks
        self.lines_received = 0

    # -- receiving -------------------------------------------------------------------------

    def add(self, data: bytes, peer: object = "") -> ParseResult:
        """Parse one datagram and aggregate what it holds; bad lines are counted."""
        return self.add_many([data], [peer])

    def add_many(self, datagrams: Sequence[bytes], peers: Sequence[object] = ()) -> ParseResult:
        """Parse and aggregate datagrams received together (cheaper than one at a time).

        ``peers`` (optional, same order) only name the sender of a bad line in the log.
        """
        parsed = self._parser.parse_many(datagrams)
        with self._lock:
            self._apply(parsed, len(datagrams), peers)
        return parsed

    def _apply(self, parsed: ParseResult, packets: int, peers: Sequence[object]) -> None:
        now = self._now
        now.packets += packets
        now.lines += parsed.lines
        self.packets_received += packets
        self.lines_received += parsed.lines
        for error in parsed.errors:
            now.rejected[error.code] += 1
            if now.first_error is None:
                peer = peers[error.datagram] if error.datagram < len(peers) else ""
                now.first_error = (str(peer), error)
        counters, timers = now.counters, now.timers
        for sample in parsed.samples:
            kind = sample.type
            key = (sample.name, sample.tags, sample.time_us)
            if kind == "c":
                total = counters.get(key)
                if total is None:
                    if not self._admit(now):
                        continue
                    total = 0.0
                counters[key] = total + sum(sample.values) / sample.rate
            elif kind == "g" or kind == "g+":
                self._gauge(now, sample.name, sample.tags, sample.time_us, sample.values[0], kind)
            elif kind == "s":
                self._set_member(now, key, sample.member)
            else:
                summary = timers.get(key)
                if summary is None:
                    if not self._admit(now):
                        continue
                    summary = timers[key] = TimerSummary()
                summary.add(sample.values, sample.rate)
        for event in parsed.events:
            if len(now.events) >= MAX_EVENTS:
                now.overflow += 1
            elif self._admit(now):
                now.events.append(event)
        for check in parsed.checks:
            self._check(now, check)

    def _admit(self, now: _Interval) -> bool:
        if now.keys >= self._max_keys:
            now.overflow += 1
            return False
        now.keys += 1
        return True

    def _gauge(
        self, now: _Interval, name: str, tags: Tags, time_us: int | None, value: float, kind: str
    ) -> None:
        if time_us is not None:
            key = (name, tags, time_us)
            if key not in now.stamped_gauges and not self._admit(now):
                return
            now.stamped_gauges[key] = value
            return
        state = self._gauges.get((name, tags))
        if state is None:
            if len(self._gauges) >= self._max_keys:
                now.overflow += 1
                return
            state = self._gauges[(name, tags)] = [0.0, 0.0]
        state[0] = state[0] + value if kind == "g+" else value
        state[1] = self._monotonic()

    def _set_member(self, now: _Interval, key: _Key, member: str) -> None:
        members = now.sets.get(key)
        if members is None:
            if not self._admit(now):
                return
            members = now.sets[key] = set()
        # Members are kept as hashes: the memory of a member does not depend on its length.
        digest = hash(member)
        if digest in members:
            return
        if now.members >= MAX_SET_MEMBERS:
            now.overflow += 1
            return
        members.add(digest)
        now.members += 1

    def _check(self, now: _Interval, check: ServiceCheck) -> None:
        tags = check.tags
        if check.host:
            tags = tuple(sorted({**dict(tags), "host": check.host}.items()))
        key = (f"{check.name}.status", tags, check.time_us)
        if key not in now.checks and not self._admit(now):
            return
        now.checks[key] = check.status

    # -- flushing --------------------------------------------------------------------------

    def flush(self, pipeline: IngestPipeline) -> FlushReport:
        """Hand the interval's aggregates to ``pipeline`` and start a new interval.

        Never raises for a full pipeline: the points of this flush are then dropped and
        counted (``radiator.statsd.overloaded_points``).
        """
        builder = pipeline.builder()
        report = self.drain_into(builder)
        try:
            result = pipeline.submit(builder, "statsd")
        except OverloadedError:
            report.dropped_overloaded = builder.result.accepted
            self._metrics.count("radiator.statsd.overloaded_points", {}, builder.result.accepted)
            _log.warning(
                "statsd: the ingest buffer is full; dropped %d points and events of this flush",
                report.dropped_overloaded,
            )
            return report
        if result.errors:
            _log.warning(
                "statsd: %d aggregated points were refused, e.g. %s",
                result.rejected,
                result.errors[0].reason,
            )
        return report

    def drain_into(self, builder: BatchBuilder) -> FlushReport:
        """Add the interval's aggregates to ``builder``, count what the interval received
        and dropped as self-metrics, and start a new interval."""
        with self._lock:
            interval, self._now = self._now, _Interval()
            gauges = self._live_gauges()
        before = builder.result.accepted
        rejected = builder.result.rejected
        _add_points(builder, interval, gauges)
        report = FlushReport(points=builder.result.accepted - before)
        _add_events(builder, interval.events)
        report.events = builder.result.accepted - before - report.points
        report.rejected = builder.result.rejected - rejected
        self._count(interval)
        return report

    def _live_gauges(self) -> list[tuple[str, Tags, float]]:
        oldest = self._monotonic() - self._gauge_ttl
        expired = [key for key, (_, seen) in self._gauges.items() if seen < oldest]
        for key in expired:
            del self._gauges[key]
        return [(name, tags, value) for (name, tags), (value, _) in self._gauges.items()]

    def _count(self, interval: _Interval) -> None:
        count = self._metrics.count
        if interval.packets:
            count("radiator.statsd.packets", {}, interval.packets)
            count("radiator.statsd.lines", {}, interval.lines)
        for code, amount in sorted(interval.rejected.items()):
            count("radiator.statsd.rejected", {"reason": code}, amount)
        if interval.overflow:
            count("radiator.statsd.overflow", {}, interval.overflow)
            _log.warning(
                "statsd: %d samples dropped: more than %d series in one interval (statsd_max_keys)",
                interval.overflow,
                self._max_keys,
            )
        if interval.first_error is not None:
            peer, error = interval.first_error
            _log.warning(
                "statsd: %d lines rejected since the last flush, e.g. line %d of a datagram "
                "from %s: %s",
                sum(interval.rejected.values()),
                error.line,
                peer or "?",
                error.reason,
            )


def _add_points(
    builder: BatchBuilder, interval: _Interval, gauges: list[tuple[str, Tags, float]]
) -> None:
    point = builder.point
    index = 0
    for (name, tags, time_us), total in interval.counters.items():
        point(index, name, total, dict(tags), "counter", time_us)
        index += 1
    for name, tags, value in gauges:
        point(index, name, value, dict(tags), "gauge")
        index += 1
    for (name, tags, time_us), value in interval.stamped_gauges.items():
        point(index, name, value, dict(tags), "gauge", time_us)
        index += 1
    for (name, tags, time_us), members in interval.sets.items():
        point(index, name, len(members), dict(tags), "gauge", time_us)
        index += 1
    for (name, tags, time_us), status in interval.checks.items():
        point(index, name, status, dict(tags), "gauge", time_us)
        index += 1
    for (name, tags, time_us), summary in interval.timers.items():
        stats = {
            "count": summary.count,
            "sum": summary.sum,
            "min": summary.min,
            "max": summary.max,
            **summary.quantiles(),
        }
        values = [(f"{name}.{stat}", value) for stat, value in stats.items()]
        builder.series_points(index, dict(tags), values, "timer", time_us)
        index += 1


def _add_events(builder: BatchBuilder, events: list[StatsdEvent]) -> None:
    for index, event in enumerate(events):
        tags = dict(event.tags)
        kind = tags.pop("kind", EventKind.CUSTOM.value)
        if kind not in _EVENT_KINDS:
            tags["kind"] = kind  # keep what was sent, under an event kind we know
            kind = EventKind.CUSTOM.value
        attributes: dict[str, object] = {"text": event.text} if event.text else {}
        for attribute, value in (
            ("host", event.host),
            ("priority", event.priority),
            ("alert_type", event.alert_type),
            ("aggregation_key", event.aggregation_key),
            ("source_type", event.source_type),
        ):
            if value:
                attributes[attribute] = value
        service = tags.pop("service", "")
        environment = tags.pop("env", "") or tags.pop("environment", "")
        actor = tags.pop("actor", "")
        if tags:
            attributes["tags"] = tags
        builder.event(
            index,
            kind,
            event.title,
            time_us=event.time_us,
            service=service,
            environment=environment,
            actor=actor,
            attributes=attributes,
        )
