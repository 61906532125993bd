"""The telemetry store contract: what every backend (DuckDB today, ClickHouse later) provides.

Domain code depends on this Protocol only; ``radiator.storage.telemetry`` picks a backend.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from radiator.core.types import Labels, TimeRange

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ORDERED_BY_SERIES",
    "Aggregation",
    "BucketQuery",
    "CoverageRow",
    "DependencyEdge",
    "EventFilter",
    "EventRow",
    "LevelCount",
    "LogCount",
    "LogCountQuery",
    "LogFilter",
    "LogRow",
    "MetricSeries",
    "RecentStats",
    "Resolution",
    "Series",
    "Signal",
    "SpanFilter",
    "SpanRow",
    "StepWindows",
    "TelemetryStore",
    "query_deadline",
]

query_deadline: ContextVar[float | None] = ContextVar("radiator_query_deadline", default=None)
"""A ``time.monotonic()`` instant by which the store reads of the running query must end;
a store interrupts a read that runs past it (set by the query evaluator)."""


class Signal(StrEnum):
    """The four kinds of telemetry, one table each."""

    POINTS = "points"
    EVENTS = "events"
    LOGS = "logs"
    SPANS = "spans"


class Resolution(StrEnum):
    """Where metric reads come from: every raw point, or 1-minute / 1-hour rollups."""

    RAW = "raw"
    MINUTE = "1m"
    HOUR = "1h"

    @property
    def seconds(self) -> int:
        return {"raw": 0, "1m": 60, "1h": 3600}[self.value]


ORDERED_BY_SERIES: dict[bytes, bytes] = {b"radiator.order": b"series,time"}
"""Schema metadata of a metric read whose rows are already ordered by series position, then
time (``TelemetryStore.fetch_cells``), so the reader need not sort them."""


@dataclass(frozen=True, slots=True)
class RecentStats:
    """What a store holds of recent raw points in memory (``TelemetryStore.keep_recent``):
    ``ready`` once loaded; from ``horizon_us`` (epoch µs) on, reads are answered from it.
    ``failed``: loading (or taking an append) failed, and reads use the table for good."""

    ready: bool
    series: int
    points: int
    bytes: int
    max_bytes: int
    horizon_us: int | None
    failed: bool = False


@dataclass(frozen=True, slots=True)
class StepWindows:
    """The windows ``(t - range_us, t]`` of the steps ``t = anchor_us + k * step_us``.

    A metric read given these may leave out cells whose end lies in no window: when the
    step is longer than the window, most of the range is never looked at.
    """

    anchor_us: int
    step_us: int
    range_us: int


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """Telemetry of one source seen for one service: ``source`` is ``metric`` (``name`` the
    metric), ``spans``, ``logs`` or ``event`` (``name`` the event kind); ``level`` is the
    series' ``telemetry.level`` tag, if any; ``first``/``last`` when it was seen."""

    source: str
    name: str
    service: str
    level: str
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One series of the catalogue: its id in the store, metric name, tags and kind."""

    sid: int
    name: str
    tags: Labels
    kind: str


class Aggregation(StrEnum):
    AVG = "avg"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    COUNT = "count"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class BucketQuery:
    """Points of one metric, filtered by exact tag values, aggregated into fixed time buckets.

    ``group_by`` None keeps every series apart; an empty tuple merges them all into one.
    """

    name: str
    range: TimeRange
    step: timedelta
    aggregation: Aggregation = Aggregation.AVG
    tags: Labels = field(default_factory=dict)
    group_by: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.step <= timedelta(0):
            raise ValueError("step must be positive")


@dataclass(frozen=True, slots=True)
class Series:
    """One result series: bucket start times and their values, oldest first."""

    tags: Labels
    times: list[datetime]
    values: list[float]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Events in ``range`` matching every given criterion; empty tuples and None match all.

    ``text`` is a case-insensitive substring of the title or the attributes' JSON text.
    """

    range: TimeRange
    kinds: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    environment: str | None = None
    text: str | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class EventRow:
    time: datetime
    kind: str
    service: str
    environment: str
    title: str
    actor: str
    attributes: dict[str, Any]
    links: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Log records in ``range`` matching every given criterion, newest first.

    ``attributes`` are (key, value) pairs compared with the attribute as text; ``text`` is a
    case-insensitive substring of the message; ``after`` is the ``position`` of the last row
    of the previous page (rows strictly older in (time, position) order follow).
    """

    range: TimeRange
    services: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    trace_id: str | None = None
    limit: int = 100
    after: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class LogRow:
    """One log record; ``position`` is (epoch microseconds, tiebreak), unique per row."""

    time: datetime
    service: str
    level: str
    message: str
    attributes: dict[str, Any]
    trace_id: str
    span_id: str
    position: tuple[int, int]


@dataclass(frozen=True, slots=True)
class LevelCount:
    """How many log records of one service and level fall in the bucket starting at ``time``."""

    time: datetime
    service: str
    level: str
    count: int


@dataclass(frozen=True, slots=True)
class LogCountQuery:
    """Count log records per ``step`` bucket matching every given criterion.

    ``services``, ``levels``, ``attributes`` and ``text`` filter as in ``LogFilter``;
    ``pattern`` is a regular expression (RE2 syntax) that must match part of the message.
    ``group_by`` names ``service``, ``level`` or attribute keys; a record lacking a grouped
    attribute counts under the empty value.
    """

    range: TimeRange
    step: timedelta
    services: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    pattern: str | None = None
    group_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LogCount:
    """How many matching records fall in the bucket starting at ``time``.

    ``groups`` holds the values of the query's ``group_by``, in its order.
    """

    time: datetime
    groups: tuple[str, ...]
    count: int


@dataclass(frozen=True, slots=True)
class SpanFilter:
    """Spans matching every given criterion (``range`` on the start time), newest first."""

    range: TimeRange | None = None
    trace_id: str | None = None
    services: tuple[str, ...] = ()
    name: str | None = None
    min_duration_ms: float | None = None
    max_duration_ms: float | None = None
    status: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    limit: int = 100


@dataclass(frozen=True, slots=True)
class SpanRow:
    trace_id: str
    span_id: str
    parent_id: str
    service: str
    name: str
    start: datetime
    duration_ms: float
    status: str
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DependencyEdge:
    """Calls from ``caller`` to ``callee``: spans of ``callee`` whose parent is in ``caller``."""

    caller: str
    callee: str
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@runtime_checkable
class TelemetryStore(Protocol):
    """Columnar store for points, events, logs and spans.

    Contract:
    - ``create_schema`` is idempotent and is called once before any other method.
    - ``append`` takes an Arrow table whose schema is ``radiator.core.schema.SCHEMAS[signal]``
      (columns may come in any order; missing nullable columns are filled with nulls) and
      returns the number of rows stored. It stores the whole batch or nothing: a batch that
      does not fit the schema raises ``InvalidInputError`` naming the column, a backend
      failure raises ``StorageError``.
    - ``append_many`` stores several batches and, when given, raises the ingest checkpoint
      (the last write-ahead-log sequence number stored) in one transaction, so replaying the
      log after a crash neither loses nor duplicates rows. ``checkpoint`` returns it (0 when
      nothing was ever checkpointed).
    - ``query_buckets`` returns series ordered by their tags; buckets without data are omitted.
      Series lacking a ``group_by`` tag are grouped under the empty value.
    - ``count`` returns how many rows of a signal fall in a range (all rows when None); spans
      are counted by their start time.
    - ``query_events`` returns at most ``limit`` events, newest first.
    - ``query_logs`` returns at most ``limit`` records, newest first, ordered by ``position``
      (unique and stable), so paging with ``after`` neither skips nor repeats rows.
    - ``log_level_counts`` counts records per ``step`` bucket (aligned to the Unix epoch),
      service and level, oldest bucket first; empty buckets are omitted.
    - ``count_logs`` counts matching records per ``step`` bucket (aligned to the Unix epoch)
      and group, ordered by bucket then groups; empty buckets are omitted. A pattern the
      backend cannot compile raises ``InvalidInputError`` naming ``pattern``.
    - ``query_spans`` returns at most ``limit`` spans, newest start first.
    - ``span_dependencies`` returns caller -> callee edges for spans starting in the range,
      ordered by caller then callee.
    - ``find_series`` lists the catalogue's series named ``name`` (any name when None) whose
      tags equal every ``(tag, value)`` pair (``""`` matching a missing tag) and that have
      points in the range; ordered by name.
    - ``fetch_cells`` returns an Arrow table (sid, series: the sid's position in ``sids``,
      time as epoch microseconds, count, sum, min, max, first, last) in any order, one row
      per rollup bucket (bucket start), recent buckets not yet rolled up computed from
      points; at ``RAW`` (sid, series, time, value), one row per point, preferably in
      storage (time) order, which saves the reader a sort. ``fetch_sketches`` returns
      (sid, series, time, key, count) quantile-sketch entries the same way. Given
      ``windows``, both may leave out cells whose end lies in none of them; given
      ``columns``, ``fetch_cells`` returns only those of the rollup columns.
      ``count_points`` counts the raw points of ``sids`` in the range. A table whose schema
      metadata includes ``ORDERED_BY_SERIES`` is already ordered by series position, then
      time.
    - ``keep_recent`` makes the store hold the last ``hours`` of raw points in memory (at most
      ``max_bytes``) for fast recent reads; it returns at once, loading in the returned
      thread, and reads give the same answers before and after. ``recent_stats`` says what
      it holds (None when it was not asked to).
    - ``coverage`` lists, per service, which metrics, spans, logs and event kinds were ever
      seen, with first and last times (live data and the series catalogue).
    - ``roll_up`` brings the 1-minute and 1-hour rollups up to the last complete bucket
      before ``now`` (including points that arrived late) and returns buckets written.
    - ``close`` releases the backend; the store is unusable afterwards. Callers own the store.
    """

    def create_schema(self) -> None: ...

    def append(self, signal: Signal, batch: pa.Table) -> int: ...

    def append_many(
        self, batches: Sequence[tuple[Signal, pa.Table]], checkpoint: int | None = None
    ) -> int: ...

    def checkpoint(self) -> int: ...

    def query_buckets(self, query: BucketQuery) -> list[Series]: ...

    def count(self, signal: Signal, time_range: TimeRange | None = None) -> int: ...

    def metric_names(self, prefix: str = "", limit: int = 1000) -> list[str]: ...

    def healthy(self) -> bool: ...

    def find_series(
        self, name: str | None, equal: tuple[tuple[str, str], ...], time_range: TimeRange
    ) -> list[MetricSeries]: ...

    def fetch_cells(
        self,
        sids: Sequence[int],
        time_range: TimeRange,
        resolution: Resolution,
        windows: StepWindows | None = None,
        columns: tuple[str, ...] | None = None,
    ) -> pa.Table: ...

    def fetch_sketches(
        self,
        sids: Sequence[int],
        time_range: TimeRange,
        resolution: Resolution,
        windows: StepWindows | None = None,
    ) -> pa.Table: ...

    def count_points(self, sids: Sequence[int], time_range: TimeRange) -> int: ...

    def keep_recent(self, hours: float, max_bytes: int) -> threading.Thread: ...

    def recent_stats(self) -> RecentStats | None: ...

    def tag_names(self, name: str | None, time_range: TimeRange) -> list[str]: ...

    def tag_values(
        self, tag: str, name: str | None, prefix: str, time_range: TimeRange, limit: int
    ) -> list[str]: ...

    def roll_up(self, now: datetime) -> dict[Resolution, int]: ...

    def coverage(self) -> list[CoverageRow]: ...

    def query_events(self, query: EventFilter) -> list[EventRow]: ...

    def query_logs(self, query: LogFilter) -> list[LogRow]: ...

    def log_level_counts(self, time_range: TimeRange, step: timedelta) -> list[LevelCount]: ...

    def count_logs(self, query: LogCountQuery) -> list[LogCount]: ...

    def query_spans(self, query: SpanFilter) -> list[SpanRow]: ...

    def span_dependencies(self, time_range: TimeRange) -> list[DependencyEdge]: ...

    def close(self) -> None: ...
