"""The Parquet archive: retention moves whole days to Parquet, reads still see them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from archive_support import (
    ALL,
    LOG_LIMIT,
    NOW,
    Clock,
    fill,
    live_count,
    make_settings,
    open_store,
    snapshot,
)

from radiator.config import Settings
from radiator.core.schema import logs_batch
from radiator.core.telemetry import EventFilter, Signal
from radiator.core.types import LogLevel, LogRecord
from radiator.errors import InvalidInputError, NotFoundError
from radiator.storage.telemetry import DuckDBTelemetryStore
from radiator.storage.telemetry.retention import Retention


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[DuckDBTelemetryStore]:
    opened = open_store(settings)
    yield opened
    opened.close()


def retention(store: DuckDBTelemetryStore, settings: Settings, clock: Clock) -> Retention:
    return Retention(store, settings, clock=clock)


def live_days(store: DuckDBTelemetryStore, table: str, column: str = "time") -> list[date]:
    with store._cursor() as cursor:
        rows = cursor.execute(
            f"SELECT DISTINCT CAST(timezone('UTC', \"{column}\") AS DATE) FROM {table} ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def test_days_past_retention_are_archived_then_deleted_and_read_the_same(
    store: DuckDBTelemetryStore, settings: Settings
) -> None:
    fill(store)
    before = snapshot(store)
    live_before = {t: live_count(store, t) for t in ("points", "logs", "spans", "events")}

    report = retention(store, settings, Clock()).enforce()

    assert report.errors == []
    # Logs and points keep 14 days, spans 7: every earlier whole UTC day is gone from live.
    assert live_days(store, "logs")[0] == date(2024, 6, 6)
    assert live_days(store, "points")[0] == date(2024, 6, 6)
    assert live_days(store, "spans", "start")[0] == date(2024, 6, 13)
    assert live_count(store, "events") == live_before["events"]  # kept for good by default
    archived = {t: sum(p.rows for p in report.archived if p.table == t) for t in live_before}
    for table, rows in live_before.items():
        assert live_count(store, table) == rows - archived[table]
    assert archived["logs"] > 0 and archived["spans"] > archived["logs"]
    assert report.rows == sum(archived.values())
    after = snapshot(store)
    for key, value in before.items():
        assert after[key] == value, key


def test_the_manifest_lists_each_archived_day_with_its_files(
    store: DuckDBTelemetryStore, settings: Settings
) -> None:
    fill(store)
    job = retention(store, settings, Clock())
    job.enforce()

    parts = job.partitions("logs")
    assert [p.day for p in parts] == [date(2024, 5, 31) + timedelta(days=n) for n in range(6)]
    root = settings.resolved_archive_dir
    for part in parts:
        assert part.files == (f"logs/date={part.day.isoformat()}/part-1.parquet",)
        path = root / part.files[0]
        assert pq.ParquetFile(path).metadata.num_rows == part.rows
        assert part.bytes == path.stat().st_size
        assert part.archived_at == NOW and not part.restored
    assert {p.table for p in job.partitions()} == {"logs", "points", "spans"}
    # The layout is plain date-partitioned Parquet, readable without Radiator.
    table = pq.read_table(root / "logs", partitioning="hive")
    assert table.num_rows == sum(p.rows for p in parts)


def test_an_archive_that_cannot_be_written_deletes_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the archive directory should be")
    settings = make_settings(tmp_path, archive_dir=str(blocker))
    store = open_store(settings)
    try:
        fill(store)
        before = snapshot(store)
        counts = {t: live_count(store, t) for t in ("points", "logs", "spans")}
        report = retention(store, settings, Clock()).enforce()
        assert len(report.errors) == 3  # one per table, each stops its table
        assert report.archived == []
        assert {t: live_count(store, t) for t in counts} == counts
        assert snapshot(store) == before
        assert Retention(store, settings).partitions() == []
    finally:
        store.close()


def test_a_failing_table_keeps_its_rows_while_others_are_archived(
    store: DuckDBTelemetryStore, settings: Settings
) -> None:
    fill(store)
    settings.resolved_archive_dir.mkdir(parents=True)
    (settings.resolved_archive_dir / "logs").write_text("a file where a directory should be")
    logs = live_count(store, "logs")
    before = snapshot(store)

    report = retention(store, settings, Clock()).enforce()

    assert len(report.errors) == 1 and report.errors[0].startswith("logs 2024-05-31")
    assert live_count(store, "logs") == logs
    assert {p.table for p in report.archived} == {"points", "spans"}
    assert snapshot(store) == before


def test_restoring_twice_brings_rows_back_once(
    store: DuckDBTelemetryStore, settings: Settings
) -> None:
    fill(store)
    before = snapshot(store)
    logs = live_count(store, "logs")
    job = retention(store, settings, Clock())
    archived = sum(p.rows for p in job.enforce().archived if p.table == "logs")
    assert live_count(store, "logs") == logs - archived

    first = job.restore("logs", date(2024, 5, 1), date(2024, 6, 30))
    again = job.restore("logs", date(2024, 5, 1), date(2024, 6, 30))

    assert sum(rows for _, rows in first) == archived
    assert live_count(store, "logs") == logs
    assert [rows for _, rows in again] == [0] * len(first)
    assert all(p.restored and p.restored_at == NOW for p in job.partitions("logs"))
    assert store._source("logs", ALL) == "logs"  # restored days are read live only
    assert snapshot(store) == before


def test_restore_names_what_is_wrong(store: DuckDBTelemetryStore, settings: Settings) -> None:
    job = retention(store, settings, Clock())
    with pytest.raises(InvalidInputError) as bad_table:
        job.restore("users", date(2024, 6, 1), date(2024, 6, 2))
    assert bad_table.value.field == "table"
    with pytest.raises(InvalidInputError) as backwards:
        job.restore("logs", date(2024, 6, 2), date(2024, 6, 1))
    assert backwards.value.field == "to"
    with pytest.raises(NotFoundError):
        job.restore("logs", date(2024, 6, 1), date(2024, 6, 2))


def test_restored_days_stay_live_for_the_retention_then_are_archived_again(
    store: DuckDBTelemetryStore, settings: Settings
) -> None:
    fill(store)
    before = snapshot(store)
    clock = Clock()
    job = retention(store, settings, clock)
    job.enforce()
    old_files = [settings.resolved_archive_dir / f for p in job.partitions("logs") for f in p.files]
    job.restore("logs", date(2024, 5, 31), date(2024, 6, 5))
    restored_rows = live_count(store, "logs")

    clock.now = NOW + timedelta(days=13)
    held = job.enforce()
    assert live_count(store, "logs") < restored_rows  # newer days fell due meanwhile
    assert not any(p.table == "logs" and p.day < date(2024, 6, 6) for p in held.archived)

    clock.now = NOW + timedelta(days=15)
    job.enforce()
    again = [p for p in job.partitions("logs") if p.day < date(2024, 6, 6)]
    assert again and all(not p.restored and p.files[0].endswith("part-2.parquet") for p in again)
    assert not any(path.exists() for path in old_files)  # replaced, not duplicated
    assert snapshot(store) == before


def test_late_rows_of_an_archived_day_are_archived_in_another_part(
    store: DuckDBTelemetryStore, settings: Settings
) -> None:
    fill(store)
    job = retention(store, settings, Clock())
    job.enforce()
    day = date(2024, 6, 2)
    late = datetime(2024, 6, 2, 9, 30, tzinfo=UTC)
    store.append(Signal.LOGS, logs_batch([LogRecord(late, "api", LogLevel.INFO, "late")]))
    expected = snapshot(store)
    assert expected["logs"].count((late, "api", "INFO", "late", {}, "")) == 1

    report = job.enforce()

    assert [(p.table, p.day) for p in report.archived] == [("logs", day)]
    part = next(p for p in job.partitions("logs") if p.day == day)
    assert len(part.files) == 2 and part.rows == 13
    assert snapshot(store) == expected


def test_without_archiving_rows_are_deleted_only_when_allowed(tmp_path: Path) -> None:
    for allowed in (False, True):
        settings = make_settings(
            tmp_path / str(allowed), archive_enabled=False, retention_delete_unarchived=allowed
        )
        store = open_store(settings)
        try:
            fill(store)
            logs = live_count(store, "logs")
            report = retention(store, settings, Clock()).enforce()
            if allowed:
                assert report.held == [] and report.archived == []
                gone = sum(n for table, _, n in report.deleted if table == "logs")
                assert gone > 0 and live_count(store, "logs") == logs - gone
                assert live_days(store, "logs")[0] == date(2024, 6, 6)
            else:
                assert sorted(report.held) == ["logs", "points", "spans"]
                assert report.deleted == [] and live_count(store, "logs") == logs
            assert not settings.resolved_archive_dir.exists()
        finally:
            store.close()


def test_events_are_archived_only_with_a_retention(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, retention_events_days=10)
    store = open_store(settings)
    try:
        fill(store)
        before = store.query_events(EventFilter(range=ALL, limit=LOG_LIMIT))
        report = retention(store, settings, Clock()).enforce()
        assert any(p.table == "events" for p in report.archived)
        assert live_days(store, "events")[0] >= date(2024, 6, 10)
        assert store.query_events(EventFilter(range=ALL, limit=LOG_LIMIT)) == before
    finally:
        store.close()


def test_rollup_tables_are_archived_when_the_store_has_them(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, retention_rollup_1m_days=10, retention_rollup_1h_days=12)
    store = open_store(settings)
    try:
        fill(store)
        store.roll_up(NOW)
        job = retention(store, settings, Clock())
        assert {"rollup_1m", "rollup_1h"} <= {r.table for r in job.rules()}
        read = f"SELECT count(*), sum(count) FROM {{}} WHERE \"time\" < TIMESTAMPTZ '{NOW}'"
        with store._cursor() as cursor:
            before = {
                t: cursor.execute(read.format(t)).fetchone() for t in ("rollup_1m", "rollup_1h")
            }
        job.enforce()
        assert live_days(store, "rollup_1m")[0] == date(2024, 6, 10)
        assert live_days(store, "rollup_1h")[0] == date(2024, 6, 8)
        for table, expected in before.items():
            source = store._source(table, ALL)
            assert source != table
            with store._cursor() as cursor:
                assert cursor.execute(read.format(source)).fetchone() == expected
    finally:
        store.close()


def test_a_column_added_after_archiving_reads_as_null_from_old_days(
    store: DuckDBTelemetryStore, settings: Settings
) -> None:
    fill(store)
    job = retention(store, settings, Clock())
    job.enforce()
    before = snapshot(store)
    with store._cursor() as cursor:
        cursor.execute("ALTER TABLE logs ADD COLUMN host VARCHAR")

    assert snapshot(store) == before
    with store._cursor() as cursor:
        row = cursor.execute(
            f"SELECT count(*), count(host) FROM {store._source('logs', ALL)}"
        ).fetchone()
    assert row == (before["counts"][Signal.LOGS], 0)
    job.restore("logs", date(2024, 5, 1), date(2024, 6, 30))
    assert snapshot(store) == before


def test_rows_appended_while_retention_runs_are_never_lost(
    store: DuckDBTelemetryStore, settings: Settings
) -> None:
    fill(store)
    total = store.count(Signal.LOGS)
    stop = threading.Event()
    appended: list[int] = []
    failures: list[BaseException] = []

    def append_late_and_current_rows() -> None:
        n = 0
        while not stop.is_set():
            # One row on a day being archived, one today.
            at = datetime(2024, 6, 1 + n % 5, 10, n % 60, tzinfo=UTC)
            records = [
                LogRecord(at, "late", LogLevel.INFO, f"late {n}"),
                LogRecord(NOW, "now", LogLevel.INFO, f"now {n}"),
            ]
            try:
                appended.append(store.append(Signal.LOGS, logs_batch(records)))
            except BaseException as exc:  # reported below, never silently dropped
                failures.append(exc)
                return
            n += 1

    writer = threading.Thread(target=append_late_and_current_rows)
    writer.start()
    try:
        report = retention(store, settings, Clock()).enforce()
        second = retention(store, settings, Clock()).enforce()
    finally:
        stop.set()
        writer.join()

    assert failures == []
    assert sum(appended) > 0
    assert report.archived and all("conflict" in e.lower() for e in report.errors + second.errors)
    assert store.count(Signal.LOGS) == total + sum(appended)
