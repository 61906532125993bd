"""`radiator alert ...`: rules, apply a directory of rule files, backtests, alerts, silences.

Every command talks to a running server through the HTTP API (``--url``, ``--token`` or
``RADIATOR_URL``/``RADIATOR_TOKEN``): the embedded telemetry store cannot be opened by a
second process while ``radiator serve`` runs, and alerts live with the server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape
from rich.table import Table

from radiator.alerts import RULE_FILE_SUFFIXES, parse_rule_file
from radiator.alerts.models import parse_seconds
from radiator.cli.common import console, fail
from radiator.errors import InvalidInputError

__all__ = ["app"]

app = typer.Typer(help="Alert rules, backtests, alerts and silences.", no_args_is_help=True)
silence_app = typer.Typer(help="Silences: hold back matching alerts.", no_args_is_help=True)
app.add_typer(silence_app, name="silence")

Url = Annotated[
    str, typer.Option(envvar="RADIATOR_URL", help="Radiator's URL, e.g. http://host:8080.")
]
Token = Annotated[str, typer.Option(envvar="RADIATOR_TOKEN", help="API token (read/write).")]
Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
_URL = "http://127.0.0.1:8080"


def _call(url: str, token: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
    if not token:
        fail("an API token is needed", "pass --token or set RADIATOR_TOKEN (radiator token create)")
    try:
        response = httpx.request(
            method,
            f"{url.rstrip('/')}/api/v1{path}",
            json=body,
            params={k: v for k, v in params.items() if v is not None},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
    except httpx.HTTPError as exc:
        fail(f"could not reach {url}: {exc}", "check --url and that `radiator serve` runs")
    if response.status_code >= 400:
        try:
            problem = response.json()
            detail = problem.get("detail", response.text)
            fields = [e.get("field") for e in problem.get("errors") or [] if e.get("field")]
            if fields:
                detail = f"{detail} (field: {', '.join(fields)})"
        except ValueError:
            detail = response.text
        fail(f"refused ({response.status_code}): {detail}")
    return response.json() if response.content else None


def _show(data: Any) -> None:
    console.print_json(json.dumps(data))


@app.command("rules")
def rules(url: Url = _URL, token: Token = "", as_json: Json = False) -> None:
    """List alert rules with their state."""
    found = _call(url, token, "GET", "/alert-rules")
    if as_json:
        _show(found)
        return
    table = Table("rule", "owner", "kind", "severity", "state", "source")
    for rule in found:
        if rule["broken"]:
            state = f"[red]broken[/]: {escape(rule['broken_error'])}"
        elif not rule["enabled"]:
            state = "disabled"
        else:
            state = ", ".join(f"{n} {s}" for s, n in rule["open_alerts"].items()) or "ok"
        table.add_row(
            escape(rule["name"]),
            escape(rule["owner"]),
            rule["condition"]["kind"],
            rule["severity"],
            state,
            rule["source"],
        )
    console.print(table if found else "no alert rules yet")


@app.command("apply")
def apply(
    directory: Annotated[Path, typer.Argument(help="Directory of *.yaml rule files.")],
    url: Url = _URL,
    token: Token = "",
    dry_run: Annotated[bool, typer.Option(help="Only check the files.")] = False,
) -> None:
    """Create or update (through the API) every rule in DIRECTORY's YAML files.

    Rules applied this way are ordinary API rules; for rules kept read-only as code, set
    ``alert_rules_dir`` on the server instead (docs/alerting.md).
    """
    if not directory.is_dir():
        fail(f"{directory} is not a directory")
    found = []
    for path in sorted(directory.iterdir()):
        if path.suffix in RULE_FILE_SUFFIXES and path.is_file():
            try:
                found.extend(parse_rule_file(str(path), path.read_text("utf-8"), lambda r: r))
            except InvalidInputError as exc:
                fail(exc.message)
    if dry_run:
        console.print(f"{len(found)} rules look valid (the server also checks owners)")
        return
    existing = {rule["name"] for rule in _call(url, token, "GET", "/alert-rules")}
    for rule in found:
        body = rule.model_dump(mode="json")
        if rule.name in existing:
            del body["name"]
            _call(url, token, "PATCH", f"/alert-rules/{rule.name}", body)
            console.print(f"updated {escape(rule.name)}")
        else:
            _call(url, token, "POST", "/alert-rules", body)
            console.print(f"created {escape(rule.name)}")


@app.command("backtest")
def backtest(
    name: Annotated[str, typer.Argument(help="The rule's name.")],
    start: Annotated[str, typer.Option("--from", help="RFC 3339, epoch s or now-30d.")] = "now-7d",
    end: Annotated[str, typer.Option("--to", help="RFC 3339, epoch s or now.")] = "now",
    step: Annotated[str, typer.Option(help="Evaluation step, e.g. 1m.")] = "1m",
    url: Url = _URL,
    token: Token = "",
    as_json: Json = False,
) -> None:
    """When NAME would have fired over a past range, how often and for how long."""
    body = {"start": start, "end": end, "step": step}
    result = _call(url, token, "POST", f"/alert-rules/{name}/backtest", body)
    if as_json:
        _show(result)
        return
    console.print(
        f"{escape(name)}: {result['firings']} firings over {result['steps']} steps, "
        f"{result['total_seconds'] / 60:.1f} min in all, mean {result['mean_seconds'] / 60:.1f} "
        f"min, longest {result['longest_seconds'] / 60:.1f} min"
    )
    table = Table("fired (UTC)", "until", "minutes", "labels")
    for interval in result["intervals"]:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(interval["labels"].items()))
        table.add_row(
            interval["start"], interval["end"], f"{interval['duration_seconds'] / 60:.1f}", labels
        )
    if result["intervals"]:
        console.print(table)


@app.command("list")
def list_alerts(
    state: Annotated[list[str] | None, typer.Option(help="pending, firing, ...")] = None,
    url: Url = _URL,
    token: Token = "",
    as_json: Json = False,
) -> None:
    """List alerts, newest first (open ones unless --state says otherwise)."""
    states = state or ["pending", "firing", "acknowledged"]
    found = _call(url, token, "GET", "/alerts", state=states)
    if as_json:
        _show(found)
        return
    table = Table("id", "state", "rule", "summary", "since (UTC)")
    for alert in found:
        since = alert["fired_at"] or alert["started_at"]
        table.add_row(
            str(alert["id"]), alert["state"], escape(alert["rule"]), escape(alert["summary"]), since
        )
    console.print(table if found else "no alerts")


@app.command("ack")
def ack(alert_id: Annotated[int, typer.Argument()], url: Url = _URL, token: Token = "") -> None:
    """Acknowledge a firing alert."""
    alert = _call(url, token, "POST", f"/alerts/{alert_id}/ack")
    console.print(f"alert {alert_id} {alert['state']} by {escape(alert['acknowledged_by'])}")


@app.command("resolve")
def resolve(alert_id: Annotated[int, typer.Argument()], url: Url = _URL, token: Token = "") -> None:
    """Resolve an alert."""
    alert = _call(url, token, "POST", f"/alerts/{alert_id}/resolve")
    console.print(f"alert {alert_id} {alert['state']}")


@app.command("note")
def note(
    alert_id: Annotated[int, typer.Argument()],
    text: Annotated[str, typer.Argument()],
    url: Url = _URL,
    token: Token = "",
) -> None:
    """Add a note to an alert."""
    _call(url, token, "POST", f"/alerts/{alert_id}/notes", {"text": text})
    console.print(f"note added to alert {alert_id}")


def _matcher(text: str) -> dict[str, str]:
    for op in ("=~", "!~", "!=", "="):
        label, found, value = text.partition(op)
        if found and label:
            return {"label": label.strip(), "op": op, "value": value.strip().strip('"')}
    fail(f"--match {text!r} must be label=value (or !=, =~, !~)")


@silence_app.command("create")
def silence_create(
    match: Annotated[list[str], typer.Option("--match", "-m", help="e.g. service=checkout")],
    duration: Annotated[str, typer.Option("--for", help="e.g. 2h")] = "1h",
    comment: Annotated[str, typer.Option(help="Why.")] = "",
    url: Url = _URL,
    token: Token = "",
) -> None:
    """Silence alerts matching every --match for a while."""
    try:
        seconds = parse_seconds(duration)
    except ValueError as exc:
        fail(f"--for {exc}")
    ends = datetime.now(UTC) + timedelta(seconds=seconds)
    body = {
        "matchers": [_matcher(m) for m in match],
        "ends_at": ends.isoformat(),
        "comment": comment,
    }
    silence = _call(url, token, "POST", "/silences", body)
    console.print(f"silence {silence['id']} until {silence['ends_at']}")


@silence_app.command("list")
def silence_list(url: Url = _URL, token: Token = "", as_json: Json = False) -> None:
    """List active silences."""
    found = _call(url, token, "GET", "/silences", active="true")
    if as_json:
        _show(found)
        return
    for silence in found:
        matchers = " ".join(f"{m['label']}{m['op']}{m['value']}" for m in silence["matchers"])
        console.print(f"{silence['id']}: {escape(matchers)} until {silence['ends_at']}")
    if not found:
        console.print("no active silences")


@silence_app.command("expire")
def silence_expire(
    silence_id: Annotated[int, typer.Argument()], url: Url = _URL, token: Token = ""
) -> None:
    """End a silence now."""
    _call(url, token, "DELETE", f"/silences/{silence_id}")
    console.print(f"silence {silence_id} ended")
