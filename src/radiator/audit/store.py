"""What the audit domain needs from persistence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from radiator.audit.models import AuditQuery, AuditRecord

__all__ = ["AuditStore"]


class AuditStore(Protocol):
    """Append-only storage of audit records.

    ``append`` persists every record or raises ``StorageError``; nothing updates or deletes.
    ``query`` returns records matching all given filters, newest (highest id) first.
    """

    def append(self, records: Sequence[AuditRecord]) -> None: ...

    def query(self, query: AuditQuery) -> list[AuditRecord]: ...
