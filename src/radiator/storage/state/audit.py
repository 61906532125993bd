"""SQL implementation of the append-only audit store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from radiator.audit.models import AuditQuery, AuditRecord, Outcome
from radiator.storage.state.db import Database
from radiator.storage.state.tables import AuditRow

__all__ = ["SqlAuditStore"]


class SqlAuditStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, records: Sequence[AuditRecord]) -> None:
        with self._db.begin() as session:
            session.add_all(
                AuditRow(**r.model_dump(exclude={"id"}, mode="python")) for r in records
            )

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(query.limit)
        if query.actor is not None:
            stmt = stmt.where(AuditRow.actor == query.actor)
        if query.action is not None:
            if query.action.endswith("."):
                stmt = stmt.where(AuditRow.action.startswith(query.action, autoescape=True))
            else:
                stmt = stmt.where(AuditRow.action == query.action)
        if query.outcome is not None:
            stmt = stmt.where(AuditRow.outcome == str(query.outcome))
        if query.target is not None:
            stmt = stmt.where(AuditRow.target == query.target)
        if query.since is not None:
            stmt = stmt.where(AuditRow.time >= query.since)
        if query.until is not None:
            stmt = stmt.where(AuditRow.time < query.until)
        if query.before_id is not None:
            stmt = stmt.where(AuditRow.id < query.before_id)
        with self._db.begin() as session:
            return [
                AuditRecord(
                    id=row.id,
                    time=row.time,
                    actor=row.actor,
                    action=row.action,
                    target=row.target,
                    outcome=Outcome(row.outcome),
                    ip=row.ip,
                    request_id=row.request_id,
                    detail=row.detail,
                )
                for row in session.scalars(stmt)
            ]
