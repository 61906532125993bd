"""Learning from alerts: the weekly report and the weak-signal report.

Weekly, per rule and per service: alerts fired, pages, pages outside working hours, time to
acknowledge, the share resolved without action (noise: cleared on its own, never
acknowledged, no notes) and flapping (a firing less than an hour after the same label set
resolved). Weak signals: near misses (values that came close to a threshold, detector scores
between half the minimum and the minimum, without firing) and rules whose threshold could be
tightened without one more firing over the last 30 days — the Handbook's "decrease incident
tolerances".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, Field

from radiator.alerts.backtest import FiringInterval, firing_intervals
from radiator.alerts.evaluate import FloatArray, SeriesStates, compare
from radiator.alerts.models import Alert, AlertRule, DetectorCondition, Op, ThresholdCondition

__all__ = [
    "FLAP_WINDOW",
    "NearMiss",
    "TighteningCandidate",
    "WeakSignalReport",
    "WeekRow",
    "WeeklyReport",
    "near_misses",
    "tightening",
    "weekly_rows",
]

FLAP_WINDOW = timedelta(hours=1)
TIGHTER_STEPS = (0.5, 0.3, 0.2, 0.1, 0.05)
_EPOCH_DATE = date(1970, 1, 5)  # a Monday


class WeekRow(BaseModel):
    week: date = Field(description="Monday the week starts on (in the report's time zone).")
    key: str = Field(description="The rule's or the service's name.")
    fired: int
    pages: int
    pages_outside_hours: int
    acknowledged: int
    mean_ack_seconds: float | None
    median_ack_seconds: float | None
    noise_share: float | None = Field(description="Fired alerts resolved without action.")
    flaps: int


class WeeklyReport(BaseModel):
    start: datetime
    end: datetime
    time_zone: str
    working_hours: str
    rules: list[WeekRow]
    services: list[WeekRow]
    shifts: list[dict[str, object]] = Field(
        default_factory=list, description="Each on-call schedule's load against the SRE ceilings."
    )


class NearMiss(BaseModel):
    rule: str
    labels: dict[str, str]
    at: datetime
    value: float
    limit: float = Field(description="The threshold, or the detector's minimum score.")
    closeness: float = Field(description="How close it came: 1.0 would have fired.")
    kind: str


class TighteningCandidate(BaseModel):
    rule: str
    op: str
    current: float
    suggested: float
    firings: int = Field(description="Firings over the tested range, the same at both values.")


class WeakSignalReport(BaseModel):
    start: datetime
    end: datetime
    margin: float
    near_misses: list[NearMiss]
    candidates: list[TighteningCandidate]
    skipped: dict[str, str] = Field(default_factory=dict, description="Rules not assessed, why.")


def _week(moment: datetime, zone: ZoneInfo) -> date:
    local = moment.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def _outside_hours(moment: datetime, zone: ZoneInfo, hours: tuple[int, int]) -> bool:
    local = moment.astimezone(zone)
    return local.weekday() >= 5 or not time(hours[0]) <= local.time() < time(hours[1])


def _noise(alert: Alert) -> bool:
    return (
        alert.resolved_at is not None
        and not alert.resolved_by
        and alert.acknowledged_at is None
        and not alert.notes
    )


def _flaps(alerts: Sequence[Alert]) -> set[int]:
    """Ids of firings that began within ``FLAP_WINDOW`` after the same label set resolved."""
    flapping: set[int] = set()
    by_print: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_print[alert.fingerprint].append(alert)
    for group in by_print.values():
        group.sort(key=lambda a: a.fired_at or a.started_at)
        for before, after in pairwise(group):
            if (
                before.resolved_at
                and after.fired_at
                and after.fired_at - before.resolved_at < FLAP_WINDOW
            ):
                flapping.add(after.id)
    return flapping


def _row(
    week: date,
    key: str,
    alerts: Sequence[Alert],
    flaps: set[int],
    zone: ZoneInfo,
    hours: tuple[int, int],
) -> WeekRow:
    acks = [
        (a.acknowledged_at - a.fired_at).total_seconds()
        for a in alerts
        if a.acknowledged_at and a.fired_at
    ]
    paged = [a for a in alerts if a.page_id is not None]
    ended = [a for a in alerts if a.resolved_at is not None]
    return WeekRow(
        week=week,
        key=key,
        fired=len(alerts),
        pages=len(paged),
        pages_outside_hours=sum(
            1 for a in paged if a.fired_at and _outside_hours(a.fired_at, zone, hours)
        ),
        acknowledged=len(acks),
        mean_ack_seconds=statistics.fmean(acks) if acks else None,
        median_ack_seconds=statistics.median(acks) if acks else None,
        noise_share=sum(1 for a in ended if _noise(a)) / len(ended) if ended else None,
        flaps=sum(1 for a in alerts if a.id in flaps),
    )


def weekly_rows(
    alerts: Sequence[Alert], zone: ZoneInfo, hours: tuple[int, int]
) -> tuple[list[WeekRow], list[WeekRow]]:
    """Rows per (week, rule) and per (week, service) of the alerts that fired."""
    fired = [a for a in alerts if a.fired_at is not None]
    flaps = _flaps(fired)
    by_rule: dict[tuple[date, str], list[Alert]] = defaultdict(list)
    by_service: dict[tuple[date, str], list[Alert]] = defaultdict(list)
    for alert in fired:
        assert alert.fired_at is not None
        week = _week(alert.fired_at, zone)
        by_rule[(week, alert.rule)].append(alert)
        by_service[(week, alert.owner)].append(alert)
    rules = [_row(w, k, a, flaps, zone, hours) for (w, k), a in sorted(by_rule.items())]
    services = [_row(w, k, a, flaps, zone, hours) for (w, k), a in sorted(by_service.items())]
    return rules, services


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=ZoneInfo("UTC"))


def near_misses(
    rule: AlertRule, states: Sequence[SeriesStates], times: FloatArray, margin: float
) -> list[NearMiss]:
    """Label sets that never fired but came within ``margin`` of firing: values within
    ``margin`` (a fraction) of the threshold, or detector scores of at least half the
    minimum score."""
    found = []
    condition = rule.condition
    for state in states:
        if state.active.any() or not len(times):
            continue
        if isinstance(condition, ThresholdCondition) and condition.op in (
            Op.GT,
            Op.GE,
            Op.LT,
            Op.LE,
        ):
            limit = condition.value
            scale = abs(limit) or 1.0
            above = condition.op in (Op.GT, Op.GE)
            gap = (limit - state.values) / scale if above else (state.values - limit) / scale
            closeness = np.where(np.isfinite(gap), 1.0 - gap, -np.inf)
            kind, floor, values = "threshold", 1.0 - margin, state.values
        elif isinstance(condition, DetectorCondition) and state.scores is not None:
            limit = condition.min_score
            closeness = np.nan_to_num(state.scores / limit, nan=-np.inf)
            kind, floor, values = "detector", 0.5, state.scores
        else:
            continue
        best = int(np.argmax(closeness))
        if closeness[best] >= floor:
            found.append(
                NearMiss(
                    rule=rule.name,
                    labels=state.labels,
                    at=_moment(times[best]),
                    value=float(values[best]),
                    limit=float(limit),
                    closeness=float(closeness[best]),
                    kind=kind,
                )
            )
    return found


def _count(
    rule: AlertRule,
    states: Sequence[SeriesStates],
    times: FloatArray,
    op: Op,
    value: float,
    step: float,
) -> int:
    total = 0
    for state in states:
        changed = SeriesStates(state.labels, state.values, compare(op, state.values, value))
        found: list[FiringInterval] = firing_intervals(
            changed, times, rule.for_seconds, step, -np.inf
        )
        total += len(found)
    return total


def tightening(
    rule: AlertRule, states: Sequence[SeriesStates], times: FloatArray, step: float
) -> TighteningCandidate | None:
    """The tightest of a few tighter thresholds (50 % … 5 % closer) that adds no firing."""
    condition = rule.condition
    if not isinstance(condition, ThresholdCondition) or condition.op in (Op.EQ, Op.NE):
        return None
    if not any(np.isfinite(state.values).any() for state in states):
        return None
    current = _count(rule, states, times, condition.op, condition.value, step)
    scale = abs(condition.value) or 1.0
    sign = -1.0 if condition.op in (Op.GT, Op.GE) else 1.0
    for share in TIGHTER_STEPS:
        candidate = condition.value + sign * share * scale
        if _count(rule, states, times, condition.op, candidate, step) == current:
            return TighteningCandidate(
                rule=rule.name,
                op=str(condition.op),
                current=condition.value,
                suggested=float(candidate),
                firings=current,
            )
    return None
