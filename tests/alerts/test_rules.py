"""Rule validation names the field; rules as code from a YAML directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from radiator.alerts import AlertRuleCreate, AlertRuleUpdate, AlertService, RuleSource
from radiator.errors import ConflictError, InvalidInputError
from radiator.jobs.alerts import sync_alert_rules

from .conftest import threshold_rule


def _field_of(alerts: AlertService, **overrides: Any) -> str | None:
    with pytest.raises(InvalidInputError) as caught:
        alerts.create_rule(threshold_rule(**overrides))
    return caught.value.field


def test_invalid_definitions_name_the_field(alerts: AlertService) -> None:
    assert _field_of(alerts, query="sum(") == "query"
    assert _field_of(alerts, owner="nobody") == "owner"
    assert _field_of(alerts, query="rate(cpu[$window])") == "query"
    detector = {"kind": "detector", "detector": "zscore", "params": {"windw": 3}}
    assert _field_of(alerts, condition=detector) == "condition.params.windw"
    assert _field_of(alerts, condition={"kind": "detector", "detector": "magic"}) == (
        "condition.detector"
    )
    burn = {"kind": "burn_rate", "objective": 99.9}
    assert _field_of(alerts, condition=burn) == "query"
    windows = {**burn, "windows": [{"long_seconds": 60, "short_seconds": 600, "factor": 2}]}
    assert _field_of(alerts, query="x[$window]", condition=windows) == (
        "condition.windows.0.short_seconds"
    )


def test_schema_errors_name_the_field() -> None:
    cases = {
        "for_seconds": {"for_seconds": "soon"},
        "runbook_url": {"runbook_url": "javascript:alert(1)"},
        "labels": {"labels": {"bad label": "x"}},
        "condition": {"condition": {"kind": "threshold", "value": float("inf")}},
        "name": {"name": "Bad Name"},
    }
    for field, override in cases.items():
        with pytest.raises(ValidationError) as caught:
            threshold_rule(**override)
        assert caught.value.errors()[0]["loc"][0] == field


def test_durations_accept_text(alerts: AlertService) -> None:
    rule = alerts.create_rule(threshold_rule(for_seconds="1.5m"))
    assert rule.for_seconds == 90
    updated = alerts.update_rule(rule.name, AlertRuleUpdate(for_seconds=300))
    assert updated.for_seconds == 300 and updated.query == "cpu"


RULES = """
rules:
  - name: cpu-high
    owner: checkout
    query: cpu
    condition: {kind: threshold, op: ">", value: 80}
    for_seconds: 5m
    severity: page
    runbook_url: https://runbooks.example.com/cpu
  - name: heartbeat
    owner: checkout
    query: heartbeat
    condition: {kind: absence, window_seconds: 10m}
"""


def test_rule_directory_is_synced_and_file_rules_are_read_only(
    alerts: AlertService, tmp_path: Path
) -> None:
    (tmp_path / "checkout.yaml").write_text(RULES)
    report = sync_alert_rules(alerts, tmp_path)
    assert sorted(report.created) == ["cpu-high", "heartbeat"] and report.errors == []
    rule = alerts.get_rule("cpu-high")
    assert rule.source is RuleSource.FILE and rule.for_seconds == 300
    with pytest.raises(ConflictError):
        alerts.update_rule("cpu-high", AlertRuleUpdate(enabled=False))
    with pytest.raises(ConflictError):
        alerts.delete_rule("cpu-high")
    assert sync_alert_rules(alerts, tmp_path).unchanged == ["cpu-high", "heartbeat"]
    (tmp_path / "checkout.yaml").write_text(RULES.replace("80", "90").split("  - name: heart")[0])
    report = sync_alert_rules(alerts, tmp_path)
    assert report.replaced == ["cpu-high"] and report.deleted == ["heartbeat"]
    condition = alerts.get_rule("cpu-high").condition
    assert condition.kind == "threshold" and condition.value == 90


def test_bad_file_names_file_rule_and_field_and_loads_nothing(
    alerts: AlertService, tmp_path: Path
) -> None:
    bad = RULES.replace("query: heartbeat", "query: 'rate(heartbeat'")
    (tmp_path / "bad.yaml").write_text(bad)
    report = sync_alert_rules(alerts, tmp_path)
    assert report.created == []
    (error,) = report.errors
    assert "bad.yaml" in error and "'heartbeat'" in error and "query" in error
    assert alerts.list_rules() == []


def test_file_may_not_take_an_api_rules_name(alerts: AlertService, tmp_path: Path) -> None:
    alerts.create_rule(threshold_rule())
    (tmp_path / "rules.yml").write_text(RULES)
    report = sync_alert_rules(alerts, tmp_path)
    assert "already defined by the API" in report.errors[0]
    assert alerts.get_rule("cpu-high").source is RuleSource.API


def test_create_model_round_trips_through_json() -> None:
    rule = threshold_rule(inhibits=[{"label": "host", "op": "=~", "value": "a.*"}])
    assert AlertRuleCreate.model_validate_json(rule.model_dump_json()) == rule
    with pytest.raises(ValidationError) as caught:
        threshold_rule(inhibits=[{"label": "host", "op": "=~", "value": "("}])
    assert caught.value.errors()[0]["loc"][:3] == ("inhibits", 0, "value")


def test_disabling_a_file_rule_survives_the_next_sync(alerts: AlertService, tmp_path: Path) -> None:
    (tmp_path / "checkout.yaml").write_text(RULES)
    sync_alert_rules(alerts, tmp_path)
    alerts.set_enabled("cpu-high", False)
    assert "cpu-high" in sync_alert_rules(alerts, tmp_path).unchanged
    (tmp_path / "checkout.yaml").write_text(RULES.replace("80", "85"))
    assert "cpu-high" in sync_alert_rules(alerts, tmp_path).replaced
    assert alerts.get_rule("cpu-high").enabled is False
