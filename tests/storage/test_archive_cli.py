"""`radiator archive run|list|restore`, run in-process with Typer's CliRunner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from archive_support import fill, live_count, make_settings, open_store
from typer.testing import CliRunner

from radiator.cli.main import app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose settings point at a temporary data directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RADIATOR_CONFIG", raising=False)
    monkeypatch.setenv("RADIATOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")  # keep Rich tables on one line per row
    return CliRunner()


def test_run_list_and_restore_through_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    now = datetime.now(UTC)
    store = open_store(settings)
    fill(store, now=now)
    logs = live_count(store, "logs")
    store.close()
    oldest = (now - timedelta(hours=4 * 119, minutes=7)).date()  # fill's oldest record

    empty = runner.invoke(app, ["archive", "list"])
    assert empty.exit_code == 0, empty.output
    assert "nothing archived yet" in empty.output

    run = runner.invoke(app, ["archive", "run"])
    assert run.exit_code == 0, run.output
    assert f"archived logs {oldest}" in run.output
    assert "archived spans" in run.output and "archived events" not in run.output

    listing = runner.invoke(app, ["archive", "list", "--table", "logs"])
    assert listing.exit_code == 0, listing.output
    rows = [line.split("│") for line in listing.output.splitlines() if "│ logs" in line]
    assert rows[0][2].strip() == oldest.isoformat()
    store = open_store(settings)
    archived = logs - live_count(store, "logs")
    store.close()
    assert sum(int(row[3].strip().replace(",", "")) for row in rows) == archived > 0
    assert "spans" not in listing.output

    restored = runner.invoke(
        app, ["archive", "restore", "logs", "--from", str(oldest), "--to", str(now.date())]
    )
    assert restored.exit_code == 0, restored.output
    assert f"logs {oldest}: restored" in restored.output
    again = runner.invoke(app, ["archive", "restore", "logs", "--from", str(oldest)])
    assert again.exit_code == 0, again.output
    assert f"logs {oldest}: already restored" in again.output

    store = open_store(settings)
    try:
        assert live_count(store, "logs") == logs
    finally:
        store.close()
    second = runner.invoke(app, ["archive", "run"])
    assert "nothing is past its retention" in second.output  # restored days are held


def test_commands_name_what_is_wrong(runner: CliRunner, tmp_path: Path) -> None:
    bad_date = runner.invoke(app, ["archive", "restore", "logs", "--from", "yesterday"])
    assert bad_date.exit_code == 1
    assert "--from must be a date" in bad_date.output
    nothing = runner.invoke(app, ["archive", "restore", "logs", "--from", "2024-01-01"])
    assert nothing.exit_code == 1
    assert "nothing of logs is archived" in nothing.output
    bad_table = runner.invoke(app, ["archive", "restore", "users", "--from", "2024-01-01"])
    assert bad_table.exit_code == 1
    assert "unknown table 'users'" in bad_table.output


def test_run_fails_and_keeps_rows_when_the_archive_cannot_be_written(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    monkeypatch.setenv("RADIATOR_ARCHIVE_DIR", str(blocker))
    settings = make_settings(tmp_path, archive_dir=str(blocker))
    store = open_store(settings)
    fill(store, now=datetime.now(UTC))
    logs = live_count(store, "logs")
    store.close()

    run = runner.invoke(app, ["archive", "run"])

    assert run.exit_code == 1
    assert "could not be archived; their rows were kept" in run.output
    store = open_store(settings)
    try:
        assert live_count(store, "logs") == logs
    finally:
        store.close()
