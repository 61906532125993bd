"""Telemetry coverage: levels by tag or name, since-when, gaps; read from a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from radiator.core.schema import events_batch, logs_batch, points_batch
from radiator.core.telemetry import CoverageRow, Signal
from radiator.core.types import Event, EventKind, LogLevel, LogRecord, MetricKind, Point
from radiator.query.coverage import coverage_matrix, level_of
from radiator.storage.telemetry import open_telemetry_store

NOW = datetime.now(UTC)


def row(source: str, name: str, level: str = "") -> CoverageRow:
    return CoverageRow(source, name, "svc", level, NOW, NOW)


def test_levels_follow_the_tag_then_the_name() -> None:
    assert level_of(row("metric", "browser.page_views")) == "client"
    assert level_of(row("metric", "system.cpu.percent")) == "infrastructure"
    assert level_of(row("metric", "http.server.requests")) == "application"
    assert level_of(row("metric", "checkout.completed")) == "business"
    assert level_of(row("metric", "http.server.requests", level="business")) == "business"
    assert level_of(row("spans", "")) == "application"
    assert level_of(row("event", "deploy")) == "pipeline"
    assert level_of(row("event", "incident")) is None
    assert level_of(row("metric", "radiator.ingest.accepted")) is None


def test_the_matrix_from_a_store_shows_since_when_and_gaps() -> None:
    store = open_telemetry_store("duckdb", ":memory:")
    try:
        day_ago, now = NOW - timedelta(days=1), NOW - timedelta(minutes=1)
        store.append(Signal.POINTS, points_batch([
            Point("signups", 1, day_ago, {"service": "web"}, MetricKind.COUNTER),
            Point("signups", 1, now, {"service": "web"}, MetricKind.COUNTER),
            Point("system.cpu", 3, day_ago, {"service": "db"}),
        ]))  # fmt: skip
        store.append(Signal.LOGS, logs_batch([LogRecord(now, "web", LogLevel.INFO, "hi")]))
        store.append(
            Signal.EVENTS, events_batch([Event(EventKind.DEPLOY, "v1", day_ago, service="web")])
        )
        matrix = {c.service: c for c in coverage_matrix(["web", "db", "idle"], store.coverage())}
    finally:
        store.close()
    web = matrix["web"]
    assert web.cells["business"].state(NOW) == "reporting"
    assert abs(web.cells["business"].first - day_ago) < timedelta(milliseconds=1)  # type: ignore[operator]
    assert web.cells["pipeline"].state(NOW) == "reporting"  # deploys count for 7 days
    assert web.gaps(NOW) == ["infrastructure", "client"]
    assert matrix["db"].cells["infrastructure"].state(NOW) == "stale"
    assert matrix["idle"].gaps(NOW) == [
        "business",
        "application",
        "infrastructure",
        "client",
        "pipeline",
    ]
