"""When the step is longer than the window, reads leave out the cells no window looks at,
and rollup reads fetch only the columns a function uses; every result stays what a full
read of every cell and column gives (to rounding of the window sums)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal, StepWindows
from radiator.core.types import MetricKind, Point
from radiator.query.engine import Limits
from radiator.query.select import step_windows
from radiator.query.service import QueryService, RangeSpec
from radiator.storage.telemetry import open_telemetry_store

T0 = datetime(2026, 11, 2, tzinfo=UTC)


class _Recorder:
    """The store, recording rows read; with ``full`` it ignores the windows and columns it
    is given."""

    def __init__(self, store: Any, full: bool) -> None:
        self.store, self.full, self.rows = store, full, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def fetch_cells(self, *args: Any, **options: Any) -> Any:
        if self.full:  # every cell, every column
            options = {}
        table = self.store.fetch_cells(*args, **options)
        self.rows += table.num_rows
        return table

    def fetch_sketches(self, *args: Any, **options: Any) -> Any:
        table = self.store.fetch_sketches(*args, **({} if self.full else options))
        self.rows += table.num_rows
        return table


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    opened = open_telemetry_store("duckdb", ":memory:")
    rng = random.Random(7)
    points = []
    for series in range(6):
        kind = MetricKind.COUNTER if series % 3 == 0 else MetricKind.GAUGE
        name = "reqs" if kind is MetricKind.COUNTER else "lat"
        total = 0.0
        for i in range(6 * 360):  # 6 hours at 10 s, with gaps and jitter
            if rng.random() < 0.1:
                continue
            total += rng.randint(0, 5)
            value = total if kind is MetricKind.COUNTER else rng.lognormvariate(3, 1)
            moment = T0 + timedelta(seconds=10 * i + rng.randint(0, 9))
            points.append(Point(name, value, moment, {"s": f"s{series}"}, kind))
    opened.append(Signal.POINTS, points_batch(points))
    opened.roll_up(T0 + timedelta(hours=4))  # rollups for 4 h, the rest stitched from raw
    yield opened
    opened.close()


QUERIES = [
    "lat",
    "avg by (s) (lat)",
    "max_over_time(lat[5m])",
    "avg_over_time(lat[2m])",
    "quantile_over_time(0.9, lat[5m])",
    "rate(reqs[5m])",
    "increase(reqs[1m])",
    "min_over_time(lat[3m])",
    "delta(lat[4m])",
    "sum_over_time(lat[4m])",
    "topk(2, max_over_time(lat[5m]))",
    "count_over_time(lat[90s])",
]


@pytest.mark.parametrize("expr", QUERIES)
@pytest.mark.parametrize(
    ("start", "step"),
    [
        (T0 + timedelta(minutes=30), 900),  # whole minutes: 1-minute rollups, then raw
        (T0 + timedelta(minutes=30, seconds=20), 610),  # raw points
        (T0 + timedelta(hours=1), 3600),
    ],
)
def test_windowed_reads_give_the_full_reads_results(
    store: Any, expr: str, start: datetime, step: int
) -> None:
    spec = RangeSpec(start, T0 + timedelta(hours=6), step_seconds=step)
    full, windowed = _Recorder(store, full=True), _Recorder(store, full=False)
    want = QueryService(full).run(expr, spec)
    got = QueryService(windowed).run(expr, spec)
    assert want.error is None and got.error is None
    assert got.times == want.times
    assert [s.labels for s in got.series] == [s.labels for s in want.series]
    for a, b in zip(got.series, want.series, strict=True):
        # Window sums come from prefix sums, so rounding differs in the last bits.
        np.testing.assert_allclose(
            np.array(a.values, float), np.array(b.values, float), rtol=1e-12, atol=1e-12
        )
    assert want.series, "the query found nothing: the comparison would be vacuous"
    assert windowed.rows < full.rows


def test_windows_only_when_the_step_leaves_gaps() -> None:
    times = np.arange(0, 10 * 900_000_000, 900_000_000, dtype=np.int64) + 123
    assert step_windows(times, 300_000_000) == StepWindows(123, 900_000_000, 300_000_000)
    assert step_windows(times, 900_000_000) is None  # windows touch: every cell is needed
    assert step_windows(times[:1], 60_000_000) is None  # an instant query
    uneven = np.array([0, 900_000_000, 1_900_000_000], dtype=np.int64)
    assert step_windows(uneven, 60_000_000) is None


def test_queries_of_a_request_give_the_same_results_in_parallel(store: Any) -> None:
    spec = RangeSpec(T0 + timedelta(minutes=30), T0 + timedelta(hours=6), step_seconds=900)
    queries = [(f"q{i}", expr) for i, expr in enumerate(QUERIES * 2)]
    one_by_one = QueryService(store, Limits(parallel=1)).run_many(queries, spec)
    parallel = QueryService(store, Limits(parallel=4)).run_many(queries, spec)
    assert [o.id for o in parallel] == [q for q, _ in queries]
    for a, b in zip(parallel, one_by_one, strict=True):
        assert a.error is None and b.error is None
        assert [s.labels for s in a.series] == [s.labels for s in b.series]
        assert [s.values for s in a.series] == [s.values for s in b.series]
