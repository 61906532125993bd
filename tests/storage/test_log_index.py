"""The log text index: searches through it answer exactly what a plain scan answers."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from archive_support import Clock, make_settings, open_store

from radiator.core.schema import logs_batch
from radiator.core.telemetry import LogFilter, Signal
from radiator.core.types import LogLevel, LogRecord, TimeRange
from radiator.storage.telemetry import DuckDBTelemetryStore, open_telemetry_store
from radiator.storage.telemetry import duckdb_logindex as logindex
from radiator.storage.telemetry.duckdb_logindex import BUCKET_US, UpkeepReport
from radiator.storage.telemetry.retention import Retention

T0 = datetime(2024, 3, 4, tzinfo=UTC)
HOUR = timedelta(hours=1)
WIDE = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=5))
WORDS = (
    "alpha",
    "Beta",
    "GAMMA",
    "déjà",
    "Ärger",
    "straße",
    "Σίσυφος",
    "ЖУК",
    "100%",
    "a_b",
    "axb",
    "back\\slash",
    "zanzibar",
    "of",
    "ü",
    "timeout",
)
FIXED_TEXTS = (
    "%",
    "_",
    "a_b",
    "100%",
    "0%",
    "\\",
    "k\\s",
    "zanzibar",
    "ZANZIBAR",
    "no such text here",
    "ß",
    "STRASSE",
    "straße",
    "ärger",
    "ÄRGER",
    "σίσυφος",
    "жук",
    "ha gam",
    "ab",
)


def us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBTelemetryStore]:
    opened = open_telemetry_store("duckdb", str(tmp_path / "telemetry.duckdb"))
    assert isinstance(opened, DuckDBTelemetryStore)
    yield opened
    opened.close()


def log(at: datetime, message: str, service: str = "api") -> LogRecord:
    return LogRecord(at, service, LogLevel.INFO, message)


def random_logs(rng: random.Random, count: int, start: datetime, hours: int) -> list[LogRecord]:
    """Random messages at random times; some share an instant, so ties need the tiebreak."""
    records = []
    for _ in range(count):
        at = start + timedelta(microseconds=rng.randrange(hours * BUCKET_US))
        if records and rng.random() < 0.1:
            at = records[-1].time
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        records.append(log(at, f"{words} #{rng.randrange(1000)}", rng.choice(("api", "web"))))
    return records


def append(store: DuckDBTelemetryStore, records: list[LogRecord]) -> None:
    store.append(Signal.LOGS, logs_batch(records))


def build(store: DuckDBTelemetryStore, now: datetime, max_rows: int = 1000) -> list[UpkeepReport]:
    """Run upkeep until nothing is pending, as the rollup job would over several runs."""
    reports = [store.update_log_index(now, max_rows)]
    while reports[-1].pending:
        reports.append(store.update_log_index(now, max_rows))
    return reports


def plain(store: DuckDBTelemetryStore, query: LogFilter) -> list[tuple[int, int]]:
    """Positions a plain ILIKE scan of the live table answers (what query_logs did before)."""
    where = ['"time" >= $start', '"time" < $end']
    params: dict[str, Any] = {
        "start": query.range.start,
        "end": query.range.end,
        "limit": query.limit,
    }
    if query.text:
        escaped = query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("message ILIKE $pattern ESCAPE '\\'")
        params["pattern"] = f"%{escaped}%"
    if query.services:
        where.append("service = ANY($services)")
        params["services"] = list(query.services)
    if query.after is not None:
        where.append('(epoch_us("time") < $t OR (epoch_us("time") = $t AND rowid < $r))')
        params.update(t=query.after[0], r=query.after[1])
    with store._cursor() as cursor:
        rows = cursor.execute(
            f'SELECT epoch_us("time"), rowid FROM logs WHERE {" AND ".join(where)} '
            "ORDER BY 1 DESC, 2 DESC LIMIT $limit",
            params,
        ).fetchall()
    return [(int(t), int(r)) for t, r in rows]


def found(store: DuckDBTelemetryStore, query: LogFilter) -> list[tuple[int, int]]:
    return [row.position for row in store.query_logs(query)]


def paged(store: DuckDBTelemetryStore, query: LogFilter, page: int) -> list[tuple[int, int]]:
    rows: list[tuple[int, int]] = []
    after = None
    while True:
        batch = found(
            store, LogFilter(query.range, query.services, text=query.text, limit=page, after=after)
        )
        rows.extend(batch)
        if len(batch) < page:
            return rows
        after = batch[-1]


def some_texts(rng: random.Random, records: list[LogRecord], count: int) -> list[str]:
    """Fixed texts plus random pieces of stored messages, their letters' case flipped at random."""
    texts = list(FIXED_TEXTS)
    for _ in range(count):
        message = rng.choice(records).message
        start = rng.randrange(len(message))
        piece = message[start : start + rng.randint(1, 12)]
        texts.append("".join(c.upper() if rng.random() < 0.3 else c for c in piece))
    return texts


def some_range(rng: random.Random) -> TimeRange:
    if rng.random() < 0.3:
        return WIDE
    start = T0 + timedelta(microseconds=rng.randrange(80 * BUCKET_US))
    return TimeRange(start, start + timedelta(microseconds=rng.randrange(1, 30 * BUCKET_US)))


def check_like_plain(store: DuckDBTelemetryStore, rng: random.Random, texts: list[str]) -> int:
    """Compare many searches with plain scans; return how many went through the index."""
    indexed = 0
    for text in texts:
        services = rng.choice(((), ("api",), ("web", "db")))
        query = LogFilter(some_range(rng), services, text=text, limit=rng.choice((1, 7, 5000)))
        indexed += store.log_search_plan(query) is not None
        assert found(store, query) == plain(store, query), text
        everything = plain(store, LogFilter(query.range, services, text=text, limit=100_000))
        # Pages of 7 rows, or about 8 pages when there are many rows.
        assert paged(store, query, max(7, len(everything) // 8)) == everything, text
    return indexed


def test_searches_through_the_index_answer_what_a_plain_scan_answers(
    store: DuckDBTelemetryStore,
) -> None:
    rng = random.Random(6)
    records = random_logs(rng, 3000, T0, 72)
    append(store, records)
    build(store, T0 + 72 * HOUR + 10 * timedelta(minutes=1))
    # Late logs into indexed hours, and new ones the index has not reached.
    late = random_logs(rng, 300, T0, 72)
    fresh = random_logs(rng, 200, T0 + 72 * HOUR, 3)
    append(store, late)
    append(store, fresh)
    texts = some_texts(rng, records + late + fresh, 80)

    indexed = check_like_plain(store, rng, texts)
    build(store, T0 + 80 * HOUR)
    indexed += check_like_plain(store, rng, texts)

    # Every text of three or more characters went through the index.
    assert indexed == 2 * sum(len(t) >= 3 for t in texts)


def test_search_reads_only_the_hours_holding_every_trigram_of_the_text(
    store: DuckDBTelemetryStore,
) -> None:
    filler = [
        log(T0 + h * HOUR + timedelta(minutes=m), f"served in {m} ms")
        for h in range(48)
        for m in range(0, 60, 3)
    ]
    rare = [
        log(T0 + 5 * HOUR + timedelta(minutes=1), "upstream Zanzibar-gateway returned 502"),
        log(T0 + 30 * HOUR + timedelta(minutes=2), "zanzibar again"),
        log(T0 + 31 * HOUR, "zanziba without its last letter"),
    ]
    append(store, filler + rare)
    build(store, T0 + 48 * HOUR + timedelta(minutes=10))
    query = LogFilter(TimeRange(T0, T0 + 48 * HOUR), text="ZANZIBAR")

    plan = store.log_search_plan(query)

    assert plan is not None
    hour5, hour30 = us(T0 + 5 * HOUR), us(T0 + 30 * HOUR)
    assert plan.matched == (hour5, hour30)
    assert plan.unindexed == ()
    assert plan.units == ((hour30, hour30 + BUCKET_US), (hour5, hour5 + BUCKET_US))
    assert [r.message for r in store.query_logs(query)] == [
        "zanzibar again",
        "upstream Zanzibar-gateway returned 502",
    ]


def test_the_part_of_a_range_not_yet_indexed_is_read_whole(store: DuckDBTelemetryStore) -> None:
    append(store, [log(T0 + h * HOUR, f"line {h}") for h in range(10)])
    build(store, T0 + 6 * HOUR)  # indexes up to the hour that ended 5 minutes before
    append(store, [log(T0 + 8 * HOUR + timedelta(minutes=30), "zanzibar in the tail")])
    query = LogFilter(TimeRange(T0, T0 + 10 * HOUR), text="zanzibar")

    plan = store.log_search_plan(query)

    assert plan is not None
    assert plan.matched == ()
    assert plan.unindexed == ((us(T0 + 5 * HOUR), us(T0 + 10 * HOUR)),)
    assert [r.message for r in store.query_logs(query)] == ["zanzibar in the tail"]


def test_a_text_in_many_scattered_hours_over_a_range_of_decades(
    store: DuckDBTelemetryStore,
) -> None:
    append(
        store,
        [
            log(T0 + h * HOUR + timedelta(minutes=10), "zanzibar" if h % 2 else "other")
            for h in range(300)
        ],
    )
    build(store, T0 + 300 * HOUR + timedelta(minutes=10), max_rows=100)
    since_1970 = TimeRange(datetime(1970, 1, 2, tzinfo=UTC), T0 + 400 * HOUR)
    query = LogFilter(since_1970, text="zanzibar", limit=1000)

    plan = store.log_search_plan(query)

    assert plan is not None
    assert len(plan.matched) == 150
    # Outside the index: hours for the newest two days of each part, then longer pieces.
    assert len(plan.units) < 150 + 2 * 48 + 2 * 20
    assert len(found(store, query)) == 150
    assert found(store, query) == plain(store, query)
    assert paged(store, LogFilter(since_1970, text="zanzibar"), 9) == plain(store, query)


def test_a_late_log_marks_its_hour_until_upkeep_indexes_it_again(
    store: DuckDBTelemetryStore,
) -> None:
    append(store, [log(T0 + h * HOUR, f"line {h}") for h in range(24)])
    now = T0 + 24 * HOUR + timedelta(minutes=10)
    build(store, now)
    append(store, [log(T0 + 10 * HOUR + timedelta(minutes=5), "late zanzibar")])
    query = LogFilter(TimeRange(T0, T0 + 24 * HOUR), text="zanzibar")
    hour10 = us(T0 + 10 * HOUR)

    plan = store.log_search_plan(query)
    assert plan is not None
    assert (plan.matched, plan.unindexed) == ((), ((hour10, hour10 + BUCKET_US),))
    assert [r.message for r in store.query_logs(query)] == ["late zanzibar"]

    report = store.update_log_index(now)

    assert (report.hours, report.rows, report.pending) == (1, 2, False)
    plan = store.log_search_plan(query)
    assert plan is not None
    assert (plan.matched, plan.unindexed) == ((hour10,), ())
    assert [r.message for r in store.query_logs(query)] == ["late zanzibar"]


def test_only_logs_in_hours_upkeep_may_have_indexed_mark_their_hour(
    store: DuckDBTelemetryStore,
) -> None:
    append(store, [log(T0 + h * HOUR, f"line {h}") for h in range(5)])
    build(store, T0 + 5 * HOUR + timedelta(minutes=10))
    append(store, [log(T0 + 7 * HOUR, "ahead of the index")])
    append(store, [log(T0 + 2 * HOUR + timedelta(seconds=1), "behind")])
    append(store, [log(T0 - 30 * HOUR, "older than anything")])

    with store._cursor() as cursor:
        marks = cursor.execute("SELECT bucket FROM log_index_dirty ORDER BY 1").fetchall()

    assert [m[0] for m in marks] == [us(T0 - 30 * HOUR), us(T0 + 2 * HOUR)]


def test_a_first_build_runs_in_chunks_newest_first_then_upkeep_reads_only_new_hours(
    store: DuckDBTelemetryStore,
) -> None:
    append(
        store,
        [
            log(T0 + h * HOUR + timedelta(minutes=m), f"line {h} {m}")
            for h in range(48)
            for m in range(10)
        ],
    )
    now = T0 + 48 * HOUR + timedelta(minutes=10)

    reports = build(store, now, max_rows=100)

    assert len(reports) == 5
    assert all(r.rows <= 100 for r in reports)
    assert [r.pending for r in reports] == [True, True, True, True, False]
    lows = [r.low for r in reports]
    assert lows == sorted(lows, reverse=True)  # newest hours first
    assert (lows[-1], reports[-1].high) == (us(T0), us(T0 + 48 * HOUR))
    assert sum(r.rows for r in reports) == 480

    append(store, [log(T0 + 48 * HOUR + timedelta(minutes=m), "new") for m in range(7)])
    report = store.update_log_index(now + HOUR)
    assert (report.hours, report.rows, report.pending) == (1, 7, False)
    report = store.update_log_index(now + HOUR)
    assert (report.hours, report.rows, report.pending) == (0, 0, False)


def test_roll_up_keeps_the_index_up_to_date(store: DuckDBTelemetryStore) -> None:
    append(store, [log(T0 + h * HOUR, "zanzibar" if h == 3 else "other") for h in range(6)])

    store.roll_up(T0 + 6 * HOUR + timedelta(minutes=10))

    plan = store.log_search_plan(LogFilter(TimeRange(T0, T0 + 6 * HOUR), text="zanzibar"))
    assert plan is not None
    assert (plan.matched, plan.unindexed) == ((us(T0 + 3 * HOUR),), ())


def test_short_texts_scan_plainly(store: DuckDBTelemetryStore) -> None:
    append(store, [log(T0 + h * HOUR, f"x{h % 3}y") for h in range(6)])
    build(store, T0 + 6 * HOUR + timedelta(minutes=10))
    query = LogFilter(TimeRange(T0, T0 + 6 * HOUR), text="X1")

    assert store.log_search_plan(query) is None
    assert found(store, query) == plain(store, query)
    assert len(found(store, query)) == 2


def test_a_log_committed_after_upkeeps_snapshot_keeps_its_hour_marked(
    store: DuckDBTelemetryStore,
) -> None:
    append(store, [log(T0 + h * HOUR, f"line {h}") for h in range(6)])
    now = T0 + 6 * HOUR + timedelta(minutes=10)
    guard = store._log_index
    with store._cursor() as cursor, guard.writer:
        # update() step by step, with an append between its snapshot and its commit.
        with guard.lock:
            guard.raise_horizon(us(T0 + 6 * HOUR))
            cursor.begin()
            state = logindex._state(cursor)
        append(store, [log(T0 + 2 * HOUR + timedelta(minutes=1), "zanzibar came late")])
        report = logindex._update(cursor, state, us(T0 + 6 * HOUR), 1000)
        cursor.commit()
    assert (report.low, report.high) == (us(T0), us(T0 + 6 * HOUR))
    query = LogFilter(TimeRange(T0, T0 + 6 * HOUR), text="zanzibar")

    plan = store.log_search_plan(query)

    hour2 = us(T0 + 2 * HOUR)
    assert plan is not None and plan.unindexed == ((hour2, hour2 + BUCKET_US),)
    assert [r.message for r in store.query_logs(query)] == ["zanzibar came late"]
    store.update_log_index(now)
    plan = store.log_search_plan(query)
    assert plan is not None and (plan.matched, plan.unindexed) == ((hour2,), ())


def test_no_log_goes_missing_while_upkeep_runs_beside_appends(
    store: DuckDBTelemetryStore,
) -> None:
    append(store, [log(T0 + h * HOUR, f"line {h}") for h in range(48)])
    rng = random.Random(3)
    times = [T0 + timedelta(microseconds=rng.randrange(48 * BUCKET_US)) for _ in range(200)]
    now = T0 + 48 * HOUR + timedelta(minutes=10)

    def write() -> None:
        for i, at in enumerate(times):
            append(store, [log(at, f"needle {i}")])

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        store.update_log_index(now, max_rows=5)
    writer.join()
    query = LogFilter(TimeRange(T0, T0 + 48 * HOUR), text="needle", limit=1000)

    assert len(found(store, query)) == 200
    assert found(store, query) == plain(store, query)


def test_archiving_drops_a_days_index_rows_and_a_restored_day_is_found_again(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    store = open_store(settings)
    now = datetime(2024, 6, 20, 12, 0, tzinfo=UTC)
    days = 20
    try:
        append(store, [log(now - h * HOUR, f"zanzibar {h}") for h in range(1, days * 24)])
        store.roll_up(now)
        build(store, now, max_rows=100_000)
        old_day = datetime(2024, 6, 2, tzinfo=UTC)
        day_span = TimeRange(old_day, old_day + timedelta(days=1))

        def index_rows() -> int:
            with store._cursor() as cursor:
                row = cursor.execute(
                    "SELECT count(*) FROM log_text_index WHERE bucket >= $a AND bucket < $b",
                    {"a": us(day_span.start), "b": us(day_span.end)},
                ).fetchone()
            assert row is not None
            return int(row[0])

        assert index_rows() > 0
        job = Retention(store, settings, clock=Clock(now))
        assert job.enforce().archived
        assert index_rows() == 0
        build(store, now)
        assert index_rows() == 0
        # Archived days are read plainly from their Parquet files.
        assert store.log_search_plan(LogFilter(day_span, text="zanzibar")) is None
        archived = store.query_logs(LogFilter(day_span, text="zanzibar", limit=100))
        assert len(archived) == 24

        job.restore("logs", old_day.date(), old_day.date())
        query = LogFilter(day_span, text="zanzibar", limit=100)
        plan = store.log_search_plan(query)
        assert plan is not None and plan.unindexed == ((us(day_span.start), us(day_span.end)),)
        assert found(store, query) == plain(store, query)
        assert len(found(store, query)) == 24

        build(store, now)
        plan = store.log_search_plan(query)
        assert plan is not None and plan.unindexed == () and len(plan.matched) == 24
        assert found(store, query) == plain(store, query)
        assert index_rows() > 0
    finally:
        store.close()
