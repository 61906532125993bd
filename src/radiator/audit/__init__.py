"""Append-only audit log of authentication, authorisation and privileged changes."""

from __future__ import annotations

from radiator.audit.models import AuditQuery, AuditRecord, Outcome
from radiator.audit.service import AuditLog
from radiator.audit.store import AuditStore

__all__ = ["AuditLog", "AuditQuery", "AuditRecord", "AuditStore", "Outcome"]
