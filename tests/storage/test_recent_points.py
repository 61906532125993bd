"""Recent raw points held in memory (``storage.telemetry.recent``): reads answered from memory
give the table's answers; appends during and after warm-up are held exactly once; the horizon
moves with the clock, the memory limit and retention, and reads before it use the table."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
from archive_support import Clock, make_settings, open_store
from fastapi.testclient import TestClient

import radiator.query.engine as query_engine
from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import ORDERED_BY_SERIES, Resolution, Signal, StepWindows
from radiator.core.types import TimeRange
from radiator.errors import StorageError
from radiator.query.service import QueryOutcome, QueryService, RangeSpec
from radiator.runtime import Runtime
from radiator.storage.telemetry import DuckDBTelemetryStore, open_telemetry_store
from radiator.storage.telemetry import duckdb_metrics as metrics
from radiator.storage.telemetry.recent import RecentPoints, sketch_keys
from radiator.storage.telemetry.retention import Retention

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
PLENTY = 10**9  # a memory limit never reached
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FINITE = (0.0, -0.0, -2.5, -1e-300)
SPECIAL = (np.nan, np.inf, -np.inf, *FINITE)
HOSTS = ("h0", "h1", "h2", "h3")

Rows = Sequence[tuple[str, str, int, float]]  # (name, host, time in epoch µs, value)
Sids = list[int]
_TAGS = SCHEMAS[Signal.POINTS].field("tags").type


def _at(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _range(lo_us: int, hi_us: int) -> TimeRange:
    return TimeRange(_at(lo_us), _at(hi_us))


def _batch(rows: Rows) -> pa.Table:
    """A points batch; ``reqs`` are counters, everything else gauges."""
    return pa.table(
        {
            "time": pa.array([t for _, _, t, _ in rows], pa.timestamp("us", tz="UTC")),
            "name": [name for name, _, _, _ in rows],
            "tags": pa.array([[("host", host)] for _, host, _, _ in rows], _TAGS),
            "value": pa.array([v for _, _, _, v in rows], pa.float64()),
            "kind": ["counter" if name == "reqs" else "gauge" for name, _, _, _ in rows],
        },
        schema=SCHEMAS[Signal.POINTS],
    )


def _random_rows(
    rng: np.random.Generator,
    lo_us: int,
    hi_us: int,
    count: int,
    special: Sequence[float] = SPECIAL,
) -> list[tuple[str, str, int, float]]:
    """Points of 8 series at random times in [lo_us, hi_us): some values ``special`` (NaN,
    ±inf, ±0, negative), and about one in ten at the time of an earlier point of its series."""
    rows: list[tuple[str, str, int, float]] = []
    for _ in range(count):
        name, host = str(rng.choice(["cpu", "reqs"])), str(rng.choice(HOSTS))
        same = [t for n, h, t, _ in rows if (n, h) == (name, host)]
        if same and rng.random() < 0.1:
            moment = int(rng.choice(same))
        else:
            moment = int(rng.integers(lo_us, hi_us))
        odd = rng.random() < 0.15
        value = float(rng.choice(special)) if odd else float(rng.lognormal(2, 1.5))
        rows.append((name, host, moment, value))
    return rows


def _sids(store: DuckDBTelemetryStore) -> Sids:
    """Every series, newest sid first (positions differ from sid order), plus one unknown."""
    found = store.find_series(None, (), TimeRange(EPOCH, datetime(2200, 1, 1, tzinfo=UTC)))
    return [*sorted((s.sid for s in found), reverse=True), 12345]


def _bits(values: npt.NDArray[np.float64]) -> list[int]:
    """Values as their bits, so NaN, -0.0 and inf compare exactly."""
    return [int(bits) for bits in np.asarray(values, dtype=np.float64).view(np.int64)]


def _points(table: pa.Table) -> Counter[tuple[int, int, int, int]]:
    """A RAW ``fetch_cells`` answer as a multiset of (sid, series, time, value bits)."""
    columns = [table.column(c).to_pylist() for c in ("sid", "series", "time")]
    values = _bits(table.column("value").to_numpy())
    return Counter(zip(*columns, values, strict=True))


def _sketch(table: pa.Table, from_us: int | None = None) -> Counter[tuple[int, int, int, int]]:
    """A ``fetch_sketches`` answer as (sid, series, cell start, key) weighted by count;
    with ``from_us`` only the cells starting at or after it."""
    weights: Counter[tuple[int, int, int, int]] = Counter()
    columns = [table.column(c).to_pylist() for c in ("sid", "series", "time", "key", "count")]
    for sid, series, start, key, count in zip(*columns, strict=True):
        if from_us is None or start >= from_us:
            weights[(sid, series, start, key)] += count
    return weights


def _in_windows(start_us: int, size_us: int, windows: StepWindows) -> bool:
    """Whether the cell [start, start + size) ends in a window (t - range, t] of a step."""
    return (windows.anchor_us - start_us - size_us) % windows.step_us < windows.range_us


def _assert_ordered_by_series(table: pa.Table) -> None:
    assert ORDERED_BY_SERIES.items() <= (table.schema.metadata or {}).items()
    series = table.column("series").to_numpy().astype(np.int64)
    times = table.column("time").to_numpy()
    assert np.all(np.diff(series) >= 0)
    assert np.all((np.diff(series) > 0) | (np.diff(times) >= 0))


class TableReads:
    """Counts the store's reads of its tables (``duckdb_metrics`` read functions)."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        for name in ("fetch_cells", "fetch_sketches", "count_points"):
            patch.setattr(metrics, name, self._counted(getattr(metrics, name)))

    def _counted(self, read: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return read(*args, **kwargs)

        return counted

    @contextlib.contextmanager
    def none(self) -> Iterator[None]:
        """Reads inside must be answered from memory."""
        before = self.calls
        yield
        assert self.calls == before, "the table was read: memory did not answer"

    @contextlib.contextmanager
    def some(self) -> Iterator[None]:
        """Reads inside must fall back to the table."""
        before = self.calls
        yield
        assert self.calls > before, "memory answered a read it does not cover"


class PausedLoader:
    """Wraps a store's warm-up loader: once ``after_parts`` parts are loaded (its snapshot
    is fixed by then), it sets ``paused`` and waits for ``resume``."""

    def __init__(self, store: DuckDBTelemetryStore, after_parts: int = 0) -> None:
        self.inner = store._recent_loader
        self.after_parts = after_parts
        self.paused = threading.Event()
        self.resume = threading.Event()

    def __call__(self, lo_us: int) -> Iterator[Any]:
        return self._parts(iter(self.inner(lo_us)))

    def _parts(self, parts: Iterator[Any]) -> Iterator[Any]:
        done = 0
        while True:
            if done == self.after_parts:
                self.paused.set()
                assert self.resume.wait(30)
            part = next(parts, None)
            if part is None:
                return
            yield part
            done += 1


@pytest.fixture
def now() -> datetime:
    """The real current time: recent points follow the wall clock."""
    return datetime.now(UTC)


@pytest.fixture
def now_us(now: datetime) -> int:
    return (now - EPOCH) // timedelta(microseconds=1)


@pytest.fixture
def table_reads(monkeypatch: pytest.MonkeyPatch) -> TableReads:
    return TableReads(monkeypatch)


@pytest.fixture
def open_stores() -> Iterator[Callable[[], DuckDBTelemetryStore]]:
    """Opens in-memory stores, closed after the test."""
    opened: list[DuckDBTelemetryStore] = []

    def factory() -> DuckDBTelemetryStore:
        store = open_telemetry_store("duckdb", ":memory:")
        assert isinstance(store, DuckDBTelemetryStore)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


def _twins(
    open_stores: Callable[[], DuckDBTelemetryStore],
    before: Sequence[pa.Table],
    after: Sequence[pa.Table],
    hours: float = 6,
    max_bytes: int = PLENTY,
) -> tuple[DuckDBTelemetryStore, DuckDBTelemetryStore]:
    """Two stores given the same batches; the second keeps recent points, loaded after
    ``before`` and kept up to date through ``after``."""
    plain, recent = open_stores(), open_stores()
    for batch in before:
        plain.append(Signal.POINTS, batch)
        recent.append(Signal.POINTS, batch)
    recent.keep_recent(hours, max_bytes).join()
    for batch in after:
        plain.append(Signal.POINTS, batch)
        recent.append(Signal.POINTS, batch)
    stats = recent.recent_stats()
    assert stats is not None and stats.ready
    return plain, recent


# -- the same answers with and without recent points ----------------------------------------------


def _random_twins(
    open_stores: Callable[[], DuckDBTelemetryStore], now_us: int, special: Sequence[float]
) -> tuple[DuckDBTelemetryStore, DuckDBTelemetryStore]:
    """Random points of the last 3 hours, appended in batches out of time order, half of
    them before warm-up; the last batch is newer than everything (the in-order path)."""
    rng = np.random.default_rng(20240601)
    lo, hi = now_us - 3 * HOUR_US, now_us
    batches = [_batch(_random_rows(rng, lo, hi, 400, special)) for _ in range(8)]
    batches.append(_batch(_random_rows(rng, hi, hi + MINUTE_US, 50, special)))
    return _twins(open_stores, batches[:4], batches[4:])


@pytest.fixture
def twins(
    open_stores: Callable[[], DuckDBTelemetryStore], now_us: int
) -> tuple[DuckDBTelemetryStore, DuckDBTelemetryStore]:
    return _random_twins(open_stores, now_us, SPECIAL)


def _ranges(now_us: int) -> list[tuple[int, int]]:
    minute = (now_us // MINUTE_US) * MINUTE_US
    return [
        (now_us - 3 * HOUR_US - MINUTE_US, now_us + 2 * MINUTE_US),  # everything
        (now_us - 100 * MINUTE_US + 123, now_us - 40 * MINUTE_US + 7),  # unaligned
        (minute - 2 * HOUR_US, minute - HOUR_US),  # whole minutes
        (now_us + HOUR_US, now_us + 2 * HOUR_US),  # nothing there
    ]


def _windows(now_us: int) -> list[StepWindows | None]:
    return [None, StepWindows(now_us - 17, 10 * MINUTE_US, 2 * MINUTE_US)]


@pytest.mark.parametrize("which", range(4))
@pytest.mark.parametrize("windowed", [False, True])
def test_raw_points_from_memory_are_the_tables(
    twins: tuple[DuckDBTelemetryStore, DuckDBTelemetryStore],
    table_reads: TableReads,
    now_us: int,
    which: int,
    windowed: bool,
) -> None:
    plain, recent = twins
    sids = _sids(plain)
    lo, hi = _ranges(now_us)[which]
    windows = _windows(now_us)[windowed]
    everything = plain.fetch_cells(sids, _range(lo, hi), Resolution.RAW)
    want = plain.fetch_cells(sids, _range(lo, hi), Resolution.RAW, windows=windows)

    with table_reads.none():
        got = recent.fetch_cells(sids, _range(lo, hi), Resolution.RAW, windows=windows)
        counted = recent.count_points(sids, _range(lo, hi))

    _assert_ordered_by_series(got)
    assert got.column_names == want.column_names
    assert counted == plain.count_points(sids, _range(lo, hi)) == everything.num_rows
    # With windows, memory may leave out only points in no window (as the table does).
    in_window = Counter(
        {
            k: n
            for k, n in _points(everything).items()
            if windows is None or _in_windows(k[2], 0, windows)
        }
    )
    assert not in_window - _points(want)  # the table keeps at least these too
    assert not _points(got) - _points(everything)
    assert Counter({k: n for k, n in _points(got).items() if k in in_window}) == in_window
    if which < 3:
        assert got.num_rows, "nothing read: the comparison would be vacuous"


@pytest.mark.parametrize("which", range(4))
@pytest.mark.parametrize("windowed", [False, True])
@pytest.mark.parametrize("resolution", [Resolution.RAW, Resolution.MINUTE])
def test_sketches_from_memory_are_the_tables(
    twins: tuple[DuckDBTelemetryStore, DuckDBTelemetryStore],
    table_reads: TableReads,
    now_us: int,
    which: int,
    windowed: bool,
    resolution: Resolution,
) -> None:
    # Without roll_up, the table's answer at MINUTE is computed from raw points too.
    plain, recent = twins
    sids = _sids(plain)
    lo, hi = _ranges(now_us)[which]
    windows = _windows(now_us)[windowed]
    size = resolution.seconds * SECOND_US
    # The table also gives the whole cell holding ``lo`` when lo is not a cell start.
    first = -(-lo // size) * size if size else lo
    everything = _sketch(plain.fetch_sketches(sids, _range(lo, hi), resolution), first)

    with table_reads.none():
        got_table = recent.fetch_sketches(sids, _range(lo, hi), resolution, windows=windows)

    _assert_ordered_by_series(got_table)
    got = _sketch(got_table)
    assert all(start >= first and start < hi for _, _, start, _ in got)
    assert not got - everything
    in_window = Counter(
        {k: n for k, n in everything.items() if windows is None or _in_windows(k[2], size, windows)}
    )
    assert Counter({k: n for k, n in got.items() if k in in_window}) == in_window
    if which < 3:
        assert got, "nothing read: the comparison would be vacuous"


QUERIES = [
    "rate(reqs[5m])",
    "sum by (host) (cpu)",
    "avg_over_time(cpu[5m])",
    "quantile_over_time(0.9, cpu[5m])",
    "topk(2, max_over_time(cpu[5m]))",
    "max_over_time(cpu[5m])",
]


def _assert_same_outcome(got: QueryOutcome, want: QueryOutcome) -> None:
    assert got.error is None and want.error is None
    assert got.times == want.times
    assert [s.labels for s in got.series] == [s.labels for s in want.series]
    for a, b in zip(got.series, want.series, strict=True):
        np.testing.assert_allclose(
            np.array(a.values, dtype=float), np.array(b.values, dtype=float), rtol=1e-9
        )
    finite = [v for s in want.series for v in s.values if v is not None]
    assert finite, "the query found nothing: the comparison would be vacuous"


@pytest.mark.parametrize("expr", QUERIES)
@pytest.mark.parametrize("step", [45, 610])  # raw points; 610 s reads only the windows
def test_queries_give_the_same_results_with_recent_points(
    twins: tuple[DuckDBTelemetryStore, DuckDBTelemetryStore],
    table_reads: TableReads,
    now: datetime,
    expr: str,
    step: int,
) -> None:
    plain, recent = twins
    spec = RangeSpec(now - timedelta(hours=2), now, step_seconds=step)
    want = QueryService(plain).run(expr, spec)
    with table_reads.none():
        got = QueryService(recent).run(expr, spec)
    _assert_same_outcome(got, want)


def test_quantiles_from_minute_sketches_are_the_same_with_recent_points(
    twins: tuple[DuckDBTelemetryStore, DuckDBTelemetryStore],
    table_reads: TableReads,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    # Past this many (window, point) pairs quantiles come from 1-minute sketches.
    monkeypatch.setattr(query_engine, "_EXACT_QUANTILE_MAX", 0)
    plain, recent = twins
    spec = RangeSpec(now - timedelta(hours=2), now, step_seconds=45)
    want = QueryService(plain).run("quantile_over_time(0.5, cpu[5m])", spec)
    with table_reads.none():
        got = QueryService(recent).run("quantile_over_time(0.5, cpu[5m])", spec)
    _assert_same_outcome(got, want)


# -- appends after and during warm-up -------------------------------------------------------------


def test_appends_after_warm_up_are_read_from_memory_once(
    open_stores: Callable[[], DuckDBTelemetryStore], table_reads: TableReads, now_us: int
) -> None:
    store = open_stores()
    store.append(
        Signal.POINTS, _batch([("cpu", "h0", now_us - m * MINUTE_US, m) for m in range(10)])
    )
    store.keep_recent(1, PLENTY).join()
    # One newer point, one between held ones, and one at the time of a held one.
    added = [
        ("cpu", "h0", now_us + MINUTE_US, 100.0),
        ("cpu", "h0", now_us - 5 * MINUTE_US + 1, 101.0),
        ("cpu", "h0", now_us - 3 * MINUTE_US, 102.0),
    ]
    store.append(Signal.POINTS, _batch(added))
    sids = _sids(store)[:1]
    lo, hi = now_us - 30 * MINUTE_US, now_us + HOUR_US

    with table_reads.none():
        cells = store.fetch_cells(sids, _range(lo, hi), Resolution.RAW)
        counted = store.count_points(sids, _range(lo, hi))

    values = cells.column("value").to_pylist()
    assert counted == len(values) == 13
    assert sorted(values) == sorted([*map(float, range(10)), 100.0, 101.0, 102.0])
    assert cells.column("time").to_pylist() == sorted(cells.column("time").to_pylist())
    stats = store.recent_stats()
    assert stats is not None and (stats.series, stats.points) == (1, 13)


@pytest.mark.parametrize("after_parts", [0, 4])  # before any part is loaded; between parts
def test_appends_during_warm_up_are_neither_lost_nor_doubled(
    open_stores: Callable[[], DuckDBTelemetryStore],
    table_reads: TableReads,
    monkeypatch: pytest.MonkeyPatch,
    now_us: int,
    after_parts: int,
) -> None:
    rng = np.random.default_rng(7)
    before = _batch(_random_rows(rng, now_us - 3 * HOUR_US, now_us, 600))
    during = [_batch(_random_rows(rng, now_us - 3 * HOUR_US, now_us, 300)) for _ in range(3)]
    plain, recent = open_stores(), open_stores()
    for store in (plain, recent):
        store.append(Signal.POINTS, before)
    loader = PausedLoader(recent, after_parts)
    monkeypatch.setattr(recent, "_recent_loader", loader)
    warming = recent.keep_recent(6, PLENTY)
    assert loader.paused.wait(30)
    try:
        stats = recent.recent_stats()
        assert stats is not None and not stats.ready
        for batch in during:  # committed after the load's snapshot: held back, then added
            plain.append(Signal.POINTS, batch)
            recent.append(Signal.POINTS, batch)
    finally:
        loader.resume.set()
        warming.join()

    sids = _sids(plain)
    lo, hi = now_us - 4 * HOUR_US, now_us + MINUTE_US
    with table_reads.none():
        got = recent.fetch_cells(sids, _range(lo, hi), Resolution.RAW)
    assert _points(got) == _points(plain.fetch_cells(sids, _range(lo, hi), Resolution.RAW))
    stats = recent.recent_stats()
    assert stats is not None and stats.ready and stats.points == 600 + 3 * 300


def test_an_append_committing_as_keep_recent_starts_is_not_lost(
    open_stores: Callable[[], DuckDBTelemetryStore],
    table_reads: TableReads,
    monkeypatch: pytest.MonkeyPatch,
    now_us: int,
) -> None:
    store = open_stores()
    store.append(Signal.POINTS, _batch([("cpu", "h0", now_us - MINUTE_US, 1.0)]))
    committing, release = threading.Event(), threading.Event()
    commit = store._log_index.committing

    @contextlib.contextmanager
    def slow_commit(cursor: duckdb.DuckDBPyConnection, times: Any) -> Iterator[None]:
        committing.set()
        assert release.wait(30)
        with commit(cursor, times):
            yield

    monkeypatch.setattr(store._log_index, "committing", slow_commit)
    late = _batch([("cpu", "h0", now_us, 2.0)])
    writer = threading.Thread(target=store.append, args=(Signal.POINTS, late))
    writer.start()
    try:
        assert committing.wait(30)
        # The append is inside its commit: warm-up's snapshot waits for it to finish.
        warming = store.keep_recent(1, PLENTY)
    finally:
        release.set()
        writer.join()
    warming.join()

    sids = _sids(store)[:1]
    with table_reads.none():
        counted = store.count_points(sids, _range(now_us - HOUR_US // 2, now_us + 1))
    assert counted == 2


# -- the horizon ----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now_us: int) -> None:
        self.now_us = now_us

    def __call__(self) -> float:
        return self.now_us / SECOND_US


def _held(
    clock: FakeClock, times: Sequence[int], hours: float = 1, max_bytes: int = PLENTY
) -> RecentPoints:
    """RecentPoints warmed from a table holding one series (sid 1) with points at ``times``
    of values equal to their index."""
    recent = RecentPoints(hours, max_bytes, clock=clock)
    table = np.asarray(times, dtype=np.int64)

    def loader(lo_us: int) -> Iterator[tuple[Any, Any, Any]]:
        keep = table >= lo_us
        sids = np.ones(int(keep.sum()), dtype=np.uint64)
        values = np.flatnonzero(keep).astype(np.float64)
        return iter([(sids, table[keep], values)])

    assert recent.warm(loader)
    return recent


def _values(recent: RecentPoints, lo_us: int, hi_us: int) -> list[float] | None:
    table = recent.points([1], lo_us, hi_us, None)
    return None if table is None else table.column("value").to_pylist()


def _not_answered(recent: RecentPoints, lo_us: int, hi_us: int) -> bool:
    """Whether every kind of read starting at ``lo_us`` is left to the table."""
    gamma, offset = metrics.SKETCH_GAMMA, metrics.SKETCH_OFFSET
    return (
        recent.points([1], lo_us, hi_us, None) is None
        and recent.count([1], lo_us, hi_us) is None
        and recent.sketch_entries([1], lo_us, hi_us, Resolution.RAW, None, gamma, offset) is None
        and not recent.covers(lo_us)
    )


def test_reads_from_before_the_horizon_are_left_to_the_table() -> None:
    t0 = 1_800_000_000 * SECOND_US
    clock = FakeClock(t0)
    recent = _held(clock, [t0 - 2 * HOUR_US, t0 - HOUR_US, t0 - MINUTE_US, t0])
    stats = recent.stats()
    assert stats.ready and stats.horizon_us == t0 - HOUR_US and stats.points == 3
    assert _values(recent, t0 - HOUR_US, t0 + 1) == [1.0, 2.0, 3.0]
    assert _not_answered(recent, t0 - HOUR_US - 1, t0 + 1)


def test_forget_through_moves_the_horizon_forward_only() -> None:
    t0 = 1_800_000_000 * SECOND_US
    recent = _held(FakeClock(t0), [t0 - 50 * MINUTE_US, t0 - 20 * MINUTE_US, t0])

    recent.forget_through(t0 - 30 * MINUTE_US)

    assert recent.stats().horizon_us == t0 - 30 * MINUTE_US
    assert recent.stats().points == 2
    assert _not_answered(recent, t0 - 31 * MINUTE_US, t0 + 1)
    assert _values(recent, t0 - 30 * MINUTE_US, t0 + 1) == [1.0, 2.0]
    recent.forget_through(t0 - 40 * MINUTE_US)  # earlier: nothing changes
    assert recent.stats().horizon_us == t0 - 30 * MINUTE_US


def test_forget_through_before_warm_up_is_kept() -> None:
    t0 = 1_800_000_000 * SECOND_US
    recent = RecentPoints(1, PLENTY, clock=FakeClock(t0))
    recent.forget_through(t0 - 10 * MINUTE_US)
    sids, times = np.ones(1, dtype=np.uint64), np.array([t0 - 30 * MINUTE_US], dtype=np.int64)
    assert recent.warm(lambda lo_us: iter([(sids, times, np.zeros(1))]))
    assert _not_answered(recent, t0 - 40 * MINUTE_US, t0)


def test_the_horizon_follows_the_clock() -> None:
    t0 = 1_800_000_000 * SECOND_US
    clock = FakeClock(t0)
    recent = _held(clock, [t0 - 50 * MINUTE_US, t0 - 20 * MINUTE_US, t0])
    clock.now_us += 30 * MINUTE_US

    recent.add(np.ones(1, dtype=np.uint64), np.array([clock.now_us]), np.array([9.0]))

    assert recent.stats().horizon_us == clock.now_us - HOUR_US
    assert recent.stats().points == 3  # the point 50 minutes old went
    assert _not_answered(recent, clock.now_us - HOUR_US - 1, clock.now_us + 1)
    assert _values(recent, clock.now_us - HOUR_US, clock.now_us + 1) == [1.0, 2.0, 9.0]


def test_the_memory_limit_drops_the_oldest_points() -> None:
    t0 = 1_800_000_000 * SECOND_US
    times = [t0 - HOUR_US + 10 * SECOND_US * i for i in range(300)]  # every 10 s
    recent = _held(FakeClock(t0), times, max_bytes=16 * 100)

    stats = recent.stats()
    assert 0 < stats.bytes <= stats.max_bytes == 16 * 100
    assert stats.horizon_us is not None and stats.horizon_us > times[0]
    kept = [float(i) for i, t in enumerate(times) if t >= stats.horizon_us]
    assert len(kept) == stats.points
    assert _values(recent, stats.horizon_us, t0 + 1) == kept
    assert _not_answered(recent, stats.horizon_us - 1, t0 + 1)

    more = np.array([t0 + SECOND_US * i for i in range(50)], dtype=np.int64)
    recent.add(np.ones(50, dtype=np.uint64), more, np.full(50, 7.0))
    after = recent.stats()
    assert after.bytes <= 16 * 100
    assert after.horizon_us is not None and after.horizon_us > stats.horizon_us


def test_reads_before_a_horizon_moved_by_the_memory_limit_use_the_table(
    open_stores: Callable[[], DuckDBTelemetryStore], table_reads: TableReads, now_us: int
) -> None:
    rng = np.random.default_rng(3)
    batches = [_batch(_random_rows(rng, now_us - 3 * HOUR_US, now_us, 500)) for _ in range(4)]
    plain, recent = _twins(open_stores, batches[:2], batches[2:], max_bytes=16 * 300)
    stats = recent.recent_stats()
    assert stats is not None and stats.bytes <= 16 * 300 and stats.horizon_us is not None
    horizon = stats.horizon_us
    assert horizon > now_us - 2 * HOUR_US
    sids = _sids(plain)

    for lo, reads in ((now_us - 3 * HOUR_US, table_reads.some()), (horizon, table_reads.none())):
        with reads:
            got = recent.fetch_cells(sids, _range(lo, now_us + 1), Resolution.RAW)
            counted = recent.count_points(sids, _range(lo, now_us + 1))
        want = plain.fetch_cells(sids, _range(lo, now_us + 1), Resolution.RAW)
        assert _points(got) == _points(want) and counted == want.num_rows > 0


def test_late_points_older_than_the_horizon_are_left_to_the_table(
    open_stores: Callable[[], DuckDBTelemetryStore], table_reads: TableReads, now_us: int
) -> None:
    recent_rows = [("cpu", h, now_us - m * MINUTE_US, float(m)) for h in HOSTS for m in range(30)]
    late_rows = [
        ("cpu", h, now_us - 2 * HOUR_US - m * MINUTE_US, -1.0) for h in HOSTS for m in range(5)
    ]
    plain, recent = _twins(open_stores, [_batch(recent_rows)], [_batch(late_rows)], hours=1)
    stats = recent.recent_stats()
    assert stats is not None and stats.points == len(recent_rows)  # the late ones not held
    sids = _sids(plain)

    for lo, reads in (
        (now_us - 3 * HOUR_US, table_reads.some()),
        (now_us - HOUR_US // 2, table_reads.none()),
    ):
        with reads:
            got = recent.fetch_cells(sids, _range(lo, now_us + 1), Resolution.RAW)
            counted = recent.count_points(sids, _range(lo, now_us + 1))
        want = plain.fetch_cells(sids, _range(lo, now_us + 1), Resolution.RAW)
        assert _points(got) == _points(want) and counted == want.num_rows > 0


# -- retention ------------------------------------------------------------------------------------


@pytest.mark.parametrize("archiving", [True, False])
def test_retention_of_a_day_stops_memory_answering_for_it(
    tmp_path: Path, table_reads: TableReads, now: datetime, now_us: int, archiving: bool
) -> None:
    settings = make_settings(
        tmp_path,
        retention_points_days=1,
        archive_enabled=archiving,
        retention_delete_unarchived=True,
    )
    store = open_store(settings)
    try:
        day = (now - timedelta(days=2)).date()
        day_us = (day - date(1970, 1, 1)).days * DAY_US
        old = [("cpu", "h0", day_us + HOUR_US * h, float(h)) for h in range(24)]
        new = [("cpu", "h0", now_us - MINUTE_US * m, float(m)) for m in range(10)]
        store.append(Signal.POINTS, _batch(old + new))
        store.keep_recent(96, PLENTY).join()
        sids = _sids(store)[:1]
        the_day, lately = _range(day_us, day_us + DAY_US), _range(now_us - HOUR_US, now_us + 1)
        with table_reads.none():
            assert store.count_points(sids, the_day) == 24
        store.roll_up(now)  # raw points wait for their rollups

        report = Retention(store, settings, clock=Clock(now)).enforce()

        gone = [(p.table, p.day) for p in report.archived] + [(t, d) for t, d, _ in report.deleted]
        assert ("points", day) in gone and not report.errors
        stats = store.recent_stats()
        assert stats is not None and stats.horizon_us is not None
        assert stats.horizon_us >= day_us + DAY_US and stats.points == len(new)
        with table_reads.some():
            cells = store.fetch_cells(sids, the_day, Resolution.RAW)
            counted = store.count_points(sids, the_day)
        assert counted == cells.num_rows == (24 if archiving else 0)  # archived days still read
        with table_reads.none():
            assert store.count_points(sids, lately) == len(new)
        if archiving:  # a restored day is back in the table, and still left to it
            Retention(store, settings, clock=Clock(now)).restore("points", day, day)
            with table_reads.some():
                assert store.count_points(sids, the_day) == 24
    finally:
        store.close()


# -- failures and closing -------------------------------------------------------------------------


def _fail_loading(lo_us: int) -> Iterator[Any]:
    raise duckdb.IOException("the disk went away")


def test_keeping_recent_points_twice_is_refused(
    open_stores: Callable[[], DuckDBTelemetryStore],
) -> None:
    store = open_stores()
    store.keep_recent(1, PLENTY).join()
    with pytest.raises(StorageError, match="already keeps recent points"):
        store.keep_recent(2, PLENTY)


def test_a_failed_warm_up_leaves_reads_to_the_table(
    open_stores: Callable[[], DuckDBTelemetryStore],
    table_reads: TableReads,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    now_us: int,
) -> None:
    store = open_stores()
    store.append(Signal.POINTS, _batch([("cpu", "h0", now_us - MINUTE_US, 1.0)]))
    monkeypatch.setattr(store, "_recent_loader", _fail_loading)
    with caplog.at_level(logging.ERROR):
        store.keep_recent(1, PLENTY).join()
    assert "loading recent points failed" in caplog.text
    store.append(Signal.POINTS, _batch([("cpu", "h0", now_us, 2.0)]))

    with table_reads.some():
        counted = store.count_points(_sids(store)[:1], _range(now_us - HOUR_US, now_us + 1))
    assert counted == 2
    stats = store.recent_stats()
    assert stats is not None and not stats.ready and stats.points == 0
    assert stats.failed  # /readyz says so, rather than "loading" for ever


def test_a_failed_warm_up_holds_back_no_appends(
    open_stores: Callable[[], DuckDBTelemetryStore],
    monkeypatch: pytest.MonkeyPatch,
    now_us: int,
) -> None:
    store = open_stores()
    monkeypatch.setattr(store, "_recent_loader", _fail_loading)
    store.keep_recent(1, PLENTY).join()
    for minute in range(3):
        store.append(Signal.POINTS, _batch([("cpu", "h0", now_us - minute * MINUTE_US, 1.0)]))
    recent = store._recent
    assert recent is not None
    assert not recent._held  # appends waiting for the end of warm-up


def test_closing_during_warm_up_leaks_no_error_and_holds_nothing(
    open_stores: Callable[[], DuckDBTelemetryStore],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    now_us: int,
) -> None:
    store = open_stores()
    rng = np.random.default_rng(11)
    store.append(Signal.POINTS, _batch(_random_rows(rng, now_us - 3 * HOUR_US, now_us, 500)))
    loader = PausedLoader(store, after_parts=4)
    monkeypatch.setattr(store, "_recent_loader", loader)
    warming = store.keep_recent(6, PLENTY)
    assert loader.paused.wait(30)

    with caplog.at_level(logging.WARNING):
        store.close()
        loader.resume.set()  # the next part reads from the closed connection
        warming.join()

    assert not warming.is_alive()
    stats = store.recent_stats()
    assert stats is not None and not stats.ready
    assert (stats.series, stats.points, stats.bytes, stats.horizon_us) == (0, 0, 0, None)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_closing_after_warm_up_holds_nothing(
    open_stores: Callable[[], DuckDBTelemetryStore], now_us: int
) -> None:
    store = open_stores()
    store.append(Signal.POINTS, _batch([("cpu", "h0", now_us, 1.0)]))
    store.keep_recent(1, PLENTY).join()
    store.close()
    store.close()  # twice is harmless
    stats = store.recent_stats()
    assert stats is not None and not stats.ready and stats.points == 0
    assert not stats.failed  # closed, not broken


# -- readyz ---------------------------------------------------------------------------------------


def test_readyz_reports_recent_points_loading_then_ready(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, now_us: int
) -> None:
    store = runtime.telemetry
    assert isinstance(store, DuckDBTelemetryStore)
    store.append(Signal.POINTS, _batch([("cpu", "h0", now_us - MINUTE_US, 1.0)]))
    loader = PausedLoader(store)
    monkeypatch.setattr(store, "_recent_loader", loader)
    started = datetime.now(UTC)
    warming = store.keep_recent(1, 10**6)
    try:
        assert loader.paused.wait(30)
        loading = client.get("/readyz")
    finally:
        loader.resume.set()
        warming.join()
    done = datetime.now(UTC)
    ready = client.get("/readyz")

    assert loading.status_code == ready.status_code == 200  # reads work meanwhile
    assert loading.json()["status"] == "ready"
    assert loading.json()["recent_points"]["state"] == "loading"
    assert loading.json()["recent_points"]["from"] is None
    held = ready.json()["recent_points"]
    assert {k: held[k] for k in ("state", "series", "points", "bytes", "max_bytes")} == {
        "state": "ready",
        "series": 1,
        "points": 1,
        "bytes": 16,
        "max_bytes": 10**6,
    }
    horizon = datetime.fromisoformat(held["from"]) + timedelta(hours=1)
    assert started - timedelta(milliseconds=1) <= horizon <= done  # an hour before warm-up


# -- sketch keys ----------------------------------------------------------------------------------


def test_sketch_keys_are_the_sql_keys() -> None:
    gamma, offset = metrics.SKETCH_GAMMA, metrics.SKETCH_OFFSET
    powers = gamma ** np.arange(-2000, 2000, dtype=np.float64)  # on key boundaries
    rng = np.random.default_rng(5)
    magnitudes = np.concatenate(
        [
            powers,
            np.nextafter(powers, np.inf),
            np.nextafter(powers, 0),
            rng.lognormal(0, 8, 20_000),
            [1.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.5, 3.0],
        ]
    )
    values = np.concatenate([magnitudes, -magnitudes, [0.0, -0.0]])
    connection = duckdb.connect()
    try:
        connection.register("v", pa.table({"i": np.arange(len(values)), "value": values}))
        rows = connection.execute(f"SELECT {metrics._SKETCH_KEY} AS key FROM v ORDER BY i")
        want = rows.fetchnumpy()["key"].astype(np.int64)
    finally:
        connection.close()
    got = sketch_keys(values, gamma, offset)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    positive = sketch_keys(magnitudes, gamma, offset)  # no signs to carry
    assert positive.dtype == np.int64
    np.testing.assert_array_equal(positive, want[: len(magnitudes)])
