"""`radiator log-metrics ...`: rules that count log records into metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from radiator.cli.common import console, err_console, fail, open_runtime, settings_or_exit
from radiator.core.caller import Caller
from radiator.errors import InvalidInputError, RadiatorError
from radiator.jobs.logmetrics import log_metric_service, read_rule_files, sync_rule_directory
from radiator.query.logmetrics_files import parse_rule_file

app = typer.Typer(
    help="Log metrics: rules counting log records into metrics (see docs/logs.md).",
    no_args_is_help=True,
)
_CLI = Caller("cli")


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
    with open_runtime(settings_or_exit()) as runtime:
        rules = log_metric_service(runtime).list_rules()
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
    with open_runtime(settings_or_exit()) as runtime:
        try:
            report = sync_rule_directory(log_metric_service(runtime), directory, _CLI)
        except InvalidInputError as exc:
            fail(exc.message)
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
    with open_runtime(settings_or_exit()) as runtime:
        try:
            log_metric_service(runtime).delete_rule(name, _CLI)
        except RadiatorError as exc:
            fail(exc.message)
    console.print(f"deleted log metric rule {name}")
