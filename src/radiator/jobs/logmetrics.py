"""Keeping log metrics current: syncing rule files and counting new buckets, every interval.

This module reads the rule files and wires the stores; the rules, the sync plan and the
counting windows are ``radiator.query.logmetrics*``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from radiator.config import Settings
from radiator.core.caller import Caller
from radiator.errors import InvalidInputError
from radiator.jobs.files import read_rule_files
from radiator.jobs.scheduler import Scheduler
from radiator.query.logmetrics_service import (
    LogMetricService,
    MaterialiseReport,
    Schedule,
    SyncReport,
)
from radiator.runtime import Runtime
from radiator.storage.state import SqlLogMetricStore

__all__ = [
    "log_metric_schedule",
    "log_metric_service",
    "run_log_metrics",
    "schedule_log_metrics",
    "sync_rule_directory",
]

_log = logging.getLogger(__name__)
_JOB = Caller("log-metrics-job")


def log_metric_service(runtime: Runtime) -> LogMetricService:
    """The log metric service over the runtime's state database and audit log."""
    return LogMetricService(SqlLogMetricStore(runtime.db), runtime.audit)


def log_metric_schedule(settings: Settings) -> Schedule:
    return Schedule(
        step=timedelta(seconds=settings.log_metrics_interval_seconds),
        lag=timedelta(seconds=settings.log_metrics_lag_seconds),
        backfill=timedelta(hours=settings.log_metrics_backfill_hours),
    )


def sync_rule_directory(
    service: LogMetricService, directory: Path, caller: Caller = _JOB
) -> SyncReport:
    """Load ``directory``'s rule files: create, replace and delete rules to match them."""
    files = read_rule_files(directory)
    return service.apply_files(str(directory.resolve()), files, caller)


def _sync_configured(runtime: Runtime, service: LogMetricService) -> None:
    directory = runtime.settings.log_metrics_dir
    if not directory:
        return
    try:
        report = sync_rule_directory(service, Path(directory).expanduser())
    except InvalidInputError as exc:
        _log.error("log metric rules not loaded: %s", exc.message)
        return
    for error in report.errors:
        _log.error("log metric rule file not loaded: %s", error)
    if report.created or report.replaced or report.deleted:
        _log.info(
            "log metric rules from %s: %d created, %d replaced, %d deleted",
            directory,
            len(report.created),
            len(report.replaced),
            len(report.deleted),
        )


def run_log_metrics(runtime: Runtime) -> MaterialiseReport:
    """One run of the job: re-read the rule directory, then count every bucket due."""
    service = log_metric_service(runtime)
    _sync_configured(runtime, service)
    report = service.materialise(runtime.telemetry, log_metric_schedule(runtime.settings))
    for key, error in report.errors.items():
        _log.error("log metric %s not materialised: %s", key, error)
    return report


def schedule_log_metrics(scheduler: Scheduler, runtime: Runtime) -> None:
    """Load the rule files now, then sync and materialise every interval."""
    _sync_configured(runtime, log_metric_service(runtime))

    def materialise_log_metrics() -> None:
        run_log_metrics(runtime)

    scheduler.every(
        runtime.settings.log_metrics_interval_seconds, "log-metrics", materialise_log_metrics
    )
