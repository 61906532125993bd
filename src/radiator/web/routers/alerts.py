"""Alerting API: rules (CRUD, enable, backtest), alerts (ack, resolve, notes, groups),
silences, maintenance windows and the learning-from-alerts reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from radiator.alerts import (
    Alert,
    AlertNote,
    AlertNoteCreate,
    AlertRule,
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    AlertState,
    BacktestResult,
    MaintenanceWindow,
    MaintenanceWindowCreate,
    Silence,
    SilenceCreate,
    WeakSignalReport,
    WeeklyReport,
)
from radiator.core.types import utc
from radiator.errors import InvalidInputError
from radiator.query.service import parse_duration, parse_time
from radiator.web.deps import MAX_ID, CallerDep, Reader, RuntimeDep, Writer
from radiator.web.errors import problem_responses

__all__ = ["BacktestRequest", "router"]

router = APIRouter()
_MISSING = problem_responses(404)
_CONFLICT = problem_responses(409)
_MISSING_OR_CONFLICT = problem_responses(404, 409)
_BACKTEST = problem_responses(404, 503)

RuleName = Annotated[str, Path(max_length=63)]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
TimeValue = str | float


class BacktestRequest(BaseModel):
    """A past range to run a rule over; ``rule`` tests a definition before it is created."""

    start: TimeValue = Field("now-7d", description="RFC 3339, epoch s, or now-30d.")
    end: TimeValue = Field("now", description="RFC 3339, epoch s, or now.")
    step: TimeValue = Field("1m", description="Seconds or a duration (evaluation step).")
    rule: AlertRuleCreate | None = Field(None, description="Only for /alert-rule-backtests.")


class GroupRead(BaseModel):
    labels: dict[str, str]
    count: int
    states: dict[str, int]
    alert_ids: list[int]


def _range(body: BacktestRequest, now: datetime) -> tuple[datetime, datetime, float]:
    start = _bounded(parse_time(body.start, now, "start"), "start")
    end = _bounded(parse_time(body.end, now, "end"), "end")
    step = parse_duration(body.step, "step")
    if end <= start:
        raise InvalidInputError("end must be after start", field="end")
    if end - start > timedelta(days=400):
        raise InvalidInputError("a backtest covers at most 400 days", field="start")
    return start, end, step


def _bounded(moment: datetime, field: str) -> datetime:
    if not 1970 <= moment.year <= 2200:
        raise InvalidInputError(f"{field} must be between the years 1970 and 2200", field=field)
    return moment


def _moment(value: datetime | None, field: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        return _bounded(utc(value), field)
    except (ValueError, OverflowError) as exc:
        raise InvalidInputError(f"{field} is out of range", field=field) from exc


# -- rules ---------------------------------------------------------------------------------


@router.get("/alert-rules", tags=["alerts"], summary="List alert rules with their open alerts")
def list_rules(_: Reader, runtime: RuntimeDep) -> list[AlertRuleRead]:
    return runtime.alerts.list_rules()


@router.post(
    "/alert-rules",
    tags=["alerts"],
    status_code=201,
    summary="Create an alert rule",
    responses=_CONFLICT,
)
def create_rule(
    _: Writer, caller: CallerDep, body: AlertRuleCreate, runtime: RuntimeDep
) -> AlertRule:
    return runtime.alerts.create_rule(body, caller)


@router.post(
    "/alert-rule-backtests",
    tags=["alerts"],
    summary="Backtest a rule definition before creating it",
    responses=problem_responses(503),
)
def backtest_definition(_: Reader, body: BacktestRequest, runtime: RuntimeDep) -> BacktestResult:
    if body.rule is None:
        raise InvalidInputError("give the rule to test", field="rule")
    start, end, step = _range(body, runtime.alerts.now())
    return runtime.alerts.backtest(body.rule, start, end, step)


@router.get("/alert-rules/{name}", tags=["alerts"], summary="One alert rule", responses=_MISSING)
def get_rule(_: Reader, name: RuleName, runtime: RuntimeDep) -> AlertRule:
    return runtime.alerts.get_rule(name)


@router.patch(
    "/alert-rules/{name}",
    tags=["alerts"],
    summary="Change an alert rule (not one defined in a file)",
    responses=_MISSING_OR_CONFLICT,
)
def update_rule(
    _: Writer, caller: CallerDep, name: RuleName, body: AlertRuleUpdate, runtime: RuntimeDep
) -> AlertRule:
    return runtime.alerts.update_rule(name, body, caller)


@router.delete(
    "/alert-rules/{name}",
    tags=["alerts"],
    status_code=204,
    summary="Delete an alert rule (not one defined in a file)",
    responses=_MISSING_OR_CONFLICT,
)
def delete_rule(_: Writer, caller: CallerDep, name: RuleName, runtime: RuntimeDep) -> Response:
    runtime.alerts.delete_rule(name, caller)
    return Response(status_code=204)


@router.post(
    "/alert-rules/{name}/enable", tags=["alerts"], summary="Enable a rule", responses=_MISSING
)
def enable_rule(_: Writer, caller: CallerDep, name: RuleName, runtime: RuntimeDep) -> AlertRule:
    return runtime.alerts.set_enabled(name, True, caller)


@router.post(
    "/alert-rules/{name}/disable", tags=["alerts"], summary="Disable a rule", responses=_MISSING
)
def disable_rule(_: Writer, caller: CallerDep, name: RuleName, runtime: RuntimeDep) -> AlertRule:
    return runtime.alerts.set_enabled(name, False, caller)


@router.post(
    "/alert-rules/{name}/backtest",
    tags=["alerts"],
    summary="When a rule would have fired over a past range, how often and for how long",
    responses=_BACKTEST,
)
def backtest_rule(
    _: Reader, name: RuleName, body: BacktestRequest, runtime: RuntimeDep
) -> BacktestResult:
    start, end, step = _range(body, runtime.alerts.now())
    return runtime.alerts.backtest(name, start, end, step)


# -- alerts --------------------------------------------------------------------------------


@router.get("/alerts", tags=["alerts"], summary="List alerts, newest first")
def list_alerts(
    _: Reader,
    runtime: RuntimeDep,
    state: Annotated[list[AlertState] | None, Query()] = None,
    rule: Annotated[str | None, Query(max_length=63)] = None,
    owner: Annotated[str | None, Query(max_length=63)] = None,
    since: Annotated[datetime | None, Query(description="Started at or after.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Alert]:
    moment = _moment(since, "since", datetime(1970, 1, 1, tzinfo=UTC)) if since else None
    return runtime.alerts.list_alerts(
        states=state, rule=rule, owner=owner, since=moment, limit=limit
    )


@router.get("/alerts/groups", tags=["alerts"], summary="Open alerts grouped by label values")
def alert_groups(
    _: Reader,
    runtime: RuntimeDep,
    by: Annotated[list[str], Query(max_length=10)] = ["alertname"],  # noqa: B006
    state: Annotated[list[AlertState] | None, Query()] = None,
) -> list[GroupRead]:
    groups: list[dict[str, Any]] = runtime.alerts.groups([b[:63] for b in by], state)
    return [GroupRead.model_validate(g) for g in groups]


@router.get("/alerts/{alert_id}", tags=["alerts"], summary="One alert", responses=_MISSING)
def get_alert(_: Reader, alert_id: AlertId, runtime: RuntimeDep) -> Alert:
    return runtime.alerts.get_alert(alert_id)


@router.post(
    "/alerts/{alert_id}/ack",
    tags=["alerts"],
    summary="Acknowledge a firing alert",
    responses=_MISSING_OR_CONFLICT,
)
def acknowledge(_: Writer, caller: CallerDep, alert_id: AlertId, runtime: RuntimeDep) -> Alert:
    return runtime.alerts.acknowledge(alert_id, caller)


@router.post(
    "/alerts/{alert_id}/resolve", tags=["alerts"], summary="Resolve an alert", responses=_MISSING
)
def resolve(_: Writer, caller: CallerDep, alert_id: AlertId, runtime: RuntimeDep) -> Alert:
    return runtime.alerts.resolve(alert_id, caller)


@router.post(
    "/alerts/{alert_id}/notes",
    tags=["alerts"],
    status_code=201,
    summary="Add a note to an alert",
    responses=_MISSING,
)
def add_note(
    _: Writer, caller: CallerDep, alert_id: AlertId, body: AlertNoteCreate, runtime: RuntimeDep
) -> AlertNote:
    return runtime.alerts.add_note(alert_id, body.text, caller)


# -- silences and maintenance windows ------------------------------------------------------


@router.get("/silences", tags=["alerts"], summary="List silences, newest first")
def list_silences(_: Reader, runtime: RuntimeDep, active: bool = False) -> list[Silence]:
    return runtime.alerts.list_silences(active)


@router.post("/silences", tags=["alerts"], status_code=201, summary="Silence matching alerts")
def create_silence(
    _: Writer, caller: CallerDep, body: SilenceCreate, runtime: RuntimeDep
) -> Silence:
    return runtime.alerts.create_silence(body, caller)


@router.delete(
    "/silences/{silence_id}", tags=["alerts"], summary="End a silence now", responses=_MISSING
)
def expire_silence(
    _: Writer,
    caller: CallerDep,
    silence_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    runtime: RuntimeDep,
) -> Silence:
    return runtime.alerts.expire_silence(silence_id, caller)


@router.get("/maintenance-windows", tags=["alerts"], summary="List maintenance windows")
def list_windows(_: Reader, runtime: RuntimeDep, active: bool = False) -> list[MaintenanceWindow]:
    return runtime.alerts.list_windows(active)


@router.post(
    "/maintenance-windows",
    tags=["alerts"],
    status_code=201,
    summary="Hold back a service's notifications for a time",
)
def create_window(
    _: Writer, caller: CallerDep, body: MaintenanceWindowCreate, runtime: RuntimeDep
) -> MaintenanceWindow:
    return runtime.alerts.create_window(body, caller)


@router.delete(
    "/maintenance-windows/{window_id}",
    tags=["alerts"],
    status_code=204,
    summary="Delete a maintenance window",
    responses=_MISSING,
)
def delete_window(
    _: Writer,
    caller: CallerDep,
    window_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    runtime: RuntimeDep,
) -> Response:
    runtime.alerts.delete_window(window_id, caller)
    return Response(status_code=204)


# -- reports -------------------------------------------------------------------------------


@router.get(
    "/alert-reports/weekly",
    tags=["alerts"],
    summary="Per rule and service, per week: fired, pages, off-hours pages, ack time, noise",
)
def weekly_report(
    _: Reader,
    runtime: RuntimeDep,
    start: Annotated[datetime | None, Query(description="Default: 28 days before end.")] = None,
    end: Annotated[datetime | None, Query(description="Default: now.")] = None,
    time_zone: Annotated[str, Query(max_length=64)] = "UTC",
    work_start: Annotated[int, Query(ge=0, le=23)] = 9,
    work_end: Annotated[int, Query(ge=1, le=24)] = 17,
) -> WeeklyReport:
    until = _moment(end, "end", runtime.alerts.now())
    since = _moment(start, "start", until - timedelta(days=28))
    return runtime.alerts.weekly_report(since, until, time_zone, (work_start, work_end))


@router.get(
    "/alert-reports/weak-signals",
    tags=["alerts"],
    summary="Near misses, and thresholds that could be tightened without more firings",
    responses=problem_responses(503),
)
def weak_signals(
    _: Reader,
    runtime: RuntimeDep,
    days: Annotated[float, Query(gt=0, le=90)] = 7,
    margin: Annotated[float, Query(gt=0, lt=1)] = 0.1,
    tighten_days: Annotated[float, Query(gt=0, le=90)] = 30,
    step: Annotated[float, Query(ge=10, le=86400)] = 60,
    owner: Annotated[str | None, Query(max_length=63)] = None,
    max_rules: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> WeakSignalReport:
    return runtime.alerts.weak_signals(
        days=days,
        margin=margin,
        tighten_days=tighten_days,
        step=step,
        owner=owner,
        max_rules=max_rules,
    )
