"""Server-rendered pages: log in and out, and the home radiator."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from radiator.alerts.models import AlertState
from radiator.core.telemetry import Aggregation, BucketQuery, EventFilter, Signal
from radiator.core.types import TimeRange
from radiator.deploys.pipeline import PipelineSummary, summarise_pipeline
from radiator.errors import AuthenticationError, NotFoundError, RateLimitedError
from radiator.identity import Principal, Scope, Session
from radiator.web.deps import SESSION_COOKIE, RuntimeDep, caller_of, same_secret
from radiator.web.routers.auth import set_session_cookie
from radiator.web.ui.common import templates
from radiator.web.ui.services import service_states

__all__ = ["HTTP_REQUESTS_METRIC", "router", "templates"]

HTTP_REQUESTS_METRIC = "http.server.requests"
_LOGIN_CSRF_COOKIE = "radiator_login_csrf"

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    # Only same-site relative paths, so the login form cannot be used as an open redirect.
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _session(request: Request, runtime: RuntimeDep) -> tuple[Principal, Session] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return runtime.identity.session_principal(cookie) if cookie else None


def _to_login(request: Request) -> RedirectResponse:
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"/login?next={target}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", error: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "principal": None,
            "login_csrf": token,
            "next": _safe_next(next),
            "error": error,
            "username": "",
        },
    )
    response.set_cookie(_LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=63)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(_LOGIN_CSRF_COOKIE, "")
    error = ""
    status = 200
    if not expected or not same_secret(csrf_token, expected):
        error, status = "Your login form expired; please try again.", 400
    else:
        try:
            new = runtime.identity.login(username, password, caller_of(request, username))
        except RateLimitedError:
            error, status = "Too many failed attempts; wait a few minutes and try again.", 429
        except AuthenticationError:
            error, status = "Wrong username or password.", 401
        else:
            response = RedirectResponse(_safe_next(next), status_code=303)
            set_session_cookie(response, runtime, new.cookie_value)
            response.delete_cookie(_LOGIN_CSRF_COOKIE)
            return response
    token = secrets.token_urlsafe(24)
    page = templates.TemplateResponse(
        request,
        "login.html",
        {
            "principal": None,
            "login_csrf": token,
            "next": _safe_next(next),
            "error": error,
            "username": username,
        },
        status_code=status,
    )
    page.set_cookie(_LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return page


@router.post("/logout")
def logout_submit(
    request: Request, runtime: RuntimeDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    found = _session(request, runtime)
    if found is not None and same_secret(csrf_token, found[1].csrf_token):
        runtime.identity.logout(request.cookies[SESSION_COOKIE], caller_of(request, found[0].actor))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/demo-login")
def demo_login(request: Request, runtime: RuntimeDep, key: str = Query("")) -> Response:
    """One-click login printed by ``radiator demo``; absent outside the demo."""
    demo = getattr(request.app.state, "demo_login", None)
    if demo is None or not same_secret(key, demo["key"]):
        raise NotFoundError("no such page")
    new = runtime.identity.login_as(demo["username"], caller_of(request, demo["username"]))
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, runtime, new.cookie_value)
    return response


def _traffic(runtime: RuntimeDep) -> dict[str, str]:
    window = TimeRange.last(timedelta(minutes=5))
    query = BucketQuery(
        name=HTTP_REQUESTS_METRIC,
        range=window,
        step=window.duration,
        aggregation=Aggregation.SUM,
        group_by=("service",),
    )
    return {
        series.tags.get("service", ""): f"{sum(series.values):,.0f}"
        for series in runtime.telemetry.query_buckets(query)
    }


def _pipeline(runtime: RuntimeDep) -> PipelineSummary:
    """Today's deploys, builds and tests, and incidents of the last week still open."""
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    kinds = ("deploy", "build", "test_run")
    today = runtime.telemetry.query_events(
        EventFilter(TimeRange(midnight, now + timedelta(seconds=1)), kinds=kinds, limit=1000)
    )
    week = TimeRange(now - timedelta(days=7), now + timedelta(seconds=1))
    incidents = runtime.telemetry.query_events(EventFilter(week, kinds=("incident",), limit=1000))
    return summarise_pipeline([*today, *incidents])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, runtime: RuntimeDep) -> Response:
    found = _session(request, runtime)
    if found is None:
        return _to_login(request)
    principal, session = found
    # Recorded like any API read: every use of a session is an audited decision.
    caller = caller_of(request, principal.actor)
    runtime.identity.authorize(principal, Scope.READ, caller, f"GET {request.url.path}")
    last_hour = TimeRange.last(timedelta(hours=1))
    states = service_states(runtime)
    context = {
        "principal": principal,
        "csrf_token": session.csrf_token,
        "teams": runtime.catalog.list_teams(),
        "services": runtime.catalog.list_services(),
        "traffic": _traffic(runtime),
        "states": states,
        "state_counts": Counter(state for state, _ in states.values()),
        "pipeline": _pipeline(runtime),
        "firing": runtime.alerts.list_alerts(
            states=[AlertState.FIRING, AlertState.ACKNOWLEDGED], limit=200
        ),
        "oncall": [entry for entry in runtime.oncall.oncall_now() if entry.user],
        "point_count": f"{runtime.telemetry.count(Signal.POINTS, last_hour):,}",
    }
    return templates.TemplateResponse(request, "home.html", context)
