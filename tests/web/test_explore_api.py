"""The events, logs and traces read API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.core.schema import events_batch, logs_batch, spans_batch
from radiator.core.telemetry import Signal
from radiator.core.types import Event, EventKind, LogLevel, LogRecord, Span, SpanStatus
from radiator.identity import Role, Scope
from radiator.runtime import Runtime

from .support import UserFactory

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RANGE = {"start": "2024-05-01T11:00:00Z", "end": "2024-05-01T13:00:00Z"}


@pytest.fixture
def reader(token_for: Any, make_user: UserFactory) -> dict[str, str]:
    headers: dict[str, str] = token_for(make_user("viewer", Role.VIEWER), Scope.READ)
    return headers


@pytest.fixture
def stored(runtime: Runtime) -> Runtime:
    telemetry = runtime.telemetry
    telemetry.append(
        Signal.EVENTS,
        events_batch(
            [
                Event(EventKind.DEPLOY, "Deploy api", T0, "api", "prod", attributes={"v": 2}),
                Event(EventKind.INCIDENT, "Outage", T0 + timedelta(minutes=1), "api", "prod"),
                Event(EventKind.ALERT, "Noise", T0 + timedelta(minutes=2), "web", "dev"),
            ]
        ),
    )
    logs = [
        LogRecord(T0 + timedelta(seconds=i), "api", level, f"msg {i}", {"user": f"u{i % 2}"})
        for i, level in enumerate([LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR] * 2)
    ]
    telemetry.append(Signal.LOGS, logs_batch(logs))
    spans = [
        Span("t1", "a", "web", "GET /", T0, 100.0),
        Span(
            "t1",
            "b",
            "api",
            "query",
            T0 + timedelta(milliseconds=5),
            40.0,
            "a",
            SpanStatus.ERROR,
            {"db": "main"},
        ),
    ]
    telemetry.append(Signal.SPANS, spans_batch(spans))
    return runtime


def test_every_endpoint_needs_credentials(client: TestClient) -> None:
    for path in ["/events", "/logs", "/logs/levels", "/spans", "/dependencies", "/traces/t1"]:
        assert client.get(f"/api/v1{path}").status_code == 401


def test_events_filter_by_kind_and_text(
    client: TestClient, stored: Runtime, reader: dict[str, str]
) -> None:
    params: dict[str, Any] = {**RANGE, "kind": ["deploy", "incident"]}
    response = client.get("/api/v1/events", params=params, headers=reader)
    assert response.status_code == 200
    body = response.json()
    assert [e["title"] for e in body] == ["Outage", "Deploy api"]
    assert body[1]["time"] == "2024-05-01T12:00:00Z"
    assert body[1]["attributes"] == {"v": 2}
    found = client.get("/api/v1/events", params={**RANGE, "q": "outAGE"}, headers=reader)
    assert [e["title"] for e in found.json()] == ["Outage"]


def test_logs_page_by_cursor(client: TestClient, stored: Runtime, reader: dict[str, str]) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {**RANGE, "limit": 4}
    while True:
        body = client.get("/api/v1/logs", params=params, headers=reader).json()
        seen += [r["message"] for r in body["records"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == [f"msg {i}" for i in reversed(range(6))]


def test_logs_filter_by_min_level_and_attribute(
    client: TestClient, stored: Runtime, reader: dict[str, str]
) -> None:
    params = {**RANGE, "min_level": "WARN", "attr.user": "u1"}
    body = client.get("/api/v1/logs", params=params, headers=reader).json()
    assert [r["message"] for r in body["records"]] == ["msg 5", "msg 1"]
    assert body["records"][0]["attributes"] == {"user": "u1"}


def test_log_level_counts(client: TestClient, stored: Runtime, reader: dict[str, str]) -> None:
    params: dict[str, Any] = {**RANGE, "step": 3600}
    body = client.get("/api/v1/logs/levels", params=params, headers=reader).json()
    assert body == [
        {"time": "2024-05-01T12:00:00Z", "service": "api", "level": level, "count": 2}
        for level in ["ERROR", "INFO", "WARN"]
    ]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/logs", {"start": "2024-05-01T13:00:00Z", "end": "2024-05-01T12:00:00Z"}, "end"),
        ("/logs", {**RANGE, "cursor": "bogus"}, "cursor"),
        ("/logs", {**RANGE, "limit": 1001}, "limit"),
        ("/events", {**RANGE, "limit": 5000}, "limit"),
        ("/spans", {**RANGE, "limit": 0}, "limit"),
        ("/logs/levels", {**RANGE, "step": 1}, "step"),
        ("/spans", {**RANGE, "min_duration_ms": 9, "max_duration_ms": 1}, "max_duration_ms"),
        ("/dependencies", {"start": "not a time"}, "start"),
        ("/events", {"end": "0001-01-01T00:30:00Z"}, "end"),
        ("/spans", {"start": "0001-01-01T00:00:00+05:00"}, "start"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: TestClient, reader: dict[str, str], path: str, params: dict[str, Any], field: str
) -> None:
    response = client.get(f"/api/v1{path}", params=params, headers=reader)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]]


def test_trace_is_assembled(client: TestClient, stored: Runtime, reader: dict[str, str]) -> None:
    body = client.get("/api/v1/traces/t1", headers=reader).json()
    assert [(s["span_id"], s["parent_id"], s["depth"]) for s in body["spans"]] == [
        ("a", None, 0),
        ("b", "a", 1),
    ]
    assert body["spans"][1]["start"] == "2024-05-01T12:00:00.005000Z"


def test_unknown_trace_is_a_404_problem(client: TestClient, reader: dict[str, str]) -> None:
    response = client.get("/api/v1/traces/missing", headers=reader)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_span_search_and_dependencies(
    client: TestClient, stored: Runtime, reader: dict[str, str]
) -> None:
    params = {**RANGE, "status": "error", "attr.db": "main"}
    spans = client.get("/api/v1/spans", params=params, headers=reader).json()
    assert [s["span_id"] for s in spans] == ["b"]
    edges = client.get("/api/v1/dependencies", params=RANGE, headers=reader).json()
    assert edges == [
        {
            "caller": "web",
            "callee": "api",
            "requests": 1,
            "errors": 1,
            "error_rate": 1.0,
            "p50_ms": 40.0,
            "p95_ms": 40.0,
        }
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(), key=st.text(min_size=1), value=st.text())
def test_arbitrary_search_text_never_fails(
    client: TestClient, stored: Runtime, reader: dict[str, str], text: str, key: str, value: str
) -> None:
    for path in ["/events", "/logs", "/spans"]:
        params = {**RANGE, "q": text, f"attr.{key}": value}
        response = client.get(f"/api/v1{path}", params=params, headers=reader)
        assert response.status_code == 200, response.text
        if path == "/logs" and ("%" in text or "_" in text):
            assert response.json()["records"] == []


def test_events_can_include_the_services_depended_on(
    client: TestClient, stored: Runtime, reader: dict[str, str]
) -> None:
    params: dict[str, Any] = {**RANGE, "service": "web", "dependencies": "true"}
    body = client.get("/api/v1/events", params=params, headers=reader).json()
    assert [e["title"] for e in body] == ["Noise", "Outage", "Deploy api"]
