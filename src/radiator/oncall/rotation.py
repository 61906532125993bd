"""Rotation math: who is on call at an instant, and the shifts over a range. Pure functions.

A rotation hands off at a wall-clock time of day in an IANA time zone, every day or every
week, cycling through its participants in order from a start date. Hand-offs follow the
zone's daylight-saving rules: 09:00 local stays 09:00 local, so a shift across a change
lasts 23 or 25 hours (daily) or 167 or 169 hours (weekly). Overrides replace the rotation's
person for a span; an override naming nobody is a deliberate hole. Any time nobody is on
call is a *gap*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_RANGE",
    "Assignment",
    "OverrideSpan",
    "RotationSpec",
    "Segment",
    "handoff_at",
    "on_call_time",
    "oncall_at",
    "segments",
]

Period = Literal["daily", "weekly"]
_DAYS: dict[str, int] = {"daily": 1, "weekly": 7}
# Longest range whose shifts are listed in one call (a year of daily shifts is 366).
MAX_RANGE = timedelta(days=400)


@dataclass(frozen=True, slots=True)
class OverrideSpan:
    """``user`` (or nobody, when ``None``) is on call in ``[start, end)`` instead."""

    user: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class RotationSpec:
    time_zone: str
    handoff: time
    period: Period
    participants: tuple[str, ...]
    start_date: date
    overrides: tuple[OverrideSpan, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Who is on call at one instant: ``user`` is ``None`` in a gap."""

    user: str | None
    shift: int
    shift_start: datetime
    shift_end: datetime
    override: bool

    @property
    def gap(self) -> bool:
        return self.user is None


@dataclass(frozen=True, slots=True)
class Segment:
    """A span with one person on call (or a gap), within one rotation shift."""

    start: datetime
    end: datetime
    user: str | None
    shift: int
    override: bool

    @property
    def gap(self) -> bool:
        return self.user is None


def handoff_at(spec: RotationSpec, shift: int) -> datetime:
    """The UTC start of rotation shift number ``shift`` (0 starts on ``start_date``)."""
    day = spec.start_date + timedelta(days=shift * _DAYS[spec.period])
    local = datetime.combine(day, spec.handoff, tzinfo=spec.zone)
    return local.astimezone(UTC)


def _shift_index(spec: RotationSpec, at: datetime) -> int:
    local_day = at.astimezone(spec.zone).date()
    index = (local_day - spec.start_date).days // _DAYS[spec.period]
    # The local date gives the shift to within one; hand-off time decides which.
    while handoff_at(spec, index) > at:
        index -= 1
    while handoff_at(spec, index + 1) <= at:
        index += 1
    return index


def _rotation_user(spec: RotationSpec, shift: int) -> str | None:
    if shift < 0 or not spec.participants:
        return None
    return spec.participants[shift % len(spec.participants)]


def _override_at(spec: RotationSpec, at: datetime) -> OverrideSpan | None:
    found = None
    # The last override listed wins where overrides overlap.
    for span in spec.overrides:
        if span.start <= at < span.end:
            found = span
    return found


def oncall_at(spec: RotationSpec, at: datetime) -> Assignment:
    """Who is on call at ``at`` (aware), and the rotation shift it falls in."""
    at = at.astimezone(UTC)
    shift = _shift_index(spec, at)
    start, end = handoff_at(spec, shift), handoff_at(spec, shift + 1)
    span = _override_at(spec, at)
    if span is not None:
        return Assignment(span.user, shift, start, end, override=True)
    return Assignment(_rotation_user(spec, shift), shift, start, end, override=False)


def _boundaries(spec: RotationSpec, start: datetime, end: datetime) -> list[datetime]:
    points = {start, end}
    shift = _shift_index(spec, start) + 1
    while (moment := handoff_at(spec, shift)) < end:
        points.add(moment)
        shift += 1
    for span in spec.overrides:
        points.update(p for p in (span.start, span.end) if start < p < end)
    return sorted(points)


def segments(spec: RotationSpec, start: datetime, end: datetime) -> list[Segment]:
    """The spans of ``[start, end)`` with one person on call each, gaps included.

    Consecutive spans are merged when the same person holds the same shift the same way.

    Raises:
        ValueError: the range is empty or longer than ``MAX_RANGE``.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ValueError("the range must end after it starts")
    if end - start > MAX_RANGE:
        raise ValueError(f"the range may span at most {MAX_RANGE.days} days")
    points = _boundaries(spec, start, end)
    found: list[Segment] = []
    for left, right in pairwise(points):
        who = oncall_at(spec, left)
        last = found[-1] if found else None
        if last and (last.user, last.shift, last.override) == (who.user, who.shift, who.override):
            found[-1] = Segment(last.start, right, who.user, who.shift, who.override)
        else:
            found.append(Segment(left, right, who.user, who.shift, who.override))
    return found


def on_call_time(parts: Sequence[Segment]) -> dict[str, timedelta]:
    """Total time on call per person over ``parts``."""
    totals: dict[str, timedelta] = {}
    for part in parts:
        if part.user is not None:
            totals[part.user] = totals.get(part.user, timedelta()) + (part.end - part.start)
    return totals
