"""The Events page: every change and signal on one timeline, filterable by kind, service,
time and text."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from radiator.core.telemetry import EventFilter, EventRow
from radiator.core.types import EventKind
from radiator.errors import InvalidInputError
from radiator.query.events import MAX_EVENTS, search_events
from radiator.web.deps import RuntimeDep
from radiator.web.ui.common import page_user, parse_range, render, to_login

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/events", response_class=HTMLResponse)
def events_page(
    request: Request,
    runtime: RuntimeDep,
    kind: Annotated[list[str] | None, Query()] = None,
    service: str = "",
    q: Annotated[str, Query(max_length=500)] = "",
    start: Annotated[str, Query(max_length=64)] = "now-24h",
    end: Annotated[str, Query(max_length=64)] = "now",
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 200,
) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    kinds = tuple(k for k in kind or () if k)
    error = ""
    rows: list[EventRow] = []
    try:
        query = EventFilter(
            range=parse_range(start, end).range,
            kinds=kinds,
            services=(service,) if service else (),
            text=q or None,
            limit=limit,
        )
        rows = search_events(runtime.telemetry, query)
    except InvalidInputError as exc:
        error = str(exc)
    return render(
        request,
        "events.html",
        user,
        status_code=400 if error else 200,
        events=rows,
        kinds=[str(k) for k in EventKind],
        selected_kinds=set(kinds),
        services=sorted(s.name for s in runtime.catalog.list_services()),
        service=service,
        q=q,
        start=start,
        end=end,
        limit=limit,
        error=error,
    )
