"""Dashboard pages: the list, one dashboard (view and edit), Explore's "add to dashboard",
kiosk links, and the TV page a kiosk link opens.

Pages are shells around ``static/dashboard.js``, which loads every panel's data in one
request (``POST /api/v1/dashboards/{slug}/data``, or the kiosk's endpoint on a TV) and
draws it; edits are saved with ``PUT /api/v1/dashboards/{slug}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from radiator.dashboards import DashboardCreate, KioskLinkCreate
from radiator.errors import NotFoundError, PermissionDeniedError, RadiatorError
from radiator.identity import Scope
from radiator.web.deps import RuntimeDep, caller_of, same_secret
from radiator.web.ui.common import PageUser, page_user, render, templates, to_login

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=8192)]


def _checked(request: Request, runtime: RuntimeDep, token: str) -> PageUser:
    """The page user of a form post, with its CSRF token checked and the write scope."""
    user = page_user(request, runtime)
    if user is None or not same_secret(token, user.csrf_token):
        raise PermissionDeniedError("your form expired or is not yours; reload the page")
    caller = caller_of(request, user.principal.actor)
    runtime.identity.authorize(user.principal, Scope.WRITE, caller, f"POST {request.url.path}")
    return user


@router.get("/dashboards", response_class=HTMLResponse)
def dashboards_page(request: Request, runtime: RuntimeDep, error: str = "") -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    return render(
        request,
        "dashboards.html",
        user,
        dashboards=runtime.dashboards.list_dashboards(),
        kiosk_links=runtime.dashboards.list_kiosk_links(),
        error=error,
        new_secret="",
    )


@router.post("/dashboards/new", response_class=HTMLResponse)
def new_dashboard(
    request: Request, runtime: RuntimeDep, csrf_token: Text, slug: Text, title: Text
) -> Response:
    user = _checked(request, runtime, csrf_token)
    try:
        data = DashboardCreate.model_validate({"slug": slug.strip(), "title": title.strip()})
        runtime.dashboards.create(data, caller_of(request, user.principal.actor))
    except (RadiatorError, ValueError) as exc:
        return _list_with_error(request, runtime, user, str(exc))
    return RedirectResponse(f"/dashboards/{data.slug}?edit=1", status_code=303)


def _list_with_error(request: Request, runtime: RuntimeDep, user: PageUser, error: str) -> Response:
    return render(
        request,
        "dashboards.html",
        user,
        status_code=422,
        dashboards=runtime.dashboards.list_dashboards(),
        kiosk_links=runtime.dashboards.list_kiosk_links(),
        error=error,
        new_secret="",
    )


@router.post("/dashboards/add-panel", response_class=HTMLResponse)
def add_panel(
    request: Request,
    runtime: RuntimeDep,
    csrf_token: Text,
    expr: Text,
    title: Text = "",
    start: Text = "now-6h",
    end: Text = "now",
    dashboard: Text = "",
) -> Response:
    """Explore's "Add to dashboard": first a choice of dashboard, then the panel is added."""
    user = _checked(request, runtime, csrf_token)
    title = title.strip() or expr.strip()[:200]
    if not dashboard:
        editable = [d for d in runtime.dashboards.list_dashboards() if d.source == "ui"]
        return render(
            request,
            "add_panel.html",
            user,
            dashboards=editable,
            expr=expr,
            title=title,
            start=start,
            end=end,
        )
    runtime.dashboards.add_panel(dashboard, title, expr, caller_of(request, user.principal.actor))
    return RedirectResponse(f"/dashboards/{dashboard}?start={start}&end={end}", status_code=303)


@router.post("/dashboards/kiosk-links", response_class=HTMLResponse)
def create_kiosk_link(
    request: Request,
    runtime: RuntimeDep,
    csrf_token: Text,
    name: Text,
    dashboards: Annotated[list[str], Form()],
    rotate_seconds: Annotated[int, Form(ge=10, le=3600)] = 60,
) -> Response:
    user = _checked(request, runtime, csrf_token)
    try:
        data = KioskLinkCreate(name=name, dashboards=dashboards, rotate_seconds=rotate_seconds)
        _, secret = runtime.dashboards.create_kiosk_link(
            data, caller_of(request, user.principal.actor)
        )
    except (RadiatorError, ValueError) as exc:
        return _list_with_error(request, runtime, user, str(exc))
    return render(
        request,
        "dashboards.html",
        user,
        dashboards=runtime.dashboards.list_dashboards(),
        kiosk_links=runtime.dashboards.list_kiosk_links(),
        error="",
        new_secret=secret,
    )


@router.post("/dashboards/kiosk-links/{link_id}/revoke")
def revoke_kiosk_link(
    link_id: Annotated[int, Path(ge=1, le=2**62)],
    request: Request,
    runtime: RuntimeDep,
    csrf_token: Text,
) -> Response:
    user = _checked(request, runtime, csrf_token)
    runtime.dashboards.revoke_kiosk_link(link_id, caller_of(request, user.principal.actor))
    return RedirectResponse("/dashboards", status_code=303)


@router.get("/dashboards/{slug}", response_class=HTMLResponse)
def dashboard_page(slug: str, request: Request, runtime: RuntimeDep) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    try:
        dashboard = runtime.dashboards.get(slug)
    except NotFoundError as exc:
        return render(request, "dashboards.html", user, status_code=404,
                      dashboards=runtime.dashboards.list_dashboards(),
                      kiosk_links=[], error=str(exc), new_secret="")  # fmt: skip
    return render(
        request,
        "dashboard.html",
        user,
        dashboard=dashboard,
        board=dashboard.model_dump(mode="json"),
        tv=False,
    )


@router.get("/tv/{secret}", response_class=HTMLResponse)
def tv_page(secret: str, request: Request, runtime: RuntimeDep) -> Response:
    """A kiosk: no login; the secret in the URL reads only the link's dashboards."""
    try:
        link = runtime.dashboards.kiosk(secret)
    except NotFoundError:
        return templates.TemplateResponse(
            request, "tv_gone.html", {"principal": None}, status_code=404
        )
    boards = [runtime.dashboards.get(slug).model_dump(mode="json") for slug in link.dashboards]
    return templates.TemplateResponse(
        request,
        "tv.html",
        {
            "principal": None,
            "boards": boards,
            "secret": secret,
            "rotate_seconds": link.rotate_seconds,
            "name": link.name,
        },
    )
