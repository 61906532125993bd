"""OTLP/HTTP bodies: content types, decompression limits, JSON ids, responses and fuzzing."""

from __future__ import annotations

import contextlib
import gzip
import zlib

import orjson
import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from radiator.ingest.otlp_codec import (
    BodyTooLargeError,
    Encoding,
    OtlpFormatError,
    OtlpSignal,
    UnsupportedMediaError,
    decode_request,
    decompress,
    encode_response,
    encode_status,
    encoding_of,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/x-protobuf", Encoding.PROTOBUF),
        ("Application/X-Protobuf; charset=binary", Encoding.PROTOBUF),
        ("application/json", Encoding.JSON),
        ("application/json; charset=utf-8", Encoding.JSON),
    ],
)
def test_content_types_name_the_encoding(header: str, expected: Encoding) -> None:
    assert encoding_of(header) is expected


@pytest.mark.parametrize("header", ["", "text/plain", "application/grpc", "application/xml"])
def test_other_content_types_are_unsupported(header: str) -> None:
    with pytest.raises(UnsupportedMediaError, match="application/x-protobuf or application/json"):
        encoding_of(header)


def test_gzip_and_deflate_bodies_are_decompressed() -> None:
    body = b"x" * 1000
    assert decompress(gzip.compress(body), "gzip", 1000) == body
    assert decompress(zlib.compress(body), "deflate", 1000) == body
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decompress(raw.compress(body) + raw.flush(), "deflate", 1000) == body
    assert decompress(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip", 10) == b"abcd"
    assert decompress(body, "identity", 10) == body


def test_a_body_that_decompresses_beyond_the_limit_is_refused() -> None:
    bomb = gzip.compress(b"\0" * 10_000_000)

    with pytest.raises(BodyTooLargeError, match="more than 1000 bytes"):
        decompress(bomb, "gzip", 1000)


def test_corrupt_or_truncated_gzip_is_a_format_error() -> None:
    with pytest.raises(OtlpFormatError, match="not valid gzip"):
        decompress(b"not gzip at all", "gzip", 1000)
    with pytest.raises(OtlpFormatError, match="truncated"):
        decompress(gzip.compress(b"hello" * 100)[:20], "gzip", 1000)


def test_unknown_content_encodings_are_unsupported() -> None:
    with pytest.raises(UnsupportedMediaError, match="zstd"):
        decompress(b"", "zstd", 1000)


def test_json_trace_and_span_ids_are_hex() -> None:
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "parentSpanId": "eee19b7ec3c1b173",
                                "name": "GET /",
                                "startTimeUnixNano": "1544712660000000000",
                                "kind": 2,
                                "links": [{"traceId": "00" * 16, "spanId": "01" * 8}],
                                "unknownField": {"ignored": True},
                            }
                        ]
                    }
                ]
            }
        ]
    }

    request = decode_request(OtlpSignal.TRACES, Encoding.JSON, orjson.dumps(body))

    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    assert span.span_id.hex() == "eee19b7ec3c1b174"
    assert span.parent_span_id.hex() == "eee19b7ec3c1b173"
    assert span.start_time_unix_nano == 1544712660000000000
    assert span.links[0].span_id.hex() == "01" * 8


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
        b'{"resourceSpans": "nope"}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
    ],
)
def test_bad_json_bodies_are_format_errors(body: bytes) -> None:
    with pytest.raises(OtlpFormatError):
        decode_request(OtlpSignal.TRACES, Encoding.JSON, body)


def test_bad_protobuf_bodies_are_format_errors() -> None:
    with pytest.raises(OtlpFormatError, match="not an OTLP traces protobuf"):
        decode_request(OtlpSignal.TRACES, Encoding.PROTOBUF, b"\x0a\xff\xff\xff")


def test_a_response_without_rejections_is_empty() -> None:
    assert encode_response(OtlpSignal.METRICS, Encoding.PROTOBUF) == b""
    assert encode_response(OtlpSignal.METRICS, Encoding.JSON) == b"{}"


def test_partial_success_carries_the_rejected_count_and_message() -> None:
    body = encode_response(OtlpSignal.METRICS, Encoding.PROTOBUF, 3, "data point 1: bad")
    response = ExportMetricsServiceResponse.FromString(body)
    assert response.partial_success.rejected_data_points == 3
    assert response.partial_success.error_message == "data point 1: bad"

    as_json = orjson.loads(encode_response(OtlpSignal.LOGS, Encoding.JSON, 2, "x"))
    assert as_json == {"partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "x"}}


def test_status_bodies_decode_as_google_rpc_status() -> None:
    status = status_pb2.Status.FromString(encode_status(Encoding.PROTOBUF, 3, "bad body ✗" * 20))
    assert status.code == 3
    assert status.message == "bad body ✗" * 20

    parsed = json_format.Parse(encode_status(Encoding.JSON, 14, "busy"), status_pb2.Status())
    assert (parsed.code, parsed.message) == (14, "busy")


@given(st.binary(max_size=512), st.sampled_from(list(OtlpSignal)))
@settings(max_examples=300, deadline=None)
def test_arbitrary_protobuf_bytes_decode_or_raise_a_format_error(
    body: bytes, signal: OtlpSignal
) -> None:
    with contextlib.suppress(OtlpFormatError):
        decode_request(signal, Encoding.PROTOBUF, body)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    [
        "resourceSpans",
        "scopeSpans",
        "spans",
        "traceId",
        "spanId",
        "name",
        "attributes",
        "resourceMetrics",
        "scopeMetrics",
        "metrics",
        "gauge",
        "dataPoints",
        "asInt",
        "asDouble",
        "resourceLogs",
        "scopeLogs",
        "logRecords",
        "body",
        "stringValue",
        "key",
        "value",
    ]
)


@given(
    st.recursive(
        _JSON,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
        max_leaves=30,
    ),
    st.sampled_from(list(OtlpSignal)),
)
@settings(max_examples=300, deadline=None)
def test_arbitrary_json_decodes_or_raises_a_format_error(
    document: object, signal: OtlpSignal
) -> None:
    try:
        body = orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return
    with contextlib.suppress(OtlpFormatError):
        decode_request(signal, Encoding.JSON, body)


def test_a_deeply_nested_json_body_is_a_format_error_not_a_crash() -> None:
    body = b'{"resourceSpans": ' + b"[" * 5000 + b"]" * 5000 + b"}"

    with pytest.raises(OtlpFormatError):
        decode_request(OtlpSignal.TRACES, Encoding.JSON, body)


def test_a_traces_request_round_trips_through_protobuf() -> None:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.add(name="x")

    decoded = decode_request(OtlpSignal.TRACES, Encoding.PROTOBUF, request.SerializeToString())

    assert decoded == request
