"""OTLP/HTTP bodies: content types, compression, request decoding and response encoding.

Requests are ``application/x-protobuf`` (decoded by opentelemetry-proto's generated classes
on the upb backend) or ``application/json`` in the OTLP JSON mapping, whose trace and span ids
are hex rather than protobuf JSON's base64. Responses use the request's content type.
"""

from __future__ import annotations

import base64
import zlib
from enum import StrEnum
from typing import Any

import orjson

# protobuf ships no type information (the OTLP classes have .pyi stubs of their own).
from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError, Message  # type: ignore[import-untyped]
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

__all__ = [
    "MEDIA_TYPES",
    "STATUS_INVALID_ARGUMENT",
    "STATUS_UNAVAILABLE",
    "BodyTooLargeError",
    "Encoding",
    "OtlpFormatError",
    "OtlpSignal",
    "UnsupportedMediaError",
    "decode_request",
    "decompress",
    "encode_response",
    "encode_status",
    "encoding_of",
]

# google.rpc.Code values used in Status bodies.
STATUS_INVALID_ARGUMENT = 3
STATUS_UNAVAILABLE = 14


class OtlpSignal(StrEnum):
    METRICS = "metrics"
    LOGS = "logs"
    TRACES = "traces"


class Encoding(StrEnum):
    PROTOBUF = "protobuf"
    JSON = "json"


MEDIA_TYPES = {Encoding.PROTOBUF: "application/x-protobuf", Encoding.JSON: "application/json"}
_ENCODINGS = {
    "application/x-protobuf": Encoding.PROTOBUF,
    "application/protobuf": Encoding.PROTOBUF,
    "application/json": Encoding.JSON,
}
_REQUESTS: dict[OtlpSignal, type[Message]] = {
    OtlpSignal.METRICS: metrics_service_pb2.ExportMetricsServiceRequest,
    OtlpSignal.LOGS: logs_service_pb2.ExportLogsServiceRequest,
    OtlpSignal.TRACES: trace_service_pb2.ExportTraceServiceRequest,
}
_RESPONSES: dict[OtlpSignal, tuple[type[Message], str]] = {
    OtlpSignal.METRICS: (
        metrics_service_pb2.ExportMetricsServiceResponse,
        "rejected_data_points",
    ),
    OtlpSignal.LOGS: (logs_service_pb2.ExportLogsServiceResponse, "rejected_log_records"),
    OtlpSignal.TRACES: (trace_service_pb2.ExportTraceServiceResponse, "rejected_spans"),
}
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class OtlpFormatError(ValueError):
    """The body cannot be decoded as the signal's export request (answered with 400)."""


class UnsupportedMediaError(ValueError):
    """The content type or content encoding is not one OTLP/HTTP uses (answered with 415)."""


class BodyTooLargeError(ValueError):
    """The body decompresses to more than the allowed size (answered with 413)."""


def encoding_of(content_type: str) -> Encoding:
    """The body encoding a ``Content-Type`` header names.

    Raises:
        UnsupportedMediaError: it is neither protobuf nor JSON.
    """
    media = content_type.partition(";")[0].strip().lower()
    found = _ENCODINGS.get(media)
    if found is None:
        raise UnsupportedMediaError(
            f"unsupported content type {media or '(none)'!r}: OTLP/HTTP bodies are "
            "application/x-protobuf or application/json"
        )
    return found


def decompress(body: bytes, content_encoding: str, limit: int) -> bytes:
    """The body without its ``Content-Encoding`` (gzip, deflate or none), at most ``limit``
    bytes once decompressed.

    Raises:
        UnsupportedMediaError: another content encoding.
        OtlpFormatError: the compressed data is corrupt.
        BodyTooLargeError: it decompresses to more than ``limit`` bytes.
    """
    coding = content_encoding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaError(
            f"unsupported content encoding {coding!r}: send gzip, deflate or none"
        )
    # 32 + MAX_WBITS detects a zlib or gzip header; deflate senders vary in whether they
    # send the zlib wrapper, so raw deflate is tried as well.
    wbits = zlib.MAX_WBITS | 32 if coding != "deflate" or body[:1] == b"\x78" else -zlib.MAX_WBITS
    out = bytearray()
    data = body
    try:
        while data:
            inflater = zlib.decompressobj(wbits)
            out += inflater.decompress(data, limit + 1 - len(out))
            if len(out) > limit or inflater.unconsumed_tail:
                raise BodyTooLargeError(
                    f"the body decompresses to more than {limit} bytes (setting max_body_bytes)"
                )
            if not inflater.eof:
                raise OtlpFormatError(f"the {coding} body is truncated")
            data = inflater.unused_data  # gzip allows several members back to back
    except zlib.error as exc:
        raise OtlpFormatError(f"the body is not valid {coding}: {exc}") from exc
    return bytes(out)


def _hex_ids_to_base64(document: Any) -> None:
    """OTLP JSON writes trace and span ids as hex; protobuf's JSON parser wants base64."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ID_KEYS and isinstance(value, str):
                    try:
                        node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                    except ValueError as exc:
                        raise OtlpFormatError(f"{key} {value[:40]!r} is not hex") from exc
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(item for item in node if isinstance(item, dict | list))


def decode_request(signal: OtlpSignal, encoding: Encoding, body: bytes) -> Any:
    """The ``Export*ServiceRequest`` of ``signal`` in ``body``.

    Raises:
        OtlpFormatError: the body is not such a request in that encoding.
    """
    message = _REQUESTS[signal]()
    if encoding is Encoding.PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise OtlpFormatError(f"the body is not an OTLP {signal} protobuf: {exc}") from exc
        return message
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpFormatError(f"the body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise OtlpFormatError(f"the body must be a JSON object, not {type(document).__name__}")
    _hex_ids_to_base64(document)
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError) as exc:
        raise OtlpFormatError(f"the body is not an OTLP {signal} JSON request: {exc}") from exc
    return message


def encode_response(
    signal: OtlpSignal, encoding: Encoding, rejected: int = 0, error_message: str = ""
) -> bytes:
    """An ``Export*ServiceResponse``, with ``partial_success`` when anything was rejected."""
    kind, rejected_field = _RESPONSES[signal]
    response: Any = kind()
    if rejected or error_message:
        setattr(response.partial_success, rejected_field, rejected)
        response.partial_success.error_message = error_message
    if encoding is Encoding.PROTOBUF:
        return bytes(response.SerializeToString())
    return orjson.dumps(json_format.MessageToDict(response))


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low = number & 0x7F
        number >>= 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def encode_status(encoding: Encoding, code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` (code and message), the body of OTLP error responses.

    Written by hand: it is two fields, and the generated class lives in a package
    (googleapis-common-protos) Radiator does not otherwise need.
    """
    if encoding is Encoding.JSON:
        return orjson.dumps({"code": code, "message": message})
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text
