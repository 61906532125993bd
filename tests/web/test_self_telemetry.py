"""Radiator watches itself: request counts and latencies per route template become metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from radiator.catalog import ServiceCreate
from radiator.core.schema import points_batch
from radiator.core.telemetry import Aggregation, BucketQuery, Series, Signal
from radiator.core.types import Point, TimeRange
from radiator.ingest.selfmetrics import LATENCY, REQUESTS
from radiator.jobs import Job, Scheduler
from radiator.runtime import Runtime

SERVICE_ROUTE = "/api/v1/services/{name}"


def run_self_telemetry(app: FastAPI) -> None:
    """Run the self-telemetry job, then flush the ingest pipeline it writes through."""
    app.state.scheduler.run_once(self_telemetry_job(app))
    app.state.runtime.ingest.flush()


def self_telemetry_job(app: FastAPI) -> Job:
    scheduler: Scheduler = app.state.scheduler
    (job,) = [job for job in scheduler.jobs if job.name == "self-telemetry"]
    return job


def totals(
    runtime: Runtime, name: str, group_by: tuple[str, ...], **tags: str
) -> dict[tuple[str, ...], float]:
    """Sum of ``name`` around now, per value of the ``group_by`` tags."""
    now = datetime.now(UTC)
    series: list[Series] = runtime.telemetry.query_buckets(
        BucketQuery(
            name=name,
            range=TimeRange(now - timedelta(minutes=10), now + timedelta(minutes=1)),
            step=timedelta(minutes=15),
            aggregation=Aggregation.SUM,
            tags=tags,
            group_by=group_by,
        )
    )
    return {tuple(s.tags.get(key, "") for key in group_by): sum(s.values) for s in series}


def test_requests_are_buffered_per_route_template_until_drained(
    app: FastAPI, client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.get("/api/v1/teams/payments", headers=admin_headers)
    client.get("/api/v1/teams/search", headers=admin_headers)

    points = app.state.self_metrics.drain(datetime.now(UTC))
    counts = [(p.tags, p.value) for p in points if p.name == REQUESTS]
    assert counts == [({"route": "/api/v1/teams/{name}", "method": "GET", "status": "4xx"}, 2)]
    assert {p.name for p in points} >= {f"{LATENCY}.p50", f"{LATENCY}.max"}
    assert app.state.self_metrics.drain(datetime.now(UTC)) == []


def test_flushing_writes_request_counts_per_route_template(
    app: FastAPI, client: TestClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    runtime.catalog.create_service(ServiceCreate(name="checkout"))
    for name in ("checkout", "checkout", "search"):
        client.get(f"/api/v1/services/{name}", headers=admin_headers)
    client.get("/api/v1/services/checkout")  # no credentials: 401

    run_self_telemetry(app)

    by_status = totals(runtime, REQUESTS, ("method", "status"), route=SERVICE_ROUTE)
    assert by_status == {("GET", "2xx"): 2, ("GET", "4xx"): 2}
    routes = totals(runtime, REQUESTS, ("route",))
    assert not any("checkout" in route or "search" in route for (route,) in routes)


def test_flushing_writes_latency_summaries_per_route(
    app: FastAPI, client: TestClient, runtime: Runtime
) -> None:
    for _ in range(3):
        client.get("/healthz")
    run_self_telemetry(app)

    for stat in ("avg", "p50", "p95", "p99", "max"):
        latency = totals(runtime, f"{LATENCY}.{stat}", ("route", "method"))
        assert ("/healthz", "GET") in latency, stat
        assert latency[("/healthz", "GET")] >= 0
    assert self_telemetry_job(app).stats.failures == 0


def test_unknown_urls_are_counted_under_one_unmatched_route(
    app: FastAPI, client: TestClient, runtime: Runtime
) -> None:
    for i in range(5):
        client.get(f"/no/such/page/{i}")
    run_self_telemetry(app)

    routes = totals(runtime, REQUESTS, ("route", "status"))
    assert routes[("unmatched", "4xx")] == 5
    assert not any(route.startswith("/no/") for route, _ in routes)


def test_refused_and_oversized_requests_are_counted_too(
    app: FastAPI, client: TestClient, runtime: Runtime
) -> None:
    too_big = b"x" * (runtime.settings.max_body_bytes + 1)
    client.post("/api/v1/teams", content=too_big, headers={"Content-Type": "application/json"})
    run_self_telemetry(app)
    assert totals(runtime, REQUESTS, ("status",)) == {("4xx",): 1}


def test_draining_empties_the_buffer(app: FastAPI, client: TestClient, runtime: Runtime) -> None:
    client.get("/healthz")
    run_self_telemetry(app)
    run_self_telemetry(app)  # nothing new: the count is not written twice
    assert totals(runtime, REQUESTS, ("route",)) == {("/healthz",): 1}


def test_graceful_shutdown_flushes_buffered_self_metrics(
    app: FastAPI, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    with TestClient(app) as client:
        client.get("/api/v1/teams", headers=admin_headers)
        client.get("/api/v1/teams", headers=admin_headers)
        assert totals(runtime, REQUESTS, ("route",)) == {}
    # Leaving the client ran the app's shutdown, which flushes what was still buffered.
    assert totals(runtime, REQUESTS, ("route", "status")) == {("/api/v1/teams", "2xx"): 2}


def test_recent_points_held_in_memory_are_reported(
    app: FastAPI, client: TestClient, runtime: Runtime
) -> None:
    """Operators see what the server holds of recent points: readiness, series, points,
    bytes and how far back (``radiator.recent.*``)."""
    client_points = [
        Point("cpu", float(i), datetime.now(UTC) - timedelta(minutes=i), {"host": "a"})
        for i in range(5)
    ]
    runtime.telemetry.append(Signal.POINTS, points_batch(client_points))
    runtime.telemetry.keep_recent(1, 10_000_000).join()
    run_self_telemetry(app)

    names = set(runtime.telemetry.metric_names("radiator.recent."))
    wanted = {f"radiator.recent.{n}" for n in ("ready", "series", "points", "bytes", "seconds")}
    assert wanted <= names
    held = totals(runtime, "radiator.recent.points", ())
    assert held == {(): 5.0}
    assert totals(runtime, "radiator.recent.ready", ()) == {(): 1.0}
