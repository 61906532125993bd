"""The dashboards API: CRUD, YAML, one-request panel data with events, kiosk links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from radiator.core.schema import events_batch, logs_batch, points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import Event, EventKind, LogLevel, LogRecord, MetricKind, Point
from radiator.runtime import Runtime

BOARD = {
    "slug": "shop",
    "title": "Shop",
    "time_from": "now-30m",
    "variables": [{"name": "service", "tag": "service"}],
    "panels": [
        {
            "id": "rps",
            "title": "RPS",
            "queries": [{"expr": 'sum by (service) (rate(req{service=~"$service"}[1m]))'}],
        },
        {"id": "bad", "title": "Broken", "x": 6, "queries": [{"expr": "unknown.metric"}]},
        {
            "id": "errors",
            "title": "Errors",
            "type": "logs",
            "y": 4,
            "logs": {"service": "$service", "level": "ERROR"},
        },
    ],
}


def seed(runtime: Runtime) -> datetime:
    now = datetime.now(UTC)
    points = [
        Point("req", 1.0, now - timedelta(seconds=10 * i), {"service": s}, MetricKind.COUNTER)
        for i in range(120)
        for s in ("cart", "search")
    ]
    runtime.telemetry.append(Signal.POINTS, points_batch(points))
    runtime.telemetry.append(
        Signal.LOGS,
        logs_batch([LogRecord(now - timedelta(minutes=1), "cart", LogLevel.ERROR, "<b>boom</b>")]),
    )
    runtime.telemetry.append(
        Signal.EVENTS,
        events_batch(
            [Event(EventKind.DEPLOY, "v2", now - timedelta(minutes=5), service="cart", actor="ana")]
        ),
    )
    return now


def test_crud_export_and_data(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    seed(runtime)
    created = client.post("/api/v1/dashboards", json=BOARD, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    exported = client.get("/api/v1/dashboards/shop/export", headers=admin_headers)
    assert exported.headers["content-type"].startswith("application/yaml")
    assert "slug: shop" in exported.text

    data = client.post(
        "/api/v1/dashboards/shop/data",
        json={"variables": {"service": "cart"}, "width": 300},
        headers=admin_headers,
    ).json()
    [rps] = data["panels"]["rps"]["results"]
    assert [s["labels"] for s in rps["series"]] == [{"service": "cart"}]
    assert data["panels"]["bad"]["results"][0]["series"] == []
    assert [line["message"] for line in data["panels"]["errors"]["logs"]] == ["<b>boom</b>"]
    assert [e["title"] for e in data["events"]] == ["v2"]

    stale = client.put("/api/v1/dashboards/shop?version=7", json=BOARD, headers=admin_headers)
    assert stale.status_code == 409
    assert client.delete("/api/v1/dashboards/shop", headers=admin_headers).status_code == 204


def test_bad_dashboards_name_the_field(client: TestClient, admin_headers: dict[str, str]) -> None:
    bad = {**BOARD, "panels": [{**BOARD["panels"][0], "queries": [{"expr": "sum(rate(x[5m])"}]}]}
    response = client.post("/api/v1/dashboards", json=bad, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "panels[0].queries[0].expr"
    overlap = {**BOARD, "panels": [{**BOARD["panels"][0], "x": 8, "w": 6}]}
    assert client.post("/api/v1/dashboards", json=overlap, headers=admin_headers).status_code == 422


def test_yaml_import_and_add_panel(client: TestClient, admin_headers: dict[str, str]) -> None:
    text = "slug: imported\ntitle: Imported\npanels: []\n"
    response = client.post(
        "/api/v1/dashboard-imports",
        content=text,
        headers={**admin_headers, "Content-Type": "application/yaml"},
    )
    assert response.status_code == 201, response.text
    added = client.post(
        "/api/v1/dashboards/imported/panels",
        json={"title": "Latency", "expr": "p99(http.server.latency_ms)"},
        headers=admin_headers,
    )
    assert [p["id"] for p in added.json()["panels"]] == ["latency"]


def test_kiosk_link_reads_only_its_dashboards_until_revoked(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    seed(runtime)
    client.post("/api/v1/dashboards", json=BOARD, headers=admin_headers)
    made = client.post(
        "/api/v1/kiosk-links", json={"name": "Lobby", "dashboards": ["shop"]}, headers=admin_headers
    ).json()
    secret = made["secret"]
    data = client.post(f"/api/v1/kiosk/{secret}/dashboards/shop/data", json={})
    assert data.status_code == 200
    assert data.json()["panels"]["rps"]["results"][0]["series"]
    other = client.post(f"/api/v1/kiosk/{secret}/dashboards/radiator-health/data", json={})
    assert other.status_code == 404
    client.delete(f"/api/v1/kiosk-links/{made['link']['id']}", headers=admin_headers)
    assert client.post(f"/api/v1/kiosk/{secret}/dashboards/shop/data", json={}).status_code == 404


def test_reading_dashboards_needs_credentials(client: TestClient) -> None:
    assert client.get("/api/v1/dashboards").status_code == 401
