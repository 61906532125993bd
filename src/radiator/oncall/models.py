"""On-call data: schedules, escalation policies, pages and shift-load reports."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

__all__ = [
    "DEFAULT_WAIT_MINUTES",
    "Contacts",
    "ContactsUpdate",
    "Discipline",
    "EscalationPolicy",
    "EscalationPolicyCreate",
    "EscalationPolicyUpdate",
    "EscalationStep",
    "OnCall",
    "Override",
    "Page",
    "PageCreate",
    "PageStatus",
    "PageTriggered",
    "Participant",
    "PersonLoad",
    "Rotation",
    "Schedule",
    "ScheduleCreate",
    "ScheduleUpdate",
    "ServiceOnCall",
    "Shift",
    "ShiftLoad",
    "ShiftReport",
]

DEFAULT_WAIT_MINUTES = 5
_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_SLUG_RE = re.compile(_SLUG_PATTERN)
_SLUG_SCHEMA: dict[str, Any] = {"pattern": _SLUG_PATTERN}
_ZONES = frozenset(available_timezones())
_HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_HHMM_RE = re.compile(_HHMM_PATTERN)
_HHMM_SCHEMA: dict[str, Any] = {"pattern": _HHMM_PATTERN, "examples": ["09:00"]}


def _check_hhmm(value: str) -> str:
    if not _HHMM_RE.match(value):
        raise ValueError("must be a time of day as HH:MM, 00:00 to 23:59")
    return value


def _check_slug(value: str) -> str:
    if not _SLUG_RE.match(value):
        raise ValueError(
            "must be 1-63 characters of lower-case letters, digits and '-', "
            "starting with a letter or digit"
        )
    return value


def _check_zone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError(f"{value!r} is not an IANA time zone such as 'Europe/Berlin'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone") from exc
    return value


def _check_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a UTC offset, e.g. 2026-01-01T09:00:00Z")
    if not 1970 <= value.year <= 2200:
        raise ValueError("must be between the years 1970 and 2200")
    return value.astimezone(UTC)


def _check_start_date(value: date) -> date:
    if not 1970 <= value.year <= 2200:
        raise ValueError("must be between the years 1970 and 2200")
    return value


class Discipline(StrEnum):
    """Which side of the house a participant comes from: on-call is shared by both."""

    DEVELOPMENT = "development"
    OPERATIONS = "operations"


class Rotation(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class PageStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Participant(_Strict):
    user: str = Field(min_length=1, max_length=63, description="Username of the participant.")
    discipline: Discipline


class Override(_Strict):
    user: str | None = Field(
        None, max_length=63, description="Who covers instead; null leaves a deliberate gap."
    )
    start: datetime
    end: datetime

    _aware = field_validator("start", "end")(_check_aware)

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ScheduleCreate(_Strict):
    name: str = Field(examples=["payments-primary"], json_schema_extra=_SLUG_SCHEMA)
    description: str = Field("", max_length=2000)
    time_zone: str = Field("UTC", max_length=64, examples=["Europe/Berlin"])
    handoff_time: str = Field(
        "09:00",
        description="Local time of day of the hand-off, HH:MM.",
        json_schema_extra=_HHMM_SCHEMA,
    )
    rotation: Rotation = Rotation.WEEKLY
    start_date: date = Field(description="Local date of the first hand-off.")
    participants: list[Participant] = Field(default_factory=list, max_length=100)
    overrides: list[Override] = Field(default_factory=list, max_length=500)

    _name = field_validator("name")(_check_slug)
    _zone = field_validator("time_zone")(_check_zone)
    _start = field_validator("start_date")(_check_start_date)

    _handoff = field_validator("handoff_time")(_check_hhmm)


class ScheduleUpdate(_Strict):
    description: str | None = Field(None, max_length=2000)
    time_zone: str | None = Field(None, max_length=64)
    handoff_time: str | None = Field(None, json_schema_extra=_HHMM_SCHEMA)
    rotation: Rotation | None = None
    start_date: date | None = None
    participants: list[Participant] | None = Field(None, max_length=100)
    overrides: list[Override] | None = Field(None, max_length=500)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)

    @field_validator("start_date")
    @classmethod
    def _start(cls, value: date | None) -> date | None:
        return None if value is None else _check_start_date(value)

    @field_validator("handoff_time")
    @classmethod
    def _handoff(cls, value: str | None) -> str | None:
        return None if value is None else _check_hhmm(value)


class Schedule(BaseModel):
    id: int
    name: str
    description: str
    time_zone: str
    handoff_time: str
    rotation: Rotation
    start_date: date
    participants: list[Participant]
    overrides: list[Override]
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def disciplines(self) -> list[Discipline]:
        return sorted({p.discipline for p in self.participants})

    @computed_field  # type: ignore[prop-decorator]
    @property
    def shared(self) -> bool:
        """Both development and operations take part, as a shared on-call should."""
        return len(self.disciplines) == len(Discipline)


class Shift(BaseModel):
    """A span of a schedule with one person on call, or a gap (``user`` null)."""

    start: datetime
    end: datetime
    user: str | None
    discipline: Discipline | None
    override: bool
    gap: bool


class OnCall(BaseModel):
    """Who is on call on one schedule at one instant."""

    schedule: str
    at: datetime
    user: str | None
    display_name: str = ""
    discipline: Discipline | None
    shift_start: datetime
    shift_end: datetime
    override: bool
    gap: bool
    shared: bool = Field(description="False when the schedule has only one discipline.")


class ServiceOnCall(BaseModel):
    """Who a page for ``service`` would reach now: the first step of its policy."""

    service: str
    policy: str | None
    oncall: OnCall | None
    user: str | None


class ContactsUpdate(_Strict):
    channels: list[str] = Field(
        max_length=20, description="Notification channels that reach this person, in order."
    )


class Contacts(BaseModel):
    """How one person is reached when paged (on top of the policy's channels)."""

    user: str
    channels: list[str]


class EscalationStep(_Strict):
    target_type: Literal["schedule", "user"]
    target: str = Field(min_length=1, max_length=63, description="Schedule name or username.")
    wait_minutes: int = Field(
        DEFAULT_WAIT_MINUTES, ge=1, le=1440, description="Wait for an acknowledgement."
    )


class EscalationPolicyCreate(_Strict):
    name: str = Field(examples=["payments"], json_schema_extra=_SLUG_SCHEMA)
    description: str = Field("", max_length=2000)
    steps: list[EscalationStep] = Field(min_length=1, max_length=20)
    repeat: int = Field(0, ge=0, le=10, description="Times to run the steps again.")
    services: list[str] = Field(default_factory=list, max_length=200)
    channels: list[str] = Field(
        default_factory=list, max_length=20, description="Notification channels of every page."
    )

    _name = field_validator("name")(_check_slug)


class EscalationPolicyUpdate(_Strict):
    description: str | None = Field(None, max_length=2000)
    steps: list[EscalationStep] | None = Field(None, min_length=1, max_length=20)
    repeat: int | None = Field(None, ge=0, le=10)
    services: list[str] | None = Field(None, max_length=200)
    channels: list[str] | None = Field(None, max_length=20)


class EscalationPolicy(BaseModel):
    id: int
    name: str
    description: str
    steps: list[EscalationStep]
    repeat: int
    services: list[str]
    channels: list[str]
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    id: int
    service: str
    summary: str
    details: str
    dedup_key: str
    policy: str
    status: PageStatus
    step: int = Field(description="Index of the escalation step now notified.")
    round: int = Field(description="0 on the first pass through the steps.")
    target_user: str | None
    triggered_at: datetime
    escalate_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None


class PageCreate(_Strict):
    """Page the person on call for ``service`` (alert rules do the same through the service)."""

    service: str = Field(min_length=1, max_length=63, examples=["checkout"])
    summary: str = Field(min_length=1, max_length=500, examples=["checkout 5xx above 5 %"])
    details: str = Field("", max_length=10_000)
    dedup_key: str = Field(
        "", max_length=200, description="An open page with the same key is returned instead."
    )


class PageTriggered(BaseModel):
    page: Page
    created: bool = Field(description="False when an open page with the dedup key existed.")


class ShiftLoad(BaseModel):
    """One 12-hour slice of on-call and the pages in it (SRE ceiling: 2)."""

    start: datetime
    end: datetime
    user: str | None
    pages: int
    over: bool


class PersonLoad(BaseModel):
    """A person's share of the range on call (SRE ceiling: 25 %)."""

    user: str
    discipline: Discipline | None
    hours: float
    share: float
    over: bool


class ShiftReport(BaseModel):
    schedule: str
    start: datetime
    end: datetime
    max_pages_per_shift: int
    max_share: float
    shifts: list[ShiftLoad]
    people: list[PersonLoad]
