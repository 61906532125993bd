"""The ingest pipeline: acknowledgement, flushing, recovery, back-pressure and series limits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from radiator.core.telemetry import Signal
from radiator.errors import OverloadedError
from radiator.ingest import IngestPipeline, SelfMetrics, SeriesLimiter
from radiator.storage.telemetry import open_telemetry_store
from radiator.storage.telemetry.duckdb import DuckDBTelemetryStore
from radiator.storage.wal import FileWriteAheadLog

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make(
    tmp_path: Path, *, max_buffer: int = 64 << 20, limit: int = 1000
) -> tuple[IngestPipeline, DuckDBTelemetryStore, FileWriteAheadLog, SelfMetrics]:
    store = open_telemetry_store("duckdb", str(tmp_path / "t.duckdb"))
    assert isinstance(store, DuckDBTelemetryStore)
    wal = FileWriteAheadLog(tmp_path / "wal", start_after=store.checkpoint())
    metrics = SelfMetrics()
    pipeline = IngestPipeline(
        wal,
        store,
        limiter=SeriesLimiter(limit),
        metrics=metrics,
        max_buffer_bytes=max_buffer,
        flush_bytes=max_buffer,
        clock=lambda: NOW,
    )
    return pipeline, store, wal, metrics


def submit_points(pipeline: IngestPipeline, count: int, name: str = "m") -> None:
    builder = pipeline.builder()
    for i in range(count):
        builder.point(i, name, float(i), {"i": str(i % 10)}, "gauge")
    pipeline.submit(builder, "test")


def test_submitted_points_are_stored_at_the_next_flush(tmp_path: Path) -> None:
    pipeline, store, wal, _ = make(tmp_path)
    submit_points(pipeline, 100)
    assert store.count(Signal.POINTS) == 0
    assert pipeline.flush() == 100
    assert store.count(Signal.POINTS) == 100
    assert store.checkpoint() == 1
    wal.close()
    store.close()


def test_acknowledged_data_survives_a_crash_before_the_flush(tmp_path: Path) -> None:
    pipeline, store, wal, _ = make(tmp_path)
    submit_points(pipeline, 50)
    wal.close()  # the process dies here: nothing was flushed
    store.close()

    pipeline, store, wal, _ = make(tmp_path)
    assert pipeline.recover() == 50
    assert store.count(Signal.POINTS) == 50
    wal.close()
    store.close()


def test_recovery_after_a_flush_does_not_duplicate(tmp_path: Path) -> None:
    pipeline, store, wal, _ = make(tmp_path)
    submit_points(pipeline, 30)
    pipeline.flush()
    submit_points(pipeline, 20)
    wal.close()
    store.close()

    pipeline, store, wal, _ = make(tmp_path)
    assert pipeline.recover() == 20
    assert store.count(Signal.POINTS) == 50
    assert pipeline.recover() == 0
    wal.close()
    store.close()


def test_a_full_buffer_refuses_with_retry_after_and_keeps_what_it_had(tmp_path: Path) -> None:
    pipeline, store, wal, metrics = make(tmp_path, max_buffer=1)
    submit_points(pipeline, 10)  # an empty buffer always takes one batch
    with pytest.raises(OverloadedError) as refused:
        submit_points(pipeline, 10)
    assert refused.value.retry_after > 0
    assert pipeline.flush() == 10
    submit_points(pipeline, 10)  # room again after the flush
    assert pipeline.flush() == 10
    names = {p.name for p in metrics.drain(NOW)}
    assert "radiator.ingest.overloaded" in names
    wal.close()
    store.close()


def test_points_of_series_past_the_limit_are_rejected_with_a_reason(tmp_path: Path) -> None:
    pipeline, store, wal, metrics = make(tmp_path, limit=3)
    builder = pipeline.builder()
    for i in range(5):
        builder.point(i, "user.requests", 1.0, {"user": f"u{i}"}, "counter")
    builder.point(5, "user.requests", 1.0, {"user": "u0"}, "counter")  # a known series
    result = pipeline.submit(builder, "test")
    assert (result.accepted, result.rejected) == (4, 2)
    assert [e.index for e in result.errors] == [3, 4]
    assert "max_series_per_metric" in result.errors[0].reason
    counted = {(p.name, p.value) for p in metrics.drain(NOW)}
    assert ("radiator.ingest.series_rejected", 2) in counted
    wal.close()
    store.close()


def test_flushed_log_segments_are_deleted(tmp_path: Path) -> None:
    pipeline, store, wal, _ = make(tmp_path)
    wal.segment_bytes = 1
    for _ in range(4):
        submit_points(pipeline, 10)
    assert len(list((tmp_path / "wal").glob("*.wal"))) >= 4
    pipeline.flush()
    assert len(list((tmp_path / "wal").glob("*.wal"))) == 1
    wal.close()
    store.close()
