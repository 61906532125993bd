"""Trace assembly, span search and dependency edges over the telemetry store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from radiator.core.schema import spans_batch
from radiator.core.telemetry import Signal, SpanFilter
from radiator.core.types import Span, SpanStatus, TimeRange
from radiator.errors import InvalidInputError, NotFoundError
from radiator.query.traces import dependencies, get_trace, search_spans
from radiator.runtime import Runtime

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)
WIDE = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=1))
ERROR = SpanStatus.ERROR


def span(
    span_id: str,
    service: str,
    at_ms: int,
    duration: float,
    parent: str = "",
    status: SpanStatus = SpanStatus.OK,
    trace: str = "t1",
    **attrs: str,
) -> Span:
    return Span(
        trace,
        span_id,
        service,
        f"{service}-op",
        T0 + at_ms * MS,
        duration,
        parent,
        status,
        dict(attrs),
    )


@pytest.fixture
def stored(runtime: Runtime) -> Runtime:
    spans = [
        span("c", "db", 20, 5, parent="b"),
        span("a", "web", 0, 100, route="/checkout"),
        span("b", "api", 10, 50, parent="a"),
        span("d", "api", 30, 10, parent="b"),
        span("e", "db", 40, 30, parent="d", status=ERROR),
        span("x", "web", 500, 10, trace="t2"),
        span("y", "api", 510, 20, parent="x", trace="t2", status=ERROR),
    ]
    runtime.telemetry.append(Signal.SPANS, spans_batch(spans))
    return runtime


def test_trace_spans_come_ordered_by_start_with_depth(stored: Runtime) -> None:
    trace = get_trace(stored.telemetry, "t1")
    got = [(s.span.span_id, s.span.parent_id, s.depth) for s in trace.spans]
    assert got == [("a", "", 0), ("b", "a", 1), ("c", "b", 2), ("d", "b", 2), ("e", "d", 3)]
    assert not trace.truncated


def test_span_whose_parent_is_missing_is_a_root(runtime: Runtime) -> None:
    runtime.telemetry.append(Signal.SPANS, spans_batch([span("o", "api", 0, 1, parent="gone")]))
    assert [s.depth for s in get_trace(runtime.telemetry, "t1").spans] == [0]


def test_unknown_trace_is_not_found(stored: Runtime) -> None:
    with pytest.raises(NotFoundError):
        get_trace(stored.telemetry, "nope")


def ids(runtime: Runtime, **kwargs: object) -> list[str]:
    query = SpanFilter(**{"range": WIDE, **kwargs})  # type: ignore[arg-type]
    return [s.span_id for s in search_spans(runtime.telemetry, query)]


def test_span_search_is_newest_first(stored: Runtime) -> None:
    assert ids(stored) == ["y", "x", "e", "d", "c", "b", "a"]
    assert ids(stored, limit=2) == ["y", "x"]


def test_span_search_filters(stored: Runtime) -> None:
    assert ids(stored, services=("db",)) == ["e", "c"]
    assert ids(stored, name="api-op") == ["y", "d", "b"]
    assert ids(stored, status="error") == ["y", "e"]
    assert ids(stored, min_duration_ms=20, max_duration_ms=50) == ["y", "e", "b"]
    assert ids(stored, attributes=(("route", "/checkout"),)) == ["a"]
    assert ids(stored, range=TimeRange(T0 + 20 * MS, T0 + 40 * MS)) == ["d", "c"]


def test_crossed_duration_bounds_are_refused(stored: Runtime) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ids(stored, min_duration_ms=5, max_duration_ms=1)
    assert caught.value.field == "max_duration_ms"


def test_dependency_edges_count_calls_errors_and_latency(stored: Runtime) -> None:
    edges = {(e.caller, e.callee): e for e in dependencies(stored.telemetry, WIDE)}
    assert set(edges) == {("api", "db"), ("web", "api")}
    db = edges["api", "db"]
    assert (db.requests, db.errors, db.error_rate) == (2, 1, 0.5)
    assert db.p50_ms == pytest.approx(17.5)
    assert db.p95_ms == pytest.approx(28.75)
    web = edges["web", "api"]
    assert (web.requests, web.errors) == (2, 1)


def test_dependency_edges_respect_the_time_range(stored: Runtime) -> None:
    late = TimeRange(T0 + 400 * MS, T0 + timedelta(seconds=1))
    edges = dependencies(stored.telemetry, late)
    assert [(e.caller, e.callee, e.requests) for e in edges] == [("web", "api", 1)]
