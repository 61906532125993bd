"""``radiator query``: run a metric query against a server and print the result."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from radiator.cli.common import console, fail

__all__ = ["query"]


def _post(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/api/v1/query",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
    except httpx.HTTPError as exc:
        fail(f"could not reach {url}: {exc}", "check --url and that `radiator serve` runs")
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        fail(f"query refused ({response.status_code}): {detail}")
    result: dict[str, Any] = response.json()
    return result


def _label_text(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def _last(values: list[float | None]) -> float | None:
    return next((v for v in reversed(values) if v is not None), None)


def query(
    expr: Annotated[str, typer.Argument(help="The query, e.g. 'sum by (service) (rate(x[5m]))'")],
    url: Annotated[
        str, typer.Option(envvar="RADIATOR_URL", help="Radiator's URL, e.g. http://host:8080.")
    ] = "http://127.0.0.1:8080",
    token: Annotated[
        str, typer.Option(envvar="RADIATOR_TOKEN", help="API token with the read scope.")
    ] = "",
    start: Annotated[str, typer.Option(help="Range start: RFC 3339, epoch s or now-6h")] = "now-1h",
    end: Annotated[str, typer.Option(help="Range end")] = "now",
    step: Annotated[str | None, typer.Option(help="Step, e.g. 30s; default from --width")] = None,
    width: Annotated[int, typer.Option(min=1, help="Points to aim for (auto step)")] = 120,
    instant: Annotated[bool, typer.Option(help="Evaluate once at --end")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON")] = False,
) -> None:
    """Evaluate a query (docs/query.md) over a range and print each series' latest value."""
    if not token:
        fail("an API token is needed", "pass --token or set RADIATOR_TOKEN (radiator token create)")
    body = {"expr": expr, "start": start, "end": end, "step": step, "width": width}
    body["instant"] = instant
    answer = _post(url, token, body)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    result = answer["results"][0]
    if result["type"] == "scalar":
        console.print(result["value"])
        return
    table = Table("series", "latest" if not instant else "value", "points")
    for series in result["series"]:
        values = series.get("values") or [series.get("value")]
        present = [v for v in values if v is not None]
        latest = _last(values)
        table.add_row(
            _label_text(series["labels"]),
            f"{latest:g}" if latest is not None else "-",
            str(len(present)),
        )
    console.print(table)
    if not result["series"]:
        console.print("no series matched (unknown metrics give an empty result)")
