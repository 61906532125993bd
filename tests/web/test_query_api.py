"""The metric query HTTP API: POST /api/v1/query and the discovery endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind, Point
from radiator.identity import Scope
from radiator.runtime import Runtime
from radiator.web import create_app

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RANGE = {"start": "2026-11-01T00:10:00Z", "end": "2026-11-01T00:20:00Z", "step": "1m"}
URL = "/api/v1/query"


def _points(base: datetime) -> list[Point]:
    points = []
    for i in range(180):
        t = base + timedelta(seconds=10 * i)
        for service in ("checkout", "search"):
            points.append(
                Point(
                    "http.requests",
                    1.0,
                    t,
                    {"service": service, "status": "200"},
                    MetricKind.COUNTER,
                )
            )
        points.append(Point("queue.depth", float(i % 10), t, {"queue": "mail"}, MetricKind.GAUGE))
    return points


@pytest.fixture
def stored(runtime: Runtime) -> Runtime:
    runtime.telemetry.append(Signal.POINTS, points_batch(_points(T0)))
    return runtime


def _post(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post(URL, json=body, headers=headers)


def test_range_query_returns_series_on_the_step_grid(
    client: TestClient, admin_headers: dict[str, str], stored: Runtime
) -> None:
    response = _post(
        client, admin_headers, expr="sum by (service) (rate(http.requests[5m]))", **RANGE
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["step"] == 60.0
    assert body["start"] == T0.timestamp() + 600
    assert body["end"] == T0.timestamp() + 1200
    [result] = body["results"]
    assert result["id"] == "A" and result["type"] == "matrix" and result["error"] is None
    assert len(result["times"]) == 11
    labels = sorted(s["labels"]["service"] for s in result["series"])
    assert labels == ["checkout", "search"]
    for series in result["series"]:
        assert series["values"] == [pytest.approx(0.1)] * 11


def test_instant_query_returns_one_value_per_series(
    client: TestClient, admin_headers: dict[str, str], stored: Runtime
) -> None:
    response = _post(
        client, admin_headers, expr="queue.depth", end="2026-11-01T00:05:05Z", instant=True
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["step"] is None
    [result] = body["results"]
    assert result["type"] == "vector"
    assert result["time"] == T0.timestamp() + 305
    assert result["series"] == [
        {
            "labels": {"__name__": "queue.depth", "queue": "mail"},
            "value": 0.0,
            "values": None,
            "times": None,
        }
    ]
    scalar = _post(client, admin_headers, expr="1 / 0", end="2026-11-01T00:05:05Z", instant=True)
    assert scalar.json()["results"][0]["type"] == "scalar"
    assert scalar.json()["results"][0]["value"] is None  # JSON has no infinity


def test_a_bad_single_expression_is_a_400_problem_with_its_position(
    client: TestClient, admin_headers: dict[str, str], stored: Runtime
) -> None:
    response = _post(client, admin_headers, expr="sum(rate(x[5m])\n  + )", **RANGE)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "invalid_query"
    assert problem["status"] == 400
    error = problem["errors"][0]
    assert error["field"] == "query"
    assert (error["position"], error["line"], error["column"]) == (20, 2, 5)
    assert "line 2, column 5" in problem["detail"]


def test_evaluation_errors_and_limits_are_400(
    client: TestClient, admin_headers: dict[str, str], stored: Runtime
) -> None:
    graph = _post(client, admin_headers, expr="queue.depth[5m]", **RANGE)
    assert graph.status_code == 400
    assert graph.json()["code"] == "query_evaluation"
    too_many = _post(
        client,
        admin_headers,
        expr="queue.depth",
        start="2026-11-01T00:00:00Z",
        end="2026-11-02T00:00:00Z",
        step="1s",
    )
    assert too_many.status_code == 400
    problem = too_many.json()
    assert problem["code"] == "query_too_large"
    assert "86401 points per series" in problem["detail"]
    assert "larger step" in problem["detail"]
    assert problem["errors"][0]["field"] == "step"


def test_multi_query_reports_errors_per_result(
    client: TestClient, admin_headers: dict[str, str], stored: Runtime
) -> None:
    queries = [
        {"id": "ok", "expr": "sum(increase(http.requests[1m]))"},
        {"id": "bad", "expr": "sum(http.requests"},
        {"id": "graph", "expr": "queue.depth[1m]"},
        {"id": "none", "expr": "no.such.metric"},
    ]
    response = _post(client, admin_headers, queries=queries, **RANGE)
    assert response.status_code == 200, response.text
    results = {r["id"]: r for r in response.json()["results"]}
    assert list(results) == ["ok", "bad", "graph", "none"]
    assert results["ok"]["series"][0]["values"] == [12.0] * 11
    bad = results["bad"]
    assert bad["type"] == "error"
    assert bad["error"]["code"] == "invalid_query"
    assert (bad["error"]["line"], bad["error"]["column"]) == (1, 18)
    assert results["graph"]["error"]["code"] == "query_evaluation"
    assert results["none"]["type"] == "matrix" and results["none"]["series"] == []


def test_unknown_metric_is_an_empty_result(
    client: TestClient, admin_headers: dict[str, str], stored: Runtime
) -> None:
    response = _post(client, admin_headers, expr="rate(nothing.here[5m])", **RANGE)
    assert response.status_code == 200
    assert response.json()["results"][0]["series"] == []


INVALID = [
    ({"expr": "x", "queries": [{"id": "A", "expr": "x"}]}, "body"),
    ({}, "body"),
    ({"queries": [{"id": "A", "expr": "x"}, {"id": "A", "expr": "y"}]}, "body"),
    ({"expr": "x", "start": "yesterday"}, "start"),
    ({"expr": "x", "step": "5x"}, "step"),
    ({"expr": "x", "start": "2026-11-01T01:00:00Z", "end": "2026-11-01T00:00:00Z"}, "end"),
    ({"expr": ""}, "body.expr"),
    ({"expr": "x", "width": 0}, "body.width"),
    ({"queries": [{"id": str(i), "expr": "x"} for i in range(51)]}, "body.queries"),
]


def test_invalid_requests_are_422_naming_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for body, field in INVALID:
        response = client.post(URL, json=body, headers=admin_headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"].startswith(field), (body, response.text)


def test_auth_is_required(client: TestClient, token_for: Any, admin: str, stored: Runtime) -> None:
    body = {"expr": "queue.depth", **RANGE}
    assert client.post(URL, json=body).status_code == 401
    assert client.get("/api/v1/metric-names").status_code == 401
    assert client.get("/api/v1/tag-names").status_code == 401
    assert client.get("/api/v1/tag-values/service").status_code == 401
    ingest_only = token_for(admin, Scope.INGEST)
    assert client.post(URL, json=body, headers=ingest_only).status_code == 403
    assert client.get("/api/v1/metric-names", headers=ingest_only).status_code == 403
    reader = token_for(admin, Scope.READ)
    assert client.post(URL, json=body, headers=reader).status_code == 200


def test_discovery_endpoints(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    recent = datetime.now(UTC) - timedelta(hours=2)
    runtime.telemetry.append(Signal.POINTS, points_batch(_points(recent)))
    old = [Point("old.metric", 1.0, recent - timedelta(days=3), {"zone": "z1"})]
    runtime.telemetry.append(Signal.POINTS, points_batch(old))

    def get(path: str, **params: Any) -> list[str]:
        response = client.get(f"/api/v1/{path}", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        data: list[str] = response.json()["data"]
        return data

    assert get("metric-names") == ["http.requests", "old.metric", "queue.depth"]
    assert get("metric-names", prefix="q") == ["queue.depth"]
    assert get("metric-names", limit=1) == ["http.requests"]
    assert get("tag-names") == ["queue", "service", "status"]
    assert get("tag-names", metric="http.requests") == ["service", "status"]
    assert get("tag-names", hours=24 * 5) == ["queue", "service", "status", "zone"]
    assert get("tag-values/service") == ["checkout", "search"]
    assert get("tag-values/service", prefix="s") == ["search"]
    assert get("tag-values/service", metric="queue.depth") == []
    assert get("tag-values/service", limit=1) == ["checkout"]
    assert get("tag-values/zone") == []
    assert get("tag-values/zone", hours=24 * 5) == ["z1"]
    bad = client.get("/api/v1/tag-names", params={"hours": 0}, headers=admin_headers)
    assert bad.status_code == 422


@pytest.fixture
def slow_client(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    settings = make_settings(tmp_path, query_timeout_seconds=1e-9)
    runtime = Runtime(settings)
    with TestClient(create_app(settings, runtime=runtime, run_jobs=False)) as test_client:
        yield test_client, runtime
    runtime.close()


def test_a_query_over_the_time_limit_is_a_503(
    slow_client: tuple[TestClient, Runtime], token_for: Any
) -> None:
    client, runtime = slow_client
    from radiator.core.caller import SYSTEM
    from radiator.identity import ApiTokenCreate, Role, UserCreate

    runtime.identity.create_user(UserCreate(username="slow", password="x" * 16, role=Role.ADMIN))
    token = runtime.identity.create_token(
        "slow", ApiTokenCreate(name="t", scopes=[Scope.READ]), SYSTEM
    )
    headers = {"Authorization": f"Bearer {token.secret}"}
    runtime.telemetry.append(Signal.POINTS, points_batch(_points(T0)))
    response = client.post(URL, json={"expr": "sum(queue.depth)", **RANGE}, headers=headers)
    assert response.status_code == 503
    assert response.json()["code"] == "query_timeout"
    assert "query_timeout_seconds" in response.json()["detail"]
    multi = client.post(
        URL, json={"queries": [{"id": "A", "expr": "sum(queue.depth)"}], **RANGE}, headers=headers
    )
    assert multi.status_code == 200
    assert multi.json()["results"][0]["error"]["code"] == "query_timeout"


def test_instant_range_selector_and_default_range(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    runtime.telemetry.append(Signal.POINTS, points_batch(_points(recent)))
    raw = _post(
        client,
        admin_headers,
        expr='queue.depth{queue="mail"}[30s]',
        end=(recent + timedelta(seconds=100)).isoformat(),
        instant=True,
    )
    assert raw.status_code == 200, raw.text
    [result] = raw.json()["results"]
    assert result["type"] == "matrix"
    [series] = result["series"]
    assert series["times"] == [(recent + timedelta(seconds=s)).timestamp() for s in (80, 90, 100)]
    assert series["values"] == [8.0, 9.0, 0.0]
    # No start/end: the last hour; no step: 3600 s over 1000 px -> 5 s.
    default = _post(client, admin_headers, expr="sum(queue.depth)")
    body = default.json()
    assert default.status_code == 200, default.text
    assert body["step"] == 5.0
    assert 3595 <= body["end"] - body["start"] <= 3610
    assert abs(body["end"] - datetime.now(UTC).timestamp()) < 600
    values = body["results"][0]["series"][0]["values"]
    assert len(values) == len(body["results"][0]["times"])
    assert any(v is not None for v in values)
    wide = _post(client, admin_headers, expr="sum(queue.depth)", start="now-6h", width=360)
    assert wide.json()["step"] == 60.0


def test_every_answer_has_the_documented_shape_and_no_infinities(
    client: TestClient, admin_headers: dict[str, str], stored: Runtime
) -> None:
    """The handler encodes its answer itself (not through the response model): every
    kind of result must still be a valid ``QueryResponse``, with ±Inf as null."""
    from radiator.web.routers.query import QueryResponse

    queries = [
        {"id": "matrix", "expr": "(queue.depth + 1) / (queue.depth - queue.depth)"},  # +Inf
        {"id": "scalar", "expr": "1 / 0"},
        {"id": "error", "expr": "sum(rate(http.requests))"},
        {"id": "empty", "expr": "no.such.metric"},
    ]
    for instant in (False, True):
        response = _post(client, admin_headers, queries=queries, instant=instant, **RANGE)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        parsed = QueryResponse.model_validate(body)
        assert body == parsed.model_dump(mode="json")  # no field missing or extra
        matrix, scalar, error, empty = parsed.results
        values = [v for s in matrix.series for v in (s.values or [s.value])]
        assert values and all(v is None for v in values)  # JSON has no infinity
        # A scalar is one (instant) or a series of them (range, as Prometheus draws it).
        numbers = [scalar.value] + [v for s in scalar.series for v in (s.values or [])]
        assert len(numbers) > 1 if not instant else scalar.type == "scalar"
        assert all(v is None for v in numbers)
        assert error.type == "error" and error.error is not None and error.error.column
        assert empty.series == [] and empty.error is None
