"""The log metrics API: create, read, replace and delete rules; bad input names the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from radiator.core.schema import logs_batch
from radiator.core.telemetry import Signal
from radiator.core.types import LogLevel, LogRecord
from radiator.identity import Role, Scope
from radiator.jobs.logmetrics import log_metric_service, run_log_metrics, sync_rule_directory
from radiator.runtime import Runtime

from .support import UserFactory, audit_records

URL = "/api/v1/log-metrics"
RULE = {
    "name": "sql_failures",
    "description": "SQL queries that failed",
    "owner": "checkout",
    "levels": ["ERROR"],
    "text": "SQL query failed",
    "group_by": ["service"],
}


def test_rule_is_created_read_listed_replaced_and_deleted(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    created = client.post(URL, json=RULE, headers=admin_headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["metric"] == "logs.sql_failures"
    assert (body["source"], body["source_file"], body["materialised_until"]) == ("api", "", None)
    assert client.get(f"{URL}/sql_failures", headers=admin_headers).json() == body
    assert [r["name"] for r in client.get(URL, headers=admin_headers).json()] == ["sql_failures"]

    replaced = client.put(
        f"{URL}/sql_failures",
        json={"metric": "checkout.sql_failures", "pattern": "(?i)sql .* failed"},
        headers=admin_headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["metric"] == "checkout.sql_failures"
    assert (replaced.json()["text"], replaced.json()["levels"]) == (None, [])
    assert replaced.json()["created_at"] == body["created_at"]

    deleted = client.delete(f"{URL}/sql_failures", headers=admin_headers)
    assert deleted.status_code == 204
    assert client.get(f"{URL}/sql_failures", headers=admin_headers).status_code == 404
    actions = [r.action for r in audit_records(runtime) if r.action.startswith("log_metric")]
    assert actions == ["log_metric.create", "log_metric.update", "log_metric.delete"]


def _problem_field(response: Any) -> str:
    field: str = response.json()["errors"][0]["field"]
    return field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pattern": "(unclosed"}, "pattern"),
        ({"pattern": "(?<=x)y"}, "pattern"),
        ({"metric": "1bad"}, "metric"),
        ({"name": "Not-An-Identifier"}, "name"),
        ({"group_by": ["a-b"]}, "group_by"),
        ({"levels": ["LOUD"]}, "body.levels.0"),
        ({"colour": "red"}, "body.colour"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    client: TestClient, admin_headers: dict[str, str], change: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json={**RULE, **change}, headers=admin_headers)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _problem_field(response) == field, response.text


def test_taken_name_conflicts_and_unknown_rule_is_not_found(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert client.post(URL, json=RULE, headers=admin_headers).status_code == 201
    assert client.post(URL, json=RULE, headers=admin_headers).status_code == 409
    assert client.put(f"{URL}/nope", json={}, headers=admin_headers).status_code == 404
    assert client.delete(f"{URL}/nope", headers=admin_headers).status_code == 404


def test_rules_from_files_are_read_only_through_the_api(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime, tmp_path: Path
) -> None:
    (tmp_path / "r.yaml").write_text("rules:\n  - {name: from_file, levels: [FATAL]}\n")
    sync_rule_directory(log_metric_service(runtime), tmp_path)

    rule = client.get(f"{URL}/from_file", headers=admin_headers).json()
    assert (rule["source"], rule["source_file"]) == ("file", str(tmp_path.resolve() / "r.yaml"))
    changed = client.put(f"{URL}/from_file", json={}, headers=admin_headers)
    assert changed.status_code == 409
    assert "r.yaml" in changed.json()["detail"]
    assert client.delete(f"{URL}/from_file", headers=admin_headers).status_code == 409


def test_readers_may_list_but_not_change_rules(
    client: TestClient, token_for: Any, make_user: UserFactory
) -> None:
    reader = token_for(make_user("viewer", Role.VIEWER), Scope.READ)
    assert client.get(URL, headers=reader).status_code == 200
    assert client.post(URL, json=RULE, headers=reader).status_code == 403
    assert client.get(URL).status_code == 401


def test_rule_metric_answers_the_documented_query(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    now = datetime.now(UTC)
    records = [
        LogRecord(now - timedelta(hours=h), service, LogLevel.ERROR, "SQL query failed: timeout")
        for h, service in [(5, "checkout"), (4, "checkout"), (3, "checkout"), (2, "search")]
    ]
    records.append(LogRecord(now - timedelta(hours=2), "search", LogLevel.INFO, "all fine"))
    runtime.telemetry.append(Signal.LOGS, logs_batch(records))
    assert client.post(URL, json=RULE, headers=admin_headers).status_code == 201

    report = run_log_metrics(runtime)
    assert report.errors == {}

    expr = "sum by (service) (increase(logs.sql_failures[1w]))"
    answer = client.post(
        "/api/v1/query", json={"expr": expr, "instant": True}, headers=admin_headers
    )
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    found = {s["labels"]["service"]: s["value"] for s in result["series"]}
    assert found == {"checkout": 3.0, "search": 1.0}
