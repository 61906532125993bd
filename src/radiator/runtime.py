"""Assembles Radiator from Settings: stores, then the domain services on top of them.

The edges (web app, CLI, jobs, demo) build one ``Runtime`` and pass it down; nothing is
created at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from radiator.alerts import AlertService, OncallPager
from radiator.audit import AuditLog
from radiator.catalog import CatalogService
from radiator.config import Settings
from radiator.core.schema import events_batch
from radiator.core.telemetry import Signal, TelemetryStore
from radiator.core.types import Event
from radiator.dashboards import DashboardService
from radiator.identity import IdentityService, LoginLimiter
from radiator.ingest import IngestPipeline, SelfMetrics, SeriesLimiter
from radiator.ingest.otlp import OtlpReceiver
from radiator.ingest.prometheus_remote import RemoteWriteReceiver
from radiator.notify import NotifyService
from radiator.oncall import OncallService, ShiftReport
from radiator.query.engine import Limits
from radiator.query.service import QueryService
from radiator.storage.delivery import default_transports
from radiator.storage.state import (
    Database,
    SqlAlertStore,
    SqlAuditStore,
    SqlCatalogStore,
    SqlDashboardStore,
    SqlNotifyStore,
    SqlOncallStore,
    SqlSessionStore,
    SqlTokenStore,
    SqlUserStore,
)
from radiator.storage.telemetry import open_telemetry_store
from radiator.storage.wal import FileWriteAheadLog

__all__ = ["Runtime"]


class Runtime:
    """The object graph of one Radiator process."""

    def __init__(
        self,
        settings: Settings,
        *,
        migrate: bool = True,
        self_metrics: SelfMetrics | None = None,
    ) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.resolved_state_dsn)
        if migrate:
            self.db.upgrade()
        self.telemetry: TelemetryStore = open_telemetry_store(
            settings.telemetry_backend,
            settings.resolved_telemetry_path,
            archive_dir=settings.resolved_archive_dir,
        )
        self.telemetry.create_schema()
        self.audit = AuditLog(SqlAuditStore(self.db))
        self.identity = IdentityService(
            SqlUserStore(self.db),
            SqlTokenStore(self.db),
            SqlSessionStore(self.db),
            self.audit,
            LoginLimiter(
                settings.login_max_failures,
                timedelta(seconds=settings.login_failure_window_seconds),
            ),
            session_ttl=timedelta(hours=settings.session_ttl_hours),
        )
        self.catalog = CatalogService(SqlCatalogStore(self.db), self.audit)
        self.notify = NotifyService(
            SqlNotifyStore(self.db),
            default_transports(),
            self.audit,
            max_attempts=settings.notify_max_attempts,
            backoff_seconds=settings.notify_backoff_seconds,
        )
        public_url = settings.resolved_public_url.rstrip("/")
        self.oncall = OncallService(
            SqlOncallStore(self.db),
            identity=self.identity,
            catalog=self.catalog,
            notify=self.notify,
            audit=self.audit,
            events=self._record_events,
            ack_url=lambda token: f"{public_url}/ack/{token}",
        )
        self.dashboards = DashboardService(SqlDashboardStore(self.db), self.audit)
        if migrate:
            self.dashboards.ensure_builtin()
        self.query = QueryService(
            self.telemetry,
            Limits(
                max_series=settings.query_max_series,
                max_steps=settings.query_max_points,
                max_cells=settings.query_max_samples,
                timeout_seconds=settings.query_timeout_seconds,
                parallel=settings.query_parallel,
            ),
        )
        self.alerts = AlertService(
            SqlAlertStore(self.db),
            runner=self.query,
            # Backtests read long ranges in one query: more steps than a chart may ask for.
            backtest_runner=QueryService(
                self.telemetry,
                Limits(
                    max_series=settings.query_max_series,
                    max_steps=settings.alert_backtest_max_steps,
                    max_cells=settings.query_max_samples,
                    timeout_seconds=settings.query_timeout_seconds,
                ),
            ),
            catalog=self.catalog,
            audit=self.audit,
            pager=OncallPager(self.oncall),
            events=self._record_events,
            step_seconds=settings.alert_evaluation_seconds,
            shift_reports=self._shift_reports,
        )
        self.self_metrics = self_metrics or SelfMetrics()
        self.wal = FileWriteAheadLog(
            settings.data_dir / "wal",
            sync=settings.wal_sync,
            segment_bytes=settings.wal_segment_bytes,
            start_after=self.telemetry.checkpoint(),
        )
        self.ingest = IngestPipeline(
            self.wal,
            self.telemetry,
            limiter=SeriesLimiter(settings.max_series_per_metric),
            metrics=self.self_metrics,
            max_buffer_bytes=settings.ingest_buffer_max_bytes,
            flush_bytes=settings.ingest_flush_bytes,
        )
        self.ingest.recover()
        # Cumulative OTLP streams are remembered between exports to store their deltas.
        self.otlp = OtlpReceiver(self.ingest, max_body_bytes=settings.max_body_bytes)
        # Counter values and metric metadata remembered between Prometheus remote writes.
        self.remote_write = RemoteWriteReceiver()

    def _record_events(self, events: Sequence[Event]) -> None:
        """Page transitions land on the timeline as ``alert`` events."""
        self.telemetry.append(Signal.EVENTS, events_batch(events))

    def _shift_reports(self, start: datetime, end: datetime) -> list[ShiftReport]:
        """Every on-call schedule's load in ``[start, end)`` (for the weekly alert report)."""
        return [self.oncall.report(s.name, start, end) for s in self.oncall.list_schedules()]

    def close(self) -> None:
        """Flush buffered telemetry, then release the log and both stores."""
        try:
            self.ingest.flush()
        finally:
            self.wal.close()
            self.telemetry.close()
            self.db.close()
