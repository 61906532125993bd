"""The `alerts` background job: registered with the built-in jobs, it syncs the rule
directory and evaluates every enabled rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import make_settings
from radiator.alerts import AlertState, RuleSource
from radiator.catalog import ServiceCreate, TeamCreate
from radiator.jobs import Scheduler, schedule_builtin_jobs
from radiator.runtime import Runtime

from .conftest import append_points

RULE = """
rules:
  - name: cpu-high
    owner: checkout
    query: cpu
    condition: {kind: threshold, op: ">", value: 5}
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "cpu.yaml").write_text(RULE)
    return directory


@pytest.fixture
def job_runtime(tmp_path: Path, rules_dir: Path) -> Iterator[Runtime]:
    runtime = Runtime(make_settings(tmp_path, alert_rules_dir=str(rules_dir)))
    runtime.catalog.create_team(TeamCreate(name="payments"))
    runtime.catalog.create_service(ServiceCreate(name="checkout", team="payments"))
    yield runtime
    runtime.close()


def test_alerts_job_loads_the_rule_files_and_fires(job_runtime: Runtime, rules_dir: Path) -> None:
    now = datetime.now(UTC)
    append_points(job_runtime, "cpu", [9.0] * 5, now - timedelta(minutes=4), tags={"host": "a"})
    scheduler = Scheduler()
    schedule_builtin_jobs(scheduler, job_runtime)
    (job,) = [j for j in scheduler.jobs if j.name == "alerts"]
    assert job.interval == job_runtime.settings.alert_evaluation_seconds == 30
    assert job_runtime.alerts.get_rule("cpu-high").source is RuleSource.FILE
    scheduler.run_once(job)
    assert job.stats.failures == 0
    (alert,) = job_runtime.alerts.list_alerts()
    assert alert.state is AlertState.FIRING and alert.labels["host"] == "a"
    (rules_dir / "cpu.yaml").write_text("rules: []\n")
    scheduler.run_once(job)
    assert job_runtime.alerts.list_rules() == []
    assert job_runtime.alerts.get_alert(alert.id).state is AlertState.RESOLVED
