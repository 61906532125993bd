"""The Traces pages: span search, and one trace as a waterfall with span details and logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from radiator.core.telemetry import LogFilter, SpanFilter, SpanRow
from radiator.core.types import SpanStatus, TimeRange
from radiator.errors import InvalidInputError, NotFoundError
from radiator.query.logs import MAX_LOGS, search_logs
from radiator.query.traces import MAX_SPANS, TraceSpan, get_trace, search_spans
from radiator.web.deps import RuntimeDep
from radiator.web.ui.common import page_user, parse_range, render, service_colour, to_login

__all__ = ["WaterfallRow", "router", "waterfall"]

router = APIRouter(include_in_schema=False)

# Logs of a trace are looked for this far around its spans (clocks of services drift).
_LOG_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class WaterfallRow:
    """A span placed on the trace's time axis: offset and width in percent of the trace."""

    span: SpanRow
    depth: int
    offset_ms: float
    left: float
    width: float
    colour: str


def _tree_order(spans: list[TraceSpan]) -> list[TraceSpan]:
    """Spans depth-first from each root, children by start, so each sits under its parent."""
    ids = {s.span.span_id for s in spans}
    children: dict[str, list[TraceSpan]] = {}
    roots: list[TraceSpan] = []
    for item in spans:  # already ordered by start
        parent = item.span.parent_id
        if parent and parent in ids and parent != item.span.span_id:
            children.setdefault(parent, []).append(item)
        else:
            roots.append(item)
    ordered: list[TraceSpan] = []
    seen: set[str] = set()
    stack = list(reversed(roots))
    while stack:
        item = stack.pop()
        if item.span.span_id in seen:
            continue
        seen.add(item.span.span_id)
        ordered.append(item)
        stack.extend(reversed(children.get(item.span.span_id, [])))
    # Spans in a parent cycle are reachable from no root: still show them, at the end.
    ordered.extend(s for s in spans if s.span.span_id not in seen)
    return ordered


def waterfall(spans: list[TraceSpan]) -> tuple[list[WaterfallRow], float]:
    """The waterfall rows of a trace's spans and the trace's total duration in ms."""
    if not spans:
        return [], 0.0
    begin = min(s.span.start for s in spans)
    finish = max(s.span.start + timedelta(milliseconds=s.span.duration_ms) for s in spans)
    total = max((finish - begin).total_seconds() * 1000, 0.001)
    rows = []
    for item in _tree_order(spans):
        offset = (item.span.start - begin).total_seconds() * 1000
        rows.append(
            WaterfallRow(
                span=item.span,
                depth=item.depth,
                offset_ms=offset,
                left=offset / total * 100,
                width=max(item.span.duration_ms / total * 100, 0.15),
                colour=service_colour(item.span.service),
            )
        )
    return rows, total


def _float_or_none(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise InvalidInputError(f"{field} must be a number of milliseconds", field=field) from exc
    if not 0 <= value < float("inf"):
        raise InvalidInputError(f"{field} must be zero or more", field=field)
    return value


def _status(text: str) -> str | None:
    if not text:
        return None
    try:
        return str(SpanStatus(text))
    except ValueError as exc:
        raise InvalidInputError(f"unknown status {text!r}", field="status") from exc


@router.get("/traces", response_class=HTMLResponse)
def traces_page(
    request: Request,
    runtime: RuntimeDep,
    service: str = "",
    name: Annotated[str, Query(max_length=500)] = "",
    min_ms: Annotated[str, Query(max_length=32)] = "",
    max_ms: Annotated[str, Query(max_length=32)] = "",
    status: str = "",
    start: Annotated[str, Query(max_length=64)] = "now-1h",
    end: Annotated[str, Query(max_length=64)] = "now",
) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    error = ""
    spans: list[SpanRow] = []
    try:
        query = SpanFilter(
            range=parse_range(start, end).range,
            services=(service,) if service else (),
            name=name or None,
            status=_status(status),
            min_duration_ms=_float_or_none(min_ms, "min_ms"),
            max_duration_ms=_float_or_none(max_ms, "max_ms"),
            limit=MAX_SPANS // 5,
        )
        spans = search_spans(runtime.telemetry, query)
    except InvalidInputError as exc:
        error = str(exc)
    form = {"service": service, "name": name, "min_ms": min_ms, "max_ms": max_ms}
    return render(
        request,
        "traces.html",
        user,
        status_code=400 if error else 200,
        spans=spans,
        form={**form, "status": status, "start": start, "end": end},
        statuses=[str(s) for s in SpanStatus],
        services=sorted(s.name for s in runtime.catalog.list_services()),
        error=error,
    )


@router.get("/traces/{trace_id}", response_class=HTMLResponse)
def trace_page(
    request: Request,
    runtime: RuntimeDep,
    trace_id: Annotated[str, Path(max_length=128)],
) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    try:
        trace = get_trace(runtime.telemetry, trace_id)
    except NotFoundError:
        return render(request, "trace.html", user, status_code=404, trace=None, trace_id=trace_id)
    rows, total = waterfall(trace.spans)
    first = min(r.span.start for r in rows)
    window = TimeRange(first - _LOG_MARGIN, first + timedelta(milliseconds=total) + _LOG_MARGIN)
    logs = search_logs(runtime.telemetry, LogFilter(window, trace_id=trace_id, limit=MAX_LOGS))
    return render(
        request,
        "trace.html",
        user,
        trace=trace,
        trace_id=trace_id,
        rows=rows,
        total_ms=total,
        start=first,
        services=sorted({r.span.service for r in rows}),
        errors=sum(1 for r in rows if r.span.status == SpanStatus.ERROR),
        ticks=[(p, total * p / 100) for p in (0, 25, 50, 75, 100)],
        logs=logs.records,
        span_names={r.span.span_id: r.span.name for r in rows},
    )
