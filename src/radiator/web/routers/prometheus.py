"""The Prometheus HTTP API (read side) under /prometheus, for Grafana and promtool.

Same query language and evaluator as POST /api/v1/query, with Prometheus' parameters
(GET query string or POST form), JSON shapes (values as strings, ``[time, "value"]`` pairs)
and error format (``{"status": "error", "errorType": ..., "error": ...}``). Credentials:
``Authorization: Bearer <token>`` or HTTP Basic with the API token as the password.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from radiator import __version__
from radiator.core.types import TimeRange
from radiator.errors import InvalidInputError, RadiatorError
from radiator.identity import Principal, Scope
from radiator.query.service import QueryOutcome, RangeSpec, parse_duration, parse_time
from radiator.runtime import Runtime
from radiator.web.deps import RuntimeDep, require

__all__ = ["router"]

router = APIRouter(prefix="/prometheus/api/v1", include_in_schema=False)

PromReader = Annotated[Principal, Depends(require(Scope.READ, agent_auth=True))]
_DEFAULT_SERIES_WINDOW = timedelta(days=30)
_ERROR_TYPES = {
    "invalid_query": ("bad_data", 400),
    "invalid_input": ("bad_data", 400),
    "query_evaluation": ("execution", 422),
    "query_too_large": ("bad_data", 400),
    "query_timeout": ("timeout", 503),
}


def _text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if value != int(value) or abs(value) >= 1e15 else str(int(value))


def _success(data: Any) -> JSONResponse:
    return JSONResponse({"status": "success", "data": data})


def _error(exc: RadiatorError) -> JSONResponse:
    error_type, status = _ERROR_TYPES.get(exc.code, ("internal", 500))
    if status == 500:
        error_type, status = (
            ("unavailable", 503) if exc.code == "storage_error" else ("bad_data", 400)
        )
    return JSONResponse(
        {"status": "error", "errorType": error_type, "error": exc.message}, status_code=status
    )


async def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    if request.method == "POST":
        form = await request.form()
        for key, item in form.multi_items():
            if isinstance(item, str):
                params.setdefault(key, []).append(item)
    return params


def _one(params: dict[str, list[str]], name: str, required: bool = False) -> str | None:
    values = params.get(name)
    if not values:
        if required:
            raise InvalidInputError(f"missing parameter {name!r}", field=name)
        return None
    return values[-1]


def _time(params: dict[str, list[str]], name: str, now: datetime, default: datetime) -> datetime:
    text = _one(params, name)
    return default if text is None else parse_time(text, now, name)


def _matrix(outcome: QueryOutcome) -> list[dict[str, Any]]:
    result = []
    for series in outcome.series:
        times = series.times if series.times is not None else outcome.times
        pairs = [[t, _text(v)] for t, v in zip(times, series.values, strict=True) if v is not None]
        if pairs:
            result.append({"metric": series.labels, "values": pairs})
    return result


def _data(outcome: QueryOutcome, instant: bool) -> dict[str, Any]:
    at = outcome.times[-1] if outcome.times else 0.0
    if outcome.type == "scalar":
        value = outcome.value if outcome.value is not None else math.nan
        return {"resultType": "scalar", "result": [at, _text(value)]}
    if instant and outcome.type == "vector":
        vector = [
            {"metric": s.labels, "value": [at, _text(s.values[-1])]}
            for s in outcome.series
            if s.values and s.values[-1] is not None
        ]
        return {"resultType": "vector", "result": vector}
    return {"resultType": "matrix", "result": _matrix(outcome)}


Handler = Callable[[dict[str, list[str]], Runtime], JSONResponse]


async def _answer(request: Request, runtime: Runtime, handler: Handler) -> JSONResponse:
    try:
        params = await _params(request)
        # Evaluation is CPU and store work: keep it off the event loop.
        return await run_in_threadpool(handler, params, runtime)
    except RadiatorError as exc:
        return _error(exc)


def _instant(params: dict[str, list[str]], runtime: Runtime) -> JSONResponse:
    expr = _one(params, "query", required=True) or ""
    now = runtime.query.now()
    at = _time(params, "time", now, now)
    outcome = runtime.query.run(expr, RangeSpec(at, at, instant=True))
    return _success(_data(outcome, instant=True))


def _range(params: dict[str, list[str]], runtime: Runtime) -> JSONResponse:
    expr = _one(params, "query", required=True) or ""
    now = runtime.query.now()
    start = parse_time(_one(params, "start", required=True), now, "start")
    end = parse_time(_one(params, "end", required=True), now, "end")
    step = parse_duration(_one(params, "step", required=True) or "", "step")
    if end < start:
        raise InvalidInputError("end timestamp must not be before start time", field="end")
    outcome = runtime.query.run(expr, RangeSpec(start, end, step, align=False))
    return _success(_data(outcome, instant=False))


def _window(params: dict[str, list[str]], runtime: Runtime) -> TimeRange:
    now = runtime.query.now()
    end = _time(params, "end", now, now)
    start = _time(params, "start", now, end - _DEFAULT_SERIES_WINDOW)
    if end <= start:
        raise InvalidInputError("end timestamp must be after start time", field="end")
    return TimeRange(start, end)


def _series(params: dict[str, list[str]], runtime: Runtime) -> JSONResponse:
    matchers = params.get("match[]", [])
    if not matchers:
        raise InvalidInputError("no match[] parameter provided", field="match[]")
    return _success(runtime.query.series(matchers, _window(params, runtime)))


def _labels(params: dict[str, list[str]], runtime: Runtime) -> JSONResponse:
    window = _window(params, runtime)
    matchers = params.get("match[]", [])
    if matchers:
        names = {k for labels in runtime.query.series(matchers, window) for k in labels}
    else:
        names = {"__name__", *runtime.query.tag_names(None, window)}
    return _success(sorted(names))


def _label_values(name: str) -> Handler:
    def handler(params: dict[str, list[str]], runtime: Runtime) -> JSONResponse:
        window = _window(params, runtime)
        matchers = params.get("match[]", [])
        if matchers:
            found = {ls[name] for ls in runtime.query.series(matchers, window) if name in ls}
            return _success(sorted(found))
        if name == "__name__":
            return _success(runtime.query.metric_names("", 100_000))
        return _success(runtime.query.tag_values(name, None, "", window, 100_000))

    return handler


@router.api_route("/query", methods=["GET", "POST"])
async def query(request: Request, runtime: RuntimeDep, _: PromReader) -> JSONResponse:
    return await _answer(request, runtime, _instant)


@router.api_route("/query_range", methods=["GET", "POST"])
async def query_range(request: Request, runtime: RuntimeDep, _: PromReader) -> JSONResponse:
    return await _answer(request, runtime, _range)


@router.api_route("/series", methods=["GET", "POST"])
async def series(request: Request, runtime: RuntimeDep, _: PromReader) -> JSONResponse:
    return await _answer(request, runtime, _series)


@router.api_route("/labels", methods=["GET", "POST"])
async def labels(request: Request, runtime: RuntimeDep, _: PromReader) -> JSONResponse:
    return await _answer(request, runtime, _labels)


@router.get("/label/{name}/values")
async def label_values(
    name: str, request: Request, runtime: RuntimeDep, _: PromReader
) -> JSONResponse:
    return await _answer(request, runtime, _label_values(name))


@router.get("/status/buildinfo")
async def buildinfo(_: PromReader) -> JSONResponse:
    # Grafana reads this to pick features; Radiator answers as the Prometheus release whose
    # query API it follows (its own version is in ``radiatorVersion``).

    return _success(
        {"version": "2.42.0", "radiatorVersion": __version__, "application": "radiator"}
    )
