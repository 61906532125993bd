"""The OTLP receiver: logs and spans mapping, partial success and back-pressure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1 import trace_pb2

from radiator.core.telemetry import Signal, TelemetryStore
from radiator.errors import OverloadedError
from radiator.ingest import BatchBuilder, IngestPipeline, SelfMetrics, SeriesLimiter
from radiator.ingest.otlp import OtlpReceiver, add_logs, add_spans, level_of
from radiator.ingest.otlp_codec import Encoding, OtlpSignal
from radiator.ingest.otlp_cumulative import CumulativeStreams
from radiator.storage.telemetry import open_telemetry_store
from radiator.storage.wal import FileWriteAheadLog

from .otlp_support import NOW, NOW_NS, SECOND, any_value, key_values, metrics_request, number
from .otlp_support import total as sum_metric

TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN = bytes.fromhex("eee19b7ec3c1b174")
PARENT = bytes.fromhex("1111111111111111")


def rows(builder: BatchBuilder, signal: Signal) -> list[dict[str, Any]]:
    table = builder.tables().get(signal)
    found = [] if table is None else table.to_pylist()
    for row in found:
        if "attributes" in row:
            row["attributes"] = orjson.loads(row["attributes"])
    return found


def fresh_builder() -> BatchBuilder:
    return BatchBuilder(NOW_NS // 1000 + 60_000_000, SeriesLimiter(100))


@pytest.mark.parametrize(
    ("number_", "text", "level"),
    [
        (1, "", "DEBUG"),
        (4, "", "DEBUG"),
        (5, "", "DEBUG"),
        (9, "", "INFO"),
        (12, "", "INFO"),
        (13, "", "WARN"),
        (17, "", "ERROR"),
        (21, "", "FATAL"),
        (24, "", "FATAL"),
        (30, "", "FATAL"),
        (0, "warning", "WARN"),
        (0, "CRITICAL", "FATAL"),
        (0, "whatever", "INFO"),
        (0, "", "INFO"),
    ],
)
def test_severities_map_onto_radiator_levels(number_: int, text: str, level: str) -> None:
    assert level_of(number_, text) == level


def logs_request() -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    resource = request.resource_logs.add()
    resource.resource.attributes.extend(
        key_values({"service.name": "payments", "deployment.environment.name": "prod"})
    )
    scope = resource.scope_logs.add()
    scope.scope.name = "payments.card"
    record = scope.log_records.add(
        time_unix_nano=NOW_NS,
        severity_number=17,
        severity_text="ERROR",
        trace_id=TRACE,
        span_id=SPAN,
    )
    record.body.string_value = "card declined"
    record.attributes.extend(key_values({"order": "o-1", "amount": 12.5}))
    structured = scope.log_records.add(observed_time_unix_nano=NOW_NS + SECOND, event_name="ev")
    structured.body.CopyFrom(any_value({"user": "ada", "tries": 3}))
    scope.log_records.add(time_unix_nano=NOW_NS + 7200 * SECOND)  # too far ahead
    return request


def test_log_records_keep_level_message_service_attributes_and_ids() -> None:
    builder = fresh_builder()

    add_logs(builder, logs_request().resource_logs)

    first, second = rows(builder, Signal.LOGS)
    assert first["time"] == NOW
    assert first["service"] == "payments"
    assert first["level"] == "ERROR"
    assert first["message"] == "card declined"
    assert first["trace_id"] == TRACE.hex()
    assert first["span_id"] == SPAN.hex()
    assert first["attributes"] == {
        "deployment.environment.name": "prod",
        "otel.scope.name": "payments.card",
        "order": "o-1",
        "amount": 12.5,
    }
    assert second["level"] == "INFO"
    assert orjson.loads(second["message"]) == {"user": "ada", "tries": 3}
    assert second["attributes"]["event.name"] == "ev"
    assert second["time"].timestamp() == NOW.timestamp() + 1
    assert second["trace_id"] == ""
    assert [(e.index, e.signal) for e in builder.result.errors] == [(2, "logs")]


def traces_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.extend(key_values({"service.name": "checkout"}))
    scope = resource.scope_spans.add()
    scope.scope.name = "checkout.http"
    span = scope.spans.add(
        trace_id=TRACE,
        span_id=SPAN,
        parent_span_id=PARENT,
        name="POST /pay",
        kind=trace_pb2.Span.SPAN_KIND_SERVER,
        start_time_unix_nano=NOW_NS,
        end_time_unix_nano=NOW_NS + 12_500_000,
        trace_state="vendor=1",
    )
    span.status.code = trace_pb2.Status.STATUS_CODE_ERROR
    span.status.message = "card declined"
    span.attributes.extend(key_values({"http.status_code": 402}))
    event = span.events.add(time_unix_nano=NOW_NS + 1000, name="exception")
    event.attributes.extend(key_values({"exception.type": "CardError"}))
    span.links.add(trace_id=TRACE, span_id=PARENT)
    scope.spans.add(trace_id=TRACE, span_id=b"\1\2", name="bad", start_time_unix_nano=NOW_NS)
    scope.spans.add(
        trace_id=TRACE,
        span_id=PARENT,
        name="ends before it starts",
        start_time_unix_nano=NOW_NS,
        end_time_unix_nano=NOW_NS - 1,
    )
    scope.spans.add(trace_id=TRACE, span_id=PARENT, name="root", start_time_unix_nano=NOW_NS)
    return request


def test_spans_keep_parent_service_duration_status_kind_and_events() -> None:
    builder = fresh_builder()

    add_spans(builder, traces_request().resource_spans)

    span, root = rows(builder, Signal.SPANS)
    assert span["trace_id"] == TRACE.hex()
    assert span["span_id"] == SPAN.hex()
    assert span["parent_id"] == PARENT.hex()
    assert span["service"] == "checkout"
    assert span["name"] == "POST /pay"
    assert span["start"] == NOW
    assert span["duration_ms"] == 12.5
    assert span["status"] == "error"
    attributes = span["attributes"]
    assert attributes["span.kind"] == "server"
    assert attributes["http.status_code"] == 402
    assert attributes["otel.scope.name"] == "checkout.http"
    assert attributes["otel.status_description"] == "card declined"
    assert attributes["w3c.tracestate"] == "vendor=1"
    assert attributes["otel.events"] == [
        {
            "name": "exception",
            "time_unix_nano": NOW_NS + 1000,
            "attributes": {"exception.type": "CardError"},
        }
    ]
    assert attributes["otel.links"][0]["span_id"] == PARENT.hex()
    assert (root["parent_id"], root["status"], root["duration_ms"]) == ("", "unset", 0.0)
    reasons = {e.index: e.reason for e in builder.result.errors}
    assert reasons[1] == "span_id must be 8 bytes and not all zero"
    assert "duration_ms" in reasons[2]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TelemetryStore]:
    telemetry = open_telemetry_store("duckdb", str(tmp_path / "t.duckdb"))
    telemetry.create_schema()
    yield telemetry
    telemetry.close()


@pytest.fixture
def pipeline(tmp_path: Path, store: TelemetryStore) -> Iterator[IngestPipeline]:
    wal = FileWriteAheadLog(tmp_path / "wal", start_after=store.checkpoint())
    pipeline = IngestPipeline(
        wal,
        store,
        limiter=SeriesLimiter(100),
        metrics=SelfMetrics(),
        max_buffer_bytes=1,  # every second batch before a flush is refused
        flush_bytes=1 << 30,
        clock=lambda: NOW,
    )
    yield pipeline
    wal.close()


def test_the_response_reports_rejections_as_partial_success(pipeline: IngestPipeline) -> None:
    receiver = OtlpReceiver(pipeline, max_body_bytes=1 << 20)
    body = traces_request().SerializeToString()

    outcome = receiver.export(OtlpSignal.TRACES, Encoding.PROTOBUF, body)

    response = ExportTraceServiceResponse.FromString(outcome.body)
    assert response.partial_success.rejected_spans == 2
    assert response.partial_success.error_message.startswith(
        "span 1: span_id must be 8 bytes and not all zero; span 2: "
    )
    assert (outcome.accepted, outcome.rejected) == (2, 2)


def test_a_log_response_counts_rejected_log_records(pipeline: IngestPipeline) -> None:
    receiver = OtlpReceiver(pipeline, max_body_bytes=1 << 20)

    outcome = receiver.export(
        OtlpSignal.LOGS, Encoding.PROTOBUF, logs_request().SerializeToString()
    )

    response = ExportLogsServiceResponse.FromString(outcome.body)
    assert response.partial_success.rejected_log_records == 1
    assert "log record 2: timestamp is more than an hour in the future" in outcome.error_message


def test_a_refused_batch_leaves_cumulative_state_so_the_retry_stores_the_same_delta(
    pipeline: IngestPipeline, store: TelemetryStore
) -> None:
    receiver = OtlpReceiver(pipeline, max_body_bytes=1 << 20, streams=CumulativeStreams(0))
    send = receiver.export
    first = metrics_request(sum_metric("orders", number(5, at=NOW_NS - SECOND)))
    second = metrics_request(sum_metric("orders", number(8, at=NOW_NS)))
    send(OtlpSignal.METRICS, Encoding.PROTOBUF, first.SerializeToString())

    with pytest.raises(OverloadedError):
        send(OtlpSignal.METRICS, Encoding.PROTOBUF, second.SerializeToString())
    pipeline.flush()
    retried = send(OtlpSignal.METRICS, Encoding.PROTOBUF, second.SerializeToString())

    assert retried.accepted == 1
    assert ExportMetricsServiceResponse.FromString(retried.body).ByteSize() == 0
    pipeline.flush()
    assert store.count(Signal.POINTS) == 2
