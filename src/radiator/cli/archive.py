"""`radiator archive ...`: the Parquet archive and retention from the command line.

These commands open the telemetry store themselves, so they run while `radiator serve`
is stopped (DuckDB lets one process open its file); a running server enforces retention
with its own background job.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from radiator.cli.common import console, fail, open_runtime, settings_or_exit
from radiator.storage.telemetry.retention import Retention, RetentionReport

__all__ = ["app"]

app = typer.Typer(
    help="List, restore and enforce the telemetry archive (docs/retention.md).",
    no_args_is_help=True,
)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover - the loop always returns


@app.command("list")
def list_partitions(
    table: Annotated[str | None, typer.Option(help="Only this table (e.g. logs).")] = None,
) -> None:
    """Show the archived days: table, date, rows, size, files, when archived and restored."""
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        retention = Retention(runtime.telemetry, settings)
        parts = retention.partitions(table)
        root = retention.root
    if not parts:
        console.print(f"nothing archived yet in {root}")
        return
    grid = Table(title=f"Archive in {root}")
    for name in ("table", "date", "rows", "size", "files"):
        right = name in ("rows", "size", "files")
        grid.add_column(name, justify="right" if right else "left", no_wrap=True)
    grid.add_column("archived (UTC)")
    grid.add_column("restored (UTC)")
    for part in parts:
        grid.add_row(
            part.table,
            part.day.isoformat(),
            f"{part.rows:,}",
            _size(part.bytes),
            str(len(part.files)),
            part.archived_at.strftime("%Y-%m-%d %H:%M"),
            part.restored_at.strftime("%Y-%m-%d %H:%M") if part.restored_at else "",
        )
    console.print(grid)


@app.command("restore")
def restore(
    table: Annotated[str, typer.Argument(help="Table to restore: points, logs, spans, ...")],
    first: Annotated[str, typer.Option("--from", help="First UTC day to restore, YYYY-MM-DD.")],
    last: Annotated[
        str | None, typer.Option("--to", help="Last UTC day (inclusive); default --from.")
    ] = None,
) -> None:
    """Copy archived days back into the live table (restoring twice adds nothing)."""
    start = _day(first, "--from")
    end = _day(last, "--to") if last is not None else start
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        done = Retention(runtime.telemetry, settings).restore(table, start, end)
    for part, rows in done:
        state = f"restored {rows:,} rows" if rows else "already restored"
        console.print(f"{part.table} {part.day}: {state}")


@app.command("run")
def run() -> None:
    """Enforce retention now: archive (then delete) every day past its retention."""
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        report = Retention(runtime.telemetry, settings).enforce()
    _print_report(report)
    if report.errors:
        fail(
            f"{len(report.errors)} day(s) could not be archived; their rows were kept",
            "check that archive_dir is a writable directory",
        )


def _print_report(report: RetentionReport) -> None:
    for part in report.archived:
        console.print(f"archived {part.table} {part.day} ({part.rows:,} rows)")
    for table, day, rows in report.deleted:
        console.print(f"deleted {table} {day} ({rows:,} rows, not archived)")
    for table in report.held:
        console.print(
            f"[yellow]kept {table}:[/] past retention, but archive_enabled is off and "
            "retention_delete_unarchived is not set"
        )
    for table in report.waiting:
        console.print(f"[yellow]waiting {table}:[/] past retention, but not rolled up yet")
    for error in report.errors:
        console.print(f"[red]failed[/] {error}")
    if not (report.archived or report.deleted or report.held or report.waiting or report.errors):
        console.print("nothing is past its retention")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be a date like 2024-05-01, not {text!r}")
