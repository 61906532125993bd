"""StatsD aggregation per flush interval, checked against hand-computed values."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import TimeRange
from radiator.errors import OverloadedError
from radiator.ingest import BatchBuilder, SeriesLimiter, statsd_aggregate
from radiator.ingest.selfmetrics import SelfMetrics
from radiator.ingest.statsd_aggregate import FlushReport, StatsdAggregator
from radiator.ingest.statsd_summary import EXACT_SAMPLES, TimerSummary
from radiator.runtime import Runtime

NOW_US = 1_763_900_000_000_000
STATS = ("count", "sum", "min", "max", "p50", "p90", "p95", "p99")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def metrics() -> SelfMetrics:
    return SelfMetrics()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def agg(metrics: SelfMetrics, clock: FakeClock) -> StatsdAggregator:
    return StatsdAggregator(metrics, max_keys=1000, gauge_ttl_seconds=60, monotonic=clock)


def send(agg: StatsdAggregator, *lines: str) -> None:
    agg.add("\n".join(lines).encode())


def drain(agg: StatsdAggregator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Flush one interval into a builder; returns (points, events) as rows."""
    builder = BatchBuilder(NOW_US, SeriesLimiter(10_000))
    agg.drain_into(builder)
    assert builder.result.errors == []
    tables = builder.tables()
    rows: list[list[dict[str, Any]]] = []
    for signal in (Signal.POINTS, Signal.EVENTS):
        if signal not in tables:
            rows.append([])
            continue
        table = tables[signal]
        assert table.schema == SCHEMAS[signal]
        found = table.to_pylist()
        for row, micros in zip(found, table.column("time").cast("int64").to_pylist(), strict=True):
            row["time"] = micros
            if "tags" in row:
                row["tags"] = dict(row["tags"])
        rows.append(found)
    return rows[0], rows[1]


def values(points: list[dict[str, Any]]) -> dict[tuple[str, tuple[tuple[str, str], ...]], Any]:
    return {(p["name"], tuple(sorted(p["tags"].items()))): p["value"] for p in points}


def kinds(points: list[dict[str, Any]]) -> dict[str, str]:
    return {p["name"]: p["kind"] for p in points}


def counted(metrics: SelfMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    now = datetime.now(UTC)
    return {
        (p.name, tuple(sorted(p.tags.items()))): p.value
        for p in metrics.drain(now)
        if p.name.startswith("radiator.statsd.")
    }


# -- counters -------------------------------------------------------------------------------


def test_counters_are_summed_per_series_with_sample_rate_correction(agg: StatsdAggregator) -> None:
    send(agg, "hits:1|c", "hits:1|c", "hits:1|c", "hits:1|c|@0.5", "hits:2|c|@0.5")
    send(agg, "hits:1|c|#route:/a", "hits:0.5|c|@0.1|#route:/a")
    points, _ = drain(agg)
    # 3 + 1/0.5 + 2/0.5 = 9; 1 + 0.5/0.1 = 6
    assert values(points) == {("hits", ()): 9.0, ("hits", (("route", "/a"),)): 6.0}
    assert kinds(points) == {"hits": "counter"}
    assert {p["time"] for p in points} == {NOW_US}


def test_counters_are_deltas_written_only_when_something_arrived(agg: StatsdAggregator) -> None:
    send(agg, "hits:5|c")
    assert values(drain(agg)[0]) == {("hits", ()): 5.0}
    assert drain(agg)[0] == []
    send(agg, "hits:2|c")
    assert values(drain(agg)[0]) == {("hits", ()): 2.0}


def test_lines_with_their_own_timestamp_are_kept_apart_and_stored_at_it(
    agg: StatsdAggregator,
) -> None:
    send(agg, "hits:1|c|T1763899000", "hits:2|c|T1763899000", "hits:4|c")
    points, _ = drain(agg)
    assert sorted((p["time"], p["value"]) for p in points) == [
        (1_763_899_000_000_000, 3.0),
        (NOW_US, 4.0),
    ]


# -- gauges ---------------------------------------------------------------------------------


def test_gauges_keep_the_last_value_and_apply_changes(agg: StatsdAggregator) -> None:
    send(agg, "queue:10|g", "queue:+5|g", "queue:-3|g", "pool:7|g|#db:main")
    points, _ = drain(agg)
    assert values(points) == {("queue", ()): 12.0, ("pool", (("db", "main"),)): 7.0}
    assert set(kinds(points).values()) == {"gauge"}
    # No news: the same values again, as StatsD does.
    assert values(drain(agg)[0]) == {("queue", ()): 12.0, ("pool", (("db", "main"),)): 7.0}
    send(agg, "queue:-20|g", "pool:3|g|#db:main")
    assert values(drain(agg)[0]) == {("queue", ()): -8.0, ("pool", (("db", "main"),)): 3.0}


def test_a_change_to_an_unknown_gauge_starts_from_zero(agg: StatsdAggregator) -> None:
    send(agg, "fresh:+4|g")
    assert values(drain(agg)[0]) == {("fresh", ()): 4.0}


def test_setting_a_negative_gauge_takes_zero_then_a_change(agg: StatsdAggregator) -> None:
    # What the statsd package sends for gauge("temp", -5).
    send(agg, "temp:0|g", "temp:-5|g")
    assert values(drain(agg)[0]) == {("temp", ()): -5.0}


def test_gauges_not_updated_for_the_ttl_are_forgotten(
    agg: StatsdAggregator, clock: FakeClock
) -> None:
    send(agg, "old:1|g")
    clock.now += 30
    send(agg, "new:2|g")
    clock.now += 31  # old: 61 s without an update (ttl 60), new: 31 s
    assert values(drain(agg)[0]) == {("new", ()): 2.0}
    send(agg, "old:+1|g")  # forgotten, so it starts again from zero
    assert values(drain(agg)[0]) == {("new", ()): 2.0, ("old", ()): 1.0}


def test_timestamped_gauges_are_written_once_at_their_time(agg: StatsdAggregator) -> None:
    send(agg, "temp:20|g|T1763899000", "temp:21|g|T1763899000")
    points, _ = drain(agg)
    assert [(p["time"], p["value"]) for p in points] == [(1_763_899_000_000_000, 21.0)]
    assert drain(agg)[0] == []


# -- sets -----------------------------------------------------------------------------------


def test_sets_count_distinct_members_per_interval(agg: StatsdAggregator) -> None:
    send(agg, "users:alice|s", "users:bob|s", "users:alice|s", "users:carol|s|#plan:pro")
    points, _ = drain(agg)
    assert values(points) == {("users", ()): 2.0, ("users", (("plan", "pro"),)): 1.0}
    assert kinds(points) == {"users": "gauge"}
    send(agg, "users:alice|s")
    assert values(drain(agg)[0]) == {("users", ()): 1.0}


def test_set_members_past_the_cap_are_dropped_and_counted(
    agg: StatsdAggregator, metrics: SelfMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statsd_aggregate, "MAX_SET_MEMBERS", 3)
    send(agg, *(f"users:u{i}|s" for i in range(5)), "users:u0|s")
    assert values(drain(agg)[0]) == {("users", ()): 3.0}
    assert counted(metrics)[("radiator.statsd.overflow", ())] == 2


# -- timers, histograms, distributions ------------------------------------------------------


def test_timer_summary_with_sample_rates_hand_computed(agg: StatsdAggregator) -> None:
    send(agg, "api.latency:1:2:3:4:5|ms", "api.latency:6:7:8:9:10|ms|@0.5")
    points, _ = drain(agg)
    got = {name.removeprefix("api.latency."): value for (name, _), value in values(points).items()}
    # count: 5 + 5/0.5; sum: 15 + 40/0.5; nearest rank over the 10 values received.
    assert got == {
        "count": 15.0,
        "sum": 95.0,
        "min": 1.0,
        "max": 10.0,
        "p50": 5.0,
        "p90": 9.0,
        "p95": 10.0,
        "p99": 10.0,
    }
    assert set(kinds(points).values()) == {"timer"}


@pytest.mark.parametrize("kind", ["h", "d"])
def test_histograms_and_distributions_are_summarised_like_timers(
    agg: StatsdAggregator, kind: str
) -> None:
    send(agg, f"payload:300|{kind}|#svc:a", f"payload:100|{kind}|#svc:a")
    points, _ = drain(agg)
    got = {p["name"]: p["value"] for p in points}
    assert got == {
        "payload.count": 2.0,
        "payload.sum": 400.0,
        "payload.min": 100.0,
        "payload.max": 300.0,
        "payload.p50": 100.0,
        "payload.p90": 300.0,
        "payload.p95": 300.0,
        "payload.p99": 300.0,
    }
    assert {tuple(p["tags"].items()) for p in points} == {(("svc", "a"),)}


def test_one_sample_is_every_statistic(agg: StatsdAggregator) -> None:
    send(agg, "t:42|ms")
    got = {p["name"]: p["value"] for p in drain(agg)[0]}
    assert got == {f"t.{stat}": (1.0 if stat == "count" else 42.0) for stat in STATS}


def test_many_samples_keep_percentiles_within_one_percent(agg: StatsdAggregator) -> None:
    for start in range(1, 10_001, 100):
        send(agg, "t:" + ":".join(str(v) for v in range(start, start + 100)) + "|ms")
    got = {p["name"]: p["value"] for p in drain(agg)[0]}
    assert got["t.count"] == 10_000
    assert got["t.sum"] == sum(range(1, 10_001))
    assert (got["t.min"], got["t.max"]) == (1.0, 10_000.0)
    for stat, exact in (("p50", 5000), ("p90", 9000), ("p95", 9500), ("p99", 9900)):
        assert got[f"t.{stat}"] == pytest.approx(exact, rel=0.01), stat


def test_sketch_handles_negative_zero_and_tiny_values() -> None:
    summary = TimerSummary()
    samples = [-50.0, -1.0, 0.0, 1e-12, 0.0] * 200 + [3.0] * 100
    for value in samples:
        summary.add((value,), 1.0)
    assert summary.samples is None  # past EXACT_SAMPLES the sketch took over
    ordered = sorted(samples)
    for label, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        exact = ordered[math.ceil(q * len(samples)) - 1]
        assert summary.quantiles()[label] == pytest.approx(exact, rel=0.01, abs=1e-9), label
    assert len(samples) > EXACT_SAMPLES


def test_sums_beyond_the_float_range_are_refused_not_raised(agg: StatsdAggregator) -> None:
    send(agg, "huge:1e308:1e308|ms", "big:1e308|c", "big:1e308|c", "fine:1|c")
    builder = BatchBuilder(NOW_US, SeriesLimiter(10_000))
    report = agg.drain_into(builder)
    assert report.rejected == 2  # big (counter) and huge.sum
    assert all("finite" in error.reason for error in builder.result.errors)
    stored = {row["name"] for row in builder.tables()[Signal.POINTS].to_pylist()}
    assert "fine" in stored and "huge.max" in stored and "huge.sum" not in stored


# -- events and service checks --------------------------------------------------------------


def test_events_map_kind_service_environment_and_attributes(agg: StatsdAggregator) -> None:
    title, text = "checkout 1.4.2", "by CI"
    send(
        agg,
        f"_e{{{len(title)},{len(text)}}}:{title}|{text}|d:1763899000|h:web-1|p:low|t:success"
        "|#kind:deploy,service:checkout,env:prod,actor:ci-bot,version:1.4.2",
        "_e{6,0}:hello!||#kind:weird",
        "_e{5,0}:plain|",
    )
    _, events = drain(agg)
    deploy, weird, plain = events
    assert deploy["kind"] == "deploy"
    assert (deploy["service"], deploy["environment"], deploy["actor"]) == (
        "checkout",
        "prod",
        "ci-bot",
    )
    assert deploy["time"] == 1_763_899_000_000_000
    assert deploy["title"] == title
    assert json.loads(deploy["attributes"]) == {
        "text": "by CI",
        "host": "web-1",
        "priority": "low",
        "alert_type": "success",
        "tags": {"version": "1.4.2"},
    }
    assert weird["kind"] == "custom"
    assert json.loads(weird["attributes"]) == {"tags": {"kind": "weird"}}
    assert (plain["kind"], plain["time"], plain["service"]) == ("custom", NOW_US, "")


def test_service_checks_become_status_gauges(agg: StatsdAggregator) -> None:
    send(agg, "_sc|db.up|0|#env:prod", "_sc|db.up|2|#env:prod|m:down", "_sc|cache.up|1|h:c-1")
    points, _ = drain(agg)
    assert values(points) == {
        ("db.up.status", (("env", "prod"),)): 2.0,
        ("cache.up.status", (("host", "c-1"),)): 1.0,
    }
    assert set(kinds(points).values()) == {"gauge"}
    assert drain(agg)[0] == []  # a check is not repeated like a gauge


# -- bounds and self-metrics ----------------------------------------------------------------


def test_series_past_max_keys_are_dropped_and_counted(
    metrics: SelfMetrics, clock: FakeClock
) -> None:
    agg = StatsdAggregator(metrics, max_keys=3, monotonic=clock)
    send(agg, *(f"c{i}:1|c" for i in range(5)), "c0:1|c", "t9:1|ms", "s9:x|s", "_e{1,0}:e|")
    send(agg, *(f"g{i}:1|g" for i in range(5)))
    points, events = drain(agg)
    assert values(points) == {
        ("c0", ()): 2.0,
        ("c1", ()): 1.0,
        ("c2", ()): 1.0,
        ("g0", ()): 1.0,
        ("g1", ()): 1.0,
        ("g2", ()): 1.0,
    }
    assert events == []
    # c3, c4, t9, s9, the event and g3, g4
    assert counted(metrics)[("radiator.statsd.overflow", ())] == 7
    send(agg, "c3:1|c")  # a new interval has room again
    assert ("c3", ()) in values(drain(agg)[0])


def test_received_and_rejected_lines_are_counted(
    agg: StatsdAggregator, metrics: SelfMetrics
) -> None:
    agg.add(b"ok:1|c\nbad\nx:y|c")
    agg.add_many([b"ok:1|c", b"z:1|q\nw:1|q"])
    drain(agg)
    assert counted(metrics) == {
        ("radiator.statsd.packets", ()): 3,
        ("radiator.statsd.lines", ()): 6,
        ("radiator.statsd.rejected", (("reason", "syntax"),)): 1,
        ("radiator.statsd.rejected", (("reason", "type"),)): 2,
        ("radiator.statsd.rejected", (("reason", "value"),)): 1,
    }
    assert (agg.packets_received, agg.lines_received) == (3, 6)


def test_rejected_lines_are_logged_once_per_flush_with_the_sender(
    agg: StatsdAggregator, caplog: pytest.LogCaptureFixture
) -> None:
    agg.add_many([b"ok:1|c", b"ok:1|c\nbroken"], [("10.0.0.1", 1), ("10.0.0.2", 2)])
    agg.add(b"also broken")
    drain(agg)
    (record,) = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert "2 lines rejected" in record.getMessage()
    assert "line 2 of a datagram from ('10.0.0.2', 2)" in record.getMessage()


# -- flushing into the pipeline -------------------------------------------------------------


def test_flush_goes_through_the_pipeline_into_the_store(runtime: Runtime) -> None:
    agg = StatsdAggregator(runtime.self_metrics)
    agg.add(b"checkout.completed:1|c|#plan:pro\ncheckout.completed:3|c|#plan:pro")
    report = agg.flush(runtime.ingest)
    assert report == FlushReport(points=1)
    runtime.ingest.flush()
    now = datetime.now(UTC)
    (series,) = runtime.telemetry.query_buckets(
        BucketQuery(
            name="checkout.completed",
            range=TimeRange(now - timedelta(minutes=5), now + timedelta(minutes=1)),
            step=timedelta(minutes=10),
            aggregation=Aggregation.SUM,
            group_by=("plan",),
        )
    )
    assert (series.tags, sum(series.values)) == ({"plan": "pro"}, 4.0)


class FullPipeline:
    """A pipeline whose buffer is always full."""

    def __init__(self) -> None:
        self.limiter = SeriesLimiter(10_000)

    def builder(self) -> BatchBuilder:
        return BatchBuilder(NOW_US, self.limiter)

    def submit(self, builder: BatchBuilder, protocol: str) -> None:
        raise OverloadedError("full", retry_after=1.0)


def test_a_full_pipeline_drops_the_flush_and_counts_it(
    agg: StatsdAggregator, metrics: SelfMetrics
) -> None:
    send(agg, "a:1|c", "b:2|g", "t:1|ms")
    report = agg.flush(FullPipeline())  # type: ignore[arg-type]
    assert report.dropped_overloaded == 1 + 1 + 8
    assert counted(metrics)[("radiator.statsd.overloaded_points", ())] == 10
    send(agg, "a:1|c")
    assert values(drain(agg)[0]) == {("a", ()): 1.0, ("b", ()): 2.0}  # gauges survive


def test_events_past_the_cap_are_dropped_and_counted(
    agg: StatsdAggregator, metrics: SelfMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statsd_aggregate, "MAX_EVENTS", 2)
    send(agg, "_e{1,0}:a|", "_e{1,0}:b|", "_e{1,0}:c|")
    assert [e["title"] for e in drain(agg)[1]] == ["a", "b"]
    assert counted(metrics)[("radiator.statsd.overflow", ())] == 1
