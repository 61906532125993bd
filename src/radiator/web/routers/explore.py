"""Reading events, logs and traces: search, paging, trace assembly and dependencies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from radiator.core.telemetry import (
    DependencyEdge,
    EventFilter,
    EventRow,
    LevelCount,
    LogFilter,
    LogRow,
    SpanFilter,
    SpanRow,
)
from radiator.core.types import LogLevel, SpanStatus, TimeRange, utc
from radiator.errors import InvalidInputError
from radiator.query.events import MAX_EVENTS, search_events
from radiator.query.logs import (
    MAX_LOGS,
    decode_cursor,
    level_counts,
    levels_at_least,
    search_logs,
)
from radiator.query.traces import MAX_SPANS, dependencies, get_trace, search_spans
from radiator.web.deps import Reader, RuntimeDep
from radiator.web.errors import problem_responses

__all__ = ["router"]

router = APIRouter(tags=["explore"])

_DEFAULT_WINDOW = timedelta(hours=1)
_ATTR_PREFIX = "attr."
_MAX_ATTR_FILTERS = 20

Start = Annotated[
    datetime | None, Query(description="Range start (RFC 3339); default one hour before end")
]
End = Annotated[datetime | None, Query(description="Range end, exclusive; default now")]
Services = Annotated[list[str] | None, Query(alias="service", description="Repeatable")]


class EventRead(BaseModel):
    time: datetime
    kind: str
    service: str
    environment: str
    title: str
    actor: str
    attributes: dict[str, Any]
    links: list[str]


class LogRead(BaseModel):
    time: datetime
    service: str
    level: str
    message: str
    attributes: dict[str, Any]
    trace_id: str
    span_id: str


class LogPageRead(BaseModel):
    records: list[LogRead]
    next_cursor: str | None


class LevelCountRead(BaseModel):
    time: datetime
    service: str
    level: str
    count: int


class SpanRead(BaseModel):
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    name: str
    start: datetime
    duration_ms: float
    status: str
    attributes: dict[str, Any]


class TraceSpanRead(SpanRead):
    depth: int


class TraceRead(BaseModel):
    trace_id: str
    spans: list[TraceSpanRead]
    truncated: bool


class DependencyRead(BaseModel):
    caller: str
    callee: str
    requests: int
    errors: int
    error_rate: float
    p50_ms: float
    p95_ms: float


def _utc(moment: datetime, name: str) -> datetime:
    try:
        return utc(moment)
    except ValueError as exc:
        raise InvalidInputError(f"{name} is out of range: {exc}", field=name) from exc


def _range(start: datetime | None, end: datetime | None) -> TimeRange:
    until = _utc(end, "end") if end is not None else datetime.now(UTC)
    try:
        since = _utc(start, "start") if start is not None else until - _DEFAULT_WINDOW
    except OverflowError as exc:
        raise InvalidInputError("end is too early for the default start", field="end") from exc
    if until <= since:
        raise InvalidInputError("end must be after start", field="end")
    return TimeRange(since, until)


def _attribute_filters(request: Request) -> tuple[tuple[str, str], ...]:
    pairs = tuple(
        (key.removeprefix(_ATTR_PREFIX), value)
        for key, value in request.query_params.multi_items()
        if key.startswith(_ATTR_PREFIX)
    )
    if len(pairs) > _MAX_ATTR_FILTERS:
        raise InvalidInputError(
            f"at most {_MAX_ATTR_FILTERS} attribute filters", field=_ATTR_PREFIX + "*"
        )
    return pairs


def _event(row: EventRow) -> EventRead:
    return EventRead(
        time=row.time,
        kind=row.kind,
        service=row.service,
        environment=row.environment,
        title=row.title,
        actor=row.actor,
        attributes=row.attributes,
        links=list(row.links),
    )


def _log(row: LogRow) -> LogRead:
    return LogRead(
        time=row.time,
        service=row.service,
        level=row.level,
        message=row.message,
        attributes=row.attributes,
        trace_id=row.trace_id,
        span_id=row.span_id,
    )


def _span_fields(row: SpanRow) -> dict[str, Any]:
    return {
        "trace_id": row.trace_id,
        "span_id": row.span_id,
        "parent_id": row.parent_id or None,
        "service": row.service,
        "name": row.name,
        "start": row.start,
        "duration_ms": row.duration_ms,
        "status": row.status,
        "attributes": row.attributes,
    }


def _level_count(row: LevelCount) -> LevelCountRead:
    return LevelCountRead(time=row.time, service=row.service, level=row.level, count=row.count)


def _edge(edge: DependencyEdge) -> DependencyRead:
    return DependencyRead(
        caller=edge.caller,
        callee=edge.callee,
        requests=edge.requests,
        errors=edge.errors,
        error_rate=edge.error_rate,
        p50_ms=edge.p50_ms,
        p95_ms=edge.p95_ms,
    )


@router.get("/events", summary="Search events, newest first")
def list_events(
    _: Reader,
    runtime: RuntimeDep,
    start: Start = None,
    end: End = None,
    kind: Annotated[list[str] | None, Query(description="Repeatable")] = None,
    service: Services = None,
    environment: str | None = None,
    q: Annotated[str | None, Query(description="Text in the title or attributes")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 100,
    dependencies: Annotated[
        bool, Query(description="Also events of the services these depend on (from spans)")
    ] = False,
) -> list[EventRead]:
    query = EventFilter(
        range=_range(start, end),
        kinds=tuple(kind or ()),
        services=tuple(service or ()),
        environment=environment,
        text=q or None,
        limit=limit,
    )
    rows = search_events(runtime.telemetry, query, with_dependencies=dependencies)
    return [_event(row) for row in rows]


@router.get(
    "/logs",
    summary="Search log records, newest first, paged by cursor",
    description="Filter on attributes with `attr.<key>=<value>` parameters (repeatable).",
)
def list_logs(
    _: Reader,
    request: Request,
    runtime: RuntimeDep,
    start: Start = None,
    end: End = None,
    service: Services = None,
    level: Annotated[list[LogLevel] | None, Query(description="Repeatable")] = None,
    min_level: LogLevel | None = None,
    q: Annotated[str | None, Query(description="Text in the message")] = None,
    trace_id: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LOGS)] = 100,
) -> LogPageRead:
    levels = {str(item) for item in level or ()}
    if min_level is not None:
        allowed = set(levels_at_least(min_level))
        levels = levels & allowed if levels else allowed
        if not levels:
            return LogPageRead(records=[], next_cursor=None)
    query = LogFilter(
        range=_range(start, end),
        services=tuple(service or ()),
        levels=tuple(sorted(levels)),
        attributes=_attribute_filters(request),
        text=q or None,
        trace_id=trace_id,
        limit=limit,
        after=decode_cursor(cursor) if cursor is not None else None,
    )
    page = search_logs(runtime.telemetry, query)
    return LogPageRead(records=[_log(r) for r in page.records], next_cursor=page.next_cursor)


@router.get("/logs/levels", summary="Log record counts by level per service per interval")
def list_log_levels(
    _: Reader,
    runtime: RuntimeDep,
    start: Start = None,
    end: End = None,
    step: Annotated[int, Query(ge=1, le=366 * 86400, description="Bucket width, seconds")] = 60,
) -> list[LevelCountRead]:
    rows = level_counts(runtime.telemetry, _range(start, end), timedelta(seconds=step))
    return [_level_count(row) for row in rows]


@router.get(
    "/traces/{trace_id}",
    summary="One trace: all spans ordered by start, with parent links and depth",
    responses=problem_responses(404),
)
def read_trace(_: Reader, trace_id: str, runtime: RuntimeDep) -> TraceRead:
    trace = get_trace(runtime.telemetry, trace_id)
    spans = [TraceSpanRead(**_span_fields(s.span), depth=s.depth) for s in trace.spans]
    return TraceRead(trace_id=trace.trace_id, spans=spans, truncated=trace.truncated)


@router.get(
    "/spans",
    summary="Search spans, newest first",
    description="Filter on attributes with `attr.<key>=<value>` parameters (repeatable).",
)
def list_spans(
    _: Reader,
    request: Request,
    runtime: RuntimeDep,
    start: Start = None,
    end: End = None,
    service: Services = None,
    name: str | None = None,
    status: SpanStatus | None = None,
    min_duration_ms: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
    max_duration_ms: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SPANS)] = 100,
) -> list[SpanRead]:
    query = SpanFilter(
        range=_range(start, end),
        services=tuple(service or ()),
        name=name,
        status=str(status) if status is not None else None,
        min_duration_ms=min_duration_ms,
        max_duration_ms=max_duration_ms,
        attributes=_attribute_filters(request),
        limit=limit,
    )
    return [SpanRead(**_span_fields(row)) for row in search_spans(runtime.telemetry, query)]


@router.get("/dependencies", summary="Service dependency edges derived from spans")
def list_dependencies(
    _: Reader, runtime: RuntimeDep, start: Start = None, end: End = None
) -> list[DependencyRead]:
    return [_edge(edge) for edge in dependencies(runtime.telemetry, _range(start, end))]
