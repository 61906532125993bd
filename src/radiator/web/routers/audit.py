"""Reading the audit log (admin scope). There is no way to change it through the API."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query

from radiator.audit import AuditQuery, AuditRecord, Outcome
from radiator.errors import InvalidInputError
from radiator.web.deps import MAX_ID, Admin, RuntimeDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", summary="Search the audit log, newest first")
def search_audit(
    _: Admin,
    runtime: RuntimeDep,
    actor: str | None = None,
    action: str | None = Query(None, description="Exact action, or a prefix ending in '.'"),
    outcome: Outcome | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = Query(
        None, ge=1, le=MAX_ID, description="Page: records older than this id"
    ),
    limit: int = Query(100, ge=1, le=1000),
) -> list[AuditRecord]:
    _check_utc("since", since)
    _check_utc("until", until)
    query = AuditQuery(
        actor=actor,
        action=action,
        outcome=outcome,
        target=target,
        since=since,
        until=until,
        before_id=before_id,
        limit=limit,
    )
    return runtime.audit.search(query)


def _check_utc(name: str, moment: datetime | None) -> None:
    # A time near year 1 or 9999 with an offset has no UTC equivalent; say so instead of
    # overflowing while the query converts it.
    if moment is None:
        return
    try:
        moment.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidInputError(
            f"{name} is outside the range of representable times", field=f"query.{name}"
        ) from exc
