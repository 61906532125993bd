"""Rotation math: hand-offs keep their local time across DST, shifts tile a range, overrides
and gaps are where they should be."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radiator.oncall.rotation import (
    OverrideSpan,
    RotationSpec,
    handoff_at,
    oncall_at,
    segments,
)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Santiago",
    "Pacific/Chatham",
]
BERLIN = ZoneInfo("Europe/Berlin")


def spec(**changes: object) -> RotationSpec:
    values: dict[str, object] = {
        "time_zone": "Europe/Berlin",
        "handoff": time(9, 0),
        "period": "daily",
        "participants": ("ana", "ben", "cai"),
        "start_date": date(2026, 3, 1),
    }
    values.update(changes)
    return RotationSpec(**values)  # type: ignore[arg-type]


def test_daily_handoff_stays_at_nine_local_across_the_spring_change() -> None:
    rota = spec()
    # Berlin moves from CET (+1) to CEST (+2) on 2026-03-29 at 02:00.
    before = oncall_at(rota, datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN))
    assert before.shift_start == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert before.shift_end == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert before.shift_end - before.shift_start == timedelta(hours=23)
    assert before.shift_end.astimezone(BERLIN).time() == time(9, 0)


def test_daily_shift_across_the_autumn_change_lasts_25_hours() -> None:
    rota = spec(start_date=date(2026, 10, 1))
    shift = oncall_at(rota, datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN))
    assert shift.shift_end - shift.shift_start == timedelta(hours=25)
    assert shift.shift_start.astimezone(BERLIN).time() == time(9, 0)


def test_participants_take_turns_in_order() -> None:
    rota = spec()
    users = [
        oncall_at(rota, datetime(2026, 3, day, 10, 0, tzinfo=BERLIN)).user for day in range(1, 8)
    ]
    assert users == ["ana", "ben", "cai", "ana", "ben", "cai", "ana"]
    # Before 09:00 the previous day's person is still on call.
    assert oncall_at(rota, datetime(2026, 3, 2, 8, 59, tzinfo=BERLIN)).user == "ana"


def test_weekly_rotation_hands_off_every_seven_days() -> None:
    rota = spec(period="weekly", start_date=date(2026, 3, 2))
    assert oncall_at(rota, datetime(2026, 3, 8, 23, 0, tzinfo=BERLIN)).user == "ana"
    assert oncall_at(rota, datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN)).user == "ben"
    # The week with the DST change is an hour short.
    week = oncall_at(rota, datetime(2026, 3, 25, tzinfo=BERLIN))
    assert week.shift_end - week.shift_start == timedelta(days=7, hours=-1)


def test_before_the_start_date_and_without_participants_is_a_gap() -> None:
    assert oncall_at(spec(), datetime(2026, 2, 27, tzinfo=UTC)).gap
    assert oncall_at(spec(participants=()), datetime(2026, 3, 5, tzinfo=UTC)).gap


def test_override_replaces_the_rotation_and_an_empty_override_is_a_gap() -> None:
    cover = OverrideSpan(
        "dee", datetime(2026, 3, 3, 12, tzinfo=UTC), datetime(2026, 3, 3, 18, tzinfo=UTC)
    )
    hole = OverrideSpan(
        None, datetime(2026, 3, 4, 0, tzinfo=UTC), datetime(2026, 3, 4, 6, tzinfo=UTC)
    )
    rota = spec(overrides=(cover, hole))
    parts = segments(rota, datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 3, 4, 9, tzinfo=UTC))
    summary = [(p.start.hour, p.end.hour, p.user, p.override, p.gap) for p in parts]
    assert summary == [
        (9, 12, "cai", False, False),
        (12, 18, "dee", True, False),
        (18, 0, "cai", False, False),
        (0, 6, None, True, True),
        (6, 8, "cai", False, False),
        (8, 9, "ana", False, False),
    ]


def test_a_range_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        segments(spec(), datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
specs = st.builds(
    RotationSpec,
    time_zone=st.sampled_from(ZONES),
    handoff=st.times(),
    period=st.sampled_from(["daily", "weekly"]),
    participants=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=4).map(tuple),
    start_date=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    overrides=st.lists(
        st.tuples(st.sampled_from([None, "x", "y"]), moments, st.integers(1, 72 * 60)).map(
            lambda t: OverrideSpan(t[0], t[1], t[1] + timedelta(minutes=t[2]))
        ),
        max_size=3,
    ).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(rota=specs, shift=st.integers(0, 400))
def test_every_handoff_happens_at_the_local_handoff_time(rota: RotationSpec, shift: int) -> None:
    start = handoff_at(rota, shift)
    local = start.astimezone(rota.zone)
    wanted = datetime.combine(local.date(), rota.handoff)
    # Where the hand-off time does not exist (a spring-forward gap) it moves by the gap.
    exists = (
        datetime.combine(local.date(), rota.handoff, tzinfo=rota.zone)
        .astimezone(UTC)
        .astimezone(rota.zone)
        .replace(tzinfo=None)
        == wanted
    )
    if exists:
        assert local.replace(tzinfo=None) == wanted
    assert handoff_at(rota, shift + 1) > start


@settings(max_examples=200, deadline=None)
@given(rota=specs, start=moments, hours=st.integers(1, 24 * 40), probe=st.floats(0, 1))
def test_segments_tile_the_range_and_agree_with_oncall_at(
    rota: RotationSpec, start: datetime, hours: int, probe: float
) -> None:
    end = start + timedelta(hours=hours)
    parts = segments(rota, start, end)
    assert parts[0].start == start
    assert parts[-1].end == end
    for left, right in pairwise(parts):
        assert left.end == right.start
        assert left.start < left.end
    at = start + (end - start) * probe
    at = min(at, end - timedelta(microseconds=1))
    part = next(p for p in parts if p.start <= at < p.end)
    who = oncall_at(rota, at)
    assert (part.user, part.override, part.gap) == (who.user, who.override, who.gap)
    assert who.shift_start <= at < who.shift_end
