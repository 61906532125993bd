"""`radiator log-metrics list|apply|delete`, run in-process with Typer's CliRunner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from radiator.cli.main import app

GOOD = """
rules:
  - name: sql_failures
    levels: [ERROR]
    text: SQL query failed
    group_by: [service]
"""
BAD = """
rules:
  - name: fine
  - name: broken
    group_by: [service, service]
"""


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RADIATOR_CONFIG", raising=False)
    monkeypatch.setenv("RADIATOR_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "sql.yaml").write_text(GOOD)
    return directory


def test_apply_loads_rule_files_and_list_shows_them(runner: CliRunner, rules: Path) -> None:
    applied = runner.invoke(app, ["log-metrics", "apply", str(rules)])
    assert applied.exit_code == 0, applied.output
    assert "created: sql_failures" in applied.output

    again = runner.invoke(app, ["log-metrics", "apply", str(rules)])
    assert "unchanged: sql_failures" in again.output

    listed = runner.invoke(app, ["log-metrics", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "logs.sql_failures" in listed.output
    assert str(rules.resolve() / "sql.yaml") in listed.output


def test_bad_file_names_file_rule_and_field_and_loads_none_of_it(
    runner: CliRunner, rules: Path
) -> None:
    (rules / "bad.yml").write_text(BAD)

    applied = runner.invoke(app, ["log-metrics", "apply", str(rules)], env={"COLUMNS": "300"})

    assert applied.exit_code == 1
    assert f"{rules.resolve() / 'bad.yml'}: rule 'broken': group_by:" in applied.output
    listed = runner.invoke(app, ["log-metrics", "list"], env={"COLUMNS": "200"})
    assert "sql_failures" in listed.output
    assert "fine" not in listed.output


def test_check_validates_without_loading(runner: CliRunner, rules: Path) -> None:
    (rules / "bad.yml").write_text(BAD)

    checked = runner.invoke(app, ["log-metrics", "apply", "--check", str(rules)])

    assert checked.exit_code == 1
    assert "sql.yaml: 1 rule(s) valid" in checked.output
    listed = runner.invoke(app, ["log-metrics", "list"], env={"COLUMNS": "200"})
    assert "sql_failures" not in listed.output


def test_removing_a_file_removes_its_rules_and_file_rules_cannot_be_deleted(
    runner: CliRunner, rules: Path
) -> None:
    runner.invoke(app, ["log-metrics", "apply", str(rules)])

    refused = runner.invoke(app, ["log-metrics", "delete", "sql_failures"])
    assert refused.exit_code == 1
    assert "comes from" in refused.output

    (rules / "sql.yaml").unlink()
    applied = runner.invoke(app, ["log-metrics", "apply", str(rules)])
    assert "deleted: sql_failures" in applied.output
    missing = runner.invoke(app, ["log-metrics", "delete", "sql_failures"])
    assert missing.exit_code == 1
    assert "no log metric rule named 'sql_failures'" in missing.output


def test_commands_work_while_another_process_holds_the_telemetry_store(
    runner: CliRunner, rules: Path, tmp_path: Path
) -> None:
    telemetry = tmp_path / "data" / "telemetry.duckdb"
    telemetry.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(telemetry),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"

        applied = runner.invoke(app, ["log-metrics", "apply", str(rules)])
        listed = runner.invoke(app, ["log-metrics", "list"], env={"COLUMNS": "200"})
    finally:
        holder.communicate("", timeout=30)
    assert applied.exit_code == 0, applied.output
    assert "logs.sql_failures" in listed.output
