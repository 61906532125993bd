"""`radiator oncall now|schedules` and `radiator channel list|test` on a real data directory."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import make_settings
from notify.servers import Mailbox
from radiator.catalog import ServiceCreate, TeamCreate
from radiator.cli.main import app
from radiator.identity import Role, UserCreate
from radiator.notify import ChannelCreate
from radiator.oncall import EscalationPolicyCreate, EscalationStep, Participant, ScheduleCreate
from radiator.runtime import Runtime
from support import free_port


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RADIATOR_CONFIG", raising=False)
    monkeypatch.setenv("RADIATOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RADIATOR_TELEMETRY_PATH", ":memory:")
    monkeypatch.setenv("RADIATOR_NOTIFY_BACKOFF_SECONDS", "0")
    return CliRunner()


@pytest.fixture
def populated(tmp_path: Path, runner: CliRunner) -> None:
    rt = Runtime(make_settings(tmp_path, telemetry_path=":memory:"))
    try:
        rt.identity.create_user(
            UserCreate(username="ana", password="a long enough password", role=Role.EDITOR)
        )
        rt.catalog.create_team(TeamCreate(name="payments"))
        rt.catalog.create_service(ServiceCreate(name="checkout", team="payments"))
        rt.catalog.create_service(ServiceCreate(name="search"))
        rt.oncall.create_schedule(
            ScheduleCreate(
                name="primary",
                start_date=date(2020, 1, 6),
                participants=[Participant(user="ana", discipline="development")],
            )
        )
        rt.oncall.create_policy(
            EscalationPolicyCreate(
                name="payments",
                steps=[EscalationStep(target_type="schedule", target="primary")],
                services=["checkout"],
            )
        )
        refused = {
            "host": "127.0.0.1",
            "port": free_port(),
            "sender": "r@example.com",
            "to": ["ops@example.com"],
        }
        rt.notify.create_channel(ChannelCreate(name="dead-mail", type="email", settings=refused))
    finally:
        rt.close()


def test_oncall_now_names_the_person_and_flags_services_without_policy(
    runner: CliRunner, populated: None
) -> None:
    result = runner.invoke(app, ["oncall", "now"])
    assert result.exit_code == 0, result.output
    assert "checkout" in result.output and "ana (development)" in result.output
    assert "no escalation policy" in result.output

    only = runner.invoke(app, ["oncall", "now", "--service", "checkout"])
    assert "search" not in only.output
    unknown = runner.invoke(app, ["oncall", "now", "--service", "nope"])
    assert unknown.exit_code == 1
    assert "no service named 'nope'" in unknown.output


def test_oncall_schedules_flags_a_schedule_of_one_discipline(
    runner: CliRunner, populated: None
) -> None:
    result = runner.invoke(app, ["oncall", "schedules"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "primary" in result.output
    assert "primary: not shared, only development takes part" in result.output


def test_channel_test_reports_why_it_failed(runner: CliRunner, populated: None) -> None:
    listed = runner.invoke(app, ["channel", "list"], terminal_width=200)
    assert "dead-mail" in listed.output

    result = runner.invoke(app, ["channel", "test", "dead-mail"], terminal_width=200)

    assert result.exit_code == 1
    assert "SMTP connection refused at 127.0.0.1:" in result.output
    assert result.output.count("attempt ") == 3


def test_channel_test_delivers_to_a_real_smtp_server(
    runner: CliRunner, populated: None, smtp_server: Mailbox, tmp_path: Path
) -> None:
    rt = Runtime(make_settings(tmp_path, telemetry_path=":memory:"))
    try:
        settings = {
            "host": smtp_server.host,
            "port": smtp_server.port,
            "sender": "r@example.com",
            "to": ["ops@example.com"],
        }
        rt.notify.create_channel(ChannelCreate(name="mail", type="email", settings=settings))
    finally:
        rt.close()

    result = runner.invoke(app, ["channel", "test", "mail"])

    assert result.exit_code == 0, result.output
    assert "delivered" in result.output
    assert smtp_server.messages[0][1] == ["ops@example.com"]


def test_oncall_report_flags_time_on_call_over_the_ceiling(
    runner: CliRunner, populated: None
) -> None:
    result = runner.invoke(app, ["oncall", "report", "primary", "--days", "14"], terminal_width=200)

    assert result.exit_code == 0, result.output
    assert "ana" in result.output
    assert "100.0%" in result.output and "over 25 %" in result.output
    assert "no 12-hour shift had more than 2 pages" in result.output
    missing = runner.invoke(app, ["oncall", "report", "nope"])
    assert missing.exit_code == 1
    assert "no schedule named 'nope'" in missing.output
