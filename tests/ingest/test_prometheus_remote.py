"""Remote write 1.0 decoding: snappy, protobuf, metadata, the suffix rule and bad series."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import cramjam
import pytest

from radiator.core.telemetry import Signal
from radiator.ingest import BatchBuilder
from radiator.ingest.prometheus_pb import MetricMetadata, WriteRequest
from radiator.ingest.prometheus_remote import (
    RemoteWriteError,
    RemoteWriteReceiver,
    RemoteWriteTooLargeError,
    decompress,
)

NOW_US = int(datetime(2026, 11, 23, 12, tzinfo=UTC).timestamp() * 1_000_000)
T0_MS = NOW_US // 1000 - 60_000
STALE_NAN = 0x7FF0000000000002
MAX = 1024 * 1024

Series = tuple[dict[str, str], list[tuple[float, int]]]


def request(
    *series: Series, metadata: Sequence[tuple[str, int]] = (), histograms: int = 0
) -> bytes:
    """A snappy-compressed WriteRequest, as Prometheus sends it."""
    message = WriteRequest()
    for labels, samples in series:
        ts = message.timeseries.add()
        for name, value in labels.items():
            ts.labels.add(name=name, value=value)
        for value, when in samples:
            ts.samples.add(value=value, timestamp=when)
        for _ in range(histograms):
            ts.histograms.add(timestamp=T0_MS)
    for family, kind in metadata:
        message.metadata.add(type=kind, metric_family_name=family, help="h")
    return bytes(cramjam.snappy.compress_raw(message.SerializeToString()))


def decode(receiver: RemoteWriteReceiver, body: bytes) -> tuple[BatchBuilder, list[dict[str, Any]]]:
    builder = BatchBuilder(NOW_US)
    receiver.decode(body, builder, max_bytes=MAX)
    table = builder.tables().get(Signal.POINTS)
    return builder, table.to_pylist() if table is not None else []


def named(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [row for row in rows if row["name"] == name]


def test_name_label_is_the_metric_and_other_labels_are_tags() -> None:
    body = request(({"__name__": "temperature", "room": "lab", "empty": ""}, [(21.5, T0_MS)]))

    _, rows = decode(RemoteWriteReceiver(), body)

    [row] = rows
    assert (row["name"], row["value"], row["kind"]) == ("temperature", 21.5, "gauge")
    assert row["tags"] == [("room", "lab")]
    assert row["time"] == datetime.fromtimestamp(T0_MS / 1000, UTC)


def test_counters_by_suffix_become_deltas_across_requests() -> None:
    receiver = RemoteWriteReceiver()
    labels = {"__name__": "http_requests_total", "code": "200"}

    _, first = decode(receiver, request((labels, [(100, T0_MS), (130, T0_MS + 15_000)])))
    _, second = decode(receiver, request((labels, [(150, T0_MS + 30_000)])))

    assert [(r["value"], r["kind"]) for r in first] == [(30.0, "counter")]
    assert [(r["value"], r["kind"]) for r in second] == [(20.0, "counter")]


def test_histogram_series_map_to_buckets_sum_and_count() -> None:
    receiver = RemoteWriteReceiver()

    def send(step: int, b1: float, inf: float, total: float) -> list[dict[str, Any]]:
        when = T0_MS + step * 15_000
        return decode(
            receiver,
            request(
                ({"__name__": "latency_bucket", "le": "0.1"}, [(b1, when)]),
                ({"__name__": "latency_bucket", "le": "+Inf"}, [(inf, when)]),
                ({"__name__": "latency_sum"}, [(total, when)]),
                ({"__name__": "latency_count"}, [(inf, when)]),
            ),
        )[1]

    send(0, 1, 2, 0.3)
    rows = send(1, 4, 6, 1.3)

    buckets = {dict(r["tags"])["le"]: r["value"] for r in named(rows, "latency")}
    assert buckets == {"0.1": 3.0, "+Inf": 4.0}
    assert {r["kind"] for r in named(rows, "latency")} == {"histogram"}
    assert named(rows, "latency.sum")[0]["value"] == pytest.approx(1.0)
    assert named(rows, "latency.count")[0]["value"] == 4.0


def test_metadata_from_an_earlier_request_decides_the_type() -> None:
    receiver = RemoteWriteReceiver()
    decode(receiver, request(metadata=[("jobs_count", 2), ("started", 1)]))

    _, first = decode(
        receiver,
        request(
            ({"__name__": "jobs_count"}, [(5, T0_MS)]),
            ({"__name__": "started"}, [(10, T0_MS)]),
        ),
    )
    _, second = decode(receiver, request(({"__name__": "started"}, [(12, T0_MS + 1000)])))

    assert receiver.metric_type("jobs_count") == "gauge"
    assert [(r["name"], r["kind"], r["value"]) for r in first] == [("jobs_count", "gauge", 5.0)]
    assert [(r["name"], r["kind"], r["value"]) for r in second] == [("started", "counter", 2.0)]


def test_a_summary_by_metadata_keeps_quantiles_as_gauges() -> None:
    receiver = RemoteWriteReceiver()
    body = request(
        ({"__name__": "rpc_seconds", "quantile": "0.5"}, [(0.2, T0_MS)]),
        metadata=[("rpc_seconds", MetricMetadata.MetricType.Value("SUMMARY"))],
    )

    _, rows = decode(receiver, body)

    assert [(r["name"], r["kind"], dict(r["tags"])) for r in rows] == [
        ("rpc_seconds", "gauge", {"quantile": "0.5"})
    ]


def test_stale_markers_and_nan_are_skipped() -> None:
    stale: float = struct.unpack("<d", struct.pack("<Q", STALE_NAN))[0]
    body = request(({"__name__": "g"}, [(1, T0_MS), (stale, T0_MS + 1), (math.nan, T0_MS + 2)]))

    builder, rows = decode(RemoteWriteReceiver(), body)

    assert [r["value"] for r in rows] == [1.0]
    assert builder.result.rejected == 0


def test_a_resent_request_does_not_count_counters_twice() -> None:
    receiver = RemoteWriteReceiver()
    labels = {"__name__": "c_total"}
    decode(receiver, request((labels, [(1, T0_MS)])))
    body = request((labels, [(5, T0_MS + 1000), (8, T0_MS + 2000)]))

    _, first = decode(receiver, body)
    _, again = decode(receiver, body)

    assert [r["value"] for r in first] == [4.0, 3.0]
    assert again == []


def test_bad_series_are_rejected_by_index_and_the_rest_kept() -> None:
    body = request(
        ({"job": "x"}, [(1, T0_MS)]),
        ({"__name__": "bad name"}, [(1, T0_MS)]),
        ({"__name__": "good"}, [(1, T0_MS)]),
    )

    builder, rows = decode(RemoteWriteReceiver(), body)

    assert [r["name"] for r in rows] == ["good"]
    assert [(e.index, e.reason) for e in builder.result.errors] == [
        (0, "the series has no __name__ label"),
        (1, "invalid metric name 'bad name'"),
    ]


def test_native_histograms_are_rejected_with_a_reason() -> None:
    builder, rows = decode(RemoteWriteReceiver(), request(({"__name__": "nh"}, []), histograms=1))

    assert rows == []
    assert "native histograms are not supported" in builder.result.errors[0].reason


@pytest.mark.parametrize(
    "body",
    [b"", b"definitely not snappy", bytes(cramjam.snappy.compress_raw(b"\xff\xff\xff\xff"))],
    ids=["empty", "not-snappy", "not-protobuf"],
)
def test_undecodable_bodies_raise_remote_write_error(body: bytes) -> None:
    with pytest.raises(RemoteWriteError, match=r"snappy|WriteRequest"):
        RemoteWriteReceiver().decode(body, BatchBuilder(NOW_US), max_bytes=MAX)


def test_a_body_that_decompresses_too_large_is_refused_before_decompressing() -> None:
    body = bytes(cramjam.snappy.compress_raw(b"\0" * 5000))

    with pytest.raises(RemoteWriteTooLargeError, match="5000 bytes"):
        decompress(body, 4096)
    assert decompress(body, 5000) == b"\0" * 5000
