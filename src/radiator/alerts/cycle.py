"""One evaluation cycle over every enabled rule.

Each distinct query (with its time span) runs once per cycle however many rules share it.
A rule whose query fails is marked broken and its owner is paged once; its alerts are left
as they are (an error is not a recovery) until the query works again.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from radiator.alerts.evaluate import Matrix, matrix_of
from radiator.alerts.lifecycle import (
    Change,
    Observation,
    alert_labels,
    plan_changes,
    suppression,
)
from radiator.alerts.models import Alert, AlertRule, AlertState, Severity
from radiator.alerts.paging import AlertPager, EventSink, alert_event
from radiator.alerts.queries import QueryKey, QueryRunner, rule_queries, rule_states, run_key
from radiator.alerts.store import AlertStore
from radiator.core.types import Event, EventKind
from radiator.errors import RadiatorError

__all__ = ["CycleReport", "Cycler"]

_log = logging.getLogger(__name__)
_FIRING = (AlertState.FIRING, AlertState.ACKNOWLEDGED)


@dataclass(slots=True)
class CycleReport:
    """What one cycle did; ``seconds`` is its wall time."""

    rules: int = 0
    queries: int = 0
    failed_queries: int = 0
    broken: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    transitions: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    seconds: float = 0.0


class Cycler:
    def __init__(
        self,
        store: AlertStore,
        runner: QueryRunner,
        events: EventSink,
        pager: AlertPager | None,
        step_seconds: float,
        workers: int = 4,
    ) -> None:
        self._workers = workers
        self._rules: list[AlertRule] = []
        self._stamp: tuple[int, int, datetime | None] | None = None
        self._store = store
        self._runner = runner
        self._events = events
        self._pager = pager
        self._step = step_seconds

    def run(self, now: datetime) -> CycleReport:
        started = time.perf_counter()
        report = CycleReport()
        rules = self._enabled_rules()
        report.rules = len(rules)
        answers = self._answers(rules, now, report)
        by_rule: dict[str, list[Alert]] = defaultdict(list)
        for alert in self._store.open_alerts():
            by_rule[alert.rule].append(alert)
        changes: list[Change] = []
        events: list[Event] = []
        for rule in rules:
            keys = rule_queries(rule)
            failed = next((answers[k] for k in keys.values() if isinstance(answers[k], str)), None)
            if isinstance(failed, str):
                events.extend(self._broken(rule, failed, now, report))
                continue
            if rule.broken:
                events.extend(self._recovered(rule, now, report))
            matrices = {role: answers[k] for role, k in keys.items()}
            observations = _observations(rule, matrices)  # type: ignore[arg-type]
            changes.extend(plan_changes(rule, observations, by_rule.pop(rule.name, []), now))
        for orphans in by_rule.values():  # rules disabled or deleted: their alerts end
            changes.extend(_retire(alert, now) for alert in orphans)
        events.extend(self._apply(changes, now, report))
        events.extend(self._notify(now, report, {r.name: r for r in rules}))
        if events:
            self._events(events)
        report.seconds = time.perf_counter() - started
        return report

    def _enabled_rules(self) -> list[AlertRule]:
        """The enabled rules, read again only when a rule was created, changed or deleted."""
        stamp = self._store.rules_stamp()
        if stamp != self._stamp:
            self._rules = self._store.list_rules(enabled_only=True)
            self._stamp = stamp
        return self._rules

    def _remember(self, rule: AlertRule, changes: dict[str, Any]) -> None:
        """Keep the cached rule in step with a change the cycle itself made."""
        self._store.update_rule(rule.name, changes)
        updated = rule.model_copy(update={**changes, "broken": bool(changes["broken_error"])})
        self._rules = [updated if r.name == rule.name else r for r in self._rules]

    def _answers(
        self, rules: Sequence[AlertRule], now: datetime, report: CycleReport
    ) -> dict[QueryKey, Matrix | str]:
        """Each distinct query once (several at a time): its matrix, or the error text."""
        keys = list(dict.fromkeys(k for rule in rules for k in rule_queries(rule).values()))

        def answer(key: QueryKey) -> Matrix | str:
            try:
                return matrix_of(run_key(self._runner, key, now, now, self._step))
            except RadiatorError as exc:
                return f"{exc.__class__.__name__}: {exc.message}"

        if len(keys) > 1 and self._workers > 1:
            with ThreadPoolExecutor(self._workers, thread_name_prefix="alert-query") as pool:
                found = list(pool.map(answer, keys))
        else:
            found = [answer(key) for key in keys]
        report.queries = len(keys)
        report.failed_queries = sum(1 for item in found if isinstance(item, str))
        return dict(zip(keys, found, strict=True))

    def _broken(
        self, rule: AlertRule, error: str, now: datetime, report: CycleReport
    ) -> list[Event]:
        if rule.broken and rule.broken_error == error:
            return []
        first = not rule.broken
        since = rule.broken_since if rule.broken else now
        self._remember(rule, {"broken_error": error, "broken_since": since})
        report.broken.append(rule.name)
        if not first:
            return []
        summary = f"alert rule {rule.name} is broken: its query fails"
        if self._pager is not None:
            try:
                self._pager.page(rule.owner, summary, error, f"alert-rule-broken:{rule.name}", now)
                report.pages += 1
            except RadiatorError as exc:
                _log.error("could not page %s about broken rule %s: %s", rule.owner, rule.name, exc)
        return [_rule_event(rule, "broken", summary + f": {error}", now)]

    def _recovered(self, rule: AlertRule, now: datetime, report: CycleReport) -> list[Event]:
        self._remember(rule, {"broken_error": "", "broken_since": None})
        report.recovered.append(rule.name)
        return [_rule_event(rule, "recovered", f"alert rule {rule.name} works again", now)]

    def _apply(self, changes: Sequence[Change], now: datetime, report: CycleReport) -> list[Event]:
        created = self._store.add_alerts([c.values for c in changes if c.alert is None])
        cleared = [c.alert for c in changes if c.transition == "cleared" and c.alert]
        updates = [(c.alert.id, c.values) for c in changes if c.alert and c.transition != "cleared"]
        updated = self._store.update_alerts(updates) if updates else []
        if cleared:
            self._store.delete_alerts([a.id for a in cleared])
        transitions = [c.transition for c in changes if c.alert is None]
        transitions += [c.transition for c in changes if c.alert and c.transition != "cleared"]
        events = []
        for alert, transition in zip([*created, *updated], transitions, strict=True):
            if transition:
                events.append(alert_event(alert, transition, now))
                report.transitions[transition] = report.transitions.get(transition, 0) + 1
        for alert in cleared:
            events.append(alert_event(alert, "cleared", now))
            report.transitions["cleared"] = report.transitions.get("cleared", 0) + 1
        ended = [
            a for a, t in zip(updated, transitions[len(created) :], strict=True) if t == "resolved"
        ]
        self._close_pages(ended, now)
        return events

    def _close_pages(self, resolved: Sequence[Alert], now: datetime) -> None:
        """Resolve the pages of ``resolved`` alerts that no open alert shares any more."""
        pages = {a.page_id: a for a in resolved if a.page_id is not None}
        if not pages or self._pager is None:
            return
        still_open = {a.page_id for a in self._store.open_alerts()}
        for page_id, alert in pages.items():
            if page_id in still_open or page_id is None:
                continue
            try:
                self._pager.resolve(page_id, alert.resolved_by or "system", now)
            except RadiatorError as exc:
                _log.error("could not resolve page %s: %s", page_id, exc)

    def _notify(
        self, now: datetime, report: CycleReport, rules: dict[str, AlertRule]
    ) -> list[Event]:
        """Recompute suppression for firing alerts, then page those that must be heard."""
        open_alerts = [a for a in self._store.open_alerts() if a.state in _FIRING]
        silences = self._store.list_silences(active_at=now)
        windows = self._store.list_windows(active_at=now)
        parents = [
            (rules[a.rule], a) for a in open_alerts if a.rule in rules and rules[a.rule].inhibits
        ]
        updates: list[tuple[int, dict[str, Any]]] = []
        events = []
        for alert in open_alerts:
            reason = suppression(alert, now, silences, windows, parents)
            values: dict[str, Any] = {}
            if reason != alert.suppressed_by:
                values["suppressed_by"] = reason
                label = "suppressed" if reason else "unsuppressed"
                events.append(alert_event(alert.model_copy(update=values), label, now))
            if not reason and alert.page_id is None and alert.severity is Severity.PAGE:
                page_id = self._page(alert, now)
                if page_id is not None:
                    values["page_id"] = page_id
                    report.pages += 1
            if values:
                updates.append((alert.id, values))
        if updates:
            self._store.update_alerts(updates)
        return events

    def _page(self, alert: Alert, now: datetime) -> int | None:
        if self._pager is None:
            return None
        try:
            return self._pager.page(
                alert.owner, alert.summary, _details(alert), f"alert:{alert.group_key}", now
            )
        except RadiatorError as exc:
            _log.error("could not page for alert %s: %s", alert.id, exc)
            return None


def _details(alert: Alert) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    return f"Alert {alert.id} of rule {alert.rule} ({labels})."


def _observations(rule: AlertRule, matrices: dict[str, Matrix]) -> list[Observation]:
    found = []
    for state in rule_states(rule, matrices):
        # Only active label sets matter: an open alert without one resolves either way.
        if not len(state.active) or not state.active[-1]:
            continue
        value = float(state.values[-1])
        found.append(
            Observation(
                alert_labels(rule, state.labels),
                None if math.isnan(value) else value,
                bool(state.active[-1]),
            )
        )
    return found


def _retire(alert: Alert, now: datetime) -> Change:
    if alert.state is AlertState.PENDING:
        return Change(alert, {}, "cleared")
    values = {"state": AlertState.RESOLVED, "resolved_at": now, "resolved_by": "rule disabled"}
    return Change(alert, values, "resolved")


def _rule_event(rule: AlertRule, transition: str, title: str, now: datetime) -> Event:
    return Event(
        kind=EventKind.ALERT,
        title=title[:500],
        time=now,
        service=rule.owner,
        actor="system",
        attributes={"source": "alerts", "rule": rule.name, "transition": transition},
    )
