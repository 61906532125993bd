"""The alerting API and the Alerts page: rules, backtests, alerts, silences, maintenance
windows and the reports; bad input is refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from radiator.alerts import AlertRuleCreate
from radiator.catalog import ServiceCreate, TeamCreate
from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind, Point
from radiator.identity import Role, Scope
from radiator.runtime import Runtime

from .support import TokenFactory, UserFactory, audit_records, login

RULES = "/api/v1/alert-rules"
RULE: dict[str, Any] = {
    "name": "cpu-high",
    "owner": "checkout",
    "query": "cpu",
    "condition": {"kind": "threshold", "op": ">", "value": 5},
    "for_seconds": "0s",
    "runbook_url": "https://runbooks.example.com/cpu",
}


@pytest.fixture
def checkout(runtime: Runtime) -> str:
    runtime.catalog.create_team(TeamCreate(name="payments"))
    runtime.catalog.create_service(ServiceCreate(name="checkout", team="payments"))
    return "checkout"


@pytest.fixture
def cpu(runtime: Runtime) -> None:
    """cpu of host a over the last two hours: 1, with 10 for the last 20 minutes."""
    # Relative to when the test runs, not to when the module was collected: a full suite
    # reaches this module many minutes after collection.
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    points = [
        Point(
            "cpu",
            10.0 if i >= 100 else 1.0,
            start + timedelta(minutes=i),
            {"host": "a"},
            MetricKind.GAUGE,
        )
        for i in range(121)
    ]
    runtime.telemetry.append(Signal.POINTS, points_batch(points))


def _field(response: Any) -> str:
    assert response.status_code in (400, 422), response.text
    field: str = response.json()["errors"][0]["field"]
    return field


def test_rule_crud_enable_and_audit(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime, checkout: str
) -> None:
    created = client.post(RULES, json=RULE, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["source"] == "api" and created.json()["for_seconds"] == 0
    assert client.post(RULES, json=RULE, headers=admin_headers).status_code == 409
    listed = client.get(RULES, headers=admin_headers).json()
    assert [r["name"] for r in listed] == ["cpu-high"] and listed[0]["open_alerts"] == {}
    patched = client.patch(
        f"{RULES}/cpu-high", json={"severity": "page", "for_seconds": "5m"}, headers=admin_headers
    )
    assert patched.json()["severity"] == "page" and patched.json()["for_seconds"] == 300
    disabled = client.post(f"{RULES}/cpu-high/disable", headers=admin_headers)
    assert disabled.json()["enabled"] is False
    assert client.post(f"{RULES}/cpu-high/enable", headers=admin_headers).json()["enabled"]
    assert client.delete(f"{RULES}/cpu-high", headers=admin_headers).status_code == 204
    assert client.get(f"{RULES}/cpu-high", headers=admin_headers).status_code == 404
    actions = [r.action for r in audit_records(runtime) if r.action.startswith("alert_rule")]
    assert actions == [
        "alert_rule.create",
        "alert_rule.update",
        "alert_rule.disable",
        "alert_rule.enable",
        "alert_rule.delete",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"query": "sum(cpu"}, "query"),
        ({"owner": "nobody"}, "owner"),
        ({"condition": {"kind": "detector", "detector": "magic"}}, "condition.detector"),
        ({"condition": {"kind": "sometimes"}}, "body.condition"),
        ({"for_seconds": "a while"}, "body.for_seconds"),
        ({"severity": "loud"}, "body.severity"),
        ({"name": "Has Spaces"}, "body.name"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    client: TestClient,
    admin_headers: dict[str, str],
    checkout: str,
    change: dict[str, Any],
    field: str,
) -> None:
    response = client.post(RULES, json={**RULE, **change}, headers=admin_headers)
    assert _field(response).startswith(field)


def test_backtest_of_a_stored_rule_and_of_a_definition(
    client: TestClient, admin_headers: dict[str, str], checkout: str, cpu: None
) -> None:
    client.post(RULES, json=RULE, headers=admin_headers)
    body = {"start": "now-2h", "end": "now", "step": "1m"}
    result = client.post(f"{RULES}/cpu-high/backtest", json=body, headers=admin_headers)
    assert result.status_code == 200, result.text
    assert result.json()["firings"] == 1
    (interval,) = result.json()["intervals"]
    assert interval["open"] is True and interval["labels"] == {"host": "a"}
    draft = {**RULE, "name": "draft", "condition": {"kind": "threshold", "op": ">", "value": 50}}
    tested = client.post(
        "/api/v1/alert-rule-backtests", json={**body, "rule": draft}, headers=admin_headers
    )
    assert tested.status_code == 200 and tested.json()["firings"] == 0
    backwards = client.post(
        f"{RULES}/cpu-high/backtest", json={"start": "now", "end": "now-1h"}, headers=admin_headers
    )
    assert _field(backwards) == "end"


def test_alerts_ack_notes_resolve_and_groups(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime, checkout: str, cpu: None
) -> None:
    client.post(RULES, json=RULE, headers=admin_headers)
    runtime.alerts.evaluate()
    (alert,) = client.get(
        "/api/v1/alerts", params={"state": "firing"}, headers=admin_headers
    ).json()
    acked = client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=admin_headers)
    assert acked.json()["state"] == "acknowledged"
    note = client.post(
        f"/api/v1/alerts/{alert['id']}/notes", json={"text": "on it"}, headers=admin_headers
    )
    assert note.status_code == 201
    groups = client.get("/api/v1/alerts/groups", params={"by": "host"}, headers=admin_headers)
    assert groups.json() == [
        {
            "labels": {"host": "a"},
            "count": 1,
            "states": {"acknowledged": 1},
            "alert_ids": [alert["id"]],
        }
    ]
    resolved = client.post(f"/api/v1/alerts/{alert['id']}/resolve", headers=admin_headers).json()
    assert resolved["state"] == "resolved" and resolved["notes"][0]["text"] == "on it"
    assert (
        client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=admin_headers).status_code == 409
    )
    assert client.get("/api/v1/alerts/999999", headers=admin_headers).status_code == 404


def test_silences_and_maintenance_windows(
    client: TestClient, admin_headers: dict[str, str], checkout: str
) -> None:
    ends = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = {"matchers": [{"label": "service", "value": "checkout"}], "ends_at": ends}
    silence = client.post("/api/v1/silences", json=body, headers=admin_headers)
    assert silence.status_code == 201, silence.text
    active = client.get("/api/v1/silences", params={"active": True}, headers=admin_headers)
    assert [s["id"] for s in active.json()] == [silence.json()["id"]]
    client.delete(f"/api/v1/silences/{silence.json()['id']}", headers=admin_headers)
    assert (
        client.get("/api/v1/silences", params={"active": True}, headers=admin_headers).json() == []
    )
    past = {**body, "ends_at": "2020-01-01T00:00:00Z"}
    assert _field(client.post("/api/v1/silences", json=past, headers=admin_headers)) == "ends_at"
    window = {"service": "checkout", "ends_at": ends, "reason": "db upgrade"}
    made = client.post("/api/v1/maintenance-windows", json=window, headers=admin_headers)
    assert made.status_code == 201
    nobody = client.post(
        "/api/v1/maintenance-windows", json={**window, "service": "nope"}, headers=admin_headers
    )
    assert _field(nobody) == "service"
    gone = client.delete(f"/api/v1/maintenance-windows/{made.json()['id']}", headers=admin_headers)
    assert gone.status_code == 204


def test_reports_are_served(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime, checkout: str, cpu: None
) -> None:
    client.post(RULES, json=RULE, headers=admin_headers)
    runtime.alerts.evaluate()
    weekly = client.get("/api/v1/alert-reports/weekly", headers=admin_headers)
    assert weekly.status_code == 200
    assert weekly.json()["rules"][0]["key"] == "cpu-high"
    assert weekly.json()["rules"][0]["fired"] == 1
    bad_zone = client.get(
        "/api/v1/alert-reports/weekly", params={"time_zone": "Mars/Olympus"}, headers=admin_headers
    )
    assert _field(bad_zone) == "time_zone"
    weak = client.get(
        "/api/v1/alert-reports/weak-signals", params={"days": 1}, headers=admin_headers
    )
    assert weak.status_code == 200 and "near_misses" in weak.json()


def test_reading_needs_read_scope_and_writing_write_scope(
    client: TestClient, token_for: TokenFactory, make_user: UserFactory, checkout: str
) -> None:
    user = make_user("viewer", Role.EDITOR)
    reader = token_for(user, Scope.READ)
    assert client.get(RULES).status_code == 401
    assert client.get(RULES, headers=reader).status_code == 200
    assert client.post(RULES, json=RULE, headers=reader).status_code == 403


def test_alerts_page_shows_rules_alerts_backtest_and_reports(
    client: TestClient, make_user: UserFactory, runtime: Runtime, checkout: str, cpu: None
) -> None:
    user = make_user("editor", Role.EDITOR)
    runtime.alerts.create_rule(AlertRuleCreate.model_validate(RULE))
    runtime.alerts.evaluate()
    csrf = login(client, user)
    page = client.get("/alerts", params={"rule": "cpu-high", "start": "now-2h"})
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="open-alerts"' in html and "cpu-high: value 10 &gt; 5" in html
    assert 'data-testid="backtest-firings">1<' in html
    assert 'data-testid="weekly-report"' in html
    (alert,) = runtime.alerts.list_alerts()
    done = client.post(f"/alerts/{alert.id}/ack", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert runtime.alerts.get_alert(alert.id).acknowledged_by == "editor"
    forged = client.post(f"/alerts/{alert.id}/resolve", data={"csrf_token": "nope"})
    assert forged.status_code == 403
    weak = client.get("/alerts", params={"weak": 1})
    assert 'data-testid="weak-signals"' in weak.text


def test_alerts_page_creates_rules_from_yaml_and_switches_them(
    client: TestClient, make_user: UserFactory, runtime: Runtime, checkout: str
) -> None:
    csrf = login(client, make_user("editor", Role.EDITOR))
    good = (
        "name: disk-full\nowner: checkout\nquery: disk.used\n"
        "condition: {kind: threshold, value: 90}\n"
    )
    made = client.post(
        "/alerts/rules", data={"csrf_token": csrf, "definition": good}, follow_redirects=False
    )
    assert made.status_code == 303
    assert runtime.alerts.get_rule("disk-full").condition.kind == "threshold"
    bad = good.replace("disk-full", "disk-2").replace("disk.used", "sum(disk.used")
    refused = client.post("/alerts/rules", data={"csrf_token": csrf, "definition": bad})
    assert refused.status_code == 400 and "query:" in refused.text
    assert "sum(disk.used" in refused.text  # the definition is kept in the form
    missing = good.replace("disk-full", "disk-3").replace("owner: checkout\n", "")
    refused = client.post("/alerts/rules", data={"csrf_token": csrf, "definition": missing})
    assert refused.status_code == 400 and "owner: Field required" in refused.text
    off = client.post(
        "/alerts/rules/disk-full/disable", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert off.status_code == 303 and runtime.alerts.get_rule("disk-full").enabled is False
