"""Alert evaluation every ``alert_evaluation_seconds``, after syncing the rule files.

This module reads the rule files (I/O stays at the edge); the rules, the sync and the
evaluation are ``radiator.alerts``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from radiator.alerts import AlertService, CycleReport, SyncReport
from radiator.core.caller import Caller
from radiator.errors import InvalidInputError
from radiator.jobs.files import read_rule_files
from radiator.jobs.scheduler import Scheduler
from radiator.runtime import Runtime

__all__ = [
    "run_alerts",
    "schedule_alerts",
    "sync_alert_rules",
]

_log = logging.getLogger(__name__)
_JOB = Caller("alerts-job")


def sync_alert_rules(service: AlertService, directory: Path, caller: Caller = _JOB) -> SyncReport:
    """Load ``directory``'s rule files: create, replace and delete rules to match them."""
    files = read_rule_files(directory)
    return service.apply_files(str(directory.resolve()), files, caller)


def _sync_configured(runtime: Runtime) -> None:
    directory = runtime.settings.alert_rules_dir
    if not directory:
        return
    try:
        report = sync_alert_rules(runtime.alerts, Path(directory).expanduser())
    except InvalidInputError as exc:
        _log.error("alert rules not loaded: %s", exc.message)
        return
    for error in report.errors:
        _log.error("alert rule file not loaded: %s", error)
    if report.created or report.replaced or report.deleted:
        _log.info(
            "alert rules from %s: %d created, %d replaced, %d deleted",
            directory,
            len(report.created),
            len(report.replaced),
            len(report.deleted),
        )


def run_alerts(runtime: Runtime) -> CycleReport:
    """One run of the job: re-read the rule directory, then evaluate every enabled rule."""
    _sync_configured(runtime)
    report = runtime.alerts.evaluate()
    if report.broken:
        _log.error("alert rules with failing queries: %s", ", ".join(report.broken))
    return report


def schedule_alerts(scheduler: Scheduler, runtime: Runtime) -> None:
    """Load the rule files now, then sync and evaluate every ``alert_evaluation_seconds``."""
    _sync_configured(runtime)

    def evaluate_alerts() -> None:
        run_alerts(runtime)

    scheduler.every(runtime.settings.alert_evaluation_seconds, "alerts", evaluate_alerts)
