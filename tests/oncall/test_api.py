"""The on-call HTTP API, the acknowledge-by-link pages and the "On call" page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from notify.servers import Receiver
from radiator.audit import AuditQuery
from radiator.identity import Role, UserCreate
from radiator.runtime import Runtime
from web.test_pages import form_csrf, submit_login

API = "/api/v1"
SCHEDULE: dict[str, Any] = {
    "name": "primary",
    "time_zone": "Europe/Berlin",
    "handoff_time": "09:00",
    "rotation": "weekly",
    "start_date": "2026-01-05",
    "participants": [
        {"user": "ana", "discipline": "development"},
        {"user": "ben", "discipline": "operations"},
    ],
}


@pytest.fixture
def setup(
    client: TestClient,
    admin_headers: dict[str, str],
    people: dict[str, str],
    checkout: str,
    hook: str,
) -> dict[str, str]:
    assert client.post(f"{API}/schedules", json=SCHEDULE, headers=admin_headers).status_code == 201
    policy = {
        "name": "payments",
        "steps": [{"target_type": "schedule", "target": "primary"}],
        "services": ["checkout"],
        "channels": ["ops-hook"],
    }
    created = client.post(f"{API}/escalation-policies", json=policy, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["steps"][0]["wait_minutes"] == 5
    return admin_headers


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "body.time_zone"),
        ({"handoff_time": "25:00"}, "body.handoff_time"),
        ({"rotation": "hourly"}, "body.rotation"),
        ({"name": "Bad Name"}, "body.name"),
        (
            {"participants": [{"user": "ana", "discipline": "sales"}]},
            "body.participants.0.discipline",
        ),
        ({"participants": [{"user": "nobody", "discipline": "operations"}]}, "participants.0.user"),
        (
            {
                "overrides": [
                    {"user": "ana", "start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
                ]
            },
            "body.overrides.0",
        ),
    ],
)
def test_invalid_schedules_are_refused_naming_the_field(
    client: TestClient,
    admin_headers: dict[str, str],
    people: dict[str, str],
    change: dict[str, Any],
    field: str,
) -> None:
    response = client.post(f"{API}/schedules", json={**SCHEDULE, **change}, headers=admin_headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


def test_schedule_shows_both_disciplines_and_who_is_on_call(
    client: TestClient, setup: dict[str, str], runtime: Runtime
) -> None:
    schedule = client.get(f"{API}/schedules/primary", headers=setup).json()
    assert schedule["disciplines"] == ["development", "operations"]
    assert schedule["shared"] is True

    second_week = client.get(
        f"{API}/schedules/primary/oncall", params={"at": "2026-01-13T08:30:00+01:00"}, headers=setup
    ).json()
    assert (second_week["user"], second_week["discipline"]) == ("ben", "operations")
    assert second_week["shift_start"] == "2026-01-12T08:00:00Z"

    now = client.get(f"{API}/oncall/now", params={"service": "checkout"}, headers=setup).json()
    assert now[0]["policy"] == "payments"
    assert now[0]["user"] in {"ana", "ben"}

    # Only one discipline: allowed, but flagged as not shared.
    patch = {"participants": [{"user": "ana", "discipline": "development"}]}
    changed = client.patch(f"{API}/schedules/primary", json=patch, headers=setup).json()
    assert changed["shared"] is False
    actions = {r.action for r in runtime.audit.search(AuditQuery(limit=100))}
    assert {"schedule.create", "schedule.update", "escalation_policy.create"} <= actions


def test_shifts_flag_gaps_left_by_an_empty_override(
    client: TestClient, setup: dict[str, str]
) -> None:
    hole = {"user": None, "start": "2026-01-06T00:00:00Z", "end": "2026-01-06T06:00:00Z"}
    client.patch(f"{API}/schedules/primary", json={"overrides": [hole]}, headers=setup)

    shifts = client.get(
        f"{API}/schedules/primary/shifts",
        params={"start": "2026-01-05T12:00:00Z", "end": "2026-01-07T00:00:00Z"},
        headers=setup,
    ).json()

    assert [(s["user"], s["gap"]) for s in shifts] == [("ana", False), (None, True), ("ana", False)]


def test_page_ack_by_link_and_resolve(
    client: TestClient, setup: dict[str, str], receiver: Receiver, runtime: Runtime
) -> None:
    created = client.post(
        f"{API}/pages", json={"service": "checkout", "summary": "errors up"}, headers=setup
    )
    assert created.status_code == 201, created.text
    page = created.json()["page"]
    link = json.loads(receiver.requests[0].body)["link"]
    path = link[link.index("/ack/") :]

    form = client.get(path)
    assert form.status_code == 200
    assert "errors up" in form.text
    assert runtime.oncall.get_page(page["id"]).status == "triggered"  # a GET never acknowledges
    done = client.post(path)
    assert done.status_code == 200
    assert re.search(r'data-testid="page-status">acknowledged<', done.text)

    assert client.get("/ack/not-a-real-token").status_code == 404
    resolved = client.post(f"{API}/pages/{page['id']}/resolve", headers=setup).json()
    assert resolved["status"] == "resolved"
    again = client.post(f"{API}/pages/{page['id']}/ack", headers=setup)
    assert again.status_code == 409
    listed = client.get(f"{API}/pages", params={"status": "resolved"}, headers=setup).json()
    assert [p["id"] for p in listed] == [page["id"]]
    deliveries = client.get(f"{API}/deliveries", params={"page_id": page["id"]}, headers=setup)
    assert deliveries.json()[0]["status"] == "delivered"


def test_page_for_a_service_without_policy_names_the_field(
    client: TestClient, setup: dict[str, str]
) -> None:
    response = client.post(f"{API}/pages", json={"service": "nope", "summary": "x"}, headers=setup)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "service"


def test_report_flags_shifts_over_the_sre_ceilings(
    client: TestClient, setup: dict[str, str], runtime: Runtime
) -> None:
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    for minutes in (10, 20, 30):
        runtime.oncall.page("checkout", f"page {minutes}", now=start + timedelta(minutes=minutes))

    report = client.get(
        f"{API}/oncall/report",
        params={
            "schedule": "primary",
            "start": start.isoformat(),
            "end": (start + timedelta(days=14)).isoformat(),
        },
        headers=setup,
    ).json()

    assert report["shifts"][0]["pages"] == 3
    assert report["shifts"][0]["over"] is True
    assert not any(s["over"] for s in report["shifts"][1:])
    people = {p["user"]: p for p in report["people"]}
    assert people["ana"]["share"] == 0.5
    assert people["ana"]["over"] is True  # 50 % of the time on call is over the 25 % ceiling


def test_oncall_page_shows_people_disciplines_and_gaps(
    client: TestClient, setup: dict[str, str], runtime: Runtime
) -> None:
    from radiator.identity import Role, UserCreate
    from web.test_pages import submit_login

    runtime.identity.create_user(
        UserCreate(username="viewer", password="a long enough password", role=Role.VIEWER)
    )
    client.post(
        f"{API}/schedules",
        json={**SCHEDULE, "name": "empty", "participants": []},
        headers=setup,
    )
    assert submit_login(client, "viewer", "a long enough password", "/oncall").status_code == 303

    page = client.get("/oncall")

    assert page.status_code == 200
    assert 'data-service="checkout"' in page.text
    assert "discipline-operations" in page.text and "discipline-development" in page.text
    assert 'data-testid="gap"' in page.text  # the empty schedule
    assert 'data-testid="not-shared"' in page.text
    assert 'data-testid="over-share"' in page.text  # two people: 50 % each, over 25 %


def test_oncall_page_buttons_acknowledge_and_resolve_with_the_csrf_token(
    client: TestClient, setup: dict[str, str], runtime: Runtime
) -> None:
    runtime.identity.create_user(
        UserCreate(username="ed", password="a long enough password", role=Role.EDITOR)
    )
    submit_login(client, "ed", "a long enough password", "/oncall")
    page_id = runtime.oncall.page("checkout", "disk full").page.id
    csrf = form_csrf(client.get("/oncall"))

    refused = client.post(f"/oncall/pages/{page_id}/ack", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    done = client.post(
        f"/oncall/pages/{page_id}/ack", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    page = runtime.oncall.get_page(page_id)
    assert (page.status, page.acknowledged_by) == ("acknowledged", "ed")
    client.post(f"/oncall/pages/{page_id}/resolve", data={"csrf_token": csrf})
    assert runtime.oncall.get_page(page_id).status == "resolved"
