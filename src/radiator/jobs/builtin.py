"""The background jobs every ``radiator serve`` runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from radiator.core.clock import system_clock
from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind, Point
from radiator.dashboards import SyncReport
from radiator.errors import InvalidInputError, StorageError
from radiator.ingest.statsd_aggregate import StatsdAggregator
from radiator.jobs.alerts import schedule_alerts
from radiator.jobs.files import read_yaml_files
from radiator.jobs.logmetrics import schedule_log_metrics
from radiator.jobs.scheduler import Scheduler
from radiator.jobs.scrape import schedule_scrape_jobs
from radiator.runtime import Runtime
from radiator.storage.telemetry import DuckDBTelemetryStore
from radiator.storage.telemetry.retention import Retention

_log = logging.getLogger(__name__)
MAX_DASHBOARD_FILE_BYTES = 4 * 1024 * 1024

__all__ = [
    "schedule_builtin_jobs",
    "schedule_statsd_flush",
    "sync_dashboards",
]


def schedule_statsd_flush(
    scheduler: Scheduler, runtime: Runtime, aggregator: StatsdAggregator
) -> None:
    """Write StatsD aggregates every ``statsd_flush_seconds`` and once more on shutdown.

    Register it before ``schedule_builtin_jobs`` so that on shutdown the last aggregates
    reach the ingest pipeline before its final flush.
    """

    def flush_statsd() -> None:
        aggregator.flush(runtime.ingest)

    scheduler.every(
        runtime.settings.statsd_flush_seconds, "statsd-flush", flush_statsd, run_on_stop=True
    )


def schedule_builtin_jobs(scheduler: Scheduler, runtime: Runtime) -> None:
    """Register ingest flushing, self-telemetry, session clean-up and Prometheus scrapes.

    Self-telemetry is registered before the ingest flush, so on shutdown its last points
    are submitted first and then flushed.
    """
    settings = runtime.settings
    metrics = runtime.self_metrics

    def flush_ingest() -> None:
        runtime.ingest.flush()
        if settings.wal_sync == "interval":
            runtime.ingest.sync()

    def flush_self_telemetry() -> None:
        now = system_clock()
        points = metrics.drain(now)
        for name, value in runtime.ingest.gauges().items():
            points.append(Point(name, value, now, {}, MetricKind.GAUGE))
        for job in scheduler.jobs:
            tags = {"job": job.name}
            points.append(Point("radiator.job.runs", job.stats.runs, now, tags, MetricKind.GAUGE))
            points.append(
                Point("radiator.job.failures", job.stats.failures, now, tags, MetricKind.GAUGE)
            )
            points.append(
                Point(
                    "radiator.job.duration_ms",
                    job.stats.last_duration_s * 1000,
                    now,
                    tags,
                    MetricKind.TIMER,
                )
            )
        recent = runtime.telemetry.recent_stats()
        if recent is not None:  # what the server holds of recent points in memory
            held = {
                "radiator.recent.ready": float(recent.ready),
                "radiator.recent.series": recent.series,
                "radiator.recent.points": recent.points,
                "radiator.recent.bytes": recent.bytes,
            }
            if recent.horizon_us is not None:
                seconds = now.timestamp() - recent.horizon_us / 1_000_000
                held["radiator.recent.seconds"] = max(seconds, 0.0)
            points += [Point(n, v, now, {}, MetricKind.GAUGE) for n, v in held.items()]
        if points:
            runtime.ingest.submit_tables({Signal.POINTS: points_batch(points)})

    def purge_sessions() -> None:
        runtime.identity.purge_expired_sessions()

    if settings.self_telemetry:
        scheduler.every(
            settings.self_telemetry_flush_seconds,
            "self-telemetry",
            flush_self_telemetry,
            run_on_stop=True,
        )
    scheduler.every(
        settings.ingest_flush_seconds,
        "ingest-flush",
        flush_ingest,
        run_on_stop=True,
        wake=runtime.ingest.flush_wanted,
    )
    scheduler.every(600, "session-purge", purge_sessions)

    if settings.dashboards_dir:

        def sync_dashboard_files() -> None:
            sync_dashboards(runtime)

        sync_dashboard_files()  # at start, so file dashboards exist before the first request
        scheduler.every(30, "dashboards-sync", sync_dashboard_files)

    def roll_up() -> None:
        runtime.telemetry.roll_up(system_clock())

    scheduler.every(settings.rollup_interval_seconds, "rollup", roll_up)
    if isinstance(runtime.telemetry, DuckDBTelemetryStore):
        scheduler.every(settings.retention_interval_seconds, "retention", _retention_work(runtime))

    def escalate_pages() -> None:
        # Pages whose step's wait ran out go to the next step of their escalation policy.
        runtime.oncall.advance()

    scheduler.every(settings.oncall_escalation_seconds, "oncall-escalate", escalate_pages)
    schedule_scrape_jobs(scheduler, runtime)
    schedule_log_metrics(scheduler, runtime)
    schedule_alerts(scheduler, runtime)


def _retention_work(runtime: Runtime) -> Callable[[], None]:
    """Archive, then delete, telemetry past its retention (docs/retention.md)."""
    retention = Retention(runtime.telemetry, runtime.settings)

    def enforce_retention() -> None:
        report = retention.enforce()
        if report.errors:  # counted as a job failure; the rows stayed
            raise StorageError("retention: " + "; ".join(report.errors))

    return enforce_retention


def sync_dashboards(runtime: Runtime) -> SyncReport:
    """Load the dashboards of ``dashboards_dir`` (``*.yaml``, ``*.yml``), as code."""
    folder = Path(runtime.settings.dashboards_dir)
    try:
        files = read_yaml_files(folder, MAX_DASHBOARD_FILE_BYTES)
    except InvalidInputError as exc:
        _log.warning("dashboards not synced: %s", exc.message)
        return SyncReport([], [], [exc.message])
    report = runtime.dashboards.sync_files(files)
    for error in report.errors:
        _log.warning("dashboard file not loaded: %s", error)
    return report
