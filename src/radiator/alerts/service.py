"""Alerting use cases: rules, evaluation cycles, alerts, silences, maintenance, backtests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from radiator.alerts.backtest import BacktestResult, backtest_rule
from radiator.alerts.cycle import Cycler, CycleReport
from radiator.alerts.evaluate import BoolArray, SeriesStates
from radiator.alerts.files import RuleFile, SyncReport, plan_files
from radiator.alerts.models import (
    Alert,
    AlertNote,
    AlertRule,
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    AlertState,
    DetectorCondition,
    MaintenanceWindow,
    MaintenanceWindowCreate,
    RuleSource,
    Silence,
    SilenceCreate,
    ThresholdCondition,
)
from radiator.alerts.paging import AlertPager, EventSink, alert_event, no_events
from radiator.alerts.queries import QueryRunner
from radiator.alerts.reports import (
    WeakSignalReport,
    WeeklyReport,
    near_misses,
    tightening,
    weekly_rows,
)
from radiator.alerts.rules import check_definition
from radiator.alerts.store import AlertStore
from radiator.audit import AuditLog, Outcome
from radiator.catalog import CatalogService
from radiator.core.caller import SYSTEM, Caller
from radiator.core.clock import Clock, system_clock
from radiator.errors import ConflictError, InvalidInputError, NotFoundError, RadiatorError

__all__ = ["AlertService"]


class AlertService:
    """Alert rules (audited), the evaluation cycle, and what people do with alerts.

    Args:
        runner: runs the live queries (the runtime's query service).
        backtest_runner: runs backtest range queries (a query service allowing more steps).
        pager: pages the on-call person of a rule's owner (``None``: nobody is paged).
        events: receives one ``alert`` event per transition (the edge stores them).
        step_seconds: the evaluation interval; range queries of a cycle use it as step.
        shift_reports: each on-call schedule's load in a range (the on-call service's).
    """

    def __init__(
        self,
        store: AlertStore,
        *,
        runner: QueryRunner,
        catalog: CatalogService,
        audit: AuditLog,
        backtest_runner: QueryRunner | None = None,
        pager: AlertPager | None = None,
        events: EventSink = no_events,
        step_seconds: float = 30.0,
        shift_reports: Callable[[datetime, datetime], Sequence[BaseModel]] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._store = store
        self._runner = runner
        self._backtest_runner = backtest_runner or runner
        self._catalog = catalog
        self._audit = audit
        self._pager = pager
        self._events = events
        self._clock = clock
        self._shifts = shift_reports or (lambda _start, _end: [])
        self.step_seconds = step_seconds
        self._cycler = Cycler(store, runner, events, pager, step_seconds)

    @property
    def store(self) -> AlertStore:
        return self._store

    def now(self) -> datetime:
        return self._clock()

    # -- rules -------------------------------------------------------------------------

    def check(self, data: AlertRuleCreate) -> AlertRuleCreate:
        """Validate a definition as ``create_rule`` would, without storing it."""
        check_definition(data)
        try:
            self._catalog.get_service(data.owner)
        except NotFoundError as exc:
            raise InvalidInputError(f"no service named {data.owner!r}", field="owner") from exc
        return data

    def create_rule(
        self,
        data: AlertRuleCreate,
        caller: Caller = SYSTEM,
        *,
        source: RuleSource = RuleSource.API,
        source_file: str = "",
    ) -> AlertRule:
        if self._store.get_rule(data.name) is not None:
            raise ConflictError(f"alert rule {data.name!r} already exists", field="name")
        self.check(data)
        now = self._clock()
        values = {**_dump(data), "source": source, "source_file": source_file}
        rule = self._store.add_rule({**values, "created_at": now, "updated_at": now})
        self._record(caller, "alert_rule.create", rule.name)
        return rule

    def get_rule(self, name: str) -> AlertRule:
        found = self._store.get_rule(name)
        if found is None:
            raise NotFoundError(f"no alert rule named {name!r}")
        return found

    def list_rules(self) -> list[AlertRuleRead]:
        counts: dict[str, Counter[str]] = {}
        for alert in self._store.open_alerts():
            counts.setdefault(alert.rule, Counter())[str(alert.state)] += 1
        return [
            AlertRuleRead(**rule.model_dump(), open_alerts=dict(counts.get(rule.name, {})))
            for rule in self._store.list_rules()
        ]

    def update_rule(
        self, name: str, data: AlertRuleUpdate, caller: Caller = SYSTEM, *, from_file: bool = False
    ) -> AlertRule:
        current = self._writable(name, from_file)
        changes = {
            k: getattr(data, k) for k in data.model_fields_set if getattr(data, k) is not None
        }
        if not changes:
            return current
        merged = AlertRuleCreate.model_validate(
            {**current.definition().model_dump(), **{k: _plain(v) for k, v in changes.items()}}
        )
        self.check(merged)
        values = {k: v for k, v in _dump(merged).items() if k in changes}
        rule = self._store.update_rule(name, {**values, "updated_at": self._clock()})
        self._record(caller, "alert_rule.update", name, fields=sorted(changes))
        return rule

    def set_enabled(self, name: str, enabled: bool, caller: Caller = SYSTEM) -> AlertRule:
        """Enable or disable a rule (file rules too: it does not change their definition)."""
        self.get_rule(name)
        rule = self._store.update_rule(name, {"enabled": enabled, "updated_at": self._clock()})
        self._record(caller, "alert_rule.enable" if enabled else "alert_rule.disable", name)
        return rule

    def delete_rule(self, name: str, caller: Caller = SYSTEM, *, from_file: bool = False) -> None:
        self._writable(name, from_file)
        self._store.delete_rule(name)
        self._record(caller, "alert_rule.delete", name)

    def _writable(self, name: str, from_file: bool) -> AlertRule:
        rule = self.get_rule(name)
        if rule.source is RuleSource.FILE and not from_file:
            raise ConflictError(
                f"alert rule {name!r} is defined in {rule.source_file}; change the file",
                field="name",
            )
        return rule

    def apply_files(
        self, directory: str, files: list[RuleFile], caller: Caller = SYSTEM
    ) -> SyncReport:
        """Make the rules from ``directory`` match its ``files`` (see ``alerts.files``)."""
        existing = self._store.list_rules()
        wanted, delete, errors = plan_files(directory, files, existing, self.check)
        report = SyncReport(errors=errors)
        current = {rule.name: rule for rule in existing}
        for name, (path, rule) in sorted(wanted.items()):
            old = current.get(name)
            if old is None:
                self.create_rule(rule, caller, source=RuleSource.FILE, source_file=path)
                report.created.append(name)
            elif _same_definition(old, rule) and old.source_file == path:
                report.unchanged.append(name)
            else:
                # ``enabled`` from a file counts when the rule is first loaded; afterwards
                # enabling and disabling through the API or UI is not undone by the next sync.
                values = {**_dump(rule), "source_file": path, "updated_at": self._clock()}
                del values["enabled"]
                self._store.update_rule(name, values)
                self._record(caller, "alert_rule.update", name, file=path)
                report.replaced.append(name)
        for name in delete:
            self.delete_rule(name, caller, from_file=True)
            report.deleted.append(name)
        return report

    # -- evaluation and backtests ------------------------------------------------------

    def evaluate(self, now: datetime | None = None) -> CycleReport:
        """One evaluation cycle over every enabled rule."""
        return self._cycler.run(now or self._clock())

    def backtest(
        self,
        rule: str | AlertRuleCreate,
        start: datetime,
        end: datetime,
        step: float = 60.0,
    ) -> BacktestResult:
        """When ``rule`` (a stored rule's name or a definition) would have fired."""
        definition = self.check(rule) if isinstance(rule, AlertRuleCreate) else self.get_rule(rule)
        if step <= 0:
            raise InvalidInputError("step must be positive", field="step")
        result, _, _ = backtest_rule(definition, self._backtest_runner, start, end, step)
        return result

    # -- alerts ------------------------------------------------------------------------

    def list_alerts(
        self,
        *,
        states: list[AlertState] | None = None,
        rule: str | None = None,
        owner: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        return self._store.list_alerts(
            states=states or (), rule=rule, owner=owner, since=since, limit=limit
        )

    def get_alert(self, alert_id: int) -> Alert:
        found = self._store.get_alert(alert_id)
        if found is None:
            raise NotFoundError(f"no alert with id {alert_id}")
        return found

    def acknowledge(self, alert_id: int, caller: Caller = SYSTEM) -> Alert:
        alert = self.get_alert(alert_id)
        if alert.state is AlertState.ACKNOWLEDGED:
            return alert
        if alert.state is not AlertState.FIRING:
            raise ConflictError(
                f"alert {alert_id} is {alert.state}; only a firing alert is acknowledged"
            )
        now = self._clock()
        values = {
            "state": AlertState.ACKNOWLEDGED,
            "acknowledged_at": now,
            "acknowledged_by": caller.name,
        }
        (alert,) = self._store.update_alerts([(alert_id, values)])
        if alert.page_id is not None and self._pager is not None:
            self._pager.acknowledge(alert.page_id, caller.name, now)
        self._events([alert_event(alert, "acknowledged", now, caller.name)])
        self._record(caller, "alert.acknowledge", f"alert:{alert_id}")
        return alert

    def resolve(self, alert_id: int, caller: Caller = SYSTEM) -> Alert:
        alert = self.get_alert(alert_id)
        if alert.state is AlertState.RESOLVED:
            return alert
        now = self._clock()
        values = {"state": AlertState.RESOLVED, "resolved_at": now, "resolved_by": caller.name}
        (alert,) = self._store.update_alerts([(alert_id, values)])
        page_id = alert.page_id
        shared = page_id is not None and any(
            a.page_id == page_id for a in self._store.open_alerts()
        )
        if page_id is not None and self._pager is not None and not shared:
            self._pager.resolve(page_id, caller.name, now)
        self._events([alert_event(alert, "resolved", now, caller.name)])
        self._record(caller, "alert.resolve", f"alert:{alert_id}")
        return alert

    def add_note(self, alert_id: int, text: str, caller: Caller = SYSTEM) -> AlertNote:
        alert = self.get_alert(alert_id)
        now = self._clock()
        note = self._store.add_note(alert_id, caller.name, text, now)
        event = alert_event(alert, "note", now, caller.name)
        event.attributes["note"] = text[:1000]
        self._events([event])
        return note

    def groups(self, by: list[str], states: list[AlertState] | None = None) -> list[dict[str, Any]]:
        """Open (or the given states') alerts grouped by the values of labels ``by``."""
        wanted = states or [AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED]
        grouped: dict[tuple[str, ...], list[Alert]] = {}
        for alert in self._store.list_alerts(states=wanted, limit=10_000):
            key = tuple(alert.labels.get(name, "") for name in by)
            grouped.setdefault(key, []).append(alert)
        return [
            {
                "labels": dict(zip(by, key, strict=True)),
                "count": len(alerts),
                "states": dict(Counter(str(a.state) for a in alerts)),
                "alert_ids": [a.id for a in alerts][:100],
            }
            for key, alerts in sorted(grouped.items())
        ]

    # -- silences and maintenance windows ---------------------------------------------

    def create_silence(self, data: SilenceCreate, caller: Caller = SYSTEM) -> Silence:
        now = self._clock()
        starts = data.starts_at or now
        _check_span(starts, data.ends_at)
        silence = self._store.add_silence(
            {
                "matchers": data.matchers,
                "starts_at": starts,
                "ends_at": data.ends_at,
                "comment": data.comment,
                "created_by": caller.name,
                "created_at": now,
            }
        )
        self._record(caller, "silence.create", f"silence:{silence.id}")
        return silence

    def list_silences(self, active_only: bool = False) -> list[Silence]:
        return self._store.list_silences(active_at=self._clock() if active_only else None)

    def expire_silence(self, silence_id: int, caller: Caller = SYSTEM) -> Silence:
        silence = self._store.get_silence(silence_id)
        if silence is None:
            raise NotFoundError(f"no silence with id {silence_id}")
        now = self._clock()
        if silence.ends_at <= now:
            return silence
        changes: dict[str, Any] = {"ends_at": max(now, silence.starts_at)}
        silence = self._store.update_silence(silence_id, changes)
        self._record(caller, "silence.expire", f"silence:{silence_id}")
        return silence

    def create_window(
        self, data: MaintenanceWindowCreate, caller: Caller = SYSTEM
    ) -> MaintenanceWindow:
        try:
            self._catalog.get_service(data.service)
        except NotFoundError as exc:
            raise InvalidInputError(f"no service named {data.service!r}", field="service") from exc
        now = self._clock()
        starts = data.starts_at or now
        _check_span(starts, data.ends_at)
        window = self._store.add_window(
            {
                "service": data.service,
                "starts_at": starts,
                "ends_at": data.ends_at,
                "reason": data.reason,
                "created_by": caller.name,
                "created_at": now,
            }
        )
        self._record(caller, "maintenance_window.create", f"maintenance_window:{window.id}")
        return window

    def list_windows(self, active_only: bool = False) -> list[MaintenanceWindow]:
        return self._store.list_windows(active_at=self._clock() if active_only else None)

    def delete_window(self, window_id: int, caller: Caller = SYSTEM) -> None:
        self._store.delete_window(window_id)
        self._record(caller, "maintenance_window.delete", f"maintenance_window:{window_id}")

    # -- learning from alerts ---------------------------------------------------------

    def weekly_report(
        self,
        start: datetime,
        end: datetime,
        time_zone: str = "UTC",
        hours: tuple[int, int] = (9, 17),
    ) -> WeeklyReport:
        """Per rule and per service, per week, of alerts fired in ``[start, end)``."""
        if end <= start:
            raise InvalidInputError("end must be after start", field="end")
        if not 0 <= hours[0] < hours[1] <= 24:
            raise InvalidInputError("working hours must be 0 <= start < end <= 24", field="hours")
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInputError(f"unknown time zone {time_zone!r}", field="time_zone") from exc
        alerts = [
            a
            for a in self._store.list_alerts(since=start - timedelta(days=1), limit=1_000_000)
            if a.fired_at is not None and start <= a.fired_at < end
        ]
        rules, services = weekly_rows(alerts, zone, hours)
        shifts = [s.model_dump(mode="json") for s in self._shifts(start, end)]
        return WeeklyReport(
            start=start,
            end=end,
            time_zone=time_zone,
            working_hours=f"{hours[0]:02d}:00-{hours[1]:02d}:00 Monday to Friday",
            rules=rules,
            services=services,
            shifts=shifts,
        )

    def weak_signals(
        self,
        end: datetime | None = None,
        *,
        days: float = 7.0,
        margin: float = 0.1,
        tighten_days: float = 30.0,
        step: float = 60.0,
        owner: str | None = None,
        max_rules: int = 200,
    ) -> WeakSignalReport:
        """Near misses over the last ``days`` and threshold rules that could be tightened
        without one more firing over the last ``tighten_days``: one backtest per rule (of
        ``owner``'s rules, the first ``max_rules`` by name) serves both."""
        until = end or self._clock()
        if not 0 < margin < 1:
            raise InvalidInputError("margin must be between 0 and 1", field="margin")
        since = until - timedelta(days=days)
        report = WeakSignalReport(
            start=since, end=until, margin=margin, near_misses=[], candidates=[]
        )
        rules = [
            rule
            for rule in self._store.list_rules(enabled_only=True)
            if isinstance(rule.condition, ThresholdCondition | DetectorCondition)
            and owner in (None, rule.owner)
        ]
        for rule in rules[max_rules:]:
            report.skipped[rule.name] = f"not assessed: more than max_rules ({max_rules})"
        earliest = min(since, until - timedelta(days=tighten_days))
        for rule in rules[:max_rules]:
            try:
                _, states, times = backtest_rule(rule, self._backtest_runner, earliest, until, step)
            except RadiatorError as exc:
                report.skipped[rule.name] = exc.message
                continue
            recent = times >= since.timestamp()
            report.near_misses.extend(
                near_misses(rule, [_slice(s, recent) for s in states], times[recent], margin)
            )
            longer = times >= (until - timedelta(days=tighten_days)).timestamp()
            candidate = tightening(rule, [_slice(s, longer) for s in states], times[longer], step)
            if candidate is not None:
                report.candidates.append(candidate)
        report.near_misses.sort(key=lambda m: -m.closeness)
        return report

    def _record(self, caller: Caller, action: str, target: str, **detail: object) -> None:
        self._audit.record(
            action,
            actor=caller.name,
            outcome=Outcome.SUCCESS,
            target=target if ":" in target else f"alert_rule:{target}",
            ip=caller.ip,
            request_id=caller.request_id,
            **detail,
        )


def _slice(state: SeriesStates, keep: BoolArray) -> SeriesStates:
    scores = None if state.scores is None else state.scores[keep]
    return SeriesStates(state.labels, state.values[keep], state.active[keep], scores)


def _same_definition(rule: AlertRule, other: AlertRuleCreate) -> bool:
    return rule.definition().model_copy(update={"enabled": other.enabled}) == other


def _check_span(starts: datetime, ends: datetime) -> None:
    if ends.tzinfo is None or starts.tzinfo is None:
        raise InvalidInputError("times must carry a time zone (e.g. Z)", field="ends_at")
    if ends <= starts:
        raise InvalidInputError("ends_at must be after starts_at", field="ends_at")
    if ends - starts > timedelta(days=366):
        raise InvalidInputError("may last at most 366 days", field="ends_at")


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _dump(data: AlertRuleCreate) -> dict[str, Any]:
    return data.model_dump(mode="json")
