"""Materialise log metrics over a day of log records: the backfill of new rules.

Run: ``.venv/bin/python benchmarks/bench_log_metrics.py [--records N] [--rules R]``. Writes
``--records`` (default 1,000,000) log records spread over 24 hours to a DuckDB file, creates
``--rules`` rules (default 5: text, regular expression, attribute, level by service, and one
grouped by an attribute) and times one materialisation run that counts the whole day at
10-second buckets for them and for ``logs.records``, then a run one bucket later (the
steady state). The last line printed is the headline figure,
``log_metric_records_per_second=<n>``: records examined per second, summed over targets.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from radiator.audit import AuditLog
from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import Signal
from radiator.query.logmetrics import LogMetricRuleCreate
from radiator.query.logmetrics_service import LogMetricService, Schedule
from radiator.storage.state import Database, SqlAuditStore, SqlLogMetricStore
from radiator.storage.telemetry import open_telemetry_store

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
LEVELS = ("DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR")
RULES = [
    LogMetricRuleCreate(name="sql_failures", text="sql query failed", group_by=["service"]),
    LogMetricRuleCreate(name="slow", pattern=r"in [0-9]{3} ms"),
    LogMetricRuleCreate(name="route_7", attributes={"route": "/r/7"}),
    LogMetricRuleCreate(name="errors", levels=["ERROR"], group_by=["service"]),
    LogMetricRuleCreate(name="by_route", levels=["WARN"], group_by=["route"]),
]


def batch(records: int) -> pa.Table:
    schema = SCHEMAS[Signal.LOGS]
    end_us = int(NOW.timestamp() * 1_000_000) - 60_000_000
    step_us = 86_400_000_000 // records
    rows = range(records)
    return pa.table(
        {
            "time": pa.array([end_us - i * step_us for i in rows], pa.int64()).cast(
                schema.field("time").type
            ),
            "service": [f"svc-{i % 20}" for i in rows],
            "level": [LEVELS[i % len(LEVELS)] for i in rows],
            "message": [
                "SQL query failed: timeout" if i % 97 == 0 else f"request {i} in {i % 500} ms"
                for i in rows
            ],
            "attributes": [f'{{"route": "/r/{i % 50}"}}' for i in rows],
            "trace_id": [""] * records,
            "span_id": [""] * records,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rules", type=int, default=len(RULES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        telemetry = open_telemetry_store("duckdb", str(Path(directory) / "t.duckdb"))
        db = Database(f"sqlite:///{Path(directory) / 'state.db'}")
        db.upgrade()
        try:
            for start in range(0, args.records, 200_000):
                telemetry.append(Signal.LOGS, batch(min(200_000, args.records - start)))
            service = LogMetricService(SqlLogMetricStore(db), AuditLog(SqlAuditStore(db)))
            for rule in RULES[: args.rules]:
                service.create_rule(rule)
            schedule = Schedule(backfill=timedelta(hours=24), max_windows=1000)
            started = time.perf_counter()
            report = service.materialise(telemetry, schedule, now=NOW)
            backfill_s = time.perf_counter() - started
            started = time.perf_counter()
            service.materialise(telemetry, schedule, now=NOW + timedelta(seconds=10))
            steady_ms = (time.perf_counter() - started) * 1000
        finally:
            telemetry.close()
            db.close()
    targets = args.rules + 1
    print(f"records={args.records} targets={targets} windows={report.windows}")
    print(f"points_written={report.points} errors={len(report.errors)}")
    print(f"backfill_seconds={backfill_s:.2f} steady_run_ms={steady_ms:.1f}")
    print(f"log_metric_records_per_second={args.records * targets / backfill_s:.0f}")


if __name__ == "__main__":
    main()
