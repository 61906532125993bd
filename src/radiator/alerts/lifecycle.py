"""The alert state machine and who hears about an alert: pure functions, no storage.

pending → firing → acknowledged → resolved. A pending alert whose condition clears before
its ``for`` duration is dropped ("cleared"); a firing or acknowledged one resolves on its
own when the condition clears. Alerts are deduplicated by a fingerprint of rule and labels.
Silences, maintenance windows and inhibition suppress notification, not state.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from radiator.alerts.models import (
    AbsenceCondition,
    Alert,
    AlertRule,
    AlertState,
    BurnRateCondition,
    DetectorCondition,
    MaintenanceWindow,
    Silence,
    ThresholdCondition,
)

__all__ = [
    "Change",
    "Observation",
    "alert_labels",
    "describe",
    "fingerprint",
    "group_key",
    "inhibited_by",
    "plan_changes",
    "suppression",
]

OPEN_STATES = (AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one evaluation saw for one label set (labels as the alert will carry them)."""

    labels: dict[str, str]
    value: float | None
    active: bool


@dataclass(slots=True)
class Change:
    """A new alert (``alert is None``) or changes to an open one, with the transition."""

    alert: Alert | None
    values: dict[str, Any] = field(default_factory=dict)
    transition: str = ""  # pending, firing, resolved, cleared, or "" (value refreshed)


def fingerprint(rule: str, labels: dict[str, str]) -> str:
    text = rule + "\x00" + "\x00".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def alert_labels(rule: AlertRule, series: dict[str, str]) -> dict[str, str]:
    """The series' labels, the rule's labels, and ``alertname``, ``severity``, ``service``."""
    labels = {**series, **rule.labels}
    labels["alertname"] = rule.name
    labels["severity"] = str(rule.severity)
    labels.setdefault("service", rule.owner)
    return labels


def group_key(rule: AlertRule, labels: dict[str, str]) -> str:
    parts = [f"{name}={labels.get(name, '')}" for name in rule.group_by]
    return rule.name + ("{" + ",".join(parts) + "}" if parts else "")


def _number(value: float | None) -> str:
    return "no value" if value is None or math.isnan(value) else f"{value:.4g}"


def describe(rule: AlertRule, labels: dict[str, str], value: float | None) -> str:
    """A one-line summary: what crossed what, for which label set."""
    condition = rule.condition
    shown = {k: v for k, v in labels.items() if k not in ("alertname", "severity")}
    where = ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))
    if isinstance(condition, ThresholdCondition):
        what = f"value {_number(value)} {condition.op} {condition.value:g}"
    elif isinstance(condition, DetectorCondition):
        what = f"{condition.detector} detector flagged value {_number(value)}"
    elif isinstance(condition, AbsenceCondition):
        what = f"no data for {condition.window_seconds:g}s"
    else:
        assert isinstance(condition, BurnRateCondition)
        what = f"error budget burning {_number(value)}x (SLO {condition.objective:g}%)"
    return f"{rule.name}: {what}" + (f" [{where}]" if where else "")


def _new(rule: AlertRule, obs: Observation, now: datetime) -> Change:
    fires = rule.for_seconds <= 0
    values: dict[str, Any] = {
        "rule": rule.name,
        "fingerprint": fingerprint(rule.name, obs.labels),
        "labels": obs.labels,
        "severity": rule.severity,
        "owner": rule.owner,
        "state": AlertState.FIRING if fires else AlertState.PENDING,
        "value": obs.value,
        "summary": describe(rule, obs.labels, obs.value),
        "started_at": now,
        "fired_at": now if fires else None,
        "last_seen_at": now,
        "group_key": group_key(rule, obs.labels),
    }
    return Change(None, values, "firing" if fires else "pending")


def _step(rule: AlertRule, alert: Alert, obs: Observation | None, now: datetime) -> Change | None:
    if obs is None or not obs.active:
        if alert.state is AlertState.PENDING:
            return Change(alert, {}, "cleared")
        return Change(
            alert, {"state": AlertState.RESOLVED, "resolved_at": now, "resolved_by": ""}, "resolved"
        )
    values: dict[str, Any] = {
        "value": obs.value,
        "last_seen_at": now,
        "summary": describe(rule, obs.labels, obs.value),
    }
    if alert.state is AlertState.PENDING and now - alert.started_at >= timedelta(
        seconds=rule.for_seconds
    ):
        return Change(alert, {**values, "state": AlertState.FIRING, "fired_at": now}, "firing")
    if obs.value == alert.value:
        return None  # nothing to write: a steady alert costs no update per cycle
    return Change(alert, values, "")


def plan_changes(
    rule: AlertRule,
    observations: Iterable[Observation],
    open_alerts: Sequence[Alert],
    now: datetime,
) -> list[Change]:
    """What one evaluation of ``rule`` changes, given its open alerts.

    A label set no longer reported counts as inactive (its alert resolves).
    """
    seen = {fingerprint(rule.name, obs.labels): obs for obs in observations}
    by_print = {alert.fingerprint: alert for alert in open_alerts}
    changes = []
    for alert in open_alerts:
        change = _step(rule, alert, seen.get(alert.fingerprint), now)
        if change is not None:
            changes.append(change)
    for key, obs in seen.items():
        if key not in by_print and obs.active:
            changes.append(_new(rule, obs, now))
    return changes


def inhibited_by(alert: Alert, parents: Sequence[tuple[AlertRule, Alert]]) -> Alert | None:
    """The firing parent alert that inhibits ``alert``, if any."""
    for rule, parent in parents:
        if parent.rule == alert.rule or parent.id == alert.id:
            continue
        if not all(m.matches(alert.labels) for m in rule.inhibits):
            continue
        if all(alert.labels.get(n) == parent.labels.get(n) for n in rule.inhibit_equal):
            return parent
    return None


def suppression(
    alert: Alert,
    now: datetime,
    silences: Sequence[Silence],
    windows: Sequence[MaintenanceWindow],
    parents: Sequence[tuple[AlertRule, Alert]],
) -> str:
    """Why ``alert`` must not notify now: ``silence:ID``, ``maintenance:ID``,
    ``inhibited:ID``, or "" when nothing holds it back."""
    for silence in silences:
        if silence.active(now) and all(m.matches(alert.labels) for m in silence.matchers):
            return f"silence:{silence.id}"
    services = {alert.owner, alert.labels.get("service", "")}
    for window in windows:
        if window.active(now) and window.service in services:
            return f"maintenance:{window.id}"
    parent = inhibited_by(alert, parents)
    return f"inhibited:{parent.id}" if parent is not None else ""
