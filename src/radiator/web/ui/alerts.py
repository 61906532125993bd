"""The Alerts page: rules and their state, open alerts (acknowledge, resolve), a backtest
form, and the weekly and weak-signal reports (server-rendered)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from radiator.alerts import AlertState, BacktestResult, WeakSignalReport
from radiator.errors import ConflictError, InvalidInputError, NotFoundError, RadiatorError
from radiator.identity import Scope
from radiator.query.service import parse_duration
from radiator.web.deps import MAX_ID, RuntimeDep, authenticate, caller_of
from radiator.web.ui.common import page_user, parse_range, render, to_login

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_OPEN = [AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED]


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
    now = runtime.alerts.now()
    context: dict[str, Any] = {
        "rules": runtime.alerts.list_rules(),
        "open_alerts": runtime.alerts.list_alerts(states=_OPEN, limit=200),
        "silences": runtime.alerts.list_silences(active_only=True),
        "windows": runtime.alerts.list_windows(active_only=True),
        "weekly": runtime.alerts.weekly_report(now - timedelta(days=28), now),
        "backtest": backtest,
        "signals": signals,
        "form": {"rule": rule, "start": start, "end": end, "step": step},
        "error": error,
    }
    return render(request, "alerts.html", user, status_code=400 if error else 200, **context)


@router.post("/alerts/{alert_id}/{action}", response_class=HTMLResponse)
async def alert_action(
    request: Request,
    runtime: RuntimeDep,
    alert_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    action: Annotated[str, Path(pattern="^(ack|resolve|note)$")],
    text: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The page's buttons: acknowledge, resolve or add a note, then back to the page."""
    principal, _ = await authenticate(request, runtime)
    caller = caller_of(request, principal.actor)
    runtime.identity.authorize(principal, Scope.WRITE, caller, f"POST /alerts/{action}")
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
