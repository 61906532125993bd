"""The InfluxDB write API at the server root, where Influx clients and Telegraf look for it:
``POST /write`` (v1), ``POST /api/v2/write`` (v2), ``GET|HEAD /ping`` and, so Telegraf's
start-up ``CREATE DATABASE`` succeeds, a ``POST /query`` that accepts only that statement.

Answers follow InfluxDB: 204 when every line was stored; 400 with Influx's JSON error
(``{"code": "invalid", "message": "partial write: ..."}`` plus v1's ``error`` key) when lines
were rejected, after the valid ones were stored; 503 with ``Retry-After`` when the ingest
buffer is full. The 400 body also carries the problem-details keys of every Radiator error.
The ``db`` (v1) or ``bucket`` (v2) becomes the tag ``db`` of every point whose line has no
``db`` tag of its own; ``rp`` and ``org`` are accepted and ignored.
"""

from __future__ import annotations

import re
import zlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from radiator import __version__
from radiator.ingest import IngestResult
from radiator.ingest.lineprotocol import decode_lines
from radiator.runtime import Runtime
from radiator.web.deps import AgentIngester, RuntimeDep
from radiator.web.errors import problem_responses, request_problem

__all__ = ["INFLUX_VERSION", "router"]

router = APIRouter(tags=["influxdb"])

# The InfluxDB release whose write API this mirrors; clients read it from /ping.
INFLUX_VERSION = "2.7.0"
_HEADERS = {"X-Influxdb-Version": INFLUX_VERSION, "X-Influxdb-Build": f"Radiator {__version__}"}
_SHOWN_REJECTIONS = 5
_CREATE_DATABASE = re.compile(r"\s*CREATE\s+DATABASE\b", re.IGNORECASE)

V1Precision = Literal["n", "ns", "u", "us", "ms", "s", "m", "h"]
V2Precision = Literal["ns", "us", "ms", "s"]

_INFLUX_ERROR = {
    "title": "InfluxDB error",
    "description": "InfluxDB's error body (`code`, `message`, and v1's `error`) with the "
    "problem-details keys of every Radiator error.",
    "type": "object",
    "required": ["code", "message", "error", "status", "detail", "request_id"],
    "properties": {
        "code": {"type": "string", "description": "InfluxDB's code: `invalid`."},
        "message": {"type": "string", "description": "InfluxDB v2's message."},
        "error": {"type": "string", "description": "InfluxDB v1's message (the same)."},
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Each rejected line (`line N`) and why (the first 100).",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _write_responses() -> dict[int | str, dict[str, Any]]:
    docs = problem_responses(
        400,
        401,
        403,
        413,
        415,
        422,
        503,
        descriptions={
            400: "Lines were rejected (the valid ones were stored): InfluxDB's JSON error, "
            "`partial write: ...`; or a gzip body that does not decompress (problem+json)",
            415: "Content-Encoding other than gzip or identity",
            422: "Invalid query parameter, e.g. an unknown precision",
        },
    )
    docs[400]["content"]["application/json"] = {"schema": _INFLUX_ERROR}
    docs[204] = {"description": "Every line was stored"}
    return docs


_TEXT_BODY = {
    "requestBody": {
        "required": True,
        "description": "InfluxDB line protocol, optionally gzip-compressed "
        "(`Content-Encoding: gzip`).",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


class _BodyError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def _decompressed(body: bytes, encoding: str, limit: int) -> bytes:
    """The body after its Content-Encoding, never more than ``limit`` bytes of it."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise _BodyError(
            415, "unsupported_encoding", f"Content-Encoding {encoding!r}: use gzip or identity"
        )
    parts: list[bytes] = []
    size = 0
    rest = body
    try:
        while rest:  # a gzip stream may hold several members, one after the other
            member = zlib.decompressobj(wbits=31)
            part = member.decompress(rest, limit - size + 1)
            size += len(part)
            if size > limit or member.unconsumed_tail:
                raise _BodyError(
                    413,
                    "body_too_large",
                    f"decompressed body exceeds the limit of {limit} bytes "
                    "(setting max_body_bytes)",
                )
            if not member.eof:
                raise _BodyError(400, "malformed_body", "the gzip body is truncated")
            parts.append(part)
            rest = member.unused_data
    except zlib.error as exc:
        raise _BodyError(400, "malformed_body", f"the body is not valid gzip: {exc}") from exc
    return b"".join(parts)


def _rejection_response(request: Request, result: IngestResult) -> JSONResponse:
    shown = "; ".join(f"line {e.index}: {e.reason}" for e in result.errors[:_SHOWN_REJECTIONS])
    more = result.rejected - min(len(result.errors), _SHOWN_REJECTIONS)
    if more:
        shown += f"; and {more} more"
    counts = f"({result.accepted} accepted, {result.rejected} rejected; {shown})"
    # Telegraf and the Influx clients recognise these prefixes and drop the batch rather than
    # retrying it forever.
    head = "partial write: points rejected" if result.accepted else "unable to parse points"
    message = f"{head} {counts}"
    request_id = str(getattr(request.state, "request_id", ""))
    body = {
        "code": "invalid",
        "message": message,
        "error": message,
        "type": "urn:radiator:problem:invalid",
        "title": "Bad request",
        "status": 400,
        "detail": message,
        "instance": request.url.path,
        "request_id": request_id,
        "errors": [{"field": f"line {e.index}", "message": e.reason} for e in result.errors],
    }
    return JSONResponse(body, status_code=400, headers={**_HEADERS, "X-Request-ID": request_id})


def _store(runtime: Runtime, body: bytes, precision: str, db: str) -> IngestResult:
    builder = runtime.ingest.builder()
    decode_lines(body, builder, precision=precision, tags={"db": db} if db else None)
    return runtime.ingest.submit(builder, "influx")


async def _write(request: Request, runtime: RuntimeDep, precision: str, db: str) -> Response:
    raw = await request.body()
    try:
        body = _decompressed(
            raw, request.headers.get("content-encoding", ""), runtime.settings.max_body_bytes
        )
    except _BodyError as exc:
        return request_problem(request, exc.status, exc.code, exc.detail)
    # Decoding a large body takes a while; a worker thread keeps the event loop answering.
    result = await run_in_threadpool(_store, runtime, body, precision, db)
    if result.rejected:
        return _rejection_response(request, result)
    return Response(status_code=204, headers=_HEADERS)


@router.post(
    "/write",
    summary="InfluxDB v1 write: line protocol",
    status_code=204,
    response_class=Response,
    responses=_write_responses(),
    openapi_extra=_TEXT_BODY,
)
async def write_v1(
    _: AgentIngester,
    request: Request,
    runtime: RuntimeDep,
    db: Annotated[str, Query(description="Database; stored as the tag `db`.")] = "",
    rp: Annotated[str, Query(description="Retention policy (ignored).")] = "",
    precision: Annotated[V1Precision, Query(description="Unit of the timestamps.")] = "ns",
    u: Annotated[str, Query(description="User name (ignored; the token identifies).")] = "",
    p: Annotated[str, Query(description="An API token with the ingest scope.")] = "",
) -> Response:
    """Each numeric or boolean field becomes a gauge `<measurement>.<field>`; string fields
    are skipped. Credentials: `Authorization: Token|Bearer <token>`, Basic with the token as
    password, or `?u=<any>&p=<token>`."""
    return await _write(request, runtime, precision, db)


@router.post(
    "/api/v2/write",
    summary="InfluxDB v2 write: line protocol",
    status_code=204,
    response_class=Response,
    responses=_write_responses(),
    openapi_extra=_TEXT_BODY,
)
async def write_v2(
    _: AgentIngester,
    request: Request,
    runtime: RuntimeDep,
    bucket: Annotated[str, Query(description="Bucket; stored as the tag `db`.")] = "",
    org: Annotated[str, Query(description="Organisation (ignored).")] = "",
    orgID: Annotated[str, Query(description="Organisation id (ignored).")] = "",  # noqa: N803
    precision: Annotated[V2Precision, Query(description="Unit of the timestamps.")] = "ns",
) -> Response:
    """As `/write`; clients send `Authorization: Token <token>`."""
    return await _write(request, runtime, precision, bucket)


@router.get(
    "/ping",
    summary="InfluxDB ping: 204 with X-Influxdb-Version",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Radiator is up"}},
)
def ping() -> Response:
    return Response(status_code=204, headers=_HEADERS)


@router.head(
    "/ping",
    summary="InfluxDB ping (HEAD)",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Radiator is up"}},
)
def ping_head() -> Response:
    return Response(status_code=204, headers=_HEADERS)


@router.post(
    "/query",
    summary="InfluxDB v1 query: accepts CREATE DATABASE only",
    responses={
        200: {"description": "The statement was a CREATE DATABASE (a no-op here)"},
        400: {"description": "Any other statement: Radiator only takes writes"},
        **problem_responses(401, 403, 413, 422),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "q",
                "in": "query",
                "required": False,
                "description": "InfluxQL (also taken from a form body, as Telegraf sends it); "
                "only `CREATE DATABASE` is accepted.",
                "schema": {"type": "string"},
            }
        ]
    },
)
async def query_v1(_: AgentIngester, request: Request) -> JSONResponse:
    """Telegraf creates its database at start-up; Radiator needs none, so that succeeds.
    Query Radiator's data through `/api/v1` instead."""
    statement = request.query_params.get("q", "")
    content_type = request.headers.get("content-type", "")
    if not statement and content_type.startswith("application/x-www-form-urlencoded"):
        statement = str((await request.form()).get("q", ""))
    if _CREATE_DATABASE.match(statement):
        return JSONResponse({"results": [{"statement_id": 0}]}, headers=_HEADERS)
    message = "Radiator accepts InfluxDB writes only; query its data through /api/v1"
    return JSONResponse({"error": message}, status_code=400, headers=_HEADERS)
