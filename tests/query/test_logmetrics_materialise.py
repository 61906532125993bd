"""Log metrics materialised into counter points over real stores: counts, watermarks, files."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from radiator.config import Settings
from radiator.core.schema import logs_batch
from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import LogLevel, LogRecord, TimeRange
from radiator.errors import StorageError
from radiator.jobs import Scheduler, schedule_builtin_jobs
from radiator.jobs.logmetrics import log_metric_service, run_log_metrics
from radiator.query.logmetrics import RECORDS_KEY, LogMetricRuleCreate, LogMetricSource
from radiator.query.logmetrics_service import LogMetricService, Schedule
from radiator.runtime import Runtime
from radiator.storage.state import SqlLogMetricStore

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=10)
SCHEDULE = Schedule(step=STEP, lag=timedelta(seconds=5), backfill=timedelta(hours=1))
NOW = T0 + timedelta(minutes=1)  # buckets up to T0+50s are due (T0+55s minus the lag)


def _log(seconds: float, service: str, level: LogLevel, message: str, **attrs: Any) -> LogRecord:
    return LogRecord(T0 + timedelta(seconds=seconds), service, level, message, attrs)


RECORDS = [
    _log(1, "checkout", LogLevel.ERROR, "SQL query failed: timeout", db="orders"),
    _log(2, "checkout", LogLevel.ERROR, "sql QUERY FAILED: deadlock", db="carts"),
    _log(3, "checkout", LogLevel.INFO, "order placed"),
    _log(12, "search", LogLevel.ERROR, "SQL query failed: syntax", db="orders"),
    _log(14, "checkout", LogLevel.WARN, "slow: took 1200 ms"),
    _log(25, "checkout", LogLevel.ERROR, "SQL query failed: timeout", db="orders"),
    _log(55, "checkout", LogLevel.ERROR, "SQL query failed: too late for this run", db="orders"),
]


def _ingest(runtime: Runtime, records: list[LogRecord]) -> None:
    runtime.telemetry.append(Signal.LOGS, logs_batch(records))


def _counts(
    runtime: Runtime, metric: str, group_by: tuple[str, ...] = ()
) -> dict[tuple[Any, ...], float]:
    query = BucketQuery(
        metric,
        TimeRange(T0 - timedelta(hours=2), T0 + timedelta(hours=1)),
        STEP,
        Aggregation.SUM,
        group_by=group_by,
    )
    found: dict[tuple[Any, ...], float] = {}
    for series in runtime.telemetry.query_buckets(query):
        key = tuple(series.tags.get(name, "") for name in group_by)
        for time, value in zip(series.times, series.values, strict=True):
            found[((time - T0).total_seconds(), *key)] = value
    return found


@pytest.fixture
def service(runtime: Runtime) -> LogMetricService:
    return log_metric_service(runtime)


def test_rule_counts_matching_records_per_bucket_and_group(
    runtime: Runtime, service: LogMetricService
) -> None:
    _ingest(runtime, RECORDS)
    service.create_rule(
        LogMetricRuleCreate(
            name="sql_failures", levels=["ERROR"], text="sql query failed", group_by=["service"]
        )
    )

    report = service.materialise(runtime.telemetry, SCHEDULE, now=NOW)

    assert report.errors == {}
    assert _counts(runtime, "logs.sql_failures", ("service",)) == {
        (0.0, "checkout"): 2.0,
        (10.0, "search"): 1.0,
        (20.0, "checkout"): 1.0,
    }


def test_attribute_and_pattern_filters_and_attribute_grouping(
    runtime: Runtime, service: LogMetricService
) -> None:
    _ingest(runtime, RECORDS)
    service.create_rule(
        LogMetricRuleCreate(name="orders_db", attributes={"db": "orders"}, group_by=["level"])
    )
    service.create_rule(
        LogMetricRuleCreate(name="by_db", services=["checkout"], group_by=["db"], text="SQL")
    )
    service.create_rule(
        LogMetricRuleCreate(name="slow", metric="checkout.slow", pattern=r"took \d{4,} ms")
    )

    service.materialise(runtime.telemetry, SCHEDULE, now=NOW)

    assert _counts(runtime, "logs.orders_db", ("level",)) == {
        (0.0, "ERROR"): 1.0,
        (10.0, "ERROR"): 1.0,
        (20.0, "ERROR"): 1.0,
    }
    assert _counts(runtime, "logs.by_db", ("db",)) == {
        (0.0, "orders"): 1.0,
        (0.0, "carts"): 1.0,
        (20.0, "orders"): 1.0,
    }
    slow = _counts(runtime, "checkout.slow")
    # Ungrouped: a point in every due bucket, from an hour before NOW to T0+50s, 0 or 1.
    assert slow[(10.0,)] == 1.0
    assert sum(slow.values()) == 1.0
    assert min(slow)[0] == -3540.0
    assert max(slow)[0] == 40.0
    assert len(slow) == (3540 + 50) // 10


def test_logs_records_counts_every_record_by_service_and_level(
    runtime: Runtime, service: LogMetricService
) -> None:
    _ingest(runtime, RECORDS)

    service.materialise(runtime.telemetry, SCHEDULE, now=NOW)

    assert _counts(runtime, "logs.records", ("service", "level")) == {
        (0.0, "checkout", "ERROR"): 2.0,
        (0.0, "checkout", "INFO"): 1.0,
        (10.0, "search", "ERROR"): 1.0,
        (10.0, "checkout", "WARN"): 1.0,
        (20.0, "checkout", "ERROR"): 1.0,
    }


def test_later_runs_count_only_new_buckets_and_late_records_are_not_counted(
    runtime: Runtime, service: LogMetricService
) -> None:
    _ingest(runtime, RECORDS)
    service.create_rule(LogMetricRuleCreate(name="errors", levels=["ERROR"], group_by=["service"]))
    service.materialise(runtime.telemetry, SCHEDULE, now=NOW)
    assert service.get_rule("errors").materialised_until == T0 + timedelta(seconds=50)

    again = service.materialise(runtime.telemetry, SCHEDULE, now=NOW)
    assert again.windows == 0
    # A record for an already counted bucket arrives late; then time moves on.
    _ingest(runtime, [_log(21, "checkout", LogLevel.ERROR, "late")])
    service.materialise(runtime.telemetry, SCHEDULE, now=NOW + timedelta(seconds=20))

    assert _counts(runtime, "logs.errors", ("service",)) == {
        (0.0, "checkout"): 2.0,
        (10.0, "search"): 1.0,
        (20.0, "checkout"): 1.0,
        (50.0, "checkout"): 1.0,
    }


class _CrashOnce(SqlLogMetricStore):
    """Fails the first watermark write, as a crash right after the points were written."""

    crashed = False

    def set_watermark(self, key: str, when: datetime) -> None:
        if key == "errors" and not self.crashed:
            self.crashed = True
            raise StorageError("crash")
        super().set_watermark(key, when)


def test_crash_between_points_and_watermark_recounts_that_window_only(
    runtime: Runtime,
) -> None:
    _ingest(runtime, RECORDS)
    crashing = LogMetricService(_CrashOnce(runtime.db), runtime.audit)
    crashing.create_rule(LogMetricRuleCreate(name="errors", levels=["ERROR"]))

    first = crashing.materialise(runtime.telemetry, SCHEDULE, now=NOW)
    assert first.errors == {"errors": "crash"}
    assert crashing.get_rule("errors").materialised_until is None

    log_metric_service(runtime).materialise(runtime.telemetry, SCHEDULE, now=NOW)

    counts = _counts(runtime, "logs.errors")
    # The one window was written twice: every bucket doubled, none missing.
    assert {k: v for k, v in counts.items() if v} == {(0.0,): 4.0, (10.0,): 2.0, (20.0,): 2.0}


def test_restart_continues_from_the_persisted_watermark(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, telemetry_path=str(tmp_path / "t.duckdb"))
    first = Runtime(settings)
    try:
        _ingest(first, RECORDS)
        log_metric_service(first).create_rule(
            LogMetricRuleCreate(name="errors", levels=["ERROR"], group_by=["service"])
        )
        log_metric_service(first).materialise(first.telemetry, SCHEDULE, now=NOW)
    finally:
        first.close()

    second = Runtime(settings)
    try:
        log_metric_service(second).materialise(
            second.telemetry, SCHEDULE, now=NOW + timedelta(seconds=30)
        )
        counts = _counts(second, "logs.errors", ("service",))
    finally:
        second.close()
    assert counts == {
        (0.0, "checkout"): 2.0,
        (10.0, "search"): 1.0,
        (20.0, "checkout"): 1.0,
        (50.0, "checkout"): 1.0,
    }


# -- rules as code --------------------------------------------------------------------------

RULES = """
rules:
  - name: sql_failures
    levels: [ERROR]
    text: SQL query failed
    group_by: [service]
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir()
    return directory


@pytest.fixture
def file_runtime(tmp_path: Path, rules_dir: Path) -> Iterator[Runtime]:
    rt = Runtime(make_settings(tmp_path, log_metrics_dir=str(rules_dir)))
    yield rt
    rt.close()


def test_rule_files_are_loaded_materialised_and_removed_with_their_file(
    file_runtime: Runtime, rules_dir: Path
) -> None:
    (rules_dir / "sql.yaml").write_text(RULES)
    _ingest(file_runtime, [_log(-30, "checkout", LogLevel.ERROR, "SQL query failed")])
    # Records from the last minutes: the job counts against the real clock.
    recent = datetime.now(UTC) - timedelta(minutes=5)
    file_runtime.telemetry.append(
        Signal.LOGS,
        logs_batch([LogRecord(recent, "checkout", LogLevel.ERROR, "SQL query failed")]),
    )

    run_log_metrics(file_runtime)

    service = log_metric_service(file_runtime)
    (rule,) = service.list_rules()
    assert (rule.name, rule.source, rule.source_file) == (
        "sql_failures",
        LogMetricSource.FILE,
        str((rules_dir / "sql.yaml").resolve()),
    )
    assert rule.materialised_until is not None
    window = TimeRange(recent - timedelta(minutes=1), recent + timedelta(minutes=1))
    series = file_runtime.telemetry.query_buckets(
        BucketQuery("logs.sql_failures", window, timedelta(minutes=2), Aggregation.SUM, group_by=())
    )
    assert [s.values for s in series] == [[1.0]]

    (rules_dir / "sql.yaml").unlink()
    run_log_metrics(file_runtime)
    assert service.list_rules() == []


def test_bad_rule_file_is_logged_and_loads_nothing(
    file_runtime: Runtime, rules_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (rules_dir / "bad.yml").write_text(RULES + "  - name: broken\n    pattern: '(x'\n")

    with caplog.at_level(logging.ERROR, logger="radiator.jobs.logmetrics"):
        run_log_metrics(file_runtime)

    assert log_metric_service(file_runtime).list_rules() == []
    assert f"{(rules_dir / 'bad.yml').resolve()}: rule 'broken': pattern:" in caplog.text


def test_settings_default_to_no_rule_directory(settings: Settings) -> None:
    assert settings.log_metrics_dir == ""
    assert settings.log_metrics_interval_seconds == 10


def test_serve_schedules_the_job_every_interval(tmp_path: Path) -> None:
    runtime = Runtime(make_settings(tmp_path, log_metrics_interval_seconds=30))
    try:
        scheduler = Scheduler()
        schedule_builtin_jobs(scheduler, runtime)
        (job,) = [job for job in scheduler.jobs if job.name == "log-metrics"]
        assert job.interval == 30
        _ingest(
            runtime, [LogRecord(datetime.now(UTC) - timedelta(hours=1), "a", LogLevel.INFO, "x")]
        )

        scheduler.run_once(job)

        assert job.stats.failures == 0
        assert SqlLogMetricStore(runtime.db).watermark(RECORDS_KEY) is not None
        window = TimeRange(datetime.now(UTC) - timedelta(hours=2), datetime.now(UTC))
        step = timedelta(hours=2)
        series = runtime.telemetry.query_buckets(
            BucketQuery("logs.records", window, step, Aggregation.SUM, group_by=())
        )
        assert [s.values for s in series] == [[1.0]]
    finally:
        runtime.close()
