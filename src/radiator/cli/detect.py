"""`radiator detect ...`: run anomaly detectors on a file, list them, measure them."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from radiator.cli.common import console, fail
from radiator.detect import DEFAULT_DETECTOR, DETECTORS, detector_parameters, make_detector
from radiator.detect.evaluation import (
    OVERALL_HEADER,
    evaluate,
    kind_rows,
    overall_rows,
    report_markdown,
    standard_detectors,
)
from radiator.detect.synthetic import generate_suite
from radiator.errors import InvalidInputError

__all__ = ["app", "parse_series"]

app = typer.Typer(
    help="Anomaly detectors: score a series, list them, evaluate them.", no_args_is_help=True
)

_TIME_COLUMNS = ("time", "timestamp", "ts", "t")


def _number(text: Any) -> float:
    if text is None or (isinstance(text, str) and not text.strip()):
        return math.nan
    try:
        return float(text)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"not a number: {text!r}", field="values") from exc


def _time(text: Any) -> float:
    if isinstance(text, int | float):
        return float(text)
    try:
        return float(text)
    except (TypeError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(f"not a time: {text!r}", field="times") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _from_json(data: Any, column: str) -> tuple[list[float], list[float] | None]:
    if isinstance(data, dict):
        values = [_number(v) for v in data.get("values", [])]
        times = data.get("times")
        return values, None if times is None else [_time(t) for t in times]
    if not isinstance(data, list):
        raise InvalidInputError("JSON must be a list or {values, times}", field="values")
    if data and isinstance(data[0], dict):
        values = [_number(row.get(column)) for row in data]
        key = next((k for k in _TIME_COLUMNS if k in data[0]), None)
        return values, None if key is None else [_time(row.get(key)) for row in data]
    return [_number(v) for v in data], None


def _from_csv(text: str, column: str) -> tuple[list[float], list[float] | None]:
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    if not rows:
        return [], None
    header = [cell.strip().lower() for cell in rows[0]]
    try:
        [_number(cell) for cell in rows[0][-1:]]
        has_header = False
    except InvalidInputError:
        has_header = True
    if has_header:
        if column not in header:
            raise InvalidInputError(f"no column {column!r} in {header}", field="column")
        vi = header.index(column)
        ti = next((header.index(k) for k in _TIME_COLUMNS if k in header), None)
        body = rows[1:]
    else:
        vi, ti, body = len(rows[0]) - 1, (0 if len(rows[0]) > 1 else None), rows
    values = [_number(row[vi] if vi < len(row) else "") for row in body]
    return values, None if ti is None else [_time(row[ti]) for row in body]


def parse_series(text: str, column: str = "value") -> tuple[list[float], list[float] | None]:
    """Values (and times, if given) from JSON or CSV text; see ``radiator detect score``."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"bad JSON: {exc}", field="values") from exc
        return _from_json(data, column)
    return _from_csv(text, column)


def _params(items: list[str]) -> dict[str, str]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--param {item!r} is not name=value", "for example --param window=120")
        params[key.strip()] = value.strip()
    return params


def _when(time: float | None) -> str:
    if time is None:
        return ""
    return datetime.fromtimestamp(time, UTC).strftime("%Y-%m-%d %H:%M:%S")


@app.command("score")
def score(
    source: Annotated[
        Path | None, typer.Argument(help="CSV or JSON file of values; '-' or none reads stdin.")
    ] = None,
    detector: Annotated[
        str, typer.Option("--detector", "-d", help="Detector name.")
    ] = DEFAULT_DETECTOR,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Detector parameter name=value.")
    ] = None,
    label: Annotated[str, typer.Option(help="Metric name used in the reasons.")] = "value",
    unit: Annotated[str, typer.Option(help="Unit used in the reasons (ms, req/s, ...).")] = "",
    column: Annotated[
        str, typer.Option(help="CSV column or JSON key holding the values.")
    ] = "value",
    as_json: Annotated[bool, typer.Option("--json", help="Print flagged points as JSON.")] = False,
    limit: Annotated[
        int, typer.Option(help="Print at most this many flagged points (0: all).", min=0)
    ] = 200,
) -> None:
    """Score a series and print the flagged points with their reasons.

    Input: JSON (a list of numbers, a list of {"time", "value"} objects, or
    {"values": [...], "times": [...]}) or CSV (a `value` column and optionally
    `time`/`timestamp`; without a header, one column of values or `time,value`). Times are
    epoch seconds or ISO 8601. Empty cells and `nan` are missing values.
    """
    try:
        text = sys.stdin.read() if source is None or str(source) == "-" else source.read_text()
    except OSError as exc:
        fail(f"cannot read {source}: {exc}")
    try:
        values, times = parse_series(text, column.lower())
        det = make_detector(detector, label=label, unit=unit, **_params(param or []))
        result = det.score(values, times)
    except InvalidInputError as exc:
        fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
    flagged = result.anomalies()
    if as_json:
        rows = [a.__dict__ for a in flagged]
        print(json.dumps({"detector": detector, "points": len(values), "anomalies": rows}))
        return
    table = Table("index", "time", "value", "score", "reason", title=f"{detector}: flagged points")
    for a in flagged[: limit or None]:
        table.add_row(str(a.index), _when(a.time), f"{a.value:.4g}", f"{a.score:.2f}", a.reason)
    console.print(table)
    if limit and len(flagged) > limit:
        console.print(f"… {len(flagged) - limit} more (--limit 0 prints all)")
    console.print(f"{len(values)} points, {len(flagged)} flagged by {detector}")


@app.command("list")
def list_detectors() -> None:
    """List the detectors, their parameters and defaults; the default detector is marked."""
    table = Table("detector", "parameters (defaults)")
    for name in DETECTORS:
        params = detector_parameters(name)
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items() if k not in ("label", "unit"))
        table.add_row(f"{name} (default)" if name == DEFAULT_DETECTOR else name, shown)
    console.print(table)


@app.command("evaluate")
def evaluate_command(
    seed: Annotated[int, typer.Option(help="Seed of the generated labelled series.")] = 1,
    per_case: Annotated[int, typer.Option(help="Series per baseline and anomaly type.", min=1)] = 3,
    detectors: Annotated[str, typer.Option(help="Comma-separated detectors (default: all).")] = "",
    markdown: Annotated[bool, typer.Option(help="Print Markdown tables (for the docs).")] = False,
) -> None:
    """Measure precision, recall, F1 and detection delay on generated labelled series."""
    names = [n.strip() for n in detectors.split(",") if n.strip()]
    unknown = [n for n in names if n not in DETECTORS]
    if unknown:
        fail(f"unknown detector {unknown[0]!r}", f"choose from {', '.join(DETECTORS)}")
    suite = generate_suite(seed, per_case=per_case)
    report = evaluate(standard_detectors(names), suite)
    if markdown:
        print(f"Generated with `radiator detect evaluate --seed {seed} --per-case {per_case}`:")
        print(f"{len(suite)} series, {sum(len(s.windows) for s in suite)} anomalies.\n")
        print(report_markdown(report))
        return
    table = Table(*OVERALL_HEADER, title=f"Overall ({len(suite)} series, seed {seed})")
    for row in overall_rows(report):
        table.add_row(*row)
    console.print(table)
    kinds, rows = kind_rows(report, "f1")
    by_kind = Table("detector", *kinds, title="F1 by anomaly type")
    for row in rows:
        by_kind.add_row(*row)
    console.print(by_kind)
    console.print(f"best overall F1: [bold]{report.best()}[/] (default: {DEFAULT_DETECTOR})")
