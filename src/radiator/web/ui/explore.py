"""The Explore page: ad-hoc metric queries with a chart, a table of last values and the
change overlay. The page is a shell; ``static/explore.js`` runs the query through
``POST /api/v1/query`` and draws it with ``static/chart.js``.

"Add to dashboard" is a plain form posting ``expr``, ``title``, ``start``, ``end`` and
``csrf_token`` to ``/dashboards/add-panel``, the hook the dashboards pages implement.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from radiator.errors import InvalidInputError
from radiator.web.deps import RuntimeDep
from radiator.web.ui.common import page_user, parse_range, render, to_login

__all__ = ["ADD_PANEL_URL", "router"]

# Where "Add to dashboard" posts (expr, title, start, end, csrf_token): the dashboards UI.
ADD_PANEL_URL = "/dashboards/add-panel"

router = APIRouter(include_in_schema=False)


@router.get("/explore", response_class=HTMLResponse)
def explore_page(
    request: Request,
    runtime: RuntimeDep,
    expr: Annotated[str, Query(max_length=10_000)] = "",
    start: Annotated[str, Query(max_length=64)] = "now-1h",
    end: Annotated[str, Query(max_length=64)] = "now",
) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    error = ""
    try:
        parse_range(start, end)
    except InvalidInputError as exc:
        error = str(exc)
    return render(
        request,
        "explore.html",
        user,
        expr=expr,
        start=start,
        end=end,
        error=error,
        add_panel_url=ADD_PANEL_URL,
    )
