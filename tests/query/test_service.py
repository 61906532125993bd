"""QueryService: auto step, time and duration parsing, range specs, instant queries and
several queries at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from radiator.errors import InvalidInputError
from radiator.query import QueryParseError
from radiator.query.engine import Limits
from radiator.query.service import (
    NICE_STEPS,
    QueryService,
    RangeSpec,
    auto_step,
    parse_duration,
    parse_time,
)

from .test_engine_reference import T0, RefSeries, Scratch, counter, gauge

NOW = T0 + timedelta(hours=2)


@pytest.fixture(scope="module")
def service() -> Iterator[QueryService]:
    scratch = Scratch()
    base = int(T0.timestamp()) * 1_000_000
    series: list[RefSeries] = [
        gauge("cpu", [(base + i * 10_000_000, float(i % 10)) for i in range(720)], host="a"),
        gauge("cpu", [(base + i * 10_000_000, 2.0) for i in range(720)], host="b"),
        counter("req", [(base + i * 10_000_000, 1.0) for i in range(720)], host="a"),
    ]
    scratch.add(series)
    yield QueryService(scratch.store, Limits(max_steps=2000), clock=lambda: NOW)
    scratch.close()


# -- auto step ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "width", "step"),
    [
        (3600, 1000, 5),  # 3.6 s per pixel -> 5 s
        (3600, 3600, 1),
        (6 * 3600, 1000, 30),  # 21.6 -> 30
        (24 * 3600, 1000, 120),  # 86.4 -> 120
        (7 * 86400, 1000, 900),  # 604.8 -> 900
        (30 * 86400, 1000, 3600),  # 2592 -> 3600
        (3600, 60, 60),  # exactly 60
        (10**9, 100, 86400),  # beyond the largest: the largest
        (0, 1000, 1),
    ],
)
def test_auto_step_is_the_smallest_nice_step_that_fits(seconds: int, width: int, step: int) -> None:
    assert auto_step(seconds, width) == step


@given(st.floats(0, 86400 * 2000), st.integers(1, 20000))
def test_auto_step_property(seconds: float, width: int) -> None:
    step = auto_step(seconds, width)
    assert step in NICE_STEPS
    if step != NICE_STEPS[-1]:
        assert seconds / step <= width
        smaller = [s for s in NICE_STEPS if s < step]
        assert not smaller or seconds / smaller[-1] > width


def test_range_spec_grid_aligns_to_the_step_and_uses_auto_step() -> None:
    start = datetime(2026, 11, 24, 10, 0, 7, tzinfo=UTC)
    spec = RangeSpec(start, start + timedelta(hours=1), step_seconds=None, width=1000)
    grid = spec.grid()
    assert grid.step_us == 5_000_000
    assert grid.start_us % grid.step_us == 0
    assert grid.start_us <= int(start.timestamp() * 1e6) < grid.start_us + grid.step_us
    assert grid.end_us % grid.step_us == 0
    # The last step is the first boundary at or after end (11:00:10), so the newest point shows.
    assert grid.end_us == int((start + timedelta(hours=1, seconds=3)).timestamp() * 1e6)
    assert grid.size == 722  # 10:00:05 … 11:00:10 every 5 s
    unaligned = RangeSpec(start, start + timedelta(minutes=1), 10, align=False).grid()
    assert unaligned.start_us == int(start.timestamp()) * 1_000_000
    assert unaligned.size == 7
    instant = RangeSpec(start, start, instant=True).grid()
    assert instant.size == 1 and instant.end_us == int(start.timestamp()) * 1_000_000
    with pytest.raises(InvalidInputError) as caught:
        RangeSpec(start, start - timedelta(seconds=1)).grid()
    assert caught.value.field == "end"


# -- time and duration parsing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T10:00:00Z", datetime(2026, 11, 24, 10, tzinfo=UTC)),
        ("2026-11-24T12:00:00+02:00", datetime(2026, 11, 24, 10, tzinfo=UTC)),
        ("2026-11-24T10:00:00.250Z", datetime(2026, 11, 24, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-24T10:00:00", datetime(2026, 11, 24, 10, tzinfo=UTC)),
        ("1795000000", datetime.fromtimestamp(1795000000, UTC)),
        ("1795000000.5", datetime.fromtimestamp(1795000000.5, UTC)),
        (1795000000, datetime.fromtimestamp(1795000000, UTC)),
        (1795000000.25, datetime.fromtimestamp(1795000000.25, UTC)),
        ("now", NOW),
        (None, NOW),
        ("now-6h", NOW - timedelta(hours=6)),
        ("now - 30m", NOW - timedelta(minutes=30)),
        ("now-90s", NOW - timedelta(seconds=90)),
        ("now-1.5h", NOW - timedelta(minutes=90)),
        ("now-7d", NOW - timedelta(days=7)),
    ],
)
def test_parse_time_accepts_rfc3339_epoch_and_relative(text: object, expected: datetime) -> None:
    got = parse_time(text, NOW, "start")  # type: ignore[arg-type]
    assert got == expected
    assert got.utcoffset() == timedelta(0) or got.tzinfo is not None


def test_parse_time_keeps_offsets_and_makes_naive_datetimes_utc() -> None:
    aware = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5)))
    assert parse_time(aware, NOW, "end") == aware
    assert parse_time(datetime(2026, 1, 1), NOW, "end") == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["yesterday", "now+1h", "now-", "now-5x", "2026-13-01T00:00:00Z", "", 1e12, float("nan")],
)
def test_parse_time_rejects_garbage_naming_the_field(text: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_time(text, NOW, "start")  # type: ignore[arg-type]
    assert caught.value.field == "start"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        ("2d", 172800.0),
        ("15", 15.0),
        (15, 15.0),
        (0.5, 0.5),
        ("1w", 604800.0),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text, "step") == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0", "-5m", "5x", "m", "", 0, -1, float("inf")])
def test_parse_duration_rejects_non_positive_and_garbage(text: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_duration(text, "step")  # type: ignore[arg-type]
    assert caught.value.field == "step"


# -- running queries ------------------------------------------------------------------------------


def test_range_query_returns_a_matrix_on_the_grid(service: QueryService) -> None:
    spec = RangeSpec(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), 60)
    outcome = service.run('cpu{host="b"}', spec)
    assert outcome.type == "matrix"
    assert len(outcome.times) == 11
    assert outcome.times[0] == (T0 + timedelta(minutes=10)).timestamp()
    assert [s.labels for s in outcome.series] == [{"__name__": "cpu", "host": "b"}]
    assert outcome.series[0].values == [2.0] * 11
    scalar = service.run("1 + 1", spec)
    assert scalar.type == "matrix" and scalar.series[0].labels == {}
    assert scalar.series[0].values == [2.0] * 11


def test_instant_queries_give_vectors_scalars_and_raw_ranges(service: QueryService) -> None:
    at = T0 + timedelta(minutes=30, seconds=5)
    spec = RangeSpec(at, at, instant=True)
    vector = service.run("sum(rate(req[1m]))", spec)
    assert vector.type == "vector"
    assert vector.times == [at.timestamp()]
    assert vector.series[0].values == [pytest.approx(0.1)]
    scalar = service.run("2 * 21", spec)
    assert (scalar.type, scalar.value) == ("scalar", 42.0)
    raw = service.run('cpu{host="a"}[1m]', spec)
    assert raw.type == "matrix"
    assert raw.series[0].times == [
        (T0 + timedelta(minutes=29, seconds=10 * i + 10)).timestamp() for i in range(6)
    ]
    assert raw.series[0].values == [float((180 - 5 + i) % 10) for i in range(6)]
    empty = service.run("no.such.metric", spec)
    assert (empty.type, empty.series) == ("vector", [])


def test_run_many_reports_each_bad_query_and_runs_the_rest(service: QueryService) -> None:
    spec = RangeSpec(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), 60)
    outcomes = service.run_many(
        [
            ("A", "sum(cpu)"),
            ("B", "sum(cpu"),
            ("C", "cpu[5m]"),
            ("D", "avg(cpu) by (host)"),
        ],
        spec,
    )
    assert [o.id for o in outcomes] == ["A", "B", "C", "D"]
    assert [o.type for o in outcomes] == ["matrix", "error", "error", "matrix"]
    assert isinstance(outcomes[1].error, QueryParseError)
    assert outcomes[1].error.details["column"] == 8
    assert outcomes[2].error is not None and "rate" in outcomes[2].error.message
    # whole-minute steps read 1-minute buckets: the last point before 10 min is cpu a = 9
    assert outcomes[0].series[0].values[0] == 9.0 + 2.0
    assert len(outcomes[3].series) == 2


def test_too_many_steps_raises_from_run(service: QueryService) -> None:
    spec = RangeSpec(T0, T0 + timedelta(hours=1), 1)
    with pytest.raises(InvalidInputError, match="larger step"):
        service.run("cpu", spec)


def test_series_and_discovery(service: QueryService) -> None:
    from radiator.core.types import TimeRange

    window = TimeRange(T0, T0 + timedelta(hours=3))
    assert service.series(['cpu{host="a"}', "req"], window) == [
        {"__name__": "cpu", "host": "a"},
        {"__name__": "req", "host": "a"},
    ]
    with pytest.raises(InvalidInputError):
        service.series(["sum(cpu)"], window)
    assert service.metric_names("c", 10) == ["cpu"]
    assert service.tag_names("cpu", window) == ["host"]
    assert service.tag_values("host", "cpu", "", window, 10) == ["a", "b"]
    assert service.tag_values("host", None, "b", window, 10) == ["b"]
    assert service.tag_names(None, TimeRange(T0 - timedelta(days=2), T0 - timedelta(days=1))) == []


def test_instant_queries_read_raw_points_even_at_whole_minutes(service: QueryService) -> None:
    """docs/query.md: instant queries read raw points, so a point exactly at the evaluation
    time counts, where a range query with whole-minute steps reads buckets [t - 5m, t)."""
    at = T0 + timedelta(minutes=30)  # cpu a = 180 % 10 = 0 at exactly 30 min, 9 just before
    instant = service.run('cpu{host="a"}', RangeSpec(at, at, instant=True))
    assert instant.series[0].values == [0.0]
    ranged = service.run('cpu{host="a"}', RangeSpec(at, at, 60))
    assert ranged.series[0].values == [9.0]
    raw_range = service.run('cpu{host="a"}', RangeSpec(at, at, 10))
    assert raw_range.series[0].values == [0.0]


def test_queries_of_one_request_share_their_store_reads() -> None:
    from radiator.core.schema import points_batch
    from radiator.core.telemetry import Signal
    from radiator.core.types import Point
    from radiator.storage.telemetry import open_telemetry_store

    store = open_telemetry_store("duckdb", ":memory:")
    start = datetime(2026, 11, 24, 10, tzinfo=UTC)
    points = [
        Point("cpu", float(i), start + timedelta(seconds=10 * i), {"host": f"h{i % 3}"})
        for i in range(360)
    ]
    store.append(Signal.POINTS, points_batch(points))
    reads: list[int] = []
    fetch = store.fetch_cells

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(1)
        return fetch(*args, **kwargs)

    store.fetch_cells = counting  # type: ignore[method-assign]
    spec = RangeSpec(start, start + timedelta(hours=1), step_seconds=30)
    queries = [("a", "avg(cpu)"), ("b", "max_over_time(cpu[5m])"), ("c", "count(cpu)")]
    outcomes = QueryService(store).run_many(queries, spec)
    store.close()
    assert [o.error for o in outcomes] == [None, None, None]
    assert len(reads) == 1  # one selector, one 5-minute window: read once for all three


def test_a_range_function_shared_by_queries_is_computed_once(
    service: QueryService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Panels applying the same function to the same series and window (a rate summed
    one way here, another way there) share one evaluation, read-only, and still get
    their own answers."""
    from radiator.query import engine

    calls: list[str] = []
    original = engine.range_function

    def counted(func: str, *args: object, **kwargs: object) -> object:
        calls.append(func)
        return original(func, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "range_function", counted)
    spec = RangeSpec(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), 30)
    queries = [
        ("A", "sum(rate(req[5m]))"),
        ("B", "max by (host) (rate(req[5m]))"),
        ("C", "rate(req[5m]) * 2"),
        ("D", "rate(req[1m])"),
    ]
    outcomes = service.run_many(queries, spec)
    assert sorted(calls) == ["rate", "rate"]  # [5m] once for A, B and C; [1m] once
    one_by_one = [service.run(expr, spec, key) for key, expr in queries]
    assert [o.series for o in outcomes] == [o.series for o in one_by_one]
    assert outcomes[2].series[0].values[0] == 2 * outcomes[1].series[0].values[0]
