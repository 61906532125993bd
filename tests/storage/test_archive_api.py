"""The archive over HTTP: /api/v1/archive (list), /archive/run, /archive/restore (admin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from archive_support import fill
from fastapi.testclient import TestClient

from radiator.audit import AuditQuery, Outcome
from radiator.core.caller import SYSTEM
from radiator.identity import ApiTokenCreate, Role, Scope, UserCreate
from radiator.runtime import Runtime


def _logs(client: TestClient, headers: dict[str, str], start: datetime, end: datetime) -> list:
    params: dict[str, str | int] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "limit": 1000,
    }
    response = client.get("/api/v1/logs", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["records"] if isinstance(body, dict) else body


def test_run_list_and_restore_over_http_keep_logs_readable(
    client: TestClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    fill(runtime.telemetry, now=now)  # type: ignore[arg-type]
    start, end = now - timedelta(days=25), now + timedelta(minutes=1)
    before = _logs(client, admin_headers, start, end)

    run = client.post("/api/v1/archive/run", headers=admin_headers)

    assert run.status_code == 200, run.text
    report = run.json()
    assert report["errors"] == [] and report["held"] == []
    archived = {(p["table"], p["date"]) for p in report["archived"]}
    assert {t for t, _ in archived} == {"points", "logs", "spans"}
    listing = client.get("/api/v1/archive", params={"table": "logs"}, headers=admin_headers)
    assert listing.status_code == 200
    days = [p["date"] for p in listing.json()]
    assert days == sorted(d for t, d in archived if t == "logs")
    assert _logs(client, admin_headers, start, end) == before

    body = {"table": "logs", "from": days[0], "to": days[-1]}
    restored = client.post("/api/v1/archive/restore", json=body, headers=admin_headers)
    assert restored.status_code == 200, restored.text
    assert all(day["rows"] > 0 for day in restored.json())
    again = client.post("/api/v1/archive/restore", json=body, headers=admin_headers)
    assert [day["rows"] for day in again.json()] == [0] * len(days)
    assert _logs(client, admin_headers, start, end) == before

    actions = [r.action for r in runtime.audit.search(AuditQuery(action="archive.", limit=10))]
    assert sorted(actions) == ["archive.restore", "archive.restore", "archive.run"]
    (record,) = runtime.audit.search(AuditQuery(action="archive.run", limit=10))
    assert record.outcome is Outcome.SUCCESS and record.detail["rows"] > 0


def test_archive_routes_are_admin_only(
    client: TestClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    runtime.identity.create_user(
        UserCreate(username="ed", password="correct horse battery", role=Role.EDITOR)
    )
    token = runtime.identity.create_token(
        "ed", ApiTokenCreate(name="t", scopes=[Scope.READ, Scope.WRITE]), SYSTEM
    )
    editor = {"Authorization": f"Bearer {token.secret}"}
    assert client.get("/api/v1/archive", headers=editor).status_code == 403
    assert client.post("/api/v1/archive/run", headers=editor).status_code == 403
    assert client.post("/api/v1/archive/run").status_code == 401


def test_restore_says_what_is_wrong(client: TestClient, admin_headers: dict[str, str]) -> None:
    missing = client.post(
        "/api/v1/archive/restore",
        json={"table": "logs", "from": "2024-01-01"},
        headers=admin_headers,
    )
    assert missing.status_code == 404
    unknown = client.post(
        "/api/v1/archive/restore",
        json={"table": "users", "from": "2024-01-01"},
        headers=admin_headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "table"
    backwards = client.post(
        "/api/v1/archive/restore",
        json={"table": "logs", "from": "2024-01-02", "to": "2024-01-01"},
        headers=admin_headers,
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "to"
