"""OTLP/HTTP endpoints at the server root, where OpenTelemetry exporters look for them:
``POST /v1/metrics``, ``/v1/logs`` and ``/v1/traces``.

Answers follow the OTLP/HTTP specification: 200 with an ``Export*ServiceResponse`` in the
request's content type (``partial_success`` when items were rejected), 400 with a
``google.rpc.Status`` for undecodable bodies, 503 with ``Retry-After`` when the ingest buffer
is full. Authentication is the usual ``Authorization: Bearer <token>`` with the ingest scope,
which exporters send when configured (``OTEL_EXPORTER_OTLP_HEADERS``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from radiator.errors import OverloadedError
from radiator.ingest.otlp_codec import (
    MEDIA_TYPES,
    STATUS_INVALID_ARGUMENT,
    STATUS_UNAVAILABLE,
    BodyTooLargeError,
    Encoding,
    OtlpFormatError,
    OtlpSignal,
    UnsupportedMediaError,
    encode_status,
    encoding_of,
)
from radiator.web.deps import Ingester, RuntimeDep
from radiator.web.errors import problem_responses, request_problem

router = APIRouter(tags=["opentelemetry"])

_BINARY = {"type": "string", "format": "binary"}
_OBJECT = {"type": "object"}
_STATUS_SCHEMA = {
    "type": "object",
    "description": "google.rpc.Status",
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
}
_BOTH = "application/x-protobuf or application/json, as the request"


def _docs(signal: OtlpSignal, message: str) -> dict[str, Any]:
    status_content = {
        MEDIA_TYPES[Encoding.PROTOBUF]: {"schema": _BINARY},
        MEDIA_TYPES[Encoding.JSON]: {"schema": _STATUS_SCHEMA},
    }
    responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": f"Export{message}ServiceResponse ({_BOTH}); `partialSuccess` "
            "counts rejected items and names the first few",
            "content": {
                MEDIA_TYPES[Encoding.PROTOBUF]: {"schema": _BINARY},
                MEDIA_TYPES[Encoding.JSON]: {"schema": _OBJECT},
            },
        },
        400: {"description": "The body is not decodable", "content": status_content},
        **problem_responses(
            401,
            403,
            413,
            415,
            descriptions={
                413: "The body, or the body once decompressed, exceeds max_body_bytes",
                415: "Content type other than application/x-protobuf or application/json, "
                "or content encoding other than gzip or deflate",
            },
        ),
        503: {
            "description": "The ingest buffer is full; retry after Retry-After seconds",
            "headers": {
                "Retry-After": {
                    "required": True,
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
            "content": status_content,
        },
    }
    return {
        "summary": f"OTLP/HTTP {signal} export",
        "response_class": Response,
        "responses": responses,
        "openapi_extra": {
            # application/x-protobuf is accepted as well (and is what exporters send by
            # default); it is described in words because the property-based API test has no
            # generator for protobuf bodies.
            "requestBody": {
                "required": True,
                "description": f"An OTLP Export{message}ServiceRequest as "
                "application/x-protobuf or in the OTLP JSON encoding; Content-Encoding gzip "
                "or deflate accepted.",
                "content": {MEDIA_TYPES[Encoding.JSON]: {"schema": _OBJECT}},
            }
        },
    }


def _problem(request: Request, status: int, code: str, detail: str) -> JSONResponse:
    return request_problem(request, status, code, detail)


async def _export(request: Request, runtime: RuntimeDep, signal: OtlpSignal) -> Response:
    try:
        encoding = encoding_of(request.headers.get("content-type", ""))
    except UnsupportedMediaError as exc:
        return _problem(request, 415, "unsupported_media_type", str(exc))
    media_type = MEDIA_TYPES[encoding]
    body = await request.body()
    try:
        outcome = runtime.otlp.export(
            signal, encoding, body, request.headers.get("content-encoding", "")
        )
    except UnsupportedMediaError as exc:
        return _problem(request, 415, "unsupported_media_type", str(exc))
    except BodyTooLargeError as exc:
        return _problem(request, 413, "body_too_large", str(exc))
    except OtlpFormatError as exc:
        status = encode_status(encoding, STATUS_INVALID_ARGUMENT, str(exc))
        return Response(status, status_code=400, media_type=media_type)
    except OverloadedError as exc:
        status = encode_status(encoding, STATUS_UNAVAILABLE, exc.message)
        retry = str(max(1, round(exc.retry_after)))
        return Response(
            status, status_code=503, media_type=media_type, headers={"Retry-After": retry}
        )
    return Response(outcome.body, media_type=media_type)


@router.post("/v1/metrics", **_docs(OtlpSignal.METRICS, "Metrics"))
async def export_metrics(_: Ingester, request: Request, runtime: RuntimeDep) -> Response:
    """Gauges, sums, histograms, exponential histograms and summaries; see
    docs/ingest/opentelemetry.md for how each becomes Radiator points."""
    return await _export(request, runtime, OtlpSignal.METRICS)


@router.post("/v1/logs", **_docs(OtlpSignal.LOGS, "Logs"))
async def export_logs(_: Ingester, request: Request, runtime: RuntimeDep) -> Response:
    """Log records, with OTel severities mapped onto DEBUG, INFO, WARN, ERROR and FATAL."""
    return await _export(request, runtime, OtlpSignal.LOGS)


@router.post("/v1/traces", **_docs(OtlpSignal.TRACES, "Trace"))
async def export_traces(_: Ingester, request: Request, runtime: RuntimeDep) -> Response:
    """Spans with their parent links, service, status and attributes."""
    return await _export(request, runtime, OtlpSignal.TRACES)
