"""Contract suite for ``TelemetryStore``: every backend in ``BACKENDS`` must pass all of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import radiator.storage.telemetry as telemetry_package
from radiator.core.schema import events_batch, logs_batch, points_batch, spans_batch
from radiator.core.telemetry import Aggregation, BucketQuery, Signal, TelemetryStore
from radiator.core.types import (
    Event,
    EventKind,
    Labels,
    LogLevel,
    LogRecord,
    Point,
    Span,
    SpanStatus,
    TimeRange,
)
from radiator.errors import ConfigError, InvalidInputError, StorageError
from radiator.storage.telemetry import open_telemetry_store

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
WIDE = TimeRange(T0 - timedelta(days=2), T0 + timedelta(days=2))

StoreFactory = Callable[[], TelemetryStore]


@pytest.fixture(params=["duckdb"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every backend the contract runs over; a new backend adds its name here."""
    return str(request.param)


@pytest.fixture(params=["memory", "file"])
def open_store(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> Iterator[StoreFactory]:
    """Opens stores lazily, so a test can change the process time zone first."""
    path = ":memory:" if request.param == "memory" else str(tmp_path / "data" / "telemetry.db")
    opened: list[TelemetryStore] = []

    def factory() -> TelemetryStore:
        opened.append(open_telemetry_store(backend, path))
        return opened[-1]

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: StoreFactory) -> TelemetryStore:
    return open_store()


def point(value: float, at: datetime, name: str = "cpu", **tags: str) -> Point:
    return Point(name=name, value=value, time=at, tags=tags)


def append_points(store: TelemetryStore, *points: Point) -> None:
    assert store.append(Signal.POINTS, points_batch(points)) == len(points)


def buckets(
    store: TelemetryStore,
    *,
    step: timedelta = MINUTE,
    aggregation: Aggregation = Aggregation.AVG,
    tags: Labels | None = None,
    group_by: tuple[str, ...] | None = None,
    time_range: TimeRange = WIDE,
    name: str = "cpu",
) -> list[tuple[Labels, list[tuple[datetime, float]]]]:
    query = BucketQuery(name, time_range, step, aggregation, tags or {}, group_by)
    return [(s.tags, list(zip(s.times, s.values, strict=True))) for s in store.query_buckets(query)]


def one_of_each(signal: Signal, at: datetime = T0) -> pa.Table:
    if signal is Signal.POINTS:
        return points_batch([point(1.0, at, service="api")])
    if signal is Signal.EVENTS:
        event = Event(EventKind.DEPLOY, "v1.2 to prod", at, "api", "prod", "ana", {"sha": "ab"})
        return events_batch([event])
    if signal is Signal.LOGS:
        return logs_batch([LogRecord(at, "api", LogLevel.ERROR, "boom", {"code": 7}, "t1", "s1")])
    span = Span("t1", "s1", "api", "GET /", at, 12.5, status=SpanStatus.OK, attributes={"a": 1})
    return spans_batch([span])


# -- round trips and counts ---------------------------------------------------------------


def test_store_satisfies_the_protocol(store: TelemetryStore) -> None:
    assert isinstance(store, TelemetryStore)


@pytest.mark.parametrize("signal", list(Signal))
def test_every_signal_round_trips_through_append_and_count(
    store: TelemetryStore, signal: Signal
) -> None:
    assert store.count(signal) == 0
    assert store.append(signal, one_of_each(signal)) == 1
    assert store.append(signal, one_of_each(signal, T0 + HOUR)) == 1
    assert store.count(signal) == 2
    assert store.count(signal, TimeRange(T0, T0 + MINUTE)) == 1


@pytest.mark.parametrize("signal", list(Signal))
def test_count_range_is_half_open(store: TelemetryStore, signal: Signal) -> None:
    store.append(signal, one_of_each(signal))
    assert store.count(signal, TimeRange(T0 - MINUTE, T0)) == 0
    assert store.count(signal, TimeRange(T0, T0 + MINUTE)) == 1


def test_create_schema_is_idempotent_and_keeps_data(store: TelemetryStore) -> None:
    append_points(store, point(1.0, T0))
    store.create_schema()
    assert store.count(Signal.POINTS) == 1


def test_empty_batch_stores_nothing(store: TelemetryStore) -> None:
    assert store.append(Signal.POINTS, points_batch([])) == 0
    assert store.count(Signal.POINTS) == 0


def test_healthy_until_closed(open_store: StoreFactory) -> None:
    store = open_store()
    assert store.healthy()
    store.close()
    assert not store.healthy()
    with pytest.raises(StorageError):
        store.count(Signal.POINTS)


# -- bucketing and aggregation ------------------------------------------------------------


def test_points_are_bucketed_by_step(store: TelemetryStore) -> None:
    append_points(
        store,
        point(1.0, T0),
        point(3.0, T0 + timedelta(seconds=59)),
        point(10.0, T0 + MINUTE),
        point(20.0, T0 + 3 * MINUTE + timedelta(seconds=30)),
    )
    assert buckets(store) == [
        ({}, [(T0, 2.0), (T0 + MINUTE, 10.0), (T0 + 3 * MINUTE, 20.0)]),
    ]
    assert buckets(store, step=5 * MINUTE) == [({}, [(T0, 8.5)])]


def test_buckets_are_aligned_to_the_unix_epoch(store: TelemetryStore) -> None:
    at = T0 + timedelta(minutes=3, seconds=5)
    append_points(store, point(1.0, at))
    step = timedelta(minutes=7)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    expected = epoch + ((at - epoch) // step) * step
    assert buckets(store, step=step) == [({}, [(expected, 1.0)])]


def test_points_before_the_epoch_floor_to_their_bucket(store: TelemetryStore) -> None:
    at = datetime(1969, 12, 31, 23, 59, 30, tzinfo=UTC)
    append_points(store, point(1.0, at))
    found = buckets(store, time_range=TimeRange(at - HOUR, at + HOUR))
    assert found == [({}, [(datetime(1969, 12, 31, 23, 59, tzinfo=UTC), 1.0)])]


@pytest.mark.parametrize(
    ("aggregation", "first", "second"),
    [
        (Aggregation.AVG, 5.0, 7.0),
        (Aggregation.SUM, 15.0, 7.0),
        (Aggregation.MIN, 2.0, 7.0),
        (Aggregation.MAX, 9.0, 7.0),
        (Aggregation.COUNT, 3.0, 1.0),
        (Aggregation.LAST, 4.0, 7.0),
    ],
)
def test_each_aggregation_is_computed_per_bucket(
    store: TelemetryStore, aggregation: Aggregation, first: float, second: float
) -> None:
    # Appended out of time order, so LAST must follow time, not insertion.
    append_points(
        store,
        point(9.0, T0 + timedelta(seconds=10)),
        point(4.0, T0 + timedelta(seconds=50)),
        point(2.0, T0),
        point(7.0, T0 + MINUTE),
    )
    assert buckets(store, aggregation=aggregation) == [({}, [(T0, first), (T0 + MINUTE, second)])]


def test_buckets_without_data_are_omitted_and_times_are_aware_utc(store: TelemetryStore) -> None:
    append_points(store, point(1.0, T0), point(2.0, T0 + 10 * MINUTE))
    [series] = store.query_buckets(BucketQuery("cpu", WIDE, MINUTE))
    assert series.times == [T0, T0 + 10 * MINUTE]
    assert all(t.utcoffset() == timedelta(0) for t in series.times)


def test_unknown_metric_has_no_series(store: TelemetryStore) -> None:
    append_points(store, point(1.0, T0))
    assert buckets(store, name="memory") == []


def test_range_is_half_open(store: TelemetryStore) -> None:
    append_points(store, point(1.0, T0 - timedelta(microseconds=1)), point(2.0, T0))
    append_points(store, point(4.0, T0 + MINUTE - timedelta(microseconds=1)))
    append_points(store, point(8.0, T0 + MINUTE))
    assert buckets(store, aggregation=Aggregation.SUM, time_range=TimeRange(T0, T0 + MINUTE)) == [
        ({}, [(T0, 6.0)])
    ]


@pytest.fixture(params=["America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati"])
def local_timezone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with the process in a time zone far from UTC."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", str(request.param))
        time.tzset()
        yield str(request.param)
    time.tzset()


def test_late_utc_point_lands_in_its_utc_bucket_whatever_the_local_zone(
    local_timezone: str, open_store: StoreFactory
) -> None:
    store = open_store()  # opened after the zone change, as a server started there would be
    late = datetime(2024, 5, 1, 23, 59, 59, tzinfo=UTC)
    append_points(store, point(1.0, late))
    day = datetime(2024, 5, 1, tzinfo=UTC)
    next_day = TimeRange(day + timedelta(days=1), day + timedelta(days=2))
    assert buckets(store, step=timedelta(days=1)) == [({}, [(day, 1.0)])]
    assert buckets(store, step=HOUR) == [({}, [(day + 23 * HOUR, 1.0)])]
    assert store.count(Signal.POINTS, TimeRange(day, day + timedelta(days=1))) == 1
    assert store.count(Signal.POINTS, next_day) == 0


def test_naive_timestamps_are_taken_as_utc(store: TelemetryStore) -> None:
    naive = pa.array([T0.replace(tzinfo=None)], pa.timestamp("us"))
    batch = pa.table({"time": naive, "name": ["cpu"], "value": [1.0], "kind": ["gauge"]})
    store.append(Signal.POINTS, batch)
    assert buckets(store) == [({}, [(T0, 1.0)])]


# -- tags and grouping --------------------------------------------------------------------


@pytest.fixture
def fleet(store: TelemetryStore) -> TelemetryStore:
    append_points(
        store,
        point(1.0, T0, service="api", host="a"),
        point(3.0, T0, service="api", host="b"),
        point(10.0, T0, service="db", host="a"),
        point(100.0, T0),
        point(5.0, T0, service="api", host="a", name="memory"),
    )
    return store


def test_tag_filter_selects_only_matching_series(fleet: TelemetryStore) -> None:
    assert buckets(fleet, tags={"service": "api"}) == [
        ({"host": "a", "service": "api"}, [(T0, 1.0)]),
        ({"host": "b", "service": "api"}, [(T0, 3.0)]),
    ]
    assert buckets(fleet, tags={"service": "api", "host": "b"}) == [
        ({"host": "b", "service": "api"}, [(T0, 3.0)])
    ]
    assert buckets(fleet, tags={"service": "web"}) == []
    assert buckets(fleet, tags={"zone": "x"}) == []


def test_group_by_none_keeps_every_series_apart_ordered_by_tags(fleet: TelemetryStore) -> None:
    assert buckets(fleet, aggregation=Aggregation.SUM) == [
        ({}, [(T0, 100.0)]),
        ({"host": "a", "service": "api"}, [(T0, 1.0)]),
        ({"host": "a", "service": "db"}, [(T0, 10.0)]),
        ({"host": "b", "service": "api"}, [(T0, 3.0)]),
    ]


def test_tag_order_does_not_split_a_series(store: TelemetryStore) -> None:
    first = Point("cpu", 1.0, T0, {"service": "api", "host": "a"})
    second = Point("cpu", 3.0, T0, {"host": "a", "service": "api"})
    append_points(store, first, second)
    assert buckets(store) == [({"host": "a", "service": "api"}, [(T0, 2.0)])]


def test_group_by_a_tag_merges_the_other_tags(fleet: TelemetryStore) -> None:
    assert buckets(fleet, aggregation=Aggregation.SUM, group_by=("service",)) == [
        ({}, [(T0, 100.0)]),  # points without the tag group together
        ({"service": "api"}, [(T0, 4.0)]),
        ({"service": "db"}, [(T0, 10.0)]),
    ]


def test_group_by_empty_merges_everything(fleet: TelemetryStore) -> None:
    assert buckets(fleet, aggregation=Aggregation.SUM, group_by=()) == [({}, [(T0, 114.0)])]
    assert buckets(fleet, aggregation=Aggregation.COUNT, group_by=()) == [({}, [(T0, 4.0)])]


def test_filter_and_group_combine(fleet: TelemetryStore) -> None:
    found = buckets(fleet, aggregation=Aggregation.MAX, tags={"host": "a"}, group_by=("host",))
    assert found == [({"host": "a"}, [(T0, 10.0)])]


def test_query_text_is_bound_not_interpolated(store: TelemetryStore) -> None:
    hostile = "cpu' OR '1'='1"
    append_points(store, point(1.0, T0), point(2.0, T0, name=hostile, **{"k'": "v'); --"}))
    assert buckets(store, name=hostile, tags={"k'": "v'); --"}) == [
        ({"k'": "v'); --"}, [(T0, 2.0)])
    ]
    assert buckets(store, name="cpu") == [({}, [(T0, 1.0)])]
    assert store.metric_names(prefix="cpu'") == [hostile]


# -- metric names -------------------------------------------------------------------------


def test_metric_names_are_distinct_sorted_and_prefix_filtered(store: TelemetryStore) -> None:
    names = ["http.requests", "cpu", "http.errors", "cpu", "disk"]
    append_points(store, *[point(1.0, T0, name=n) for n in names])
    assert store.metric_names() == ["cpu", "disk", "http.errors", "http.requests"]
    assert store.metric_names(prefix="http.") == ["http.errors", "http.requests"]
    assert store.metric_names(limit=2) == ["cpu", "disk"]
    assert store.metric_names(prefix="nope") == []


def test_metric_name_prefix_is_literal_not_a_pattern(store: TelemetryStore) -> None:
    append_points(store, point(1.0, T0, name="a_b"), point(1.0, T0, name="axb"))
    assert store.metric_names(prefix="a_") == ["a_b"]
    assert store.metric_names(prefix="%") == []


# -- batch validation ---------------------------------------------------------------------


def test_missing_required_column_is_rejected_naming_it(store: TelemetryStore) -> None:
    batch = points_batch([point(1.0, T0)]).drop_columns(["value"])
    with pytest.raises(InvalidInputError, match="'value'") as caught:
        store.append(Signal.POINTS, batch)
    assert caught.value.field == "value"
    assert store.count(Signal.POINTS) == 0


def test_wrong_column_type_is_rejected_naming_it(store: TelemetryStore) -> None:
    batch = pa.table({"time": [T0], "name": ["cpu"], "value": ["1.5"], "kind": ["gauge"]})
    with pytest.raises(InvalidInputError, match="'value'") as caught:
        store.append(Signal.POINTS, batch)
    assert caught.value.field == "value"


def test_null_in_required_column_is_rejected_and_nothing_is_stored(store: TelemetryStore) -> None:
    batch = pa.table(
        {"time": [T0, T0], "name": ["cpu", None], "value": [1.0, 2.0], "kind": ["gauge"] * 2}
    )
    with pytest.raises(InvalidInputError, match="'name'"):
        store.append(Signal.POINTS, batch)
    assert store.count(Signal.POINTS) == 0


def test_attributes_must_be_json_text(store: TelemetryStore) -> None:
    batch = one_of_each(Signal.LOGS).set_column(4, "attributes", pa.array(["{not json"]))
    with pytest.raises(InvalidInputError, match="attributes") as caught:
        store.append(Signal.LOGS, batch)
    assert caught.value.field == "attributes"
    assert store.count(Signal.LOGS) == 0


def test_missing_nullable_columns_are_filled_with_nulls(store: TelemetryStore) -> None:
    events = pa.table({"title": ["deploy"], "kind": ["deploy"], "time": [T0]})
    assert store.append(Signal.EVENTS, events) == 1
    points = pa.table({"time": [T0], "name": ["cpu"], "value": [2.0], "kind": ["gauge"]})
    assert store.append(Signal.POINTS, points) == 1
    assert buckets(store) == [({}, [(T0, 2.0)])]


def test_extra_and_reordered_columns_are_accepted(store: TelemetryStore) -> None:
    batch = points_batch([point(1.0, T0, service="api")])
    reordered = batch.select(["kind", "value", "tags", "name", "time"])
    extra = reordered.append_column("note", pa.array(["ignored"]))
    assert store.append(Signal.POINTS, extra) == 1
    assert buckets(store) == [({"service": "api"}, [(T0, 1.0)])]


def test_compatible_column_types_are_converted(store: TelemetryStore) -> None:
    batch = pa.table(
        {
            "time": pa.array([T0], pa.timestamp("ns", tz="Asia/Tokyo")),
            "name": pa.array(["cpu"], pa.large_string()),
            "value": pa.array([3], pa.int64()),
            "kind": pa.array(["gauge"]).dictionary_encode(),
        }
    )
    assert store.append(Signal.POINTS, batch) == 1
    assert buckets(store) == [({}, [(T0, 3.0)])]


# -- durability, concurrency, volume ------------------------------------------------------


def test_reopened_file_store_keeps_data(backend: str, tmp_path: Path) -> None:
    path = str(tmp_path / "nested" / "dir" / "telemetry.db")
    store = open_telemetry_store(backend, path)
    append_points(store, point(1.0, T0), point(3.0, T0 + timedelta(seconds=1)))
    store.append(Signal.LOGS, one_of_each(Signal.LOGS))
    store.close()
    reopened = open_telemetry_store(backend, path)
    try:
        assert reopened.count(Signal.LOGS) == 1
        assert buckets(reopened) == [({}, [(T0, 2.0)])]
    finally:
        reopened.close()


def test_concurrent_appends_from_four_threads_lose_nothing(store: TelemetryStore) -> None:
    batches_per_thread, per_batch = 25, 200
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(thread: int) -> None:
        try:
            start.wait()
            for b in range(batches_per_thread):
                at = T0 + timedelta(seconds=b)
                rows = [point(1.0, at, thread=str(thread)) for _ in range(per_batch)]
                store.append(Signal.POINTS, points_batch(rows))
                store.count(Signal.POINTS)  # reads interleave with writes
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count(Signal.POINTS) == 4 * batches_per_thread * per_batch
    totals = buckets(store, step=HOUR, aggregation=Aggregation.COUNT, group_by=("thread",))
    assert [values for _, values in totals] == [[(T0, 5000.0)]] * 4


def test_large_batch_appends_in_one_call(store: TelemetryStore) -> None:
    n = 100_000
    times = pa.array([T0 + timedelta(milliseconds=i) for i in range(n)], pa.timestamp("us", "UTC"))
    tags = pa.array([[("service", "api")]] * n, pa.map_(pa.string(), pa.string()))
    batch = pa.table(
        {
            "time": times,
            "name": ["cpu"] * n,
            "tags": tags,
            "value": [1.0] * n,
            "kind": ["gauge"] * n,
        }
    )
    assert store.append(Signal.POINTS, batch) == n
    assert store.count(Signal.POINTS) == n
    assert buckets(store, step=HOUR, aggregation=Aggregation.SUM, group_by=()) == [
        ({}, [(T0, float(n))])
    ]


# -- opening stores -----------------------------------------------------------------------


def test_file_store_creates_parent_directories(backend: str, tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "telemetry.db"
    open_telemetry_store(backend, str(path)).close()
    assert path.parent.is_dir()


def test_unknown_backend_is_a_config_error_naming_accepted_values() -> None:
    with pytest.raises(ConfigError, match="duckdb") as caught:
        open_telemetry_store("clickhouse-typo", ":memory:")
    assert "clickhouse-typo" in caught.value.message


def test_public_names_are_pinned() -> None:
    assert sorted(telemetry_package.__all__) == [
        "BACKENDS",
        "DuckDBTelemetryStore",
        "open_telemetry_store",
    ]
