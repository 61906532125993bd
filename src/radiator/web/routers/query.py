"""Metric queries: POST /api/v1/query (range, instant, several at once) and discovery."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, model_validator

from radiator.core.types import TimeRange
from radiator.errors import InvalidInputError
from radiator.query.service import QueryOutcome, RangeSpec, parse_duration, parse_time
from radiator.web.deps import Reader, RuntimeDep
from radiator.web.errors import problem_responses

__all__ = ["QueryResultRead", "range_spec", "result_json", "result_read", "router"]

router = APIRouter(tags=["query"])

_MAX_QUERIES = 50
_DISCOVERY_WINDOW = timedelta(days=1)
TimeValue = str | float


class QueryItem(BaseModel):
    id: str = Field("A", min_length=1, max_length=64, description="Echoed in the result")
    expr: str = Field(min_length=1, max_length=65536, description="A query (docs/query.md)")


class QueryRequest(BaseModel):
    """A range query over [start, end] (or an instant query at ``end``)."""

    queries: list[QueryItem] | None = Field(None, max_length=_MAX_QUERIES)
    expr: str | None = Field(None, min_length=1, max_length=65536)
    start: TimeValue | None = Field(
        None, description="RFC 3339, epoch s, or now-6h; default end-1h"
    )
    end: TimeValue | None = Field(None, description="RFC 3339, epoch s, or now; default now")
    step: TimeValue | None = Field(None, description="Seconds or 30s/1m; default from width")
    width: int = Field(1000, ge=1, le=20000, description="Pixels to draw, for the auto step")
    instant: bool = Field(False, description="Evaluate once, at end")

    @model_validator(mode="after")
    def _one_form(self) -> QueryRequest:
        if (self.queries is None) == (self.expr is None):
            raise ValueError("give either expr or queries (a list of {id, expr})")
        if self.queries is not None and len({q.id for q in self.queries}) != len(self.queries):
            raise ValueError("query ids must be distinct")
        return self


class QueryErrorRead(BaseModel):
    title: str
    detail: str
    code: str
    line: int | None = None
    column: int | None = None


class SeriesRead(BaseModel):
    labels: dict[str, str]
    values: list[float | None] | None = None
    value: float | None = None
    times: list[float] | None = None


class QueryResultRead(BaseModel):
    id: str
    expr: str
    type: str
    times: list[float] | None = None
    time: float | None = None
    series: list[SeriesRead] = []
    value: float | None = None
    error: QueryErrorRead | None = None
    warnings: list[str] = []


class QueryResponse(BaseModel):
    start: float
    end: float
    step: float | None
    results: list[QueryResultRead]


class NamesRead(BaseModel):
    data: list[str]


def _finite(value: float | None) -> float | None:
    # JSON has no infinity; an infinite value reads as "no value" here (the Prometheus API
    # under /prometheus returns it as "+Inf").
    return value if value is not None and math.isfinite(value) else None


def result_json(outcome: QueryOutcome, instant: bool) -> dict[str, Any]:
    """The API shape of one query's outcome (``QueryResultRead``) as plain data.

    Series values are passed through as they are: NaN and infinities become ``null`` when
    encoded (orjson, and pydantic's JSON both do so), which saves a Python pass over every
    value of a large answer.
    """
    result: dict[str, Any] = {
        "id": outcome.id,
        "expr": outcome.expr,
        "type": outcome.type,
        "times": None,
        "time": None,
        "series": [],
        "value": None,
        "error": None,
        "warnings": [],
    }
    if outcome.error is not None:
        details = outcome.error.details
        result["type"] = "error"
        result["error"] = {
            "title": "Invalid query" if outcome.error.code != "query_timeout" else "Timeout",
            "detail": outcome.error.message,
            "code": outcome.error.code,
            "line": details.get("line"),
            "column": details.get("column"),
        }
        return result
    at = outcome.times[-1] if outcome.times else None
    if outcome.type == "scalar":
        result.update(time=at, value=_finite(outcome.value))
        return result
    result["series"] = [
        {
            "labels": s.labels,
            "values": None,
            "value": _finite(s.values[-1]) if s.values else None,
            "times": None,
        }
        if instant and s.times is None
        else {"labels": s.labels, "values": s.values, "value": None, "times": s.times}
        for s in outcome.series
    ]
    result.update(
        times=None if instant else outcome.times,
        time=at if instant else None,
        warnings=outcome.warnings,
    )
    return result


def result_read(outcome: QueryOutcome, instant: bool) -> QueryResultRead:
    """``result_json`` as the model (for responses that embed it, e.g. dashboard data)."""
    return QueryResultRead.model_validate(result_json(outcome, instant))


def range_spec(
    runtime: RuntimeDep,
    start: TimeValue | None,
    end: TimeValue | None,
    step: TimeValue | None,
    width: int,
    instant: bool = False,
) -> RangeSpec:
    """The evaluation range of a request: times parsed, defaults applied, order checked."""
    now = runtime.query.now()
    until = parse_time(end, now, "end")
    since = parse_time(start, now, "start") if start is not None else until - timedelta(hours=1)
    seconds = parse_duration(step, "step") if step is not None else None
    if not instant and until < since:
        raise InvalidInputError("end must not be before start", field="end")
    return RangeSpec(since, until, seconds, width, instant)


@router.post(
    "/query",
    response_model=QueryResponse,
    responses=problem_responses(400, 401, 403, 422, 503),
    summary="Evaluate metric queries over a range (or at one instant)",
)
def run_query(body: QueryRequest, runtime: RuntimeDep, _: Reader) -> Response:
    spec = range_spec(runtime, body.start, body.end, body.step, body.width, body.instant)
    grid = spec.grid()
    if body.expr is not None:
        outcomes = [runtime.query.run(body.expr, spec)]
    else:
        assert body.queries is not None
        outcomes = runtime.query.run_many([(q.id, q.expr) for q in body.queries], spec)
    # Encoded here rather than through the response model: a dashboard's answer holds
    # hundreds of thousands of values, and validating each again costs more than the JSON.
    answer = {
        "start": grid.start_us / 1_000_000,
        "end": grid.end_us / 1_000_000,
        "step": None if body.instant else grid.step_us / 1_000_000,
        "results": [result_json(o, body.instant) for o in outcomes],
    }
    return Response(orjson.dumps(answer), media_type="application/json")


def _window(hours: float) -> TimeRange:
    return TimeRange.last(timedelta(hours=hours))


Lookback = Annotated[float, Query(ge=0.01, le=24 * 400, description="Hours of history to search")]


@router.get(
    "/metric-names",
    response_model=NamesRead,
    responses=problem_responses(401, 403, 422),
    summary="Metric names starting with a prefix (autocomplete)",
)
def metric_names(
    runtime: RuntimeDep,
    _: Reader,
    prefix: Annotated[str, Query(max_length=256)] = "",
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
) -> NamesRead:
    return NamesRead(data=runtime.query.metric_names(prefix, limit))


@router.get(
    "/tag-names",
    response_model=NamesRead,
    responses=problem_responses(401, 403, 422),
    summary="Tag keys of a metric's series (or of all series)",
)
def tag_names(
    runtime: RuntimeDep,
    _: Reader,
    metric: Annotated[str | None, Query(max_length=256)] = None,
    hours: Lookback = 24,
) -> NamesRead:
    return NamesRead(data=runtime.query.tag_names(metric, _window(hours)))


@router.get(
    "/tag-values/{tag}",
    response_model=NamesRead,
    responses=problem_responses(401, 403, 422),
    summary="Values of one tag, optionally of one metric and with a prefix",
)
def tag_values(
    tag: str,
    runtime: RuntimeDep,
    _: Reader,
    metric: Annotated[str | None, Query(max_length=256)] = None,
    prefix: Annotated[str, Query(max_length=256)] = "",
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
    hours: Lookback = 24,
) -> NamesRead:
    return NamesRead(data=runtime.query.tag_values(tag, metric, prefix, _window(hours), limit))
