"""OTLP metrics onto Radiator points: tags, kinds, cumulative deltas, buckets, rejections."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.metrics.v1 import metrics_pb2

from radiator.ingest.otlp_cumulative import CumulativeStreams

from .otlp_support import (
    DELTA,
    NOW_NS,
    SECOND,
    decode_metrics,
    gauge,
    histogram,
    key_values,
    metrics_request,
    number,
    total,
)


def test_resource_scope_and_point_attributes_become_tags() -> None:
    request = metrics_request(
        gauge("queue.depth", number(7, attributes={"queue": "emails", "shard": 3})),
        resource={
            "service.name": "mailer",
            "deployment.environment.name": "prod",
            "k8s.namespace.name": "mail",
            "telemetry.sdk.language": "python",
            "process.pid": 4242,
            "service.instance.id": "6f1c",
        },
        scope_attributes={"team": "messaging"},
    )

    [row] = decode_metrics(request).rows

    assert row["name"] == "queue.depth"
    assert row["value"] == 7.0
    assert row["kind"] == "gauge"
    assert row["tags"] == {
        "service": "mailer",
        "environment": "prod",
        "k8s.namespace.name": "mail",
        "team": "messaging",
        "queue": "emails",
        "shard": "3",
    }
    assert row["time"].timestamp() == NOW_NS / 1e9


def test_the_older_deployment_environment_attribute_names_the_environment_too() -> None:
    request = metrics_request(
        gauge("up", number(1)),
        resource={"service.name": "api", "deployment.environment": "staging"},
    )

    [row] = decode_metrics(request).rows

    assert row["tags"] == {"service": "api", "environment": "staging"}


def test_a_point_attribute_cannot_override_the_service_from_the_resource() -> None:
    request = metrics_request(gauge("up", number(1, attributes={"service": "spoofed"})))

    [row] = decode_metrics(request).rows

    assert row["tags"]["service"] == "checkout"


def test_non_string_attributes_are_rendered_as_tag_text() -> None:
    attributes = {"ok": True, "ratio": 0.5, "ids": [1, 2], "meta": {"a": "b"}, "raw": b"\x01"}
    [row] = decode_metrics(metrics_request(gauge("x", number(1, attributes=attributes)))).rows

    assert row["tags"]["ok"] == "true"
    assert row["tags"]["ratio"] == "0.5"
    assert row["tags"]["ids"] == "[1,2]"
    assert row["tags"]["meta"] == '{"a":"b"}'
    assert row["tags"]["raw"] == "AQ=="


def test_cumulative_monotonic_sums_are_stored_as_deltas() -> None:
    streams = CumulativeStreams(since_ns=0)
    start = NOW_NS - 60 * SECOND

    first = decode_metrics(
        metrics_request(total("orders", number(5, start=start, at=NOW_NS))), streams
    )
    second = decode_metrics(
        metrics_request(total("orders", number(8, start=start, at=NOW_NS + SECOND))), streams
    )

    assert [(r["value"], r["kind"]) for r in first.rows] == [(5.0, "counter")]
    assert [(r["value"], r["kind"]) for r in second.rows] == [(3.0, "counter")]


def test_a_stream_that_started_before_watching_began_only_sets_the_baseline() -> None:
    streams = CumulativeStreams(since_ns=NOW_NS - 10 * SECOND)
    start = NOW_NS - 3600 * SECOND

    first = decode_metrics(metrics_request(total("orders", number(500, start=start))), streams)
    second = decode_metrics(
        metrics_request(total("orders", number(503, start=start, at=NOW_NS + SECOND))), streams
    )

    assert first.rows == []
    assert [r["value"] for r in second.rows] == [3.0]


def test_a_restarted_stream_counts_in_full_even_when_its_value_is_higher() -> None:
    streams = CumulativeStreams(since_ns=0)
    decode_metrics(metrics_request(total("jobs", number(2, start=NOW_NS - 60 * SECOND))), streams)

    restarted = decode_metrics(
        metrics_request(total("jobs", number(9, start=NOW_NS, at=NOW_NS + 5 * SECOND))), streams
    )

    assert [r["value"] for r in restarted.rows] == [9.0]


def test_a_resent_export_adds_nothing() -> None:
    streams = CumulativeStreams(since_ns=0)
    request = metrics_request(total("orders", number(5)))

    decode_metrics(request, streams)
    again = decode_metrics(request, streams)

    assert again.rows == []
    assert again.decoder.rejected == 0


def test_series_of_one_sum_keep_separate_state() -> None:
    streams = CumulativeStreams(since_ns=0)

    def send(at: int, pro: int, free: int) -> dict[str, float]:
        request = metrics_request(
            total(
                "signups",
                number(pro, at=at, attributes={"plan": "pro"}),
                number(free, at=at, attributes={"plan": "free"}),
            )
        )
        return {r["tags"]["plan"]: r["value"] for r in decode_metrics(request, streams).rows}

    assert send(NOW_NS, 1, 10) == {"pro": 1.0, "free": 10.0}
    assert send(NOW_NS + SECOND, 4, 11) == {"pro": 3.0, "free": 1.0}


def test_delta_sums_are_counters_as_sent() -> None:
    request = metrics_request(total("bytes.sent", number(512, at=NOW_NS), temporality=DELTA))

    [row] = decode_metrics(request).rows

    assert (row["value"], row["kind"]) == (512.0, "counter")


def test_non_monotonic_cumulative_sums_are_gauges_and_delta_ones_counters() -> None:
    request = metrics_request(
        total("queue.size", number(-3), monotonic=False),
        total("queue.change", number(-2), monotonic=False, temporality=DELTA),
    )

    decoded = decode_metrics(request)

    assert [(r["value"], r["kind"]) for r in decoded.named("queue.size")] == [(-3.0, "gauge")]
    assert [(r["value"], r["kind"]) for r in decoded.named("queue.change")] == [(-2.0, "counter")]


def test_sums_without_temporality_are_rejected_by_index() -> None:
    metric = total("x", number(1), number(2))
    metric.sum.aggregation_temporality = metrics_pb2.AGGREGATION_TEMPORALITY_UNSPECIFIED

    decoded = decode_metrics(metrics_request(gauge("ok", number(1)), metric))

    assert decoded.decoder.rejected == 2
    assert [(e.index, e.reason) for e in decoded.builder.result.errors] == [
        (1, "aggregation_temporality is unspecified"),
        (2, "aggregation_temporality is unspecified"),
    ]
    assert [r["name"] for r in decoded.rows] == ["ok"]


def test_points_without_a_recorded_value_are_skipped_silently() -> None:
    no_value = metrics_pb2.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
    decoded = decode_metrics(metrics_request(gauge("up", number(1, flags=no_value))))

    assert decoded.rows == []
    assert decoded.decoder.rejected == 0


def test_bad_points_are_rejected_with_their_index_and_the_rest_kept() -> None:
    no_value = metrics_pb2.NumberDataPoint(time_unix_nano=NOW_NS)
    request = metrics_request(
        gauge("good", number(1), number(2)),
        gauge("bad name", number(3)),
        gauge("empty", no_value),
        gauge("late", number(4, at=NOW_NS + 7200 * SECOND)),
    )

    decoded = decode_metrics(request)

    assert [r["value"] for r in decoded.rows] == [1.0, 2.0]
    assert decoded.decoder.rejected == 3
    reasons = {e.index: e.reason for e in decoded.builder.result.errors}
    assert reasons[2] == "invalid metric name 'bad name'"
    assert reasons[3] == "data point of empty has no value"
    assert "future" in reasons[4]


def test_explicit_histograms_become_le_buckets_cumulative_in_le_plus_sum_and_count() -> None:
    request = metrics_request(
        histogram("http.duration", [0.1, 1.0], [3, 2, 1], total_sum=4.5, temporality=DELTA)
    )

    decoded = decode_metrics(request)

    assert decoded.ladder("http.duration") == {"0.1": 3.0, "1.0": 5.0, "+Inf": 6.0}
    assert {r["kind"] for r in decoded.named("http.duration")} == {"histogram"}
    assert [(r["value"], r["kind"]) for r in decoded.named("http.duration.sum")] == [
        (4.5, "counter")
    ]
    assert [(r["value"], r["kind"]) for r in decoded.named("http.duration.count")] == [
        (6.0, "counter")
    ]


def test_cumulative_histograms_are_stored_as_deltas_per_bucket() -> None:
    streams = CumulativeStreams(since_ns=0)
    decode_metrics(metrics_request(histogram("lat", [10.0], [1, 1], total_sum=30.0)), streams)

    later = decode_metrics(
        metrics_request(histogram("lat", [10.0], [4, 2], total_sum=60.0, at=NOW_NS + SECOND)),
        streams,
    )

    assert later.ladder("lat") == {"10.0": 3.0, "+Inf": 4.0}
    assert later.named("lat.sum")[0]["value"] == 30.0
    assert later.named("lat.count")[0]["value"] == 4.0


def test_a_histogram_without_buckets_or_sum_keeps_its_count() -> None:
    metric = metrics_request(histogram("h", [], [], temporality=DELTA))
    metric.resource_metrics[0].scope_metrics[0].metrics[0].histogram.data_points[0].count = 7

    decoded = decode_metrics(metric)

    assert decoded.ladder("h") == {"+Inf": 7.0}
    assert decoded.named("h.sum") == []
    assert decoded.named("h.count")[0]["value"] == 7.0


def test_a_cumulative_histogram_that_gains_its_buckets_counts_in_full() -> None:
    streams = CumulativeStreams(since_ns=0)
    decode_metrics(metrics_request(histogram("h", [], [])), streams)

    later = decode_metrics(metrics_request(histogram("h", [], [4], at=NOW_NS + SECOND)), streams)

    assert later.ladder("h") == {"+Inf": 4.0}


@pytest.mark.parametrize(
    ("bounds", "counts"),
    [([1.0, 2.0], [1, 1]), ([2.0, 1.0], [1, 1, 1]), ([math.inf], [1, 1])],
)
def test_inconsistent_histograms_are_rejected(bounds: list[float], counts: list[int]) -> None:
    decoded = decode_metrics(metrics_request(histogram("h", bounds, counts, temporality=DELTA)))

    assert decoded.rows == []
    assert decoded.decoder.rejected == 1
    assert decoded.builder.result.errors[0].reason.startswith("histogram h: ")


def _exponential(
    scale: int,
    positive: tuple[int, list[int]],
    negative: tuple[int, list[int]] = (0, []),
    zero: int = 0,
    *,
    at: int = NOW_NS,
    temporality: int = DELTA,
) -> metrics_pb2.Metric:
    metric = metrics_pb2.Metric(name="size")
    metric.exponential_histogram.aggregation_temporality = temporality  # type: ignore[assignment]
    count = zero + sum(positive[1]) + sum(negative[1])
    point = metric.exponential_histogram.data_points.add(
        time_unix_nano=at,
        start_time_unix_nano=NOW_NS - 60 * SECOND,
        scale=scale,
        count=count,
        sum=1.0,
        zero_count=zero,
    )
    point.positive.offset, point.negative.offset = positive[0], negative[0]
    point.positive.bucket_counts.extend(positive[1])
    point.negative.bucket_counts.extend(negative[1])
    return metric


def test_exponential_histograms_map_to_le_bounds_base_to_the_index_plus_one() -> None:
    # scale 0: base 2; positive offset 1 → buckets (2,4] and (4,8].
    decoded = decode_metrics(metrics_request(_exponential(0, (1, [2, 3]))))

    assert decoded.ladder("size") == {"4.0": 2.0, "8.0": 5.0, "+Inf": 5.0}
    assert decoded.named("size.count")[0]["value"] == 5.0


def test_exponential_negative_and_zero_buckets_come_first_in_ascending_order() -> None:
    # scale 1: base √2. Negative index 0 → [-√2, -1); zero bucket; positive index -1 → (√½, 1].
    decoded = decode_metrics(metrics_request(_exponential(1, (-1, [4]), (0, [1]), zero=2)))

    ladder = decoded.ladder("size")
    assert list(ladder) == ["-1.0", "0.0", "1.0", "+Inf"]
    assert list(ladder.values()) == [1.0, 3.0, 7.0, 7.0]


def test_cumulative_exponential_histograms_sum_right_across_a_downscale() -> None:
    streams = CumulativeStreams(since_ns=0)
    # scale 1, positive offset 0: (1,√2] x1, (√2,2] x1.
    first = decode_metrics(metrics_request(_exponential(1, (0, [1, 1]), temporality=2)), streams)
    # The SDK downscaled to 0 (base 2): index 0 is (1,2] and now holds 2 + 1 new, plus (2,4] x1.
    second = decode_metrics(
        metrics_request(_exponential(0, (0, [3, 1]), at=NOW_NS + SECOND, temporality=2)),
        streams,
    )

    assert first.ladder("size") == {"1.4142135623730951": 1.0, "2.0": 2.0, "+Inf": 2.0}
    # 4.0 is a new bound: it counts everything at or below it since the start, so summing
    # each le over both exports gives the counts at or below it: 3 at 2.0, 4 at 4.0.
    assert second.ladder("size") == {"2.0": 1.0, "4.0": 4.0, "+Inf": 2.0}
    assert second.named("size.count")[0]["value"] == 2.0


def test_exponential_histograms_with_a_scale_out_of_range_are_rejected() -> None:
    decoded = decode_metrics(metrics_request(_exponential(21, (0, [1]))))

    assert decoded.decoder.rejected == 1
    assert "scale" in decoded.builder.result.errors[0].reason


def test_huge_exponential_bounds_merge_into_plus_inf() -> None:
    decoded = decode_metrics(metrics_request(_exponential(-10, (0, [1, 1]))))

    ladder = decoded.ladder("size")
    assert ladder["+Inf"] == 2.0
    assert all(value <= 2.0 for value in ladder.values())


def test_summaries_become_quantile_gauges_and_sum_count_deltas() -> None:
    streams = CumulativeStreams(since_ns=0)

    def summary(at: int, count: int, value_sum: float) -> metrics_pb2.Metric:
        metric = metrics_pb2.Metric(name="rpc.latency")
        point = metric.summary.data_points.add(
            time_unix_nano=at,
            start_time_unix_nano=NOW_NS - 60 * SECOND,
            count=count,
            sum=value_sum,
        )
        point.quantile_values.add(quantile=0.5, value=10.0)
        point.quantile_values.add(quantile=0.99, value=80.0)
        return metric

    decode_metrics(metrics_request(summary(NOW_NS, 10, 200.0)), streams)
    later = decode_metrics(metrics_request(summary(NOW_NS + SECOND, 15, 300.0)), streams)

    quantiles = {r["tags"]["quantile"]: r["value"] for r in later.named("rpc.latency")}
    assert quantiles == {"0.5": 10.0, "0.99": 80.0}
    assert {r["kind"] for r in later.named("rpc.latency")} == {"gauge"}
    assert later.named("rpc.latency.sum")[0]["value"] == 100.0
    assert later.named("rpc.latency.count")[0]["value"] == 5.0


def test_a_histogram_past_the_series_limit_counts_as_one_rejected_data_point() -> None:
    metric = histogram("h", [1.0], [1, 1], temporality=DELTA, attributes={"host": "a"})
    second = metric.histogram.data_points.add()
    second.CopyFrom(metric.histogram.data_points[0])
    second.attributes[0].value.string_value = "b"

    decoded = decode_metrics(metrics_request(metric), limit=2)

    assert decoded.decoder.rejected == 1
    assert {e.index for e in decoded.builder.result.errors} == {1}
    assert decoded.builder.result.rejected == 2  # both of its buckets
    assert decoded.ladder("h") == {"1.0": 1.0, "+Inf": 2.0}


_INT64 = st.integers(-(2**63), 2**63 - 1)
_NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | _INT64
_TIMES = st.sampled_from([0, NOW_NS - 60 * SECOND, NOW_NS, NOW_NS + SECOND]) | st.integers(
    0, 2**64 - 1
)
_COUNTS = st.lists(st.integers(0, 3) | st.integers(0, 2**64 - 1), max_size=4)
_BOUNDS = st.lists(st.sampled_from([1.0, 2.0, 5.0]), max_size=2) | st.lists(st.floats(), max_size=4)


@st.composite
def _metrics(draw: st.DrawFn) -> metrics_pb2.Metric:
    # Few names and attribute values, so streams of successive requests meet.
    metric = metrics_pb2.Metric(name=draw(st.sampled_from(["a", "b.c", "no good"])))
    kind = draw(st.sampled_from(["gauge", "sum", "histogram", "exponential", "summary", ""]))
    temporality = draw(st.integers(0, 3))
    for _ in range(draw(st.integers(0, 3))):
        start, at = draw(_TIMES), draw(_TIMES)
        attributes = {"k": draw(st.sampled_from(["x", "y"]) | _INT64)}
        if kind in ("gauge", "sum"):
            container = metric.gauge if kind == "gauge" else metric.sum
            point = container.data_points.add(start_time_unix_nano=start, time_unix_nano=at)
            value = draw(_NUMBERS | st.none())
            if isinstance(value, float):
                point.as_double = value
            elif isinstance(value, int):
                point.as_int = value
        elif kind == "histogram":
            metric.histogram.aggregation_temporality = temporality  # type: ignore[assignment]
            point = metric.histogram.data_points.add(
                start_time_unix_nano=start,
                time_unix_nano=at,
                count=draw(st.integers(0, 2**64 - 1)),
                bucket_counts=draw(_COUNTS),
                explicit_bounds=draw(_BOUNDS),
                sum=draw(st.floats()),
            )
        elif kind == "exponential":
            histogram = metric.exponential_histogram
            histogram.aggregation_temporality = temporality  # type: ignore[assignment]
            point = histogram.data_points.add(
                start_time_unix_nano=start,
                time_unix_nano=at,
                scale=draw(st.sampled_from([0, 1, 20]) | st.integers(-12, 22)),
                zero_count=draw(st.integers(0, 2**64 - 1)),
                zero_threshold=draw(st.floats()),
            )
            offsets = st.integers(-2, 2) | st.integers(-(2**31), 2**31 - 1)
            point.positive.offset = draw(offsets)
            point.positive.bucket_counts.extend(draw(_COUNTS))
            point.negative.offset = draw(offsets)
            point.negative.bucket_counts.extend(draw(_COUNTS))
        elif kind == "summary":
            point = metric.summary.data_points.add(
                start_time_unix_nano=start, time_unix_nano=at, sum=draw(st.floats())
            )
            point.quantile_values.add(quantile=draw(st.floats()), value=draw(st.floats()))
        else:
            continue
        point.attributes.extend(key_values(attributes))
        point.flags = draw(st.integers(0, 3))
    if kind == "sum":
        metric.sum.aggregation_temporality = temporality  # type: ignore[assignment]
        metric.sum.is_monotonic = draw(st.booleans())
    return metric


@given(st.lists(st.lists(_metrics(), max_size=4), min_size=1, max_size=3))
@settings(max_examples=300, deadline=None)
def test_any_metrics_are_stored_or_rejected_never_raise(
    requests: list[list[metrics_pb2.Metric]],
) -> None:
    streams = CumulativeStreams(since_ns=0)
    for metrics in requests:
        decoded = decode_metrics(metrics_request(*metrics), streams)

        points = sum(
            len(getattr(m, m.WhichOneof("data")).data_points)
            for m in metrics
            if m.WhichOneof("data")
        )
        assert decoded.decoder.rejected <= points
        assert all(math.isfinite(row["value"]) for row in decoded.rows)
