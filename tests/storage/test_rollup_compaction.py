"""Complete days of rollups are rewritten clustered by series, without changing a value:
late points behind a compacted day are still rolled up, and a day gone loose is rewritten."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from radiator.core.schema import points_batch
from radiator.core.telemetry import Resolution, Signal
from radiator.core.types import MetricKind, Point, TimeRange
from radiator.storage.telemetry import open_telemetry_store

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
WIDE = TimeRange(T0 - DAY, T0 + 10 * DAY)
SERIES = ("a", "b", "c", "d")


@pytest.fixture
def store() -> Iterator[Any]:
    opened = open_telemetry_store("duckdb", ":memory:")
    yield opened
    opened.close()


def _append(store: Any, start: datetime, minutes: int, every: int = 7) -> None:
    """One point per series every ``every`` minutes for ``minutes`` minutes from ``start``,
    all series interleaved in time order (as ingest writes them)."""
    points = [
        Point("m", float(i * 10 + n), start + timedelta(minutes=i), {"s": s}, MetricKind.GAUGE)
        for i in range(0, minutes, every)
        for n, s in enumerate(SERIES)
    ]
    store.append(Signal.POINTS, points_batch(points))


def _cells(store: Any, resolution: Resolution) -> list[tuple[Any, ...]]:
    sids = [s.sid for s in store.find_series("m", (), WIDE)]
    rows = store.fetch_cells(sids, WIDE, resolution).to_pylist()
    return sorted(tuple(r.values()) for r in rows)


def _from_raw(store: Any) -> list[tuple[Any, ...]]:
    """(sid, minute, count, sum, min, max) recomputed from the raw points."""
    minutes: dict[tuple[int, int], list[float]] = {}
    for sid, _series, time, value in _cells(store, Resolution.RAW):
        minutes.setdefault((sid, time // 60_000_000 * 60_000_000), []).append(value)
    return sorted((sid, t, len(vs), sum(vs), min(vs), max(vs)) for (sid, t), vs in minutes.items())


def _minutes(store: Any) -> list[tuple[Any, ...]]:
    return [(row[0], *row[2:7]) for row in _cells(store, Resolution.MINUTE)]


def _physical(store: Any, table: str, day: datetime) -> list[tuple[int, int]]:
    """(sid, time) of one day's rows in storage order."""
    with store._cursor() as cursor:
        rows = cursor.execute(
            f'SELECT sid, epoch_us("time") FROM {table} WHERE "time" >= $lo '
            'AND "time" < $hi ORDER BY rowid',
            {"lo": day, "hi": day + DAY},
        ).fetchall()
    return [(int(s), int(t)) for s, t in rows]


def _marks(store: Any) -> dict[tuple[str, datetime], tuple[int, int]]:
    with store._cursor() as cursor:
        rows = cursor.execute(
            "SELECT resolution, period, compact_rows, loose FROM rollup_compaction"
        ).fetchall()
    return {
        (r, datetime.fromtimestamp(p / 1e6, UTC)): (int(n), int(loose)) for r, p, n, loose in rows
    }


def _roll_up_fully(store: Any, now: datetime) -> None:
    for _ in range(10):  # a few periods per call: call until nothing is left to compact
        store.roll_up(now)


def test_complete_days_are_clustered_by_series_and_keep_their_values(store: Any) -> None:
    _append(store, T0, 3 * 24 * 60)
    raw = _cells(store, Resolution.RAW)
    store.roll_up(T0 + 3 * DAY + timedelta(hours=1))
    before = _cells(store, Resolution.MINUTE)
    _roll_up_fully(store, T0 + 3 * DAY + timedelta(hours=1))

    assert _cells(store, Resolution.MINUTE) == before
    assert _cells(store, Resolution.RAW) == raw
    assert _minutes(store) == _from_raw(store)
    for day in (T0, T0 + DAY, T0 + 2 * DAY):
        rows = _physical(store, "rollup_1m", day)
        assert len(rows) == len(SERIES) * (24 * 60 // 7 + 1)
        assert rows == sorted(rows), f"day {day:%F} is not in (sid, time) order"
        assert _marks(store)[("1m", day)] == (len(rows), 0)


def test_the_open_day_is_left_alone(store: Any) -> None:
    _append(store, T0, 36 * 60)
    _roll_up_fully(store, T0 + timedelta(hours=36, minutes=5))
    marks = _marks(store)
    assert ("1m", T0) in marks
    assert ("1m", T0 + DAY) not in marks  # still being written


def test_each_call_compacts_a_few_days_only(store: Any) -> None:
    _append(store, T0, 6 * 24 * 60, every=60)
    now = T0 + 6 * DAY + timedelta(minutes=5)
    store.roll_up(now)
    first = {day for (res, day) in _marks(store) if res == "1m"}
    assert len(first) == 2
    _roll_up_fully(store, now)
    assert {day for (res, day) in _marks(store) if res == "1m"} == {T0 + n * DAY for n in range(6)}


def test_late_points_in_a_compacted_day_are_rolled_up_and_counted_loose(store: Any) -> None:
    _append(store, T0, 2 * 24 * 60)
    now = T0 + 2 * DAY + timedelta(minutes=5)
    _roll_up_fully(store, now)
    rows = _marks(store)[("1m", T0)][0]

    # Two late points near the end of the first day: buckets from there on are rolled up
    # again (values right), appended after the clustered rows and counted as loose.
    late = [
        Point("m", 1e6, T0 + timedelta(hours=23, minutes=58), {"s": "a"}, MetricKind.GAUGE),
        Point("m", -1e6, T0 + timedelta(hours=23, minutes=59), {"s": "e"}, MetricKind.GAUGE),
    ]
    store.append(Signal.POINTS, points_batch(late))
    store.roll_up(now)
    assert _minutes(store) == _from_raw(store)
    assert {1e6, -1e6} <= {value for row in _minutes(store) for value in row[4:6]}
    compact_rows, loose = _marks(store)[("1m", T0)]
    assert compact_rows == rows and loose > 0


def test_a_day_gone_loose_is_rewritten(store: Any) -> None:
    _append(store, T0, 2 * 24 * 60)
    now = T0 + 2 * DAY + timedelta(minutes=5)
    _roll_up_fully(store, now)
    # Late points over the whole first day: far more loose rows than the 5 % allowed.
    _append(store, T0 + timedelta(seconds=20), 24 * 60, every=3)
    store.roll_up(now)
    _roll_up_fully(store, now)
    rows = _physical(store, "rollup_1m", T0)
    assert rows == sorted(rows)
    assert _marks(store)[("1m", T0)] == (len(rows), 0)
    assert _minutes(store) == _from_raw(store)


def test_hour_rollups_are_clustered_per_thirty_days(store: Any) -> None:
    _append(store, T0, 31 * 24 * 60, every=120)
    now = T0 + 31 * DAY + timedelta(minutes=5)
    _roll_up_fully(store, now)
    _roll_up_fully(store, now)
    hours = {day for (res, day) in _marks(store) if res == "1h"}
    assert hours, "no 30-day period of hours was compacted"
    for period in hours:
        with store._cursor() as cursor:
            rows = cursor.execute(
                'SELECT sid, epoch_us("time") FROM rollup_1h WHERE "time" >= $lo '
                'AND "time" < $hi ORDER BY rowid',
                {"lo": period, "hi": period + 30 * DAY},
            ).fetchall()
        assert rows and rows == sorted(rows)
