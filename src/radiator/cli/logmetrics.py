"""`radiator log-metrics ...`: rules that count log records into metrics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from radiator.audit import AuditLog
from radiator.cli.common import console, err_console, fail, settings_or_exit
from radiator.core.caller import Caller
from radiator.errors import InvalidInputError, RadiatorError
from radiator.jobs.files import read_rule_files
from radiator.jobs.logmetrics import sync_rule_directory
from radiator.query.logmetrics_files import parse_rule_file
from radiator.query.logmetrics_service import LogMetricService
from radiator.storage.state import Database, SqlAuditStore, SqlLogMetricStore

app = typer.Typer(
    help="Log metrics: rules counting log records into metrics (see docs/logs.md).",
    no_args_is_help=True,
)
_CLI = Caller("cli")


@contextmanager
def _service() -> Iterator[LogMetricService]:
    """The rules' service on the state database alone: unlike the telemetry store, which one
    process holds, it can be shared with a running server."""
    try:
        db = Database(settings_or_exit().resolved_state_dsn)
        db.upgrade()
    except RadiatorError as exc:
        fail(exc.message, "run `radiator doctor` to see what is wrong")
    try:
        yield LogMetricService(SqlLogMetricStore(db), AuditLog(SqlAuditStore(db)))
    except RadiatorError as exc:
        fail(exc.message)
    finally:
        db.close()


def _filters(services: list[str], levels: list[str], text: str | None) -> str:
    parts = []
    if services:
        parts.append("service=" + ",".join(services))
    if levels:
        parts.append("level=" + ",".join(levels))
    if text:
        parts.append(f"text={text!r}")
    return " ".join(parts)


@app.command("list")
def list_rules() -> None:
    """List the rules, where each comes from and how far it is counted."""
    with _service() as service:
        rules = service.list_rules()
    table = Table("name", "metric", "counts", "group by", "source", "counted until")
    for rule in rules:
        counts = _filters(rule.services, [str(v) for v in rule.levels], rule.text)
        if rule.pattern:
            counts += f" pattern={rule.pattern!r}"
        for key, value in sorted(rule.attributes.items()):
            counts += f" {key}={value}"
        until = rule.materialised_until
        table.add_row(
            rule.name,
            rule.metric,
            escape(counts.strip() or "every record"),
            ", ".join(rule.group_by),
            rule.source_file or "api",
            until.strftime("%Y-%m-%d %H:%M:%S") if until else "not yet",
        )
    console.print(table)


def _check_only(directory: Path) -> None:
    try:
        files = read_rule_files(directory)
    except InvalidInputError as exc:
        fail(exc.message)
    bad = 0
    for file in files:
        try:
            rules = parse_rule_file(file.path, file.text)
        except InvalidInputError as exc:
            err_console.print(f"[bold red]error:[/] {escape(exc.message)}", soft_wrap=True)
            bad += 1
            continue
        console.print(f"{escape(file.path)}: {len(rules)} rule(s) valid", soft_wrap=True)
    if bad:
        raise typer.Exit(1)


@app.command("apply")
def apply(
    directory: Annotated[Path, typer.Argument(help="Directory of *.yaml / *.yml rule files.")],
    check: Annotated[
        bool, typer.Option("--check", help="Only validate the files; change nothing.")
    ] = False,
) -> None:
    """Load the rule files of DIRECTORY: create, replace and delete rules to match them.

    A file with an error loads none of its rules (the others still load) and the command
    exits with status 1.
    """
    if check:
        _check_only(directory)
        return
    with _service() as service:
        report = sync_rule_directory(service, directory, _CLI)
    for label, names in (
        ("created", report.created),
        ("replaced", report.replaced),
        ("deleted", report.deleted),
        ("unchanged", report.unchanged),
    ):
        if names:
            console.print(f"{label}: {', '.join(names)}", soft_wrap=True)
    for error in report.errors:
        err_console.print(f"[bold red]error:[/] {escape(error)}", soft_wrap=True)
    if report.errors:
        raise typer.Exit(1)


@app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="The rule's name.")]) -> None:
    """Delete a rule made through the API or the CLI (file rules: remove them from the file)."""
    with _service() as service:
        service.delete_rule(name, _CLI)
    console.print(f"deleted log metric rule {name}")
