"""The Logs page: search with filters, newest first, "load more" by cursor, live tail."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from radiator.core.telemetry import LogFilter
from radiator.core.types import LogLevel
from radiator.errors import InvalidInputError
from radiator.query.logs import LogPage, decode_cursor, levels_at_least, search_logs
from radiator.web.deps import RuntimeDep
from radiator.web.ui.common import PageRange, page_user, parse_range, render, to_login

__all__ = ["PAGE_SIZE", "parse_attributes", "router"]

PAGE_SIZE = 100
_MAX_ATTRIBUTES = 20

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class _LogForm:
    """The filters as typed, shown back in the form and carried into "load more" links."""

    service: str = ""
    min_level: str = ""
    q: str = ""
    attr: str = ""
    start: str = "now-1h"
    end: str = "now"

    def params(self) -> dict[str, str]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v}


def parse_attributes(text: str) -> tuple[tuple[str, str], ...]:
    """``key=value`` pairs separated by spaces, as typed in the attribute filter.

    Raises:
        InvalidInputError: a pair has no ``=`` or an empty key, or there are too many.
    """
    pairs: list[tuple[str, str]] = []
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"attribute filters are key=value, not {item!r}", field="attr")
        pairs.append((key, value))
    if len(pairs) > _MAX_ATTRIBUTES:
        raise InvalidInputError(f"at most {_MAX_ATTRIBUTES} attribute filters", field="attr")
    return tuple(pairs)


def _levels(min_level: str) -> tuple[str, ...]:
    if not min_level:
        return ()
    try:
        return levels_at_least(LogLevel(min_level.upper()))
    except ValueError as exc:
        raise InvalidInputError(f"unknown level {min_level!r}", field="min_level") from exc


def _search(form: _LogForm, window: PageRange, cursor: str | None, runtime: RuntimeDep) -> LogPage:
    query = LogFilter(
        range=window.range,
        services=(form.service,) if form.service else (),
        levels=_levels(form.min_level),
        attributes=parse_attributes(form.attr),
        text=form.q or None,
        limit=PAGE_SIZE,
        after=decode_cursor(cursor) if cursor else None,
    )
    return search_logs(runtime.telemetry, query)


def _service_names(runtime: RuntimeDep) -> list[str]:
    return sorted(service.name for service in runtime.catalog.list_services())


@router.get("/logs", response_class=HTMLResponse)
def logs_page(
    request: Request,
    runtime: RuntimeDep,
    service: str = "",
    min_level: str = "",
    q: Annotated[str, Query(max_length=500)] = "",
    attr: Annotated[str, Query(max_length=2000)] = "",
    start: Annotated[str, Query(max_length=64)] = "now-1h",
    end: Annotated[str, Query(max_length=64)] = "now",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    rows: bool = False,
) -> Response:
    """The page; with ``rows=1`` (the "load more" link's htmx request) only the rows."""
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    form = _LogForm(service, min_level, q, attr, start, end)
    error, page = "", LogPage([], None)
    try:
        page = _search(form, parse_range(start, end), cursor, runtime)
    except InvalidInputError as exc:
        error = str(exc)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "more_params": form.params(),
        "error": error,
    }
    if rows:
        return render(request, "logs_rows.html", user, **context)
    services = _service_names(runtime)
    return render(
        request,
        "logs.html",
        user,
        status_code=400 if error else 200,
        services=services,
        levels=[str(level) for level in LogLevel],
        **context,
    )
