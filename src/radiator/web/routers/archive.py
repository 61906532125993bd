"""The telemetry archive over HTTP (admin scope): list it, enforce retention, restore days.

See docs/retention.md. Running retention or a restore is audited (``archive.run``,
``archive.restore``).
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from radiator.audit import Outcome
from radiator.core.caller import Caller
from radiator.runtime import Runtime
from radiator.storage.telemetry.archive import ArchivedPartition
from radiator.storage.telemetry.retention import Retention
from radiator.web.deps import Admin, CallerDep, RuntimeDep
from radiator.web.errors import problem_responses

__all__ = ["router"]

router = APIRouter(prefix="/archive", tags=["archive"])


class ArchivePartitionRead(BaseModel):
    """One archived UTC day of one table; ``files`` are relative to the archive directory."""

    table: str
    date: date
    rows: int
    bytes: int
    files: list[str]
    archived_at: datetime
    restored: bool
    restored_at: datetime | None

    @classmethod
    def of(cls, part: ArchivedPartition) -> ArchivePartitionRead:
        return cls(
            table=part.table,
            date=part.day,
            rows=part.rows,
            bytes=part.bytes,
            files=list(part.files),
            archived_at=part.archived_at,
            restored=part.restored,
            restored_at=part.restored_at,
        )


class DeletedDay(BaseModel):
    """A day deleted without an archive (only with ``retention_delete_unarchived``)."""

    table: str
    date: date
    rows: int


class RetentionRunRead(BaseModel):
    """What one enforcement did. ``held``: tables past retention with archiving off;
    ``waiting``: tables whose days past retention are not rolled up yet."""

    archived: list[ArchivePartitionRead]
    deleted: list[DeletedDay]
    held: list[str]
    waiting: list[str]
    errors: list[str]


class ArchiveRestore(BaseModel):
    """Restore the archived days ``from`` .. ``to`` (inclusive, UTC; ``to`` defaults to
    ``from``) of ``table``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    table: str = Field(max_length=63, examples=["logs"])
    first: date = Field(alias="from")
    last: date | None = Field(None, alias="to")


class RestoredDay(BaseModel):
    """A day of a restore and the rows it brought back (0: it was restored already)."""

    table: str
    date: date
    rows: int


@router.get("", summary="List the archived days, by table then date")
def list_archive(
    _: Admin,
    runtime: RuntimeDep,
    table: str | None = Query(None, max_length=63, description="Only this table"),
) -> list[ArchivePartitionRead]:
    return [ArchivePartitionRead.of(p) for p in _retention(runtime).partitions(table)]


@router.post(
    "/run",
    summary="Enforce retention now: archive, then delete, every day past its retention",
    description="Days that cannot be archived keep their rows and are listed in `errors`.",
)
def run_retention(_: Admin, caller: CallerDep, runtime: RuntimeDep) -> RetentionRunRead:
    report = _retention(runtime).enforce()
    _audit(
        runtime,
        caller,
        "archive.run",
        Outcome.FAILURE if report.errors else Outcome.SUCCESS,
        rows=report.rows,
        errors=report.errors,
    )
    return RetentionRunRead(
        archived=[ArchivePartitionRead.of(p) for p in report.archived],
        deleted=[DeletedDay(table=t, date=d, rows=n) for t, d, n in report.deleted],
        held=report.held,
        waiting=report.waiting,
        errors=report.errors,
    )


@router.post(
    "/restore",
    summary="Copy archived days back into the live table (restoring twice adds nothing)",
    responses=problem_responses(404),
)
def restore_archive(
    _: Admin, caller: CallerDep, body: ArchiveRestore, runtime: RuntimeDep
) -> list[RestoredDay]:
    last = body.last or body.first
    done = _retention(runtime).restore(body.table, body.first, last)
    rows = sum(n for _, n in done)
    _audit(
        runtime,
        caller,
        "archive.restore",
        Outcome.SUCCESS,
        target=body.table,
        first=body.first.isoformat(),
        last=last.isoformat(),
        rows=rows,
    )
    return [RestoredDay(table=p.table, date=p.day, rows=n) for p, n in done]


def _retention(runtime: Runtime) -> Retention:
    return Retention(runtime.telemetry, runtime.settings)


def _audit(
    runtime: Runtime,
    caller: Caller,
    action: str,
    outcome: Outcome,
    target: str = "",
    **detail: object,
) -> None:
    runtime.audit.record(
        action,
        actor=caller.name,
        outcome=outcome,
        target=target,
        ip=caller.ip,
        request_id=caller.request_id,
        **detail,
    )
