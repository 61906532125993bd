"""On-call API: schedules, escalation policies, who is on call, pages and shift load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from radiator.core.types import utc
from radiator.errors import InvalidInputError
from radiator.oncall import (
    Contacts,
    ContactsUpdate,
    EscalationPolicy,
    EscalationPolicyCreate,
    EscalationPolicyUpdate,
    OnCall,
    Page,
    PageCreate,
    PageStatus,
    PageTriggered,
    Schedule,
    ScheduleCreate,
    ScheduleUpdate,
    ServiceOnCall,
    Shift,
    ShiftReport,
)
from radiator.web.deps import MAX_ID, CallerDep, Reader, RuntimeDep, Writer
from radiator.web.errors import problem_responses

__all__ = ["router"]

_MISSING = problem_responses(404)
_CONFLICT = problem_responses(409)
_MISSING_OR_CONFLICT = problem_responses(404, 409)

router = APIRouter(tags=["oncall"])

PageId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _moment(value: datetime | None, field: str, default: datetime | None = None) -> datetime:
    """An aware UTC time from a query parameter (naive means UTC) within 1970-2200."""
    if value is None:
        return default or datetime.now(UTC)
    try:
        moment = utc(value)
    except ValueError as exc:
        raise InvalidInputError(f"{field} is out of range", field=field) from exc
    if not 1970 <= moment.year <= 2200:
        raise InvalidInputError(f"{field} must be between the years 1970 and 2200", field=field)
    return moment


def _range(
    start: datetime | None, end: datetime | None, default: timedelta
) -> tuple[datetime, datetime]:
    until = _moment(end, "end")
    since = _moment(start, "start", until - default)
    if until <= since:
        raise InvalidInputError("end must be after start", field="end")
    return since, until


# -- schedules -----------------------------------------------------------------------------


@router.get("/schedules", summary="List on-call schedules")
def list_schedules(_: Reader, runtime: RuntimeDep) -> list[Schedule]:
    return runtime.oncall.list_schedules()


@router.post("/schedules", status_code=201, summary="Create a schedule", responses=_CONFLICT)
def create_schedule(
    _: Writer, caller: CallerDep, body: ScheduleCreate, runtime: RuntimeDep
) -> Schedule:
    return runtime.oncall.create_schedule(body, caller)


@router.get("/schedules/{name}", summary="One schedule", responses=_MISSING)
def get_schedule(_: Reader, name: str, runtime: RuntimeDep) -> Schedule:
    return runtime.oncall.get_schedule(name)


@router.patch("/schedules/{name}", summary="Change a schedule", responses=_MISSING)
def update_schedule(
    _: Writer, caller: CallerDep, name: str, body: ScheduleUpdate, runtime: RuntimeDep
) -> Schedule:
    return runtime.oncall.update_schedule(name, body, caller)


@router.delete(
    "/schedules/{name}",
    status_code=204,
    summary="Delete a schedule no escalation policy uses",
    responses=_MISSING_OR_CONFLICT,
)
def delete_schedule(_: Writer, caller: CallerDep, name: str, runtime: RuntimeDep) -> Response:
    runtime.oncall.delete_schedule(name, caller)
    return Response(status_code=204)


@router.get(
    "/schedules/{name}/oncall", summary="Who is on call on a schedule at a time", responses=_MISSING
)
def schedule_oncall(
    _: Reader,
    name: str,
    runtime: RuntimeDep,
    at: Annotated[datetime | None, Query(description="Default: now.")] = None,
) -> OnCall:
    return runtime.oncall.oncall_at(name, _moment(at, "at"))


@router.get(
    "/schedules/{name}/shifts", summary="Shifts of a schedule in a range", responses=_MISSING
)
def schedule_shifts(
    _: Reader,
    name: str,
    runtime: RuntimeDep,
    start: Annotated[datetime | None, Query(description="Default: now.")] = None,
    end: Annotated[datetime | None, Query(description="Default: 14 days after start.")] = None,
) -> list[Shift]:
    since = _moment(start, "start")
    until = _moment(end, "end", since + timedelta(days=14))
    if until <= since:
        raise InvalidInputError("end must be after start", field="end")
    return runtime.oncall.shifts(name, since, until)


@router.get("/oncall/now", summary="Who a page for each service would reach now")
def oncall_now(
    _: Reader,
    runtime: RuntimeDep,
    service: Annotated[str | None, Query(max_length=63)] = None,
) -> list[ServiceOnCall]:
    return runtime.oncall.oncall_now(service)


@router.get(
    "/oncall/report",
    summary="Shift load against the SRE ceilings (2 pages per 12 h, 25 % time on call)",
    responses=_MISSING,
)
def oncall_report(
    _: Reader,
    runtime: RuntimeDep,
    schedule: Annotated[str, Query(max_length=63)],
    start: Annotated[datetime | None, Query(description="Default: 28 days before end.")] = None,
    end: Annotated[datetime | None, Query(description="Default: now.")] = None,
) -> ShiftReport:
    since, until = _range(start, end, timedelta(days=28))
    return runtime.oncall.report(schedule, since, until)


@router.get(
    "/oncall/contacts/{username}",
    summary="The notification channels that reach a person when paged",
    responses=_MISSING,
)
def get_contacts(_: Reader, username: str, runtime: RuntimeDep) -> Contacts:
    return runtime.oncall.get_contacts(username)


@router.put(
    "/oncall/contacts/{username}",
    summary="Set the notification channels that reach a person when paged",
    responses=_MISSING,
)
def set_contacts(
    _: Writer, caller: CallerDep, username: str, body: ContactsUpdate, runtime: RuntimeDep
) -> Contacts:
    return runtime.oncall.set_contacts(username, body, caller)


# -- escalation policies -------------------------------------------------------------------


@router.get("/escalation-policies", summary="List escalation policies")
def list_policies(_: Reader, runtime: RuntimeDep) -> list[EscalationPolicy]:
    return runtime.oncall.list_policies()


@router.post(
    "/escalation-policies",
    status_code=201,
    summary="Create an escalation policy",
    responses=_CONFLICT,
)
def create_policy(
    _: Writer, caller: CallerDep, body: EscalationPolicyCreate, runtime: RuntimeDep
) -> EscalationPolicy:
    return runtime.oncall.create_policy(body, caller)


@router.get("/escalation-policies/{name}", summary="One escalation policy", responses=_MISSING)
def get_policy(_: Reader, name: str, runtime: RuntimeDep) -> EscalationPolicy:
    return runtime.oncall.get_policy(name)


@router.patch(
    "/escalation-policies/{name}",
    summary="Change an escalation policy",
    responses=_MISSING_OR_CONFLICT,
)
def update_policy(
    _: Writer, caller: CallerDep, name: str, body: EscalationPolicyUpdate, runtime: RuntimeDep
) -> EscalationPolicy:
    return runtime.oncall.update_policy(name, body, caller)


@router.delete(
    "/escalation-policies/{name}",
    status_code=204,
    summary="Delete an escalation policy",
    responses=_MISSING,
)
def delete_policy(_: Writer, caller: CallerDep, name: str, runtime: RuntimeDep) -> Response:
    runtime.oncall.delete_policy(name, caller)
    return Response(status_code=204)


# -- pages ---------------------------------------------------------------------------------


@router.get("/pages", summary="List pages, newest first")
def list_pages(
    _: Reader,
    runtime: RuntimeDep,
    status: PageStatus | None = None,
    service: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Page]:
    return runtime.oncall.list_pages(status=status, service=service, limit=limit)


@router.post("/pages", status_code=201, summary="Page the person on call for a service")
def create_page(_: Writer, body: PageCreate, runtime: RuntimeDep) -> PageTriggered:
    return runtime.oncall.page(body.service, body.summary, body.details, body.dedup_key)


@router.get("/pages/{page_id}", summary="One page", responses=_MISSING)
def get_page(_: Reader, page_id: PageId, runtime: RuntimeDep) -> Page:
    return runtime.oncall.get_page(page_id)


@router.post("/pages/{page_id}/ack", summary="Acknowledge a page", responses=_MISSING_OR_CONFLICT)
def acknowledge_page(_: Writer, caller: CallerDep, page_id: PageId, runtime: RuntimeDep) -> Page:
    return runtime.oncall.acknowledge(page_id, caller)


@router.post("/pages/{page_id}/resolve", summary="Resolve a page", responses=_MISSING)
def resolve_page(_: Writer, caller: CallerDep, page_id: PageId, runtime: RuntimeDep) -> Page:
    return runtime.oncall.resolve(page_id, caller)
