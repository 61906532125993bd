"""Service pages and telemetry coverage.

- ``/services``: every service with its owner and a red/amber/green state from the last five
  minutes (error share of requests; no traffic is amber).
- ``/services/{name}``: the golden signals (the built-in service-overview dashboard drawn for
  this service, deploys overlaid), log records by level, the slowest traces, dependencies
  seen in traces, owner and links.
- ``/coverage``: services by the five telemetry levels, with since-when and gaps.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from radiator.core.telemetry import SpanFilter
from radiator.core.types import TimeRange
from radiator.errors import NotFoundError
from radiator.query.coverage import LEVEL_TITLES, LEVELS, coverage_matrix
from radiator.query.service import RangeSpec
from radiator.runtime import Runtime
from radiator.web.deps import RuntimeDep
from radiator.web.ui.common import page_user, render, to_login

__all__ = ["RED_ERROR_SHARE", "router", "service_states"]

router = APIRouter(include_in_schema=False)

RED_ERROR_SHARE = 0.05
AMBER_ERROR_SHARE = 0.01
_REQUESTS = "sum by (service) (increase(http.server.requests[5m]))"
_ERRORS = 'sum by (service) (increase(http.server.requests{status=~"5.*"}[5m]))'

State = Literal["green", "amber", "red"]


def _by_service(runtime: Runtime, expr: str) -> dict[str, float]:
    now = datetime.now(UTC)
    outcome = runtime.query.run(expr, RangeSpec(now, now, instant=True))
    return {
        s.labels.get("service", ""): s.values[-1]
        for s in outcome.series
        if s.values and s.values[-1] is not None
    }


def service_states(runtime: Runtime) -> dict[str, tuple[State, str]]:
    """Per service: red/amber/green and why, from the last five minutes of requests."""
    requests = _by_service(runtime, _REQUESTS)
    errors = _by_service(runtime, _ERRORS)
    states: dict[str, tuple[State, str]] = {}
    for service in runtime.catalog.list_services():
        total = requests.get(service.name, 0.0)
        if total <= 0:
            states[service.name] = ("amber", "no requests in the last 5 minutes")
            continue
        share = errors.get(service.name, 0.0) / total
        text = f"{share:.1%} errors of {total:,.0f} requests (5 min)"
        if share >= RED_ERROR_SHARE:
            states[service.name] = ("red", text)
        elif share >= AMBER_ERROR_SHARE:
            states[service.name] = ("amber", text)
        else:
            states[service.name] = ("green", text)
    return states


@router.get("/services", response_class=HTMLResponse)
def services_page(request: Request, runtime: RuntimeDep) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    return render(
        request,
        "services.html",
        user,
        services=runtime.catalog.list_services(),
        states=service_states(runtime),
    )


@router.get("/services/{name}", response_class=HTMLResponse)
def service_page(name: str, request: Request, runtime: RuntimeDep) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    try:
        service = runtime.catalog.get_service(name)
    except NotFoundError as exc:
        return render(request, "services.html", user, status_code=404, error=str(exc),
                      services=runtime.catalog.list_services(), states={})  # fmt: skip
    window = TimeRange.last(timedelta(hours=1))
    team = runtime.catalog.get_team(service.team) if service.team else None
    spans = runtime.telemetry.query_spans(SpanFilter(range=window, services=(name,), limit=1000))
    slowest = sorted(spans, key=lambda s: s.duration_ms, reverse=True)[:10]
    levels = Counter[str]()
    for row in runtime.telemetry.log_level_counts(window, timedelta(hours=1)):
        if row.service == name:
            levels[row.level] += row.count
    edges = [e for e in runtime.telemetry.span_dependencies(window) if name in (e.caller, e.callee)]
    overview = runtime.dashboards.get("service-overview")
    return render(
        request,
        "service.html",
        user,
        service=service,
        team=team,
        state=service_states(runtime).get(name, ("amber", "unknown")),
        slowest=slowest,
        levels=sorted(levels.items(), key=lambda item: _LEVEL_ORDER.get(item[0], 9)),
        edges=edges,
        board=overview.model_dump(mode="json"),
    )


_LEVEL_ORDER = {"FATAL": 0, "ERROR": 1, "WARN": 2, "INFO": 3, "DEBUG": 4}


@router.get("/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, runtime: RuntimeDep) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    now = datetime.now(UTC)
    matrix = coverage_matrix(
        [s.name for s in runtime.catalog.list_services()], runtime.telemetry.coverage()
    )
    return render(
        request,
        "coverage.html",
        user,
        matrix=matrix,
        levels=LEVELS,
        titles=LEVEL_TITLES,
        now=now,
    )
