"""Value types for every signal Radiator stores (see DESIGN.md, "Data model").

Pure data: no I/O, no third-party imports, so the SDK can use them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

__all__ = [
    "Event",
    "EventKind",
    "Labels",
    "LogLevel",
    "LogRecord",
    "MetricKind",
    "Point",
    "Span",
    "SpanStatus",
    "TimeRange",
    "canonical_series",
    "is_valid_metric_name",
    "utc",
]

_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_.:\-]*$")

Labels = dict[str, str]


class MetricKind(StrEnum):
    """How a point's value is to be read.

    - ``counter``: an increment, the amount counted since the previous point of the same
      series (a delta). Cumulative sources (Prometheus, OTLP cumulative sums) are turned into
      deltas at ingest, so ``sum`` over any window is the increase and rollups just add up.
    - ``gauge``: a level at that instant (memory in use, queue depth).
    - ``histogram``: one bucket of a distribution: a delta count of observations with a
      ``le`` tag holding the bucket's upper bound (``+Inf`` for the last), alongside
      ``<name>.sum`` and ``<name>.count`` counter points (Prometheus' layout).
    - ``timer``: a summary statistic of durations aggregated before storage (StatsD timers:
      ``<name>.count``, ``.sum``, ``.min``, ``.max``, ``.p50`` … ``.p99``), in milliseconds.
    """

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    TIMER = "timer"


class EventKind(StrEnum):
    DEPLOY = "deploy"
    BUILD = "build"
    TEST_RUN = "test_run"
    CONFIG_CHANGE = "config_change"
    FLAG_CHANGE = "flag_change"
    ALERT = "alert"
    INCIDENT = "incident"
    CHAOS = "chaos"
    CHAT_COMMAND = "chat_command"
    EXPERIMENT = "experiment"
    CUSTOM = "custom"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    FATAL = "FATAL"


class SpanStatus(StrEnum):
    UNSET = "unset"
    OK = "ok"
    ERROR = "error"


def utc(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime; naive values are taken to be UTC.

    Raises:
        ValueError: the moment cannot be expressed in UTC (e.g. year 9999 at UTC-23:00).
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{moment.isoformat()} is out of the representable range") from exc


def is_valid_metric_name(name: str) -> bool:
    return bool(_NAME_RE.match(name)) and len(name) <= 200


def canonical_series(name: str, tags: Labels) -> str:
    """A stable identity for one series: the name plus its tags sorted by key."""
    if not tags:
        return name
    inner = ",".join(f"{key}={tags[key]}" for key in sorted(tags))
    return f"{name}{{{inner}}}"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open interval ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))
        if self.end <= self.start:
            raise ValueError("a time range must end after it starts")

    @classmethod
    def last(cls, span: timedelta, *, now: datetime | None = None) -> TimeRange:
        end = utc(now) if now is not None else datetime.now(UTC)
        return cls(end - span, end)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Point:
    name: str
    value: float
    time: datetime
    tags: Labels = field(default_factory=dict)
    kind: MetricKind = MetricKind.GAUGE


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    title: str
    time: datetime
    service: str = ""
    environment: str = ""
    actor: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LogRecord:
    time: datetime
    service: str
    level: LogLevel
    message: str
    attributes: dict[str, Any] = field(default_factory=dict)
    trace_id: str = ""
    span_id: str = ""


@dataclass(frozen=True, slots=True)
class Span:
    trace_id: str
    span_id: str
    service: str
    name: str
    start: datetime
    duration_ms: float
    parent_id: str = ""
    status: SpanStatus = SpanStatus.UNSET
    attributes: dict[str, Any] = field(default_factory=dict)
