"""Late points re-roll only the buckets they fell into (``duckdb_metrics.mark_late``), not
everything from the oldest one up to now, and the rollups still equal aggregates of the raw
points: scattered late points, neighbours joined into one range, hours waiting for their
minutes, a run's cap on ranges, the older ``dirty_from`` mark, and retention holding back
a day with late points not yet rolled up."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from archive_support import make_settings
from test_rollups import BUCKET, T0, T0_US, US, _append, _same, _sid, expected_cells, fetched
from test_rollups import store as store

from radiator.core.telemetry import Resolution
from radiator.storage.telemetry import duckdb_metrics as metrics
from radiator.storage.telemetry.retention import Retention

MINUTE = 60 * US
HOUR = 3600 * US
DAY_POINTS = [(T0_US + s * US, float(s % 97)) for s in range(0, 24 * 3600, 30)]


def _marks(store: Any) -> list[tuple[str, int]]:
    with store._cursor() as cursor:
        rows = cursor.execute(
            "SELECT DISTINCT resolution, bucket FROM rollup_dirty ORDER BY 1, 2"
        ).fetchall()
    return [(str(r), int(b)) for r, b in rows]


def _converged(store: Any, points: list[tuple[int, float]]) -> None:
    sid = _sid(store, "g")
    for resolution, size in BUCKET.items():
        _same(fetched(store, sid, resolution), expected_cells(points, size, 2**62))


@pytest.fixture
def rolled(store: Any) -> Any:
    """A day of points, rolled up to its end."""
    _append(store, "g", DAY_POINTS)
    assert store.roll_up(T0 + timedelta(days=1, seconds=30)) == {
        Resolution.MINUTE: 1440,
        Resolution.HOUR: 24,
    }
    return store


def test_scattered_late_points_rewrite_only_their_buckets(rolled: Any) -> None:
    late = [(T0_US + 3 * HOUR + 5 * US, 500.0), (T0_US + 17 * HOUR + 7 * US, -3.0)]
    late.append((T0_US + 17 * HOUR + 8 * US, 2.0))  # same minute as the one before
    _append(rolled, "g", late)
    assert _marks(rolled) == [
        ("1h", T0_US + 3 * HOUR),
        ("1h", T0_US + 17 * HOUR),
        ("1m", T0_US + 3 * HOUR),
        ("1m", T0_US + 17 * HOUR),
    ]
    written = rolled.roll_up(T0 + timedelta(days=1, seconds=40))
    # The old rule rewrote every minute from 03:00 to 24:00 (1,260) and 21 hours.
    assert written == {Resolution.MINUTE: 2, Resolution.HOUR: 2}
    assert _marks(rolled) == []
    _converged(rolled, DAY_POINTS + late)
    assert rolled.roll_up(T0 + timedelta(days=1, seconds=45)) == {}


def test_neighbouring_late_buckets_are_rewritten_as_one_range(rolled: Any) -> None:
    late = [(T0_US + 10 * MINUTE + 1, 1.0), (T0_US + 14 * MINUTE + 1, 2.0)]
    _append(rolled, "g", late)
    written = rolled.roll_up(T0 + timedelta(days=1, seconds=40))
    # Minutes 10 and 14 are closer than the gap: 10..14 in one range, 5 rows.
    assert written == {Resolution.MINUTE: 5, Resolution.HOUR: 1}
    _converged(rolled, DAY_POINTS + late)


def test_hours_wait_for_their_minutes_when_a_run_is_capped(
    rolled: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "_RANGES_PER_RUN", 1)
    late = [(T0_US + h * HOUR + 5 * US, 1000.0 + h) for h in (2, 9, 20)]
    _append(rolled, "g", late)
    runs = []
    for second in range(40, 45):
        runs.append(rolled.roll_up(T0 + timedelta(days=1, seconds=second)))
    # One range of minutes per run, and each hour only once its minute is done.
    assert runs[:3] == [{Resolution.MINUTE: 1, Resolution.HOUR: 1}] * 3
    assert runs[3:] == [{}, {}]
    _converged(rolled, DAY_POINTS + late)


def test_an_older_dirty_from_mark_is_still_honoured(rolled: Any) -> None:
    with rolled._cursor() as cursor:  # as a store written by an earlier version leaves it
        cursor.execute(
            "UPDATE rollup_state SET dirty_from = $t WHERE resolution = '1m'",
            {"t": T0_US + 23 * HOUR + 30 * MINUTE + 7},
        )
        cursor.execute(
            'UPDATE rollup_1m SET sum = -1 WHERE epoch_us("time") >= $t',
            {"t": T0_US + 23 * HOUR + 30 * MINUTE},
        )
    written = rolled.roll_up(T0 + timedelta(days=1, seconds=40))
    assert written[Resolution.MINUTE] == 30  # 23:30 up to the watermark at 24:00
    _converged(rolled, DAY_POINTS)
    with rolled._cursor() as cursor:
        assert cursor.execute("SELECT dirty_from FROM rollup_state").fetchall() == [
            (None,),
            (None,),
        ]


def test_retention_waits_for_late_buckets_to_be_rolled_up(rolled: Any, tmp_path: Path) -> None:
    retention = Retention(rolled, make_settings(tmp_path, retention_points_days=1))
    assert retention.rolled_up_until("points") == date(2026, 11, 2)
    _append(rolled, "g", [(T0_US + 5 * HOUR, 1.0)])
    assert retention.rolled_up_until("points") == date(2026, 11, 1)  # its minute is late
    rolled.roll_up(T0 + timedelta(days=1, seconds=40))
    assert retention.rolled_up_until("points") == date(2026, 11, 2)


def test_points_committed_while_a_roll_up_runs_are_not_lost(
    rolled: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append whose points a running roll-up cannot see (it commits after the roll-up's
    snapshot) must leave marks the next roll-up finds, even for buckets that were not yet
    behind the watermark when the append began."""
    committing, release = threading.Event(), threading.Event()
    commit = rolled._log_index.committing

    @contextlib.contextmanager
    def slow_commit(cursor: Any, times: Any) -> Iterator[None]:
        committing.set()
        assert release.wait(30)
        with commit(cursor, times):
            yield

    monkeypatch.setattr(rolled._log_index, "committing", slow_commit)
    # The next day's first minutes, not rolled up yet: the watermark is at the day's end.
    fresh = [(T0_US + 24 * HOUR + s * US, 7.0) for s in range(0, 180, 10)]
    writer = threading.Thread(target=_append, args=(rolled, "g", fresh))
    writer.start()
    try:
        assert committing.wait(30)
        # Meanwhile a roll-up completes those minutes without the points (none seen).
        first = rolled.roll_up(T0 + timedelta(days=1, minutes=3, seconds=30))
        assert first == {Resolution.MINUTE: 0}
    finally:
        release.set()
        writer.join()
    again = rolled.roll_up(T0 + timedelta(days=1, minutes=3, seconds=40))
    assert again == {Resolution.MINUTE: 3}  # the three minutes, now with their points
    _converged(rolled, DAY_POINTS + fresh)
