"""The UI pages over HTTP: sessions, escaping of telemetry text, bad filters, the waterfall's
layout, time ranges and the vendored front-end files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from radiator.audit import Outcome
from radiator.core.schema import events_batch, logs_batch, spans_batch
from radiator.core.telemetry import Signal
from radiator.core.types import (
    Event,
    EventKind,
    LogLevel,
    LogRecord,
    Span,
    SpanStatus,
)
from radiator.errors import InvalidInputError
from radiator.query.traces import get_trace
from radiator.runtime import Runtime
from radiator.web.ui.common import parse_moment, parse_range
from radiator.web.ui.logs import parse_attributes
from radiator.web.ui.traces import waterfall

from ..support import audit_records, login

HOSTILE = '<script>window.__pwned=1</script>"><img src=x onerror=alert(1)>'
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def session(client: TestClient, runtime: Runtime, admin: str) -> TestClient:
    login(client, admin, "correct horse battery staple")
    return client


def seed_trace(runtime: Runtime) -> None:
    start = NOW - timedelta(minutes=5)
    spans = [
        Span(TRACE, "a1", "web", "GET /pay", start, 100.0, attributes={"http.route": HOSTILE}),
        Span(TRACE, "b2", "pay", "charge", start + timedelta(milliseconds=10), 50.0, "a1"),
        Span(
            TRACE,
            "c3",
            "bank",
            "POST /charge",
            start + timedelta(milliseconds=20),
            30.0,
            "b2",
            SpanStatus.ERROR,
        ),
        Span(TRACE, "d4", "pay", "audit", start + timedelta(milliseconds=70), 20.0, "a1"),
    ]
    runtime.telemetry.append(Signal.SPANS, spans_batch(spans))
    log = LogRecord(
        start + timedelta(milliseconds=45), "bank", LogLevel.ERROR, HOSTILE, {}, TRACE, "c3"
    )
    runtime.telemetry.append(Signal.LOGS, logs_batch([log]))


@pytest.mark.parametrize("path", ["/explore", "/logs", "/traces", "/events", f"/traces/{TRACE}"])
def test_pages_without_a_session_redirect_to_login_and_back(client: TestClient, path: str) -> None:
    response = client.get(path + "?start=now-6h", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=" + path)


def test_reading_a_page_is_an_audited_decision(session: TestClient, runtime: Runtime) -> None:
    assert session.get("/events").status_code == 200
    records = audit_records(runtime, action="authz.session", target="GET /events")
    assert [(r.actor, r.outcome) for r in records] == [("admin", Outcome.ALLOWED)]


def test_log_lines_are_escaped_and_link_their_trace(session: TestClient, runtime: Runtime) -> None:
    seed_trace(runtime)
    page = session.get("/logs", params={"service": "bank"})
    assert page.status_code == 200
    assert HOSTILE not in page.text
    assert str(escape(HOSTILE)) in page.text
    assert f'href="/traces/{TRACE}"' in page.text
    assert 'class="log-ERROR"' in page.text


def test_the_trace_page_nests_spans_under_parents_and_shows_its_logs(
    session: TestClient, runtime: Runtime
) -> None:
    seed_trace(runtime)
    page = session.get(f"/traces/{TRACE}")
    assert page.status_code == 200
    order = [page.text.index(f'data-span-id="{span}"') for span in ("a1", "b2", "c3", "d4")]
    assert order == sorted(order)
    assert HOSTILE not in page.text
    assert page.text.count('data-testid="trace-log-row"') == 1
    assert "span-bar error" in page.text
    assert session.get("/traces/00000000000000000000000000000000").status_code == 404


def test_the_waterfall_places_spans_by_offset_and_duration(runtime: Runtime) -> None:
    seed_trace(runtime)
    rows, total = waterfall(get_trace(runtime.telemetry, TRACE).spans)
    assert total == pytest.approx(100.0)
    placed = {r.span.span_id: (r.depth, round(r.left, 3), round(r.width, 3)) for r in rows}
    assert placed == {
        "a1": (0, 0.0, 100.0),
        "b2": (1, 10.0, 50.0),
        "c3": (2, 20.0, 30.0),
        "d4": (1, 70.0, 20.0),
    }
    assert [r.span.span_id for r in rows] == ["a1", "b2", "c3", "d4"]


def test_events_are_escaped_and_only_web_links_become_links(
    session: TestClient, runtime: Runtime
) -> None:
    event = Event(
        kind=EventKind.FLAG_CHANGE,
        title=HOSTILE,
        time=NOW - timedelta(minutes=3),
        service="pay",
        actor="ada",
        links=["javascript:alert(1)", "https://flags.example.com/f/1", "/incidents/7"],
    )
    runtime.telemetry.append(Signal.EVENTS, events_batch([event]))
    page = session.get("/events", params=[("kind", "flag_change"), ("start", "now-1h")])
    assert page.status_code == 200
    assert HOSTILE not in page.text
    assert str(escape(HOSTILE)) in page.text
    assert 'href="javascript:' not in page.text
    assert 'href="https://flags.example.com/f/1"' in page.text
    assert 'href="/incidents/7"' in page.text
    none = session.get("/events", params=[("kind", "deploy"), ("start", "now-1h")])
    assert "No events match" in none.text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/logs", {"start": "yesterday"}, "start"),
        ("/logs", {"attr": "no-equals"}, "attr"),
        ("/logs", {"min_level": "LOUD"}, "level"),
        ("/logs", {"cursor": "forged"}, "cursor"),
        ("/traces", {"min_ms": "fast"}, "min_ms"),
        ("/traces", {"status": "sad"}, "status"),
        ("/events", {"start": "now", "end": "now-1h"}, "end"),
    ],
)
def test_bad_filters_get_a_400_page_naming_the_problem(
    session: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    page = session.get(path, params=params)
    assert page.status_code == 400
    assert 'data-testid="page-error"' in page.text
    assert field in page.text.split('data-testid="page-error">')[1].split("</p>")[0]


def test_time_ranges_take_relative_epoch_and_iso_times() -> None:
    now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert parse_moment("now", now, "end") == now
    assert parse_moment("now-15m", now, "start") == now - timedelta(minutes=15)
    assert parse_moment("now - 2d", now, "start") == now - timedelta(days=2)
    assert parse_moment("1795476995", now, "start") == datetime.fromtimestamp(1795476995, UTC)
    assert parse_moment("2026-11-24T05:00:00Z", now, "start") == now - timedelta(hours=1)
    assert parse_moment("2026-11-24 05:00", now, "start") == now - timedelta(hours=1)
    with pytest.raises(InvalidInputError) as error:
        parse_moment("now+1h", now, "end")
    assert error.value.field == "end"
    with pytest.raises(InvalidInputError):
        parse_range("now-500d", "now")
    assert parse_range("", "").start == "now-1h"


def test_attribute_filters_are_space_separated_pairs() -> None:
    assert parse_attributes("host=web-1  route=/pay?x=1") == (
        ("host", "web-1"),
        ("route", "/pay?x=1"),
    )
    assert parse_attributes("") == ()
    with pytest.raises(InvalidInputError):
        parse_attributes("=x")


def test_explore_keeps_its_query_and_range_in_the_page(session: TestClient) -> None:
    page = session.get(
        "/explore", params={"expr": 'rate(x{a="<b>"}[5m])', "start": "now-6h", "end": "now"}
    )
    assert page.status_code == 200
    assert str(escape('rate(x{a="<b>"}[5m])')) in page.text
    assert 'value="now-6h"' in page.text
    assert 'action="/dashboards/add-panel"' in page.text


@pytest.mark.parametrize(
    "path", ["vendor/uPlot.iife.min.js", "vendor/uPlot.min.css", "vendor/htmx.min.js"]
)
def test_the_vendored_front_end_files_are_served(client: TestClient, path: str) -> None:
    # Made by scripts/_setup (npm ci + frontend/vendor.mjs); missing means set-up was skipped.
    response = client.get(f"/static/{path}")
    assert response.status_code == 200, f"run ./scripts/test or ./scripts/demo to build {path}"
    assert len(response.content) > 1000
