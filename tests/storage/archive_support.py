"""Shared helpers of the archive and retention tests: a movable clock, data, a read snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from radiator.config import Settings
from radiator.core.schema import events_batch, logs_batch, points_batch, spans_batch
from radiator.core.telemetry import (
    Aggregation,
    BucketQuery,
    EventFilter,
    LogCountQuery,
    LogFilter,
    LogRow,
    Signal,
    SpanFilter,
)
from radiator.core.types import (
    Event,
    EventKind,
    LogLevel,
    LogRecord,
    Point,
    Span,
    SpanStatus,
    TimeRange,
)
from radiator.storage.telemetry import DuckDBTelemetryStore, open_telemetry_store

NOW = datetime(2024, 6, 20, 12, 0, tzinfo=UTC)
DAYS = 20  # days of history written by ``fill``
ALL = TimeRange(NOW - timedelta(days=DAYS + 1), NOW + timedelta(days=1))
LOG_LIMIT = 10_000


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "telemetry_path": str(tmp_path / "data" / "telemetry.duckdb"),
        "session_cookie_secure": False,
    }
    values.update(overrides)
    return Settings(**values)


def fill(store: DuckDBTelemetryStore, now: datetime = NOW, days: int = DAYS) -> None:
    """Points, logs, spans and events every 4 hours for ``days`` days before ``now``."""
    points, logs, spans, events = [], [], [], []
    for i in range(days * 6):
        at = now - timedelta(hours=4 * i, minutes=7)
        service = ("api", "web")[i % 2]
        points.append(Point("cpu", float(i % 17), at, {"host": f"h{i % 3}"}))
        logs.append(
            LogRecord(
                at,
                service,
                (LogLevel.INFO, LogLevel.ERROR)[i % 2],
                f"message {i}",
                {"n": i},
                f"t{i}",
                "s1",
            )
        )
        # Two logs at the same instant, so paging must order ties the same way.
        logs.append(LogRecord(at, service, LogLevel.WARN, f"twin {i}", {}, "", ""))
        spans.append(Span(f"t{i}", "s1", "web", "GET /", at, 12.0 + i % 5, status=SpanStatus.OK))
        spans.append(
            Span(f"t{i}", "s2", "api", "query", at, 3.0 + i % 7, "s1", SpanStatus.ERROR, {"i": i})
        )
        if i % 6 == 0:
            events.append(Event(EventKind.DEPLOY, f"deploy {i}", at, "api", "prod", "ci", {"i": i}))
    store.append(Signal.POINTS, points_batch(points))
    store.append(Signal.LOGS, logs_batch(logs))
    store.append(Signal.SPANS, spans_batch(spans))
    store.append(Signal.EVENTS, events_batch(events))
    store.roll_up(now)  # as the rollup job does; raw points wait for their rollups


def live_count(store: DuckDBTelemetryStore, table: str) -> int:
    with store._cursor() as cursor:
        row = cursor.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def all_logs(store: DuckDBTelemetryStore, page: int) -> list[Any]:
    """Every log in ALL, read ``page`` rows at a time with the paging cursor."""
    rows: list[Any] = []
    after = None
    while True:
        batch = store.query_logs(LogFilter(range=ALL, limit=page, after=after))
        rows.extend(batch)
        if len(batch) < page:
            return rows
        after = batch[-1].position


def snapshot(store: DuckDBTelemetryStore) -> dict[str, Any]:
    """Everything the read API answers over the whole history."""
    return {
        "logs": [_log(r) for r in all_logs(store, 7)],
        "log_levels": store.log_level_counts(ALL, timedelta(days=1)),
        "spans": store.query_spans(SpanFilter(range=ALL, limit=LOG_LIMIT)),
        "trace": store.query_spans(SpanFilter(trace_id="t100", limit=10)),
        "deps": store.span_dependencies(ALL),
        "events": store.query_events(EventFilter(range=ALL, limit=LOG_LIMIT)),
        "buckets": store.query_buckets(
            BucketQuery(
                "cpu", ALL, timedelta(hours=6), aggregation=Aggregation.SUM, group_by=("host",)
            )
        ),
        "counts": {s: store.count(s, ALL) for s in Signal},
        "count_all": {s: store.count(s) for s in Signal},
        "error_logs": [
            _log(r)
            for r in store.query_logs(
                LogFilter(range=ALL, levels=("ERROR",), text="message 1", limit=LOG_LIMIT)
            )
        ],
        "log_counts": store.count_logs(
            LogCountQuery(ALL, timedelta(days=1), levels=("ERROR",), group_by=("service",))
        ),
    }


def _log(row: LogRow) -> tuple[Any, ...]:
    # Everything but ``position``: archived rows get other (still unique) row ids.
    return (row.time, row.service, row.level, row.message, row.attributes, row.trace_id)


def open_store(settings: Settings) -> DuckDBTelemetryStore:
    """The file store of ``settings``, reading the archive of ``settings``."""
    store = open_telemetry_store(
        "duckdb", settings.resolved_telemetry_path, archive_dir=settings.resolved_archive_dir
    )
    assert isinstance(store, DuckDBTelemetryStore)
    return store
