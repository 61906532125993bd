"""The Alerts page: rules and their state, open alerts (acknowledge, resolve), a backtest
form, and the weekly and weak-signal reports (server-rendered)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from radiator.alerts import AlertRuleCreate, AlertState, BacktestResult, WeakSignalReport
from radiator.core.caller import Caller
from radiator.errors import ConflictError, InvalidInputError, NotFoundError, RadiatorError
from radiator.identity import Scope
from radiator.query.service import parse_duration
from radiator.web.deps import MAX_ID, RuntimeDep, authenticate, caller_of
from radiator.web.ui.common import PageUser, page_user, parse_range, render, to_login

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_OPEN = [AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED]
_EXAMPLE = """name: checkout.errors
owner: checkout
query: sum(rate(http.server.requests{service="checkout",status=~"5.."}[5m]))
condition: {kind: threshold, op: ">", value: 2}
for_seconds: 5m
severity: warning
"""


async def _writer(request: Request, runtime: RuntimeDep, action: str) -> Caller:
    """The session's user, allowed to write (CSRF checked by ``authenticate``)."""
    principal, _ = await authenticate(request, runtime)
    caller = caller_of(request, principal.actor)
    runtime.identity.authorize(principal, Scope.WRITE, caller, f"POST /alerts/{action}")
    return caller


def _definition(text: str) -> AlertRuleCreate:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"not valid YAML: {exc}", field="definition") from exc
    if not isinstance(document, dict):
        raise InvalidInputError("a rule is a mapping of fields", field="definition")
    try:
        return AlertRuleCreate.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "rule"
        raise InvalidInputError(f"{where}: {first['msg']}", field=where) from exc


def _backtest(runtime: RuntimeDep, rule: str, start: str, end: str, step: str) -> BacktestResult:
    span = parse_range(start, end).range
    seconds = parse_duration(step or "1m", "step")
    return runtime.alerts.backtest(rule, span.start, span.end, seconds)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    runtime: RuntimeDep,
    rule: Annotated[str, Query(max_length=63)] = "",
    start: Annotated[str, Query(max_length=64)] = "now-7d",
    end: Annotated[str, Query(max_length=64)] = "now",
    step: Annotated[str, Query(max_length=16)] = "1m",
    weak: bool = False,
) -> Response:
    user = page_user(request, runtime)
    if user is None:
        return to_login(request)
    error = ""
    backtest: BacktestResult | None = None
    signals: WeakSignalReport | None = None
    try:
        if rule:
            backtest = _backtest(runtime, rule, start, end, step)
        if weak:
            signals = runtime.alerts.weak_signals()
    except RadiatorError as exc:
        error = exc.message
    form = {"rule": rule, "start": start, "end": end, "step": step}
    return _page(request, runtime, user, error, backtest, signals, form)


def _page(
    request: Request,
    runtime: RuntimeDep,
    user: PageUser,
    error: str = "",
    backtest: BacktestResult | None = None,
    signals: WeakSignalReport | None = None,
    form: dict[str, str] | None = None,
    definition: str = _EXAMPLE,
) -> Response:
    now = runtime.alerts.now()
    context: dict[str, Any] = {
        "rules": runtime.alerts.list_rules(),
        "open_alerts": runtime.alerts.list_alerts(states=_OPEN, limit=200),
        "silences": runtime.alerts.list_silences(active_only=True),
        "windows": runtime.alerts.list_windows(active_only=True),
        "weekly": runtime.alerts.weekly_report(now - timedelta(days=28), now),
        "backtest": backtest,
        "signals": signals,
        "form": form or {"rule": "", "start": "now-7d", "end": "now", "step": "1m"},
        "definition": definition,
        "error": error,
    }
    return render(request, "alerts.html", user, status_code=400 if error else 200, **context)


@router.post("/alerts/rules", response_class=HTMLResponse)
async def create_rule(
    request: Request,
    runtime: RuntimeDep,
    definition: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """The page's "New rule" form: a rule as YAML, the same fields as a rule file's entry."""
    caller = await _writer(request, runtime, "rules")
    try:
        rule = runtime.alerts.create_rule(_definition(definition), caller)
    except (InvalidInputError, ConflictError) as exc:
        user = page_user(request, runtime)
        if user is None:
            return to_login(request)
        where = f"{exc.field}: " if isinstance(exc, InvalidInputError) and exc.field else ""
        message = exc.message if exc.message.startswith(where) else where + exc.message
        return _page(request, runtime, user, error=message, definition=definition)
    return RedirectResponse(f"/alerts#rule-{rule.name}", status_code=303)


@router.post("/alerts/rules/{name}/{action}", response_class=HTMLResponse)
async def switch_rule(
    request: Request,
    runtime: RuntimeDep,
    name: Annotated[str, Path(max_length=63)],
    action: Annotated[str, Path(pattern="^(enable|disable)$")],
) -> Response:
    caller = await _writer(request, runtime, action)
    with contextlib.suppress(NotFoundError):
        runtime.alerts.set_enabled(name, action == "enable", caller)
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/{alert_id}/{action}", response_class=HTMLResponse)
async def alert_action(
    request: Request,
    runtime: RuntimeDep,
    alert_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    action: Annotated[str, Path(pattern="^(ack|resolve|note)$")],
    text: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The page's buttons: acknowledge, resolve or add a note, then back to the page."""
    caller = await _writer(request, runtime, action)
    try:
        if action == "ack":
            runtime.alerts.acknowledge(alert_id, caller)
        elif action == "resolve":
            runtime.alerts.resolve(alert_id, caller)
        elif text.strip():
            runtime.alerts.add_note(alert_id, text.strip(), caller)
    except (NotFoundError, ConflictError, InvalidInputError):
        pass  # the page shows the alert as it now is
    return RedirectResponse("/alerts", status_code=303)
