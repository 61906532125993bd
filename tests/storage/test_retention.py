"""Retention policy: which days fall due, per table, and the background job that enforces it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from archive_support import NOW, Clock, live_count, make_settings, open_store

from radiator.core.schema import logs_batch, points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import LogLevel, LogRecord, Point
from radiator.jobs import Scheduler, schedule_builtin_jobs
from radiator.runtime import Runtime
from radiator.storage.telemetry import DuckDBTelemetryStore
from radiator.storage.telemetry.retention import Retention, RetentionRule, retention_rules


def _log(at: datetime, message: str) -> LogRecord:
    return LogRecord(at, "api", LogLevel.INFO, message)


def test_rules_follow_the_settings_and_default_to_the_issue_values(tmp_path: Path) -> None:
    rules = {r.table: (r.time_column, r.days) for r in retention_rules(make_settings(tmp_path))}
    assert rules == {
        "points": ("time", 14),
        "rollup_1m": ("time", 90),
        "rollup_1h": ("time", 730),
        "logs": ("time", 14),
        "spans": ("start", 7),
        "events": ("time", 0),
    }
    changed = retention_rules(make_settings(tmp_path, retention_spans_days=3))
    assert RetentionRule("spans", "start", 3) in changed


def test_a_day_falls_due_only_once_all_of_it_is_past_retention(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = open_store(settings)
    try:
        last_due = datetime(2024, 6, 5, 23, 59, 59, 999999, tzinfo=UTC)
        first_kept = datetime(2024, 6, 6, tzinfo=UTC)
        store.append(Signal.LOGS, logs_batch([_log(last_due, "old"), _log(first_kept, "new")]))
        clock = Clock(datetime(2024, 6, 20, 0, 0, tzinfo=UTC))  # 14 days after first_kept
        job = Retention(store, settings, clock=clock)
        rule = next(r for r in job.rules() if r.table == "logs")
        assert rule.cutoff(clock()) == date(2024, 6, 6)
        assert job.due_days(rule, clock()) == [date(2024, 6, 5)]

        report = job.enforce()

        assert [(p.table, p.day, p.rows) for p in report.archived] == [
            ("logs", date(2024, 6, 5), 1)
        ]
        assert live_count(store, "logs") == 1
        clock.now -= timedelta(microseconds=1)
        assert job.enforce().archived == []
    finally:
        store.close()


def test_zero_days_keeps_a_table_for_good(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, retention_logs_days=0)
    store = open_store(settings)
    try:
        old = NOW - timedelta(days=3650)
        store.append(Signal.LOGS, logs_batch([_log(old, "ten years ago")]))
        report = Retention(store, settings, clock=Clock()).enforce()
        assert report.archived == [] and report.deleted == []
        assert live_count(store, "logs") == 1
    finally:
        store.close()


def test_serve_runs_a_retention_job_that_archives_old_telemetry(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, retention_interval_seconds=120)
    runtime = Runtime(settings)
    try:
        now = datetime.now(UTC)
        runtime.telemetry.append(
            Signal.LOGS,
            logs_batch([_log(now - timedelta(days=30), "old"), _log(now, "new")]),
        )
        scheduler = Scheduler()
        schedule_builtin_jobs(scheduler, runtime)
        job = next(j for j in scheduler.jobs if j.name == "retention")
        assert job.interval == 120

        scheduler.run_once(job)

        assert (job.stats.runs, job.stats.failures) == (1, 0), job.stats.last_error
        assert runtime.telemetry.count(Signal.LOGS) == 2  # one live, one archived
        assert isinstance(runtime.telemetry, DuckDBTelemetryStore)
        assert live_count(runtime.telemetry, "logs") == 1
        parts = Retention(runtime.telemetry, settings).partitions()
        assert [(p.table, p.rows) for p in parts] == [("logs", 1)]
        assert (settings.data_dir / "archive" / parts[0].files[0]).is_file()
    finally:
        runtime.close()


def test_a_failing_retention_job_counts_as_a_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    settings = make_settings(tmp_path, archive_dir=str(blocker))
    runtime = Runtime(settings)
    try:
        old = datetime.now(UTC) - timedelta(days=30)
        runtime.telemetry.append(Signal.LOGS, logs_batch([_log(old, "old")]))
        scheduler = Scheduler()
        schedule_builtin_jobs(scheduler, runtime)
        job = next(j for j in scheduler.jobs if j.name == "retention")

        scheduler.run_once(job)

        assert job.stats.failures == 1 and "logs" in job.stats.last_error
        assert runtime.telemetry.count(Signal.LOGS) == 1
    finally:
        runtime.close()


def test_raw_points_wait_for_their_rollups_before_they_are_archived(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = open_store(settings)
    try:
        old = [Point("cpu", float(i), NOW - timedelta(days=20, minutes=i)) for i in range(30)]
        store.append(Signal.POINTS, points_batch(old))
        job = Retention(store, settings, clock=Clock())

        waiting = job.enforce()

        assert waiting.archived == [] and waiting.waiting == ["points"]
        assert live_count(store, "points") == 30
        store.roll_up(NOW)
        assert job.rolled_up_until("points") == NOW.date()
        done = job.enforce()
        assert [p.table for p in done.archived] == ["points"] and done.waiting == []
        assert live_count(store, "points") == 0 and store.count(Signal.POINTS) == 30
    finally:
        store.close()
