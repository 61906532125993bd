"""A plain-Python reference for the metric query evaluator, and checks of the reference itself.

The reference follows docs/query.md literally with loops over raw points: the window of step
``t`` with range ``r`` holds the points with ``t - r < time <= t`` (``t - r <= time < t`` when
the evaluator reads rollup buckets), an instant selector takes the latest point of the last
five minutes, counters are deltas. The ``test_engine_*`` modules compare the evaluator with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind, Point
from radiator.query import parse
from radiator.query.engine import Evaluator, Limits, RawMatrix
from radiator.query.values import Grid, SeriesSet
from radiator.storage.telemetry import open_telemetry_store

T0 = datetime(2026, 11, 1, tzinfo=UTC)
T0_US = int(T0.timestamp()) * 1_000_000
S = 1_000_000
MINUTE = 60 * S
HOUR = 3600 * S
LOOKBACK = 5 * MINUTE

LabelKey = frozenset[tuple[str, str]]


@dataclass
class RefSeries:
    name: str
    tags: dict[str, str]
    kind: MetricKind
    points: list[tuple[int, float]] = field(default_factory=list)  # (epoch µs, value), sorted

    @property
    def labels(self) -> dict[str, str]:
        return {"__name__": self.name, **self.tags}


def store_with(series: Sequence[RefSeries]) -> object:
    """An in-memory DuckDB telemetry store holding ``series``."""
    scratch = Scratch()
    scratch.add(series)
    return scratch.store


class Scratch:
    """One store shared by many examples; each example writes under fresh metric names."""

    def __init__(self) -> None:
        self.store = open_telemetry_store("duckdb", ":memory:")
        self._count = 0

    def name(self, base: str = "m") -> str:
        self._count += 1
        return f"{base}{self._count}"

    def add(self, series: Sequence[RefSeries]) -> None:
        points = [
            Point(s.name, v, datetime.fromtimestamp(t / S, UTC), s.tags, s.kind)
            for s in series
            for t, v in s.points
        ]
        if points:
            self.store.append(Signal.POINTS, points_batch(points))

    def close(self) -> None:
        self.store.close()


def evaluate(
    store: object,
    query: str,
    start_us: int,
    end_us: int,
    step_us: int,
    *,
    instant: bool = False,
    limits: Limits | None = None,
) -> SeriesSet | np.ndarray | RawMatrix | str:
    evaluator = Evaluator(store, Grid(start_us, end_us, step_us), limits or Limits(), instant)  # type: ignore[arg-type]
    return evaluator.evaluate(parse(query))


def as_dict(value: object) -> dict[LabelKey, np.ndarray]:
    """A series set as {frozen labels: values}; labels must be unique."""
    assert isinstance(value, SeriesSet), value
    out: dict[LabelKey, np.ndarray] = {}
    for labels, row in zip(value.labels, value.values, strict=True):
        key = frozenset(labels.items())
        assert key not in out, f"duplicate series {labels}"
        out[key] = row
    return out


def key(**labels: str) -> LabelKey:
    return frozenset(labels.items())


def times_of(start_us: int, end_us: int, step_us: int) -> list[int]:
    return list(range(start_us, end_us + 1, step_us))


# -- windows -------------------------------------------------------------------------------


def window(
    points: Sequence[tuple[int, float]], t: int, range_us: int, buckets: bool = False
) -> list[tuple[int, float]]:
    """Points in (t - range, t]; in [t - range, t) when reading whole rollup buckets."""
    if buckets:
        return [(pt, v) for pt, v in points if t - range_us <= pt < t]
    return [(pt, v) for pt, v in points if t - range_us < pt <= t]


def instant_value(
    points: Sequence[tuple[int, float]], t: int, buckets: bool = False
) -> float | None:
    inside = window(points, t, LOOKBACK, buckets)
    return inside[-1][1] if inside else None


def prom_quantile(values: Sequence[float], phi: float) -> float:
    """Prometheus' quantile: linear interpolation between closest ranks."""
    if phi < 0:
        return -math.inf
    if phi > 1:
        return math.inf
    ordered = sorted(values)
    rank = phi * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def range_ref(
    func: str, kind: MetricKind, inside: Sequence[tuple[int, float]], range_us: int, phi: float = 0
) -> float | None:
    """``func`` over the points of one window, as docs/query.md's function table says."""
    if not inside:
        return None
    values = [v for _, v in inside]
    seconds = range_us / S
    counter = kind in (MetricKind.COUNTER, MetricKind.HISTOGRAM)
    if func == "increase":
        return sum(values) if counter else values[-1] - values[0]
    if func == "rate":
        return (sum(values) if counter else values[-1] - values[0]) / seconds
    table: dict[str, Callable[[], float]] = {
        "delta": lambda: values[-1] - values[0],
        "avg_over_time": lambda: sum(values) / len(values),
        "sum_over_time": lambda: sum(values),
        "min_over_time": lambda: min(values),
        "max_over_time": lambda: max(values),
        "count_over_time": lambda: float(len(values)),
        "quantile_over_time": lambda: prom_quantile(values, phi),
    }
    return table[func]()


def close(a: float | None, b: float | None, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def row(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values]


def assert_rows_equal(
    got: dict[LabelKey, np.ndarray],
    want: dict[LabelKey, list[float | None]],
    rel: float = 1e-9,
    abs_: float = 1e-9,
) -> None:
    """Same series (empty reference rows dropped) and the same value at every step."""
    want = {k: v for k, v in want.items() if any(x is not None for x in v)}
    assert set(got) == set(want), (sorted(map(sorted, got)), sorted(map(sorted, want)))
    for k, expected in want.items():
        actual = row(got[k])
        assert len(actual) == len(expected)
        for i, (a, b) in enumerate(zip(actual, expected, strict=True)):
            assert close(a, b, rel, abs_), (dict(k), i, a, b, actual, expected)


def gauge(name: str, points: Sequence[tuple[int, float]], **tags: str) -> RefSeries:
    return RefSeries(name, tags, MetricKind.GAUGE, sorted(points))


def counter(name: str, points: Sequence[tuple[int, float]], **tags: str) -> RefSeries:
    return RefSeries(name, tags, MetricKind.COUNTER, sorted(points))


def at(seconds: float) -> int:
    """Epoch µs of ``T0 + seconds``."""
    return T0_US + round(seconds * S)


def dt(us: int) -> datetime:
    return T0 + timedelta(microseconds=us - T0_US)


# -- checks of the reference itself ----------------------------------------------------------


def test_window_is_left_open_and_right_closed() -> None:
    points = [(at(0), 1.0), (at(60), 2.0), (at(120), 3.0)]
    assert window(points, at(120), 60 * S) == [(at(120), 3.0)]
    assert window(points, at(120), 60 * S, buckets=True) == [(at(60), 2.0)]
    assert instant_value(points, at(400)) == 3.0
    assert instant_value(points, at(420)) is None  # exactly 5 minutes later: out


def test_reference_functions_on_a_hand_computed_window() -> None:
    inside = [(at(1), 4.0), (at(2), 1.0), (at(3), 7.0)]
    assert range_ref("increase", MetricKind.COUNTER, inside, 10 * S) == 12.0
    assert range_ref("rate", MetricKind.COUNTER, inside, 10 * S) == 1.2
    assert range_ref("increase", MetricKind.GAUGE, inside, 10 * S) == 3.0
    assert range_ref("quantile_over_time", MetricKind.GAUGE, inside, 10 * S, 0.5) == 4.0
    assert prom_quantile([1.0, 2.0, 3.0, 4.0], 0.25) == 1.75
    assert range_ref("count_over_time", MetricKind.GAUGE, [], 10 * S) is None
