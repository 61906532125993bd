"""Prometheus exposition to points: the mapping, both formats, timestamps and start times."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
from prometheus_client import generate_latest as text_exposition
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_exposition

from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind
from radiator.ingest import BatchBuilder
from radiator.ingest.prometheus import (
    Mapped,
    decode_exposition,
    family_of,
    map_sample,
    parse_exposition,
    scrape_health,
    target_tags,
)
from radiator.ingest.prometheus_counters import CounterTracker

NOW_US = int(datetime(2026, 11, 23, 12, tzinfo=UTC).timestamp() * 1_000_000)
TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TARGET = {"job": "shop", "instance": "10.0.0.5:8000"}

Rows = dict[tuple[str, frozenset[tuple[str, str]]], dict[str, Any]]


class Scrapes:
    """Decodes successive expositions of one target like the scrape job does."""

    def __init__(self) -> None:
        self.tracker = CounterTracker()
        self.since: int | None = None
        # An hour ago: client libraries stamp _created with the real clock, which must come
        # after the pretended scrapes.
        self.now = int((time.time() - 3600) * 1_000_000)

    def decode(self, text: str, content_type: str = TEXT) -> tuple[int, BatchBuilder, Rows]:
        builder = BatchBuilder(self.now)
        scraped = decode_exposition(
            text,
            content_type,
            builder,
            self.tracker.batch(),
            target=TARGET,
            scrape_us=self.now,
            since_us=self.since,
        )
        self.since = self.now
        self.now += 15_000_000
        return scraped, builder, rows_of(builder)


def rows_of(builder: BatchBuilder) -> Rows:
    table = builder.tables().get(Signal.POINTS)
    rows = table.to_pylist() if table is not None else []
    return {(r["name"], frozenset(r["tags"])): r for r in rows}


def key(name: str, **tags: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset({**tags, **TARGET}.items())


def application() -> tuple[CollectorRegistry, dict[str, Any]]:
    registry = CollectorRegistry()
    metrics: dict[str, Any] = {
        "counter": Counter("orders", "Orders.", ["plan"], registry=registry),
        "gauge": Gauge("queue_depth", "Queue.", registry=registry),
        "histogram": Histogram(
            "latency_seconds", "Latency.", buckets=(0.1, 1.0), registry=registry
        ),
        "summary": Summary("payload_bytes", "Payloads.", registry=registry),
    }
    return registry, metrics


# -- mapping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "family_type", "sample", "has_le", "expected"),
    [
        (
            "orders",
            "counter",
            "orders_total",
            False,
            Mapped("orders_total", MetricKind.COUNTER, True),
        ),
        ("orders", "counter", "orders_created", False, None),
        ("q", "gauge", "q", False, Mapped("q", MetricKind.GAUGE, False)),
        ("q", "unknown", "q", False, Mapped("q", MetricKind.GAUGE, False)),
        ("l", "histogram", "l_bucket", True, Mapped("l", MetricKind.HISTOGRAM, True)),
        ("l", "histogram", "l_sum", False, Mapped("l.sum", MetricKind.COUNTER, True)),
        ("l", "histogram", "l_count", False, Mapped("l.count", MetricKind.COUNTER, True)),
        ("l", "histogram", "l_created", False, None),
        ("p", "summary", "p", False, Mapped("p", MetricKind.GAUGE, False)),
        ("p", "summary", "p_count", False, Mapped("p.count", MetricKind.COUNTER, True)),
        ("b", "info", "b_info", False, Mapped("b_info", MetricKind.GAUGE, False)),
        ("g", "gaugehistogram", "g_bucket", True, Mapped("g_bucket", MetricKind.GAUGE, False)),
    ],
)
def test_samples_map_by_their_family_type(
    family: str, family_type: str, sample: str, has_le: bool, expected: Mapped | None
) -> None:
    assert map_sample(family, family_type, sample, has_le) == expected


@pytest.mark.parametrize(
    ("sample", "has_le", "expected"),
    [
        ("http_requests_total", False, Mapped("http_requests_total", MetricKind.COUNTER, True)),
        ("latency_bucket", True, Mapped("latency", MetricKind.HISTOGRAM, True)),
        ("odd_bucket", False, Mapped("odd_bucket", MetricKind.COUNTER, True)),
        ("latency_sum", False, Mapped("latency.sum", MetricKind.COUNTER, True)),
        ("latency_count", False, Mapped("latency.count", MetricKind.COUNTER, True)),
        ("node_load1", False, Mapped("node_load1", MetricKind.GAUGE, False)),
    ],
)
def test_without_a_type_the_suffix_decides(sample: str, has_le: bool, expected: Mapped) -> None:
    assert map_sample(sample, None, sample, has_le) == expected


def test_family_lookup_tries_the_exact_name_then_without_the_suffix() -> None:
    known = {"latency": "histogram", "jobs_count": "gauge"}

    assert family_of("latency_bucket", known) == ("latency", "histogram")
    assert family_of("jobs_count", known) == ("jobs_count", "gauge")
    assert family_of("other_total", known) == ("other_total", None)


def test_target_labels_win_and_clashing_exposed_labels_are_kept_as_exported() -> None:
    tags = target_tags({"job": "inner", "path": "/", "empty": ""}, TARGET)

    assert tags == {"exported_job": "inner", "path": "/", **TARGET}


# -- a real client library's exposition -----------------------------------------------------


@pytest.mark.parametrize(
    ("render", "content_type"),
    [(text_exposition, TEXT), (openmetrics_exposition, OPENMETRICS)],
    ids=["text", "openmetrics"],
)
def test_two_scrapes_of_a_client_library_give_deltas_gauges_and_buckets(
    render: Any, content_type: str
) -> None:
    registry, m = application()
    m["counter"].labels("pro").inc(3)
    m["gauge"].set(7)
    m["histogram"].observe(0.05)
    m["summary"].observe(100)
    scrapes = Scrapes()

    scraped, _, first = scrapes.decode(render(registry).decode(), content_type)

    assert scraped > 0
    assert set(first) == {key("queue_depth")}, "cumulative series start as a baseline"
    m["counter"].labels("pro").inc(2)
    m["gauge"].set(4)
    m["histogram"].observe(0.5)
    m["histogram"].observe(5)
    m["summary"].observe(50)

    _, builder, second = scrapes.decode(render(registry).decode(), content_type)

    assert builder.result.rejected == 0
    counter = second[key("orders_total", plan="pro")]
    assert (counter["value"], counter["kind"]) == (2.0, "counter")
    assert second[key("queue_depth")]["value"] == 4.0
    assert second[key("queue_depth")]["kind"] == "gauge"
    buckets = {
        dict(k[1])["le"]: row["value"] for k, row in second.items() if k[0] == "latency_seconds"
    }
    assert buckets == {"0.1": 0.0, "1.0": 1.0, "+Inf": 2.0}
    assert {row["kind"] for k, row in second.items() if k[0] == "latency_seconds"} == {"histogram"}
    assert second[key("latency_seconds.count")]["value"] == 2.0
    assert second[key("latency_seconds.sum")]["value"] == pytest.approx(5.5)
    assert second[key("payload_bytes.count")]["value"] == 1.0
    assert second[key("payload_bytes.sum")]["value"] == 50.0
    assert not any(name.endswith("_created") for name, _ in second), "start times not stored"
    assert all(
        row["time"] == datetime.fromtimestamp(scrapes.since / 1e6, UTC) for row in second.values()
    )


@pytest.mark.parametrize(
    ("render", "content_type"),
    [(text_exposition, TEXT), (openmetrics_exposition, OPENMETRICS)],
    ids=["text", "openmetrics"],
)
def test_a_series_created_between_scrapes_counts_in_full(render: Any, content_type: str) -> None:
    registry, m = application()
    m["counter"].labels("pro").inc()
    scrapes = Scrapes()
    scrapes.decode(render(registry).decode(), content_type)
    m["counter"].labels("free").inc(4)

    _, _, rows = scrapes.decode(render(registry).decode(), content_type)

    assert rows[key("orders_total", plan="free")]["value"] == 4.0
    assert rows[key("orders_total", plan="pro")]["value"] == 0.0


def test_a_series_created_before_the_previous_scrape_is_a_baseline() -> None:
    exposition = '# TYPE jobs counter\njobs_total{kind="a"} 5\njobs_created{kind="a"} 1000\n# EOF\n'
    scrapes = Scrapes()
    scrapes.decode("# TYPE other gauge\nother 1\n# EOF\n", OPENMETRICS)

    _, _, rows = scrapes.decode(exposition, OPENMETRICS)

    assert key("jobs_total", kind="a") not in rows


def test_a_counter_reset_counts_the_new_value() -> None:
    scrapes = Scrapes()
    scrapes.decode("# TYPE jobs_total counter\njobs_total 10\n")
    scrapes.decode("# TYPE jobs_total counter\njobs_total 12\n")

    _, _, rows = scrapes.decode("# TYPE jobs_total counter\njobs_total 3\n")

    assert rows[key("jobs_total")]["value"] == 3.0


def test_exposition_timestamps_are_used_and_repeats_are_not_counted_twice() -> None:
    scrapes = Scrapes()
    text = "# TYPE t gauge\nt 1 1763895600000\n# TYPE c_total counter\nc_total 5 1763895600000\n"
    _, _, first = scrapes.decode(text)
    assert first[key("t")]["time"] == datetime(2025, 11, 23, 11, tzinfo=UTC)

    later = text.replace("c_total 5 1763895600000", "c_total 9 1763895615000")
    scrapes.decode(text)  # the same timestamp again: a duplicate, no delta
    _, _, rows = scrapes.decode(later)

    assert rows[key("c_total")]["value"] == 4.0
    assert rows[key("c_total")]["time"] == datetime(2025, 11, 23, 11, 0, 15, tzinfo=UTC)


def test_openmetrics_timestamps_are_seconds() -> None:
    _, _, rows = Scrapes().decode("# TYPE t gauge\nt 1 1763895600.5\n# EOF\n", OPENMETRICS)

    assert rows[key("t")]["time"] == datetime(2025, 11, 23, 11, 0, 0, 500000, tzinfo=UTC)


def test_untyped_samples_are_gauges_and_nan_is_skipped() -> None:
    _, builder, rows = Scrapes().decode("plain 3\nnothing NaN\n")

    assert rows[key("plain")]["kind"] == "gauge"
    assert key("nothing") not in rows
    assert builder.result.rejected == 0


def test_infinite_values_are_rejected_not_stored() -> None:
    _, builder, rows = Scrapes().decode("big +Inf\nfine 1\n")

    assert set(rows) == {key("fine")}
    assert builder.result.rejected == 1
    assert "finite" in builder.result.errors[0].reason


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        ("not an exposition {{{", TEXT),
        ('broken{label="x} 1\n', TEXT),
        ("# TYPE a gauge\na 1\n", OPENMETRICS),  # no # EOF
    ],
)
def test_a_body_that_does_not_parse_raises_value_error(text: str, content_type: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_exposition(text, content_type)


def test_a_failed_parse_adds_nothing() -> None:
    builder = BatchBuilder(NOW_US)
    with pytest.raises(ValueError, match=r".*"):
        decode_exposition(
            "ok 1\nbroken{{ 1\n",
            TEXT,
            builder,
            CounterTracker().batch(),
            target=TARGET,
            scrape_us=NOW_US,
            since_us=None,
        )
    assert builder.result.accepted == 0


def test_scrape_health_writes_up_duration_and_sample_count() -> None:
    builder = BatchBuilder(NOW_US)

    scrape_health(builder, TARGET, up=False, duration_s=0.25, samples=0, scrape_us=NOW_US)

    rows = rows_of(builder)
    assert rows[key("up")]["value"] == 0.0
    assert rows[key("scrape_duration_seconds")]["value"] == 0.25
    assert rows[key("scrape_samples_scraped")]["value"] == 0.0
    assert {row["kind"] for row in rows.values()} == {"gauge"}
