"""Helpers for the identity tests: a fake clock and plain reads of the audit log and tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from radiator.audit import AuditLog, AuditQuery, AuditRecord
from radiator.storage.state import Database

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MAX_FAILURES = 3
FAILURE_WINDOW = timedelta(minutes=5)
SESSION_TTL = timedelta(hours=12)
PASSWORD = "correct horse battery staple"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def last_record(audit: AuditLog, action: str) -> AuditRecord:
    """The newest audit record of ``action``."""
    found = audit.search(AuditQuery(action=action, limit=1))
    assert found, f"no audit record of {action}"
    return found[0]


def table_rows(db: Database, table: str) -> list[dict[str, object]]:
    """Every row of a state table, read with plain SQL: what really is on disk."""
    with db.engine.connect() as connection:
        result = connection.execute(text(f"SELECT * FROM {table}"))
        return [dict(row._mapping) for row in result]
