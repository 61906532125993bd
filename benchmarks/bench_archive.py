"""Archive 16 of 30 days of logs to Parquet, then read the archived range again.

Run: ``.venv/bin/python benchmarks/bench_archive.py [--per-day N]``. Writes 30 days of log
records (``--per-day``, default 100,000) to a DuckDB file, times a search and a count over
days 20..25 ago while they are live, enforces 14-day retention, and times the same reads
now served from Parquet. The last line printed is the headline figure,
``archive_rows_per_second=<n>``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from radiator.config import Settings
from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import LogFilter, Signal
from radiator.core.types import TimeRange
from radiator.storage.telemetry import DuckDBTelemetryStore, open_telemetry_store
from radiator.storage.telemetry.retention import Retention

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)
DAYS = 30
LEVELS = ("DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR")


def day_batch(day: int, per_day: int) -> pa.Table:
    schema = SCHEMAS[Signal.LOGS]
    start_us = int((NOW - timedelta(days=day)).timestamp() * 1_000_000)
    step_us = 86_400_000_000 // per_day
    rows = range(per_day)
    return pa.table(
        {
            "time": pa.array([start_us - i * step_us for i in rows], pa.int64()).cast(
                schema.field("time").type
            ),
            "service": [f"svc-{i % 20}" for i in rows],
            "level": [LEVELS[i % len(LEVELS)] for i in rows],
            "message": [f"request {i} handled in {i % 500} ms" for i in rows],
            "attributes": [f'{{"route": "/r/{i % 50}"}}' for i in rows],
            "trace_id": [f"{day:04d}{i:012x}" for i in rows],
            "span_id": [f"{i:08x}" for i in rows],
        },
    )


def timed(work: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def reads(store: DuckDBTelemetryStore) -> dict[str, tuple[float, object]]:
    old = TimeRange(NOW - timedelta(days=25), NOW - timedelta(days=20))
    search = LogFilter(range=old, levels=("ERROR",), text="in 42 ms", limit=1000)
    return {
        "search": timed(lambda: [r.message for r in store.query_logs(search)]),
        "count": timed(lambda: store.count(Signal.LOGS, old)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-day", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="radiator-bench-") as directory:
        settings = Settings(data_dir=Path(directory), telemetry_path="")
        store = open_telemetry_store(
            "duckdb", settings.resolved_telemetry_path, archive_dir=settings.resolved_archive_dir
        )
        assert isinstance(store, DuckDBTelemetryStore)
        for day in range(DAYS):
            store.append(Signal.LOGS, day_batch(day, args.per_day))
        live = reads(store)
        started = time.perf_counter()
        report = Retention(store, settings, clock=lambda: NOW).enforce()
        elapsed = time.perf_counter() - started
        archived = reads(store)
        size = sum(p.bytes for p in report.archived)
        store.close()
    assert not report.errors, report.errors
    for name, (seconds, result) in live.items():
        assert archived[name][1] == result, name
        print(f"{name}: live {seconds * 1000:.1f} ms, archived {archived[name][0] * 1000:.1f} ms")
    print(
        f"archived {report.rows:,} rows ({len(report.archived)} days, {size / 2**20:.1f} MiB "
        f"Parquet) in {elapsed:.2f} s"
    )
    print(f"archive_rows_per_second={report.rows / elapsed:.0f}")


if __name__ == "__main__":
    main()
