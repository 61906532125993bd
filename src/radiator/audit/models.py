"""Audit records: who did what to which target, when, and whether it was allowed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from radiator.core.types import utc

__all__ = ["AuditQuery", "AuditRecord", "Outcome"]


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    SUCCESS = "success"
    FAILURE = "failure"


class AuditRecord(BaseModel):
    """One line of the append-only audit log."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    time: datetime
    actor: str = Field(description="Username, 'token:<prefix>' or 'anonymous'.")
    action: str = Field(description="Dotted verb, e.g. 'auth.login', 'user.create'.")
    target: str = ""
    outcome: Outcome
    ip: str = ""
    request_id: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditQuery(BaseModel):
    """Filters for reading the log, newest first; ``before_id`` pages backwards."""

    actor: str | None = None
    action: str | None = Field(None, description="Exact action, or a prefix ending in '.'.")
    outcome: Outcome | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = Field(100, ge=1, le=1000)

    @field_validator("since", "until")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return utc(value) if value is not None else None
