"""The `radiator` command line, run in-process with Typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from radiator.cli.configdocs import render_docs
from radiator.cli.main import app
from support import free_port

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose settings point at a temporary data directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RADIATOR_CONFIG", raising=False)
    monkeypatch.setenv("RADIATOR_DATA_DIR", str(tmp_path / "data"))
    # doctor checks the ports: keep the result independent of what else runs here.
    monkeypatch.setenv("RADIATOR_PORT", str(free_port()))
    monkeypatch.setenv("RADIATOR_STATSD_PORT", "0")
    return CliRunner()


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [(*prefix, c.name or c.callback.__name__) for c in group.registered_commands]  # type: ignore[union-attr]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name is not None
        found.extend(_commands(sub.typer_instance, (*prefix, sub.name)))
    return found


def test_every_command_has_help_text(runner: CliRunner) -> None:
    commands = _commands(app)
    assert {
        ("serve",),
        ("demo",),
        ("db", "upgrade"),
        ("user", "create"),
        ("doctor",),
        ("version",),
        ("token", "create"),
        ("token", "list"),
        ("token", "revoke"),
    } <= set(commands)
    for command in commands:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        help_lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(help_lines) > 3, command


def test_db_upgrade_creates_the_schema_once(runner: CliRunner) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "upgraded empty" in first.output
    second = runner.invoke(app, ["db", "upgrade"])
    assert "already at" in second.output


def test_user_create_admin_generates_a_password_shown_once(runner: CliRunner) -> None:
    result = runner.invoke(app, ["user", "create", "ada", "--admin"])
    assert result.exit_code == 0, result.output
    assert "role admin" in result.output
    assert "password (shown once)" in result.output
    listing = runner.invoke(app, ["user", "list"])
    assert "ada" in listing.output and "admin" in listing.output


def test_user_create_rejects_a_bad_username_naming_the_field(runner: CliRunner) -> None:
    result = runner.invoke(app, ["user", "create", "Bad Name!"])
    assert result.exit_code == 1
    assert "username" in result.output


def test_duplicate_user_is_a_clear_error(runner: CliRunner) -> None:
    runner.invoke(app, ["user", "create", "ada"])
    result = runner.invoke(app, ["user", "create", "ada"])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_token_lifecycle(runner: CliRunner) -> None:
    runner.invoke(app, ["user", "create", "ada", "--role", "editor"])
    created = runner.invoke(app, ["token", "create", "-u", "ada", "-n", "ci", "-s", "ingest"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("rad_") and len(secret) > 40
    listed = runner.invoke(app, ["token", "list", "-u", "ada"])
    assert "ci" in listed.output and "active" in listed.output
    assert secret not in listed.output
    revoked = runner.invoke(app, ["token", "revoke", "1"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(app, ["token", "list"]).output


def test_token_scope_beyond_role_is_refused(runner: CliRunner) -> None:
    runner.invoke(app, ["user", "create", "vic"])
    result = runner.invoke(app, ["token", "create", "-u", "vic", "-n", "x", "-s", "admin"])
    assert result.exit_code == 1
    assert "does not allow scopes admin" in result.output


def test_wrong_setting_stops_with_the_setting_and_accepted_values(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADIATOR_LOG_LEVEL", "LOUD")
    result = runner.invoke(app, ["user", "list"])
    assert result.exit_code == 2
    assert "log_level" in result.output and "RADIATOR_LOG_LEVEL" in result.output
    assert "'DEBUG', 'INFO', 'WARNING' or 'ERROR'" in result.output


def test_doctor_reports_pending_migrations_with_the_fix(runner: CliRunner) -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "radiator db upgrade" in result.output
    runner.invoke(app, ["db", "upgrade"])
    healthy = runner.invoke(app, ["doctor"])
    assert healthy.exit_code == 0, healthy.output
    assert "All checks passed" in healthy.output


def test_doctor_names_a_bad_setting(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADIATOR_PORT", "99999")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "port" in result.output


def test_version_prints_the_package_version(runner: CliRunner) -> None:
    from radiator import __version__

    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert f"radiator {__version__}" in result.output


def test_configuration_docs_are_generated_from_the_settings() -> None:
    assert DOCS.read_text() == render_docs(), "run: radiator config docs > docs/configuration.md"


def test_doctor_reports_a_taken_statsd_port(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    runner.invoke(app, ["db", "upgrade"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        monkeypatch.setenv("RADIATOR_STATSD_PORT", str(taken.getsockname()[1]))
        result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "statsd port" in result.output
    assert "RADIATOR_STATSD_PORT" in result.output
