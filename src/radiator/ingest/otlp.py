"""The OTLP/HTTP receiver: metrics, logs and traces from OpenTelemetry SDKs and Collectors.

``OtlpReceiver.export`` takes one request body as it arrived (protobuf or JSON, maybe gzip),
maps it onto Radiator's signals through a ``BatchBuilder`` (which validates every item),
submits the batch to the ingest pipeline and returns the ``Export*ServiceResponse`` to send
back, with ``partial_success`` naming what was rejected. The mapping is documented in
docs/ingest/opentelemetry.md; metrics live in ``otlp_metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from radiator.ingest.builder import BatchBuilder
from radiator.ingest.models import IngestResult
from radiator.ingest.otlp_codec import (
    Encoding,
    OtlpSignal,
    decode_request,
    decompress,
    encode_response,
)
from radiator.ingest.otlp_cumulative import CumulativeStreams
from radiator.ingest.otlp_metrics import MetricsDecoder
from radiator.ingest.otlp_values import any_value, attributes_of, origin_of
from radiator.ingest.service import IngestPipeline

__all__ = ["ExportOutcome", "OtlpReceiver", "add_logs", "add_spans", "level_of"]

PROTOCOL = "otlp"
_MAX_REPORTED = 5  # rejections spelled out in partial_success.error_message
_MAX_SPAN_EVENTS = 64
_MAX_SPAN_LINKS = 64
_NOUNS = {"points": "data point", "logs": "log record", "spans": "span"}
# OTel severity numbers come in ranges of four: TRACE 1-4, DEBUG 5-8, INFO 9-12,
# WARN 13-16, ERROR 17-20, FATAL 21-24. Radiator has no TRACE level: it reads as DEBUG.
_SEVERITY = ("DEBUG", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
_TEXT_LEVELS = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "INFORMATION": "INFO",
    "NOTICE": "INFO",
    "WARN": "WARN",
    "WARNING": "WARN",
    "ERROR": "ERROR",
    "ERR": "ERROR",
    "FATAL": "FATAL",
    "CRITICAL": "FATAL",
    "EMERGENCY": "FATAL",
    "ALERT": "FATAL",
}
_SPAN_KINDS = {
    trace_pb2.Span.SPAN_KIND_INTERNAL: "internal",
    trace_pb2.Span.SPAN_KIND_SERVER: "server",
    trace_pb2.Span.SPAN_KIND_CLIENT: "client",
    trace_pb2.Span.SPAN_KIND_PRODUCER: "producer",
    trace_pb2.Span.SPAN_KIND_CONSUMER: "consumer",
}
_STATUSES = {trace_pb2.Status.STATUS_CODE_OK: "ok", trace_pb2.Status.STATUS_CODE_ERROR: "error"}


def level_of(severity_number: int, severity_text: str) -> str:
    """Radiator's level for an OTel severity: by number when set, else by text, else INFO."""
    if severity_number > 0:
        return _SEVERITY[min((severity_number - 1) // 4, 5)]
    return _TEXT_LEVELS.get(severity_text.strip().upper(), "INFO")


def _hex_id(raw: bytes, size: int) -> str:
    """A trace (16 bytes) or span (8 bytes) id as lowercase hex; "" when absent or invalid."""
    return raw.hex() if len(raw) == size and any(raw) else ""


def _message_of(record: logs_pb2.LogRecord) -> str:
    body = record.body
    which = body.WhichOneof("value")
    if which == "string_value":
        return body.string_value
    if which is None:
        return ""
    return orjson.dumps(any_value(body)).decode()


def add_logs(builder: BatchBuilder, resource_logs: Iterable[logs_pb2.ResourceLogs]) -> None:
    """Add every log record to ``builder``; rejections name the record's position."""
    index = 0
    for resource in resource_logs:
        for scope in resource.scope_logs:
            origin = origin_of(resource.resource, scope.scope)
            for record in scope.log_records:
                attributes = {**origin.attributes, **attributes_of(record.attributes)}
                if record.event_name:
                    attributes["event.name"] = record.event_name
                time_ns = record.time_unix_nano or record.observed_time_unix_nano
                builder.log(
                    index,
                    level_of(record.severity_number, record.severity_text),
                    _message_of(record),
                    time_us=time_ns // 1000 or None,
                    service=origin.service,
                    attributes=attributes,
                    trace_id=_hex_id(record.trace_id, 16),
                    span_id=_hex_id(record.span_id, 8),
                )
                index += 1


def _span_attributes(base: dict[str, Any], span: trace_pb2.Span) -> dict[str, Any]:
    attributes = {**base, **attributes_of(span.attributes)}
    kind = _SPAN_KINDS.get(span.kind)
    if kind:
        attributes["span.kind"] = kind
    if span.status.message:
        attributes["otel.status_description"] = span.status.message
    if span.trace_state:
        attributes["w3c.tracestate"] = span.trace_state
    if span.events:
        attributes["otel.events"] = [
            {
                "name": event.name,
                "time_unix_nano": event.time_unix_nano,
                "attributes": attributes_of(event.attributes),
            }
            for event in span.events[:_MAX_SPAN_EVENTS]
        ]
    if span.links:
        attributes["otel.links"] = [
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "attributes": attributes_of(link.attributes),
            }
            for link in span.links[:_MAX_SPAN_LINKS]
        ]
    return attributes


def _span_problem(span: trace_pb2.Span) -> str:
    if len(span.trace_id) != 16 or not any(span.trace_id):
        return "trace_id must be 16 bytes and not all zero"
    if len(span.span_id) != 8 or not any(span.span_id):
        return "span_id must be 8 bytes and not all zero"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return "parent_span_id must be 8 bytes"
    if not span.start_time_unix_nano:
        return "start_time_unix_nano is required"
    return ""


def add_spans(builder: BatchBuilder, resource_spans: Iterable[trace_pb2.ResourceSpans]) -> None:
    """Add every span to ``builder``; rejections name the span's position."""
    index = 0
    for resource in resource_spans:
        for scope in resource.scope_spans:
            origin = origin_of(resource.resource, scope.scope)
            for span in scope.spans:
                problem = _span_problem(span)
                if problem:
                    builder.result.reject("spans", index, problem)
                    index += 1
                    continue
                start_ns, end_ns = span.start_time_unix_nano, span.end_time_unix_nano
                builder.span(
                    index,
                    span.trace_id.hex(),
                    span.span_id.hex(),
                    span.name,
                    start_ns // 1000,
                    (end_ns - start_ns) / 1e6 if end_ns else 0.0,
                    parent_id=_hex_id(span.parent_span_id, 8),
                    service=origin.service,
                    status=_STATUSES.get(span.status.code, "unset"),
                    attributes=_span_attributes(origin.attributes, span),
                )
                index += 1


def _error_message(result: IngestResult) -> str:
    parts = [
        f"{_NOUNS.get(e.signal, e.signal)} {e.index}: {e.reason}"
        for e in result.errors[:_MAX_REPORTED]
    ]
    if result.rejected > len(parts):
        parts.append(f"and {result.rejected - len(parts)} more rejections")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """What one export request did, and the response body to send back.

    ``accepted`` counts Radiator items stored (one histogram data point becomes several
    points); ``rejected`` counts the OTLP items refused, as reported to the sender.
    """

    body: bytes
    accepted: int
    rejected: int
    error_message: str


class OtlpReceiver:
    """Decodes OTLP export requests into the ingest pipeline.

    Keeps the state of cumulative metric streams (``CumulativeStreams``), so one receiver
    serves the whole process.
    """

    def __init__(
        self,
        pipeline: IngestPipeline,
        *,
        max_body_bytes: int,
        streams: CumulativeStreams | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._max_body = max_body_bytes
        self.streams = streams if streams is not None else CumulativeStreams(time.time_ns())

    def export(
        self, signal: OtlpSignal, encoding: Encoding, body: bytes, content_encoding: str = ""
    ) -> ExportOutcome:
        """Store what ``body`` holds and return the response to send.

        Raises:
            UnsupportedMediaError: an unknown content encoding.
            BodyTooLargeError: the body decompresses beyond ``max_body_bytes``.
            OtlpFormatError: the body is not an export request of ``signal``.
            OverloadedError: the ingest buffer is full; nothing was stored.
        """
        request = decode_request(
            signal, encoding, decompress(body, content_encoding, self._max_body)
        )
        builder = self._pipeline.builder()
        session = self.streams.session()
        if signal is OtlpSignal.METRICS:
            decoder = MetricsDecoder(builder, session)
            decoder.add(request.resource_metrics)
            rejected = decoder.rejected
        elif signal is OtlpSignal.LOGS:
            add_logs(builder, request.resource_logs)
            rejected = builder.result.rejected
        else:
            add_spans(builder, request.resource_spans)
            rejected = builder.result.rejected
        result = self._pipeline.submit(builder, PROTOCOL)
        session.commit()  # only once the batch is durable: a refused one is retried as is
        message = _error_message(result) if result.rejected else ""
        return ExportOutcome(
            encode_response(signal, encoding, rejected, message),
            result.accepted,
            rejected,
            message,
        )
