"""Rollup reads agree with raw reads: with whole-minute (whole-hour) steps, windows cover
whole 1-minute (1-hour) buckets [t - range, t), before, during and after rolling up."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.core.types import MetricKind

from .test_engine_reference import (
    HOUR,
    MINUTE,
    T0_US,
    RefSeries,
    S,
    Scratch,
    as_dict,
    assert_rows_equal,
    at,
    dt,
    evaluate,
    gauge,
    instant_value,
    key,
    range_ref,
    row,
    store_with,
    times_of,
    window,
)

DAY = 24 * HOUR
EXACT = [
    "rate",
    "increase",
    "delta",
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "count_over_time",
]


class Days:
    """A shared store; each example writes one fresh day, so rolling up stays cheap."""

    def __init__(self) -> None:
        self.scratch = Scratch()
        self.day = 0

    def next_base(self) -> int:
        self.day += 1
        return T0_US + self.day * DAY


@pytest.fixture(scope="module")
def days() -> Iterator[Days]:
    shared = Days()
    yield shared
    shared.scratch.close()


def _series(draw: st.DrawFn, name: str, base: int, span_s: int) -> list[RefSeries]:
    out = []
    for host in draw(st.lists(st.sampled_from("xyz"), min_size=1, max_size=2, unique=True)):
        kind = draw(st.sampled_from([MetricKind.COUNTER, MetricKind.GAUGE]))
        seconds = sorted(draw(st.sets(st.integers(0, span_s), max_size=60)))
        values = [draw(st.integers(-40, 200)) / 4 for _ in seconds]
        points = [(base + s * S, v) for s, v in zip(seconds, values, strict=True)]
        out.append(RefSeries(name, {"host": host}, kind, points))
    return out


def _check(
    store: object,
    series: list[RefSeries],
    query_of: str,
    func: str | None,
    grid: tuple[int, int, int],
    range_us: int,
    offset_us: int,
) -> None:
    got = evaluate(store, query_of, *grid)
    times = times_of(*grid)
    if func is None:
        want = {
            frozenset(s.labels.items()): [
                instant_value(s.points, t - offset_us, buckets=True) for t in times
            ]
            for s in series
        }
    else:
        want = {
            frozenset(s.tags.items()): [
                range_ref(func, s.kind, window(s.points, t - offset_us, range_us, True), range_us)
                for t in times
            ]
            for s in series
        }
    assert_rows_equal(as_dict(got), want, rel=1e-9, abs_=1e-9)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    func=st.sampled_from([None, *EXACT]),
    range_min=st.sampled_from([1, 2, 5, 10]),
    offset_min=st.sampled_from([0, 1, 3, -2]),
    step_min=st.sampled_from([1, 2, 5]),
    start_min=st.integers(0, 30),
    rolled_min=st.integers(0, 75),
)
def test_minute_rollups_agree_with_bucketed_reference(
    days: Days,
    data: st.DataObject,
    func: str | None,
    range_min: int,
    offset_min: int,
    step_min: int,
    start_min: int,
    rolled_min: int,
) -> None:
    base = days.next_base()
    name = days.scratch.name("roll.metric")
    series = _series(data.draw, name, base, 3600)
    days.scratch.add(series)
    store = days.scratch.store
    offset = f" offset {offset_min}m" if offset_min else ""
    query = f"{func}({name}[{range_min}m]{offset})" if func else f"{name}{offset}"
    start = base + start_min * MINUTE
    grid = (start, start + 3600 * S, step_min * MINUTE)
    range_us = range_min * MINUTE if func else 5 * MINUTE
    # Not rolled up yet (every bucket aggregated from raw points), partly, then fully.
    _check(store, series, query, func, grid, range_us, offset_min * MINUTE)
    store.roll_up(dt(base + rolled_min * MINUTE + 17 * S))
    _check(store, series, query, func, grid, range_us, offset_min * MINUTE)
    store.roll_up(dt(base + 2 * HOUR))
    _check(store, series, query, func, grid, range_us, offset_min * MINUTE)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    func=st.sampled_from(EXACT),
    range_h=st.sampled_from([1, 2]),
    offset_h=st.sampled_from([0, 1]),
)
def test_hour_rollups_agree_with_bucketed_reference(
    days: Days, data: st.DataObject, func: str, range_h: int, offset_h: int
) -> None:
    base = days.next_base()
    name = days.scratch.name("hour.metric")
    series = _series(data.draw, name, base, 6 * 3600)
    days.scratch.add(series)
    store = days.scratch.store
    offset = f" offset {offset_h}h" if offset_h else ""
    query = f"{func}({name}[{range_h}h]{offset})"
    grid = (base + HOUR, base + 7 * HOUR, HOUR)
    _check(store, series, query, func, grid, range_h * HOUR, offset_h * HOUR)
    store.roll_up(dt(base + 3 * HOUR + 5 * MINUTE))
    _check(store, series, query, func, grid, range_h * HOUR, offset_h * HOUR)
    store.roll_up(dt(base + 8 * HOUR))
    _check(store, series, query, func, grid, range_h * HOUR, offset_h * HOUR)


def test_rollup_and_raw_reads_agree_when_points_lie_inside_buckets() -> None:
    """Points strictly inside minutes: a 1-minute step (rollups) and a 10 s step evaluated
    at the same minute boundaries (raw) give the same answers."""
    points = [(at(60 * m + 17), float(m % 7)) for m in range(120)]
    counts = [(at(60 * m + 31), float(m % 3 + 1)) for m in range(120)]
    store = store_with([gauge("g", points), RefSeries("c", {}, MetricKind.COUNTER, counts)])
    store.roll_up(dt(at(3600)))  # half rolled up, half stitched from raw points
    for query in [
        "avg_over_time(g[5m])",
        "max_over_time(g[10m])",
        "min_over_time(g[3m])",
        "sum_over_time(g[2m])",
        "count_over_time(g[4m])",
        "increase(c[5m])",
        "rate(c[10m])",
        "delta(g[5m])",
        "g",
        "sum(rate(c[1m])) * 60",
    ]:
        rolled = as_dict(evaluate(store, query, at(600), at(7140), MINUTE))
        raw = as_dict(evaluate(store, query, at(600), at(7140), 10 * S))
        assert rolled.keys() == raw.keys(), query
        for k in rolled:
            assert row(rolled[k]) == pytest.approx(row(raw[k])[::6]), query


@pytest.mark.parametrize("phi", [0.1, 0.5, 0.9, 0.99])
def test_quantile_over_time_from_sketches_is_within_two_percent(phi: float) -> None:
    import random

    rng = random.Random(4)
    points = [(at(i * 2 + 1), rng.lognormvariate(3.0, 1.2)) for i in range(3600)]
    store = store_with([gauge("lat", points)])
    query = f"quantile_over_time({phi}, lat[30m])"
    grid = (at(1800), at(7200), 10 * MINUTE)
    for rolled in (False, True):
        if rolled:
            store.roll_up(dt(at(7200)))
        got = as_dict(evaluate(store, query, *grid))[key()]
        for t, value in zip(times_of(*grid), got, strict=True):
            values = sorted(v for _, v in window(points, t, 30 * MINUTE, buckets=True))
            rank = phi * (len(values) - 1)
            low, high = values[math.floor(rank)], values[math.ceil(rank)]
            assert low * 0.98 <= value <= high * 1.02, (rolled, t, value, low, high)


def test_instant_selector_on_minute_steps_reads_the_last_point_before_the_step() -> None:
    store = store_with([gauge("g", [(at(0), 1.0), (at(60), 2.0)])])
    got = as_dict(evaluate(store, "g", at(60), at(120), MINUTE))
    # At 60 s the bucket [0, 60) holds 1.0; the point at 60 s is in the next bucket.
    assert row(got[key(__name__="g")]) == [1.0, 2.0]
    raw = as_dict(evaluate(store, "g", at(60), at(120), 30 * S))
    assert row(raw[key(__name__="g")]) == [2.0, 2.0, 2.0]
    assert timedelta(microseconds=MINUTE) == timedelta(minutes=1)


def _within(value: float, low: float, high: float, rel: float = 0.02) -> bool:
    lower = low * (1 - rel) if low > 0 else low * (1 + rel)
    upper = high * (1 + rel) if high > 0 else high * (1 - rel)
    return lower - 1e-12 <= value <= upper + 1e-12


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    phi=st.sampled_from([0.0, 0.2, 0.5, 0.75, 0.95, 1.0]),
    range_min=st.sampled_from([1, 3, 10]),
    rolled_min=st.integers(0, 75),
)
def test_quantile_over_time_over_rollups_brackets_the_exact_ranks(
    days: Days, data: st.DataObject, phi: float, range_min: int, rolled_min: int
) -> None:
    """Over rollups the φ-quantile comes from merged sketches: within ~2 % of a value
    between the window's values at ranks floor and ceil of φ·(n-1); signs and zero kept."""
    base = days.next_base()
    name = days.scratch.name("sketch.metric")
    series = []
    for host in data.draw(st.lists(st.sampled_from("xyz"), min_size=1, max_size=2, unique=True)):
        seconds = sorted(data.draw(st.sets(st.integers(0, 3600), max_size=60)))
        values = [
            data.draw(st.sampled_from([-1.0, 1.0, 0.0])) * data.draw(st.floats(0.001, 1e6))
            for _ in seconds
        ]
        points = [(base + s * S, v) for s, v in zip(seconds, values, strict=True)]
        series.append(gauge(name, points, host=host))
    days.scratch.add(series)
    store = days.scratch.store
    store.roll_up(dt(base + rolled_min * MINUTE))
    grid = (base + 10 * MINUTE, base + 70 * MINUTE, MINUTE)
    got = as_dict(evaluate(store, f"quantile_over_time({phi}, {name}[{range_min}m])", *grid))
    for s in series:
        times = times_of(*grid)
        expected_present = [bool(window(s.points, t, range_min * MINUTE, True)) for t in times]
        k = frozenset(s.tags.items())
        if not any(expected_present):
            assert k not in got
            continue
        for t, value, present in zip(times, got[k], expected_present, strict=True):
            assert present == (not math.isnan(value)), (t, value)
            if not present:
                continue
            values = sorted(v for _, v in window(s.points, t, range_min * MINUTE, True))
            rank = phi * (len(values) - 1)
            low, high = values[math.floor(rank)], values[math.ceil(rank)]
            assert _within(float(value), low, high), (t, value, low, high)


class _Spy:
    """A MetricSource that records the resolution of every cell read."""

    def __init__(self, store: object) -> None:
        self.store = store
        self.reads: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def fetch_cells(
        self,
        sids: object,
        time_range: object,
        resolution: object,
        windows: object = None,
        columns: object = None,
    ) -> object:
        self.reads.append(str(resolution))
        return self.store.fetch_cells(sids, time_range, resolution, windows, columns)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("query", "step_s", "start_s", "instant", "expected"),
    [
        ("avg_over_time(g[1h])", 3600, 7200, False, "1h"),
        ("avg_over_time(g[2h] offset 1h)", 3600, 7200, False, "1h"),
        ("rate(g[5m])", 3600, 7200, False, "1m"),  # the window is not whole hours
        ("g", 3600, 7200, False, "1m"),  # the 5-minute look-back
        ("g", 60, 7200, False, "1m"),
        ("avg_over_time(g[90s])", 60, 7200, False, "raw"),
        ("avg_over_time(g[5m] offset 30s)", 60, 7200, False, "raw"),
        ("avg_over_time(g[5m])", 60, 7230, False, "raw"),  # the start is not whole minutes
        ("avg_over_time(g[5m])", 30, 7200, False, "raw"),
        ("avg_over_time(g[30s])", 60, 7200, False, "raw"),
        ("avg_over_time(g[1h])", 3600, 7200, True, "raw"),  # instant queries read points
    ],
)
def test_resolution_follows_the_documented_rule(
    query: str, step_s: int, start_s: int, instant: bool, expected: str
) -> None:
    spy = _Spy(store_with([gauge("g", [(at(s), 1.0) for s in range(0, 14400, 45)])]))
    evaluate(spy, query, at(start_s), at(start_s + 2 * step_s), step_s * S, instant=instant)
    assert spy.reads == [expected]
