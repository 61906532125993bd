"""The DuckDB store's 1-minute and 1-hour rollups: equal to aggregates of the raw points,
re-rolled when late points arrive, hours built from minutes, and a quantile sketch within
about 2 % of the exact quantile."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.core.schema import points_batch
from radiator.core.telemetry import Resolution, Signal
from radiator.core.types import MetricKind, Point, TimeRange
from radiator.query.windows import decode_sketch_keys
from radiator.storage.telemetry import open_telemetry_store

T0 = datetime(2026, 11, 1, tzinfo=UTC)
US = 1_000_000
LATENESS = 30 * US
BUCKET = {Resolution.MINUTE: 60 * US, Resolution.HOUR: 3600 * US}
WIDE = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=2))


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


T0_US = _us(T0)


@pytest.fixture
def store() -> Iterator[Any]:
    opened = open_telemetry_store("duckdb", ":memory:")
    yield opened
    opened.close()


def _append(store: Any, name: str, points: list[tuple[int, float]], **tags: str) -> None:
    batch = [
        Point(name, v, T0 + timedelta(microseconds=t - T0_US), tags, MetricKind.GAUGE)
        for t, v in points
    ]
    store.append(Signal.POINTS, points_batch(batch))


def _sid(store: Any, name: str) -> int:
    [series] = store.find_series(name, (), WIDE)
    return int(series.sid)


def expected_cells(
    points: list[tuple[int, float]], size: int, before: int
) -> dict[int, tuple[int, float, float, float, float, float]]:
    """Bucket start -> (count, sum, min, max, first, last) over the points before ``before``."""
    out: dict[int, list[tuple[int, float]]] = {}
    for t, v in sorted(points):
        if t < before:
            out.setdefault(t // size * size, []).append((t, v))
    return {
        b: (
            len(ps),
            sum(v for _, v in ps),
            min(v for _, v in ps),
            max(v for _, v in ps),
            ps[0][1],
            ps[-1][1],
        )
        for b, ps in out.items()
    }


def fetched(store: Any, sid: int, resolution: Resolution) -> dict[int, tuple[Any, ...]]:
    table = store.fetch_cells([sid], WIDE, resolution).to_pylist()
    return {
        int(r["time"]): (r["count"], r["sum"], r["min"], r["max"], r["first"], r["last"])
        for r in table
    }


def _same(got: dict[int, tuple[Any, ...]], want: dict[int, tuple[Any, ...]]) -> None:
    assert got.keys() == want.keys()
    for bucket, cell in want.items():
        assert got[bucket][0] == cell[0]
        assert np.allclose(got[bucket][1:], cell[1:], rtol=1e-12, atol=1e-9), (
            bucket,
            got[bucket],
            cell,
        )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seconds=st.lists(st.integers(0, 3 * 3600 - 1), min_size=1, max_size=80, unique=True),
    data=st.data(),
    now_s=st.integers(0, 4 * 3600),
)
def test_rollups_equal_aggregates_of_raw_points(
    seconds: list[int], data: st.DataObject, now_s: int
) -> None:
    store = open_telemetry_store("duckdb", ":memory:")
    try:
        points = [(T0_US + s * US, data.draw(st.integers(-100, 100)) / 8) for s in seconds]
        _append(store, "g", points, host="a")
        sid = _sid(store, "g")
        # docs/query.md: a bucket is rolled up 30 s after it ends
        now = T0_US + now_s * US - LATENESS
        store.roll_up(T0 + timedelta(seconds=now_s))
        for resolution, size in BUCKET.items():
            # The same cells whether read from the rollup (before its watermark) or stitched
            # from raw points (after it): every complete and partial bucket.
            _same(fetched(store, sid, resolution), expected_cells(points, size, 2**62))
        # What was rolled up (whole buckets before now) is in the rollup tables themselves.
        for resolution, size in BUCKET.items():
            table = "rollup_1m" if resolution is Resolution.MINUTE else "rollup_1h"
            with store._cursor() as cursor:
                rows = cursor.execute(
                    f'SELECT epoch_us("time"), count, sum, min, max, first, last FROM {table}'
                ).fetchall()
            rolled = {int(r[0]): tuple(r[1:]) for r in rows}
            complete = now // size * size
            if resolution is Resolution.HOUR:
                complete = min(
                    complete,
                    now // BUCKET[Resolution.MINUTE] * BUCKET[Resolution.MINUTE] // size * size,
                )
            _same(rolled, expected_cells(points, size, complete))
    finally:
        store.close()


def test_late_points_behind_the_watermark_are_rolled_up_again(store: Any) -> None:
    points = [(T0_US + s * US, float(s)) for s in range(0, 7200, 7)]
    _append(store, "g", points)
    sid = _sid(store, "g")
    written = store.roll_up(T0 + timedelta(hours=2, seconds=30))
    assert written[Resolution.MINUTE] == 120
    assert written[Resolution.HOUR] == 2
    late = [(T0_US + 61 * US + 500_000, 1000.0), (T0_US + 3700 * US + 1, -5.0)]
    _append(store, "g", late)
    again = store.roll_up(T0 + timedelta(hours=2, seconds=45))
    # only the buckets the late points fell into are rewritten: minutes 1 and 61, hours 0, 1
    assert again[Resolution.MINUTE] == 2
    assert again[Resolution.HOUR] == 2
    everything = points + late
    for resolution, size in BUCKET.items():
        _same(fetched(store, sid, resolution), expected_cells(everything, size, 2**62))
    # a late point in the newest hour rewrites its minute and its hour
    _append(store, "g", [(T0_US + 7000 * US, 7.0)])
    third = store.roll_up(T0 + timedelta(hours=2, seconds=50))
    assert third == {Resolution.MINUTE: 1, Resolution.HOUR: 1}
    everything.append((T0_US + 7000 * US, 7.0))
    for resolution, size in BUCKET.items():
        _same(fetched(store, sid, resolution), expected_cells(everything, size, 2**62))


def test_hours_are_built_from_minutes_and_wait_for_them(store: Any) -> None:
    points = [(T0_US + s * US, math.sin(s)) for s in range(0, 3 * 3600, 13)]
    _append(store, "g", points)
    sid = _sid(store, "g")
    early = store.roll_up(T0 + timedelta(hours=2, minutes=30, seconds=29))
    assert early == {Resolution.MINUTE: 149, Resolution.HOUR: 2}  # the last minute is too new
    written = store.roll_up(T0 + timedelta(hours=2, minutes=30, seconds=30))
    assert written == {Resolution.MINUTE: 1}
    with store._cursor() as cursor:
        hours = cursor.execute('SELECT epoch_us("time") FROM rollup_1h ORDER BY 1').fetchall()
        minutes_sum = cursor.execute(
            'SELECT sum(count), sum(sum) FROM rollup_1m WHERE epoch_us("time") < $h',
            {"h": T0_US + 2 * 3600 * US},
        ).fetchone()
        hours_sum = cursor.execute("SELECT sum(count), sum(sum) FROM rollup_1h").fetchone()
    assert [h[0] for h in hours] == [T0_US, T0_US + 3600 * US]
    assert minutes_sum is not None and hours_sum is not None
    assert minutes_sum[0] == hours_sum[0]
    assert minutes_sum[1] == pytest.approx(hours_sum[1])
    _same(
        fetched(store, sid, Resolution.HOUR), expected_cells(points, BUCKET[Resolution.HOUR], 2**62)
    )
    assert store.roll_up(T0 + timedelta(hours=2, minutes=30, seconds=59)) == {}


def _sketch_quantile(entries: list[dict[str, Any]], phi: float) -> float:
    merged: dict[int, int] = {}
    for e in entries:
        merged[int(e["key"])] = merged.get(int(e["key"]), 0) + int(e["count"])
    keys = sorted(merged)
    total = sum(merged.values())
    target = phi * (total - 1)
    seen = 0
    for k in keys:
        seen += merged[k]
        if seen > target:
            return float(decode_sketch_keys(np.array([k]))[0])
    return float(decode_sketch_keys(np.array([keys[-1]]))[0])


@pytest.mark.parametrize("phi", [0.01, 0.25, 0.5, 0.9, 0.99, 0.999])
def test_sketch_quantile_is_within_two_percent_on_lognormal_data(store: Any, phi: float) -> None:
    rng = random.Random(42)
    values = [rng.lognormvariate(2.0, 1.5) for _ in range(20_000)]
    points = [(T0_US + i * 500_000, v) for i, v in enumerate(values)]  # 10 000 s
    _append(store, "latency", points)
    sid = _sid(store, "latency")
    store.roll_up(T0 + timedelta(hours=4))
    exact = float(np.quantile(values, phi))
    for resolution in (Resolution.MINUTE, Resolution.HOUR):
        entries = store.fetch_sketches([sid], WIDE, resolution).to_pylist()
        assert sum(e["count"] for e in entries) == len(values)
        estimate = _sketch_quantile(entries, phi)
        assert abs(estimate - exact) / exact <= 0.02, (resolution, estimate, exact)


def test_sketch_keeps_signs_and_zero_in_order(store: Any) -> None:
    values = [-50.0, -2.0, -0.5, 0.0, 0.0, 0.25, 3.0, 1e6]
    _append(store, "mixed", [(T0_US + i * US, v) for i, v in enumerate(values)])
    sid = _sid(store, "mixed")
    store.roll_up(T0 + timedelta(minutes=5))
    entries = store.fetch_sketches([sid], WIDE, Resolution.MINUTE).to_pylist()
    keys = sorted(int(e["key"]) for e in entries)
    decoded = decode_sketch_keys(np.array(keys))
    assert list(decoded) == sorted(decoded)
    distinct = sorted(set(values))
    assert len(decoded) == len(distinct)
    for got, want in zip(decoded, distinct, strict=True):
        assert got == pytest.approx(want, rel=0.011, abs=1e-12)
