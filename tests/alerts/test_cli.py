"""`radiator alert ...` against a real `radiator serve` whose rules directory holds a rule:
the job loads and evaluates it, and the CLI lists, acknowledges, notes, backtests, applies
and silences through the HTTP API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import make_settings
from radiator.catalog import ServiceCreate, TeamCreate
from radiator.cli.main import app
from radiator.core.caller import SYSTEM
from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind, Point
from radiator.identity import ApiTokenCreate, Role, Scope, UserCreate
from radiator.runtime import Runtime
from support import free_port, serve_env, start_serve, wait_healthy

FILE_RULE = """
rules:
  - name: cpu-high
    owner: checkout
    query: cpu
    condition: {kind: threshold, op: ">", value: 5}
"""
APPLIED_RULE = """
rules:
  - name: cpu-very-high
    owner: checkout
    query: cpu
    condition: {kind: threshold, op: ">", value: 50}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    data = tmp_path / "data"
    runtime = Runtime(make_settings(tmp_path, telemetry_path=""))
    try:
        runtime.identity.create_user(
            UserCreate(username="ana", password="a long enough password", role=Role.ADMIN)
        )
        token = runtime.identity.create_token(
            "ana", ApiTokenCreate(name="cli", scopes=[Scope.READ, Scope.WRITE]), SYSTEM
        ).secret
        runtime.catalog.create_team(TeamCreate(name="payments"))
        runtime.catalog.create_service(ServiceCreate(name="checkout", team="payments"))
        now = datetime.now(UTC)
        points = [
            Point("cpu", 10.0, now - timedelta(minutes=m), {"host": "a"}, MetricKind.GAUGE)
            for m in range(0, 120)
        ]
        runtime.telemetry.append(Signal.POINTS, points_batch(points))
    finally:
        runtime.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "checkout.yaml").write_text(FILE_RULE)
    port = free_port()
    env = serve_env(data, port, alert_rules_dir=str(rules), alert_evaluation_seconds="1")
    process = start_serve(env, tmp_path, capture=False)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield base, token
    finally:
        process.terminate()
        process.wait(30)


def _run(*args: str, base: str, token: str) -> str:
    result = CliRunner().invoke(app, ["alert", *args, "--url", base, "--token", token])
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_works_the_alert_lifecycle_through_the_api(
    server: tuple[str, str], tmp_path: Path
) -> None:
    base, token = server
    assert "cpu-high" in _run("rules", base=base, token=token)
    deadline = time.monotonic() + 30
    firing: list[dict[str, object]] = []
    while not firing and time.monotonic() < deadline:
        firing = json.loads(_run("list", "--state", "firing", "--json", base=base, token=token))
        time.sleep(0.5)
    assert firing, "the job did not fire the file rule's alert"
    alert_id = str(firing[0]["id"])
    assert "acknowledged by ana" in _run("ack", alert_id, base=base, token=token)
    assert "note added" in _run("note", alert_id, "checking", base=base, token=token)
    out = _run("backtest", "cpu-high", "--from", "now-1h", "--to", "now", base=base, token=token)
    assert "1 firings" in out
    applied = tmp_path / "apply"
    applied.mkdir()
    (applied / "more.yml").write_text(APPLIED_RULE)
    assert "created cpu-very-high" in _run("apply", str(applied), base=base, token=token)
    assert "updated cpu-very-high" in _run("apply", str(applied), base=base, token=token)
    silence = _run("silence", "create", "-m", "host=a", "--for", "1h", base=base, token=token)
    silence_id = silence.split()[1]
    assert "host=a" in _run("silence", "list", base=base, token=token)
    assert "ended" in _run("silence", "expire", silence_id, base=base, token=token)
    assert "resolved" in _run("resolve", alert_id, base=base, token=token)


def test_cli_names_the_field_of_a_refused_request(server: tuple[str, str], tmp_path: Path) -> None:
    base, token = server
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.yaml").write_text(APPLIED_RULE.replace("owner: checkout", "owner: nobody"))
    result = CliRunner().invoke(app, ["alert", "apply", str(bad), "--url", base, "--token", token])
    assert result.exit_code == 1
    assert "field: owner" in result.output
    result = CliRunner().invoke(app, ["alert", "rules", "--url", base])
    assert result.exit_code == 1 and "token" in result.output
