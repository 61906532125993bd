"""The audit log: every authentication and authorisation decision and privileged change."""

from __future__ import annotations

import logging
from typing import Any

from radiator.audit.models import AuditQuery, AuditRecord, Outcome
from radiator.audit.store import AuditStore
from radiator.core.clock import Clock, system_clock

__all__ = ["AuditLog"]

_log = logging.getLogger(__name__)


class AuditLog:
    """Writes audit records as they happen and reads them back.

    Writes are synchronous: a privileged change is not reported done before its record is
    stored.
    """

    def __init__(self, store: AuditStore, clock: Clock = system_clock) -> None:
        self._store = store
        self._clock = clock

    def record(
        self,
        action: str,
        *,
        actor: str,
        outcome: Outcome,
        target: str = "",
        ip: str = "",
        request_id: str = "",
        **detail: Any,
    ) -> AuditRecord:
        """Append one record and return it."""
        entry = AuditRecord(
            time=self._clock(),
            actor=actor,
            action=action,
            target=target,
            outcome=outcome,
            ip=ip,
            request_id=request_id,
            detail=detail,
        )
        self._store.append([entry])
        _log.debug("audit %s %s %s %s", entry.actor, action, target, outcome)
        return entry

    def search(self, query: AuditQuery) -> list[AuditRecord]:
        """Records matching ``query``, newest first."""
        return self._store.query(query)
