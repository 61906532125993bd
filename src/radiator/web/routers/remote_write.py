"""Prometheus remote write 1.0 receiver: ``POST /api/v1/write``.

Prometheus retries 5xx answers and drops a batch on 4xx, so a body that cannot be decoded
is a 400 (retrying cannot help) and a full ingest buffer is a 503 with Retry-After (the
retry will get through, and counters lose nothing: their state is rolled back).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from radiator.ingest.prometheus_remote import RemoteWriteError, RemoteWriteTooLargeError
from radiator.web.deps import Ingester, RuntimeDep
from radiator.web.errors import problem_responses, request_problem
from radiator.web.routers.ingest import rejected_everything

router = APIRouter(tags=["ingest"])

PROTOCOL = "prometheus_remote_write"
_PROTOBUF = "application/x-protobuf"
_ACCEPTED_TYPES = frozenset({_PROTOBUF, "application/octet-stream", ""})


def _problem(request: Request, status: int, code: str, detail: str) -> Response:
    return request_problem(request, status, code, detail)


def _unsupported(request: Request) -> str:
    """Why the request's encoding is not remote write 1.0, or "" when it is."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in _ACCEPTED_TYPES or "io.prometheus.write.v2" in content_type:
        return (
            f"Content-Type {content_type!r} is not supported: send remote write 1.0 "
            f"({_PROTOBUF}, prometheus.WriteRequest)"
        )
    encoding = request.headers.get("content-encoding", "snappy").strip().lower()
    if encoding != "snappy":
        return f"Content-Encoding {encoding!r} is not supported: send snappy"
    return ""


@router.post(
    "/write",
    summary="Receive Prometheus remote write",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Every sample was taken (or skipped as a duplicate or NaN)."},
        **problem_responses(
            400,
            413,
            415,
            422,
            503,
            descriptions={
                400: "The body is not a snappy-compressed prometheus.WriteRequest",
                413: "The body, compressed or not, is larger than max_body_bytes",
                415: "Not remote write 1.0: another Content-Type or Content-Encoding",
                422: "Every series in the request was rejected; `errors` names them",
            },
        ),
    },
    openapi_extra={
        # Senders use application/x-protobuf; it is described in words because the
        # property-based API test has no generator for protobuf bodies.
        "requestBody": {
            "required": True,
            "description": "A snappy-compressed prometheus.WriteRequest, sent as "
            "application/x-protobuf (what Prometheus sends) or application/octet-stream.",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def remote_write(_: Ingester, request: Request, runtime: RuntimeDep) -> Response:
    """Prometheus remote write 1.0: a snappy-compressed protobuf ``WriteRequest``
    (``Content-Encoding: snappy``, ``X-Prometheus-Remote-Write-Version: 0.1.0``).

    Series that cannot be stored (no ``__name__``, invalid names, native histograms) are
    counted as rejected and the rest is stored; only when nothing could be stored is the
    answer a 422. See docs/ingest/prometheus.md for how series are mapped."""
    unsupported = _unsupported(request)
    if unsupported:
        return _problem(request, 415, "unsupported_media_type", unsupported)
    body = await request.body()
    builder = runtime.ingest.builder()
    try:
        counters = runtime.remote_write.decode(
            body, builder, max_bytes=runtime.settings.max_body_bytes
        )
    except RemoteWriteTooLargeError as exc:
        return _problem(request, 413, "body_too_large", str(exc))
    except RemoteWriteError as exc:
        return _problem(request, 400, "malformed_remote_write", str(exc))
    try:
        result = runtime.ingest.submit(builder, PROTOCOL)
    except Exception:  # typically OverloadedError (503): the retry must find counters as they were
        counters.rollback()
        raise
    if result.rejected and not result.accepted:
        return rejected_everything(request, result, "samples", where="timeseries")
    return Response(status_code=204)
