"""The "On call" page and the acknowledge-by-link pages (server-rendered)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from radiator.errors import ConflictError, NotFoundError
from radiator.identity import Scope
from radiator.oncall import MAX_PAGES_PER_SHIFT, MAX_SHARE, OnCall, Page, PageStatus, Shift
from radiator.web.deps import MAX_ID, RuntimeDep, authenticate, caller_of
from radiator.web.ui.common import page_user, render, templates, to_login

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_MAX_TOKEN = 200


def _schedule_rows(runtime: RuntimeDep, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for schedule in runtime.oncall.list_schedules():
        current: OnCall = runtime.oncall.oncall_at(schedule.name, now)
        shifts: list[Shift] = runtime.oncall.shifts(schedule.name, now, now + timedelta(days=7))
        # Shift load of the last four weeks against the SRE ceilings.
        load = runtime.oncall.report(schedule.name, now - timedelta(days=28), now)
        busy = [s for s in load.shifts if s.over]
        rows.append(
            {"schedule": schedule, "now": current, "shifts": shifts, "load": load, "busy": busy}
        )
    return rows


@router.get("/oncall", response_class=HTMLResponse)
def oncall_page(request: Request, runtime: RuntimeDep) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    now = datetime.now(UTC)
    open_pages: list[Page] = [
        p
        for status in (PageStatus.TRIGGERED, PageStatus.ACKNOWLEDGED)
        for p in runtime.oncall.list_pages(status=status, limit=50)
    ]
    return render(
        request,
        "oncall.html",
        user,
        now=now,
        services=runtime.oncall.oncall_now(at=now),
        schedules=_schedule_rows(runtime, now),
        pages=sorted(open_pages, key=lambda p: p.triggered_at, reverse=True),
        max_pages=MAX_PAGES_PER_SHIFT,
        max_share=MAX_SHARE,
    )


def _ack_page(
    request: Request, page: Page | None, *, done: bool = False, status: int = 200
) -> Response:
    context: dict[str, object] = {"page": page, "done": done}
    return templates.TemplateResponse(
        request, "ack.html", {"principal": None, **context}, status_code=status
    )


@router.post("/oncall/pages/{page_id}/{action}", response_class=HTMLResponse)
async def page_action(
    request: Request,
    runtime: RuntimeDep,
    page_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    action: Annotated[str, Path(pattern="^(ack|resolve)$")],
) -> Response:
    """The On call page's buttons (session and CSRF token checked): acknowledge or resolve."""
    principal, _ = await authenticate(request, runtime)
    caller = caller_of(request, principal.actor)
    runtime.identity.authorize(principal, Scope.WRITE, caller, f"POST /oncall/pages/{action}")
    try:
        if action == "ack":
            runtime.oncall.acknowledge(page_id, caller)
        else:
            runtime.oncall.resolve(page_id, caller)
    except (NotFoundError, ConflictError):
        pass  # the page shows the page as it now is
    return RedirectResponse("/oncall", status_code=303)


@router.get("/ack/{token}", response_class=HTMLResponse)
def ack_form(request: Request, token: str, runtime: RuntimeDep) -> Response:
    """The link sent with a page: shows the page and a button (a GET never acknowledges,
    so link previews and scanners cannot)."""
    try:
        page, _ = runtime.oncall.page_for_token(token[:_MAX_TOKEN])
    except NotFoundError:
        return _ack_page(request, None, status=404)
    return _ack_page(request, page)


@router.post("/ack/{token}", response_class=HTMLResponse)
def ack_submit(request: Request, token: str, runtime: RuntimeDep) -> Response:
    try:
        page = runtime.oncall.acknowledge_link(token[:_MAX_TOKEN])
    except NotFoundError:
        return _ack_page(request, None, status=404)
    except ConflictError:
        page, _ = runtime.oncall.page_for_token(token[:_MAX_TOKEN])
        return _ack_page(request, page, status=409)
    return _ack_page(request, page, done=True)
