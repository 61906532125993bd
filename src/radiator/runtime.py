"""Assembles Radiator from Settings: stores, then the domain services on top of them.

The edges (web app, CLI, jobs, demo) build one ``Runtime`` and pass it down; nothing is
created at import time.
"""

from __future__ import annotations

from datetime import timedelta

from radiator.audit import AuditLog
from radiator.catalog import CatalogService
from radiator.config import Settings
from radiator.core.telemetry import TelemetryStore
from radiator.identity import IdentityService, LoginLimiter
from radiator.ingest import IngestPipeline, SelfMetrics, SeriesLimiter
from radiator.ingest.otlp import OtlpReceiver
from radiator.ingest.prometheus_remote import RemoteWriteReceiver
from radiator.storage.state import (
    Database,
    SqlAuditStore,
    SqlCatalogStore,
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
            settings.telemetry_backend, settings.resolved_telemetry_path
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

    def close(self) -> None:
        """Flush buffered telemetry, then release the log and both stores."""
        try:
            self.ingest.flush()
        finally:
            self.wal.close()
            self.telemetry.close()
            self.db.close()
