"""``quantile_over_time`` over raw points switches to the 1-minute sketches when exact
windows would be too large: decided from a count of the points (or from cells another
query of the request already read), so the points themselves are not read for it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind, Point
from radiator.query import engine
from radiator.query.cache import ReadCache
from radiator.query.service import QueryService, RangeSpec
from radiator.storage.telemetry import open_telemetry_store

T0 = datetime(2026, 11, 3, tzinfo=UTC)
EXPR = "quantile_over_time(0.5, lat[2m])"


class _Reads:
    def __init__(self, store: Any) -> None:
        self.store, self.calls = store, []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        if name in ("fetch_cells", "fetch_sketches", "count_points"):
            self.calls.append(name)
        return method


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    opened = open_telemetry_store("duckdb", ":memory:")
    rng = random.Random(3)
    points = [
        Point(
            "lat",
            rng.lognormvariate(3, 0.5),
            T0 + timedelta(seconds=5 * i),
            {"h": h},
            MetricKind.GAUGE,
        )
        for i in range(12 * 60)
        for h in ("a", "b")
    ]
    opened.append(Signal.POINTS, points_batch(points))
    opened.roll_up(T0 + timedelta(hours=2))
    yield opened
    opened.close()


def _spec() -> RangeSpec:
    # 30 s steps: not whole minutes, so the query is evaluated over raw points.
    return RangeSpec(T0 + timedelta(minutes=5), T0 + timedelta(minutes=55), step_seconds=30)


def test_small_windows_are_exact_from_the_points(store: Any) -> None:
    source = _Reads(store)
    outcome = QueryService(source).run(EXPR, _spec())
    assert outcome.error is None and len(outcome.series) == 2
    assert source.calls == ["count_points", "fetch_cells"]


def test_past_the_limit_the_sketches_are_read_instead_of_the_points(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = QueryService(store).run(EXPR, _spec())
    monkeypatch.setattr(engine, "_EXACT_QUANTILE_MAX", 100)
    source = _Reads(store)
    sketched = QueryService(source).run(EXPR, _spec())
    assert source.calls == ["count_points", "fetch_sketches"]
    for a, b in zip(sketched.series, exact.series, strict=True):
        got, want = np.array(a.values, float), np.array(b.values, float)
        # Windows end at the minute boundary before each step, and sketch keys are ≈1 %
        # buckets: close to the exact medians, not equal.
        assert np.nanmedian(np.abs(got - want) / want) < 0.05


def test_cells_read_by_another_query_decide_without_a_count(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "_EXACT_QUANTILE_MAX", 100)
    source = _Reads(store)
    service, cache = QueryService(source), ReadCache()
    service.run("avg_over_time(lat[2m])", _spec(), "A", cache)
    service.run(EXPR, _spec(), "B", cache)
    assert source.calls == ["fetch_cells", "fetch_sketches"]
