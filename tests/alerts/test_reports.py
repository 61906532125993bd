"""Learning from alerts: the weekly report and the weak-signal report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from radiator.alerts import AlertService, AlertState
from radiator.identity import Role, UserCreate
from radiator.oncall import EscalationPolicyCreate, EscalationStep, Participant, ScheduleCreate
from radiator.runtime import Runtime

from .conftest import T0, Clock, append_points, threshold_rule

SATURDAY_NIGHT = T0 + timedelta(days=5, hours=12)  # Saturday 22:00 UTC


def _alert(
    fingerprint: str, fired: Any, resolved: Any, page: int | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "rule": "cpu-high",
        "fingerprint": fingerprint,
        "labels": {"host": fingerprint},
        "severity": "page",
        "owner": "checkout",
        "state": AlertState.RESOLVED,
        "summary": "cpu",
        "started_at": fired,
        "fired_at": fired,
        "resolved_at": resolved,
        "last_seen_at": resolved,
        "page_id": page,
        "group_key": "cpu-high",
        **extra,
    }


def test_weekly_report_counts_pages_off_hours_ack_time_noise_and_flaps(
    alerts: AlertService,
) -> None:
    minute = timedelta(minutes=1)
    alerts.store.add_alerts(
        [
            # acknowledged after 4 minutes, resolved by hand: acted upon
            _alert(
                "a",
                T0,
                T0 + 30 * minute,
                page=1,
                acknowledged_at=T0 + 4 * minute,
                acknowledged_by="ana",
                resolved_by="ana",
            ),
            # paged at the weekend, cleared on its own: noise
            _alert("b", SATURDAY_NIGHT, SATURDAY_NIGHT + 5 * minute, page=2),
            # fired again 10 minutes after b resolved: a flap, also noise
            _alert("b", SATURDAY_NIGHT + 15 * minute, SATURDAY_NIGHT + 20 * minute),
            # next week
            _alert("c", T0 + timedelta(days=8), T0 + timedelta(days=8, minutes=2)),
        ]
    )
    report = alerts.weekly_report(T0 - timedelta(days=1), T0 + timedelta(days=14))
    first, second = report.rules
    assert (first.week, second.week) == (T0.date(), T0.date() + timedelta(days=7))
    assert first.fired == 3 and first.pages == 2 and first.pages_outside_hours == 1
    assert first.acknowledged == 1 and first.mean_ack_seconds == 240
    assert first.noise_share == 2 / 3
    assert first.flaps == 1
    assert second.fired == 1 and second.noise_share == 1.0
    assert [row.key for row in report.services] == ["checkout", "checkout"]


def test_weekly_report_in_another_time_zone_moves_working_hours(alerts: AlertService) -> None:
    # Monday 10:00 UTC is 19:00 in Tokyo: outside working hours there.
    alerts.store.add_alerts([_alert("a", T0, T0 + timedelta(minutes=5), page=1)])
    utc = alerts.weekly_report(T0 - timedelta(days=1), T0 + timedelta(days=1))
    tokyo = alerts.weekly_report(T0 - timedelta(days=1), T0 + timedelta(days=1), "Asia/Tokyo")
    assert utc.rules[0].pages_outside_hours == 0
    assert tokyo.rules[0].pages_outside_hours == 1


def test_weak_signals_find_near_misses_and_a_tighter_threshold(
    runtime: Runtime, alerts: AlertService, clock: Clock
) -> None:
    start = T0 - timedelta(days=2)
    busy = [1.0] * 2880
    busy[1000:1010] = [10.0] * 10  # fires once
    append_points(runtime, "cpu", busy, start, tags={"host": "a"})
    close = [1.0] * 2880
    close[2000] = 4.7  # within 10 % of 5, never above it
    append_points(runtime, "cpu", close, start, tags={"host": "b"})
    alerts.create_rule(threshold_rule())
    report = alerts.weak_signals(T0, days=2, margin=0.1, tighten_days=2)
    (miss,) = report.near_misses
    assert miss.labels["host"] == "b" and miss.value == 4.7 and miss.limit == 5
    assert abs(miss.closeness - 0.94) < 1e-9
    (candidate,) = report.candidates
    assert candidate.rule == "cpu-high" and candidate.firings == 1
    assert candidate.suggested == 4.75  # 5 % tighter; 10 % would catch b's 4.7


def test_weekly_report_measures_each_schedule_against_the_sre_ceilings(
    runtime: Runtime, checkout: str
) -> None:
    runtime.identity.create_user(
        UserCreate(username="ana", password="a long enough password", role=Role.EDITOR)
    )
    runtime.oncall.create_schedule(
        ScheduleCreate(
            name="primary",
            start_date=date(2026, 10, 1),
            participants=[Participant(user="ana", discipline="development")],
        )
    )
    runtime.oncall.create_policy(
        EscalationPolicyCreate(
            name="payments",
            steps=[EscalationStep(target_type="schedule", target="primary")],
            services=[checkout],
        )
    )
    for minute in range(3):  # three pages in one 12-hour shift: over the ceiling of two
        runtime.oncall.page("checkout", f"page {minute}", now=T0 + timedelta(minutes=minute))
    report = runtime.alerts.weekly_report(T0 - timedelta(days=1), T0 + timedelta(days=1))
    (shifts,) = report.shifts
    assert shifts["schedule"] == "primary" and shifts["max_pages_per_shift"] == 2
    assert any(s["over"] for s in shifts["shifts"])  # type: ignore[attr-defined]
