"""Builders of OTLP protobuf requests for the OTLP tests (importable as ``ingest.otlp_support``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from radiator.core.telemetry import Signal
from radiator.ingest import BatchBuilder, SeriesLimiter
from radiator.ingest.otlp_cumulative import CumulativeStreams
from radiator.ingest.otlp_metrics import MetricsDecoder

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
NOW_NS = int(NOW.timestamp()) * 1_000_000_000
SECOND = 1_000_000_000
CUMULATIVE = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list):
        out = AnyValue()
        out.array_value.values.extend(any_value(v) for v in value)
        return out
    if isinstance(value, dict):
        out = AnyValue()
        out.kvlist_value.values.extend(key_values(value))
        return out
    return AnyValue(string_value=str(value))


def key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


def metrics_request(
    *metrics: metrics_pb2.Metric,
    resource: Mapping[str, Any] | None = None,
    scope: str = "test-scope",
    scope_attributes: Mapping[str, Any] | None = None,
) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.resource.attributes.extend(
        key_values({"service.name": "checkout"} if resource is None else resource)
    )
    scope_metrics = resource_metrics.scope_metrics.add()
    scope_metrics.scope.name = scope
    scope_metrics.scope.attributes.extend(key_values(scope_attributes or {}))
    scope_metrics.metrics.extend(metrics)
    return request


def number(
    value: float | int,
    *,
    at: int = NOW_NS,
    start: int = NOW_NS - 60 * SECOND,
    attributes: Mapping[str, Any] | None = None,
    flags: int = 0,
) -> metrics_pb2.NumberDataPoint:
    point = metrics_pb2.NumberDataPoint(time_unix_nano=at, start_time_unix_nano=start, flags=flags)
    if isinstance(value, int):
        point.as_int = value
    else:
        point.as_double = value
    point.attributes.extend(key_values(attributes or {}))
    return point


def gauge(name: str, *points: metrics_pb2.NumberDataPoint) -> metrics_pb2.Metric:
    metric = metrics_pb2.Metric(name=name)
    metric.gauge.data_points.extend(points)
    return metric


def total(
    name: str,
    *points: metrics_pb2.NumberDataPoint,
    temporality: int = CUMULATIVE,
    monotonic: bool = True,
) -> metrics_pb2.Metric:
    metric = metrics_pb2.Metric(name=name)
    metric.sum.aggregation_temporality = temporality  # type: ignore[assignment]
    metric.sum.is_monotonic = monotonic
    metric.sum.data_points.extend(points)
    return metric


def histogram(
    name: str,
    bounds: list[float],
    counts: list[int],
    *,
    total_sum: float | None = None,
    at: int = NOW_NS,
    start: int = NOW_NS - 60 * SECOND,
    temporality: int = CUMULATIVE,
    attributes: Mapping[str, Any] | None = None,
) -> metrics_pb2.Metric:
    metric = metrics_pb2.Metric(name=name)
    metric.histogram.aggregation_temporality = temporality  # type: ignore[assignment]
    point = metric.histogram.data_points.add(
        time_unix_nano=at,
        start_time_unix_nano=start,
        count=sum(counts),
        explicit_bounds=bounds,
        bucket_counts=counts,
    )
    if total_sum is not None:
        point.sum = total_sum
    point.attributes.extend(key_values(attributes or {}))
    return metric


class Decoded:
    """One decoded request: the decoder (for ``rejected``), the builder and its point rows."""

    def __init__(self, decoder: MetricsDecoder, builder: BatchBuilder) -> None:
        self.decoder = decoder
        self.builder = builder
        table = builder.tables().get(Signal.POINTS)
        self.rows: list[dict[str, Any]] = [] if table is None else table.to_pylist()
        for row in self.rows:
            row["tags"] = dict(row["tags"])

    def named(self, name: str) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["name"] == name]

    def ladder(self, name: str) -> dict[str, float]:
        return {row["tags"]["le"]: row["value"] for row in self.named(name)}


def decode_metrics(
    request: ExportMetricsServiceRequest,
    streams: CumulativeStreams | None = None,
    *,
    limit: int = 1000,
) -> Decoded:
    """Decode with a fresh builder; ``streams`` carries cumulative state across calls and
    ``limit`` is the series limit per metric."""
    builder = BatchBuilder(NOW_NS // 1000 + 60_000_000, SeriesLimiter(limit))
    streams = streams if streams is not None else CumulativeStreams(since_ns=0)
    session = streams.session()
    decoder = MetricsDecoder(builder, session)
    decoder.add(request.resource_metrics)
    session.commit()
    return Decoded(decoder, builder)
