"""Schedules read through the rotation math: shifts, who is on call, and shift load
measured against the Google SRE ceilings (at most 2 incidents per 12-hour shift, at most
25 % of one's time on call). Pure functions over the models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from radiator.oncall.models import (
    Discipline,
    OnCall,
    PersonLoad,
    Schedule,
    Shift,
    ShiftLoad,
    ShiftReport,
)
from radiator.oncall.rotation import (
    OverrideSpan,
    RotationSpec,
    oncall_at,
    segments,
)

__all__ = [
    "MAX_PAGES_PER_SHIFT",
    "MAX_SHARE",
    "SHIFT_LENGTH",
    "oncall_of",
    "shift_report",
    "shifts_of",
    "spec_of",
]

MAX_PAGES_PER_SHIFT = 2
MAX_SHARE = 0.25
SHIFT_LENGTH = timedelta(hours=12)


def spec_of(schedule: Schedule) -> RotationSpec:
    return RotationSpec(
        time_zone=schedule.time_zone,
        handoff=time.fromisoformat(schedule.handoff_time),
        period="daily" if schedule.rotation == "daily" else "weekly",
        participants=tuple(p.user for p in schedule.participants),
        start_date=schedule.start_date,
        overrides=tuple(OverrideSpan(o.user, o.start, o.end) for o in schedule.overrides),
    )


def _discipline(schedule: Schedule, user: str | None) -> Discipline | None:
    for participant in schedule.participants:
        if participant.user == user:
            return participant.discipline
    return None


def oncall_of(schedule: Schedule, at: datetime) -> OnCall:
    """Who is on call on ``schedule`` at ``at``."""
    who = oncall_at(spec_of(schedule), at)
    return OnCall(
        schedule=schedule.name,
        at=at,
        user=who.user,
        discipline=_discipline(schedule, who.user),
        shift_start=who.shift_start,
        shift_end=who.shift_end,
        override=who.override,
        gap=who.gap,
        shared=schedule.shared,
    )


def shifts_of(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The shifts of ``schedule`` in ``[start, end)``; raises ``ValueError`` on a bad range."""
    return [
        Shift(
            start=part.start,
            end=part.end,
            user=part.user,
            discipline=_discipline(schedule, part.user),
            override=part.override,
            gap=part.gap,
        )
        for part in segments(spec_of(schedule), start, end)
    ]


def _slices(shifts: Sequence[Shift]) -> list[tuple[datetime, datetime, str | None]]:
    """Each shift cut into 12-hour pieces from its start (the last may be shorter)."""
    pieces = []
    for shift in shifts:
        left = shift.start
        while left < shift.end:
            right = min(left + SHIFT_LENGTH, shift.end)
            pieces.append((left, right, shift.user))
            left = right
    return pieces


def shift_report(
    schedule: Schedule, start: datetime, end: datetime, pages: Sequence[datetime]
) -> ShiftReport:
    """Shift load of ``schedule`` over ``[start, end)``, given the times pages were triggered.

    Raises:
        ValueError: the range is empty or too long.
    """
    shifts = shifts_of(schedule, start, end)
    loads = []
    for left, right, user in _slices(shifts):
        count = sum(1 for moment in pages if left <= moment < right)
        loads.append(
            ShiftLoad(
                start=left, end=right, user=user, pages=count, over=count > MAX_PAGES_PER_SHIFT
            )
        )
    span = (end - start).total_seconds()
    totals: dict[str, timedelta] = {}
    for shift in shifts:
        if shift.user is not None:
            totals[shift.user] = totals.get(shift.user, timedelta()) + (shift.end - shift.start)
    people = [
        PersonLoad(
            user=user,
            discipline=_discipline(schedule, user),
            hours=round(total.total_seconds() / 3600, 3),
            share=round(total.total_seconds() / span, 4),
            over=total.total_seconds() / span > MAX_SHARE,
        )
        for user, total in sorted(totals.items())
    ]
    return ShiftReport(
        schedule=schedule.name,
        start=start,
        end=end,
        max_pages_per_shift=MAX_PAGES_PER_SHIFT,
        max_share=MAX_SHARE,
        shifts=loads,
        people=people,
    )
