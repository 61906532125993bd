"""Log metric use cases: rules through the API and from files, and keeping metrics current.

Materialisation writes each window's counter points, then advances the window's watermark.
A crash between the two counts that one window again on restart (its points are written
twice); nothing is skipped. Records that arrive with a time before a watermark are not
counted: the lag setting gives slow senders time before a bucket is counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from radiator.audit import AuditLog, Outcome
from radiator.core.caller import SYSTEM, Caller
from radiator.core.clock import Clock, system_clock
from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal, TelemetryStore
from radiator.errors import ConflictError, NotFoundError, RadiatorError
from radiator.query.logmetrics import (
    LogMetricRule,
    LogMetricRuleBody,
    LogMetricRuleCreate,
    LogMetricSource,
    LogMetricStore,
    Target,
    check_rule,
    count_points,
    next_window,
    records_target,
    rule_target,
)
from radiator.query.logmetrics_files import RuleFile, plan_sync

__all__ = ["LogMetricService", "MaterialiseReport", "Schedule", "SyncReport"]


@dataclass(frozen=True, slots=True)
class Schedule:
    """How log metrics are materialised: bucket width, lag, history of a new rule."""

    step: timedelta = timedelta(seconds=10)
    lag: timedelta = timedelta(seconds=10)
    backfill: timedelta = timedelta(hours=24)
    max_windows: int = 50  # per target and run, so one run stays short


@dataclass(slots=True)
class MaterialiseReport:
    windows: int = 0
    points: int = 0
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SyncReport:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class LogMetricService:
    def __init__(self, store: LogMetricStore, audit: AuditLog, clock: Clock = system_clock) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock

    # -- rules -------------------------------------------------------------------------------

    def list_rules(self) -> list[LogMetricRule]:
        return [self._with_watermark(rule) for rule in self._store.list_rules()]

    def get_rule(self, name: str) -> LogMetricRule:
        rule = self._store.get_rule(name)
        if rule is None:
            raise NotFoundError(f"no log metric rule named {name!r}")
        return self._with_watermark(rule)

    def create_rule(self, data: LogMetricRuleCreate, caller: Caller = SYSTEM) -> LogMetricRule:
        """Add a rule; it counts ``Schedule.backfill`` of history at its first run.

        Raises:
            InvalidInputError: a field is wrong (named by ``field``).
            ConflictError: the name is taken.
        """
        checked = check_rule(data)
        if self._store.get_rule(checked.name) is not None:
            raise ConflictError(f"log metric rule {checked.name!r} already exists", field="name")
        rule = self._store.add_rule(self._full(checked, LogMetricSource.API, ""))
        self._record(caller, "log_metric.create", rule.name)
        return rule

    def replace_rule(
        self, name: str, body: LogMetricRuleBody, caller: Caller = SYSTEM
    ) -> LogMetricRule:
        """Change what a rule counts; counts already written stay as they were.

        Raises:
            NotFoundError: no such rule. ConflictError: the rule comes from a file.
        """
        current = self._editable(name)
        checked = check_rule(LogMetricRuleCreate(name=name, **body.model_dump()))
        rule = self._full(checked, LogMetricSource.API, "", created_at=current.created_at)
        rule = self._store.replace_rule(rule)
        self._record(caller, "log_metric.update", name)
        return self._with_watermark(rule)

    def delete_rule(self, name: str, caller: Caller = SYSTEM) -> None:
        """Remove a rule and its watermark; its points stay until retention removes them."""
        self._editable(name)
        self._store.delete_rule(name)
        self._record(caller, "log_metric.delete", name)

    def apply_files(
        self, directory: str, files: list[RuleFile], caller: Caller = SYSTEM
    ) -> SyncReport:
        """Make the rules from ``directory`` match ``files`` (see ``plan_sync``)."""
        plan = plan_sync(directory, files, self._store.list_rules())
        report = SyncReport(unchanged=plan.unchanged, errors=plan.errors)
        for path, data in plan.create:
            self._store.add_rule(self._full(data, LogMetricSource.FILE, path))
            report.created.append(data.name)
        for path, data in plan.replace:
            current = self._store.get_rule(data.name)
            created = current.created_at if current else None
            self._store.replace_rule(
                self._full(data, LogMetricSource.FILE, path, created_at=created)
            )
            report.replaced.append(data.name)
        for name in plan.delete:
            self._store.delete_rule(name)
            report.deleted.append(name)
        if report.created or report.replaced or report.deleted:
            self._record(
                caller,
                "log_metric.apply",
                directory,
                created=report.created,
                replaced=report.replaced,
                deleted=report.deleted,
            )
        return report

    # -- materialisation ---------------------------------------------------------------------

    def materialise(
        self, telemetry: TelemetryStore, schedule: Schedule, now: datetime | None = None
    ) -> MaterialiseReport:
        """Count every whole bucket since each target's watermark, up to ``now - lag``.

        One failing target (e.g. a pattern the store rejects) is reported in ``errors`` and
        does not stop the others.
        """
        moment = now or self._clock()
        report = MaterialiseReport()
        targets = [records_target()] + [rule_target(r) for r in self._store.list_rules()]
        for target in targets:
            try:
                self._catch_up(telemetry, target, schedule, moment, report)
            except RadiatorError as exc:
                report.errors[target.key] = exc.message
        return report

    def _catch_up(
        self,
        telemetry: TelemetryStore,
        target: Target,
        schedule: Schedule,
        now: datetime,
        report: MaterialiseReport,
    ) -> None:
        watermark = self._store.watermark(target.key)
        for _ in range(schedule.max_windows):
            window = next_window(
                watermark, now, step=schedule.step, lag=schedule.lag, backfill=schedule.backfill
            )
            if window is None:
                return
            counts = telemetry.count_logs(target.query(window, schedule.step))
            points = count_points(target, counts, window, schedule.step)
            if points:
                telemetry.append(Signal.POINTS, points_batch(points))
            # After the points: a crash in between re-counts this window, never skips it.
            self._store.set_watermark(target.key, window.end)
            watermark = window.end
            report.windows += 1
            report.points += len(points)

    # -- helpers -----------------------------------------------------------------------------

    def _editable(self, name: str) -> LogMetricRule:
        rule = self.get_rule(name)
        if rule.source is LogMetricSource.FILE:
            raise ConflictError(
                f"log metric rule {name!r} comes from {rule.source_file}; change or remove it there"
            )
        return rule

    def _full(
        self,
        data: LogMetricRuleCreate,
        source: LogMetricSource,
        source_file: str,
        created_at: datetime | None = None,
    ) -> LogMetricRule:
        now = self._clock()
        return LogMetricRule(
            **data.model_dump(),
            source=source,
            source_file=source_file,
            created_at=created_at or now,
            updated_at=now,
        )

    def _with_watermark(self, rule: LogMetricRule) -> LogMetricRule:
        return rule.model_copy(update={"materialised_until": self._store.watermark(rule.name)})

    def _record(self, caller: Caller, action: str, target: str, **detail: object) -> None:
        self._audit.record(
            action,
            actor=caller.name,
            outcome=Outcome.SUCCESS,
            target=f"log_metric:{target}",
            ip=caller.ip,
            request_id=caller.request_id,
            **detail,
        )
