"""Real-user monitoring: the browser script (``GET /rum.js``) and its endpoint.

Browsers cannot keep secrets, so the endpoint takes the API token in ``?key=`` and anyone
who views the page can read it: it must be a dedicated token holding only the ``ingest``
scope. Reports come by ``navigator.sendBeacon`` from any origin (CORS is open for POST),
are capped in size, and become:

- ``browser.page_views`` and ``browser.js_errors`` counters (tags service, page, browser);
- histograms ``browser.ttfb_ms``, ``browser.dom_content_loaded_ms``, ``browser.page_load_ms``,
  ``browser.lcp_ms`` and ``browser.cls`` (tags service, page, ``le``; plus ``.sum`` and
  ``.count`` counters): each observation adds 1 to every bucket whose bound it is within,
  the cumulative layout of Prometheus, written as deltas;
- one ERROR log per JavaScript error (message, source, line, column, stack, page, browser).

Page paths are turned into templates (``/orders/8812`` → ``/orders/:id``) so the number of
series stays bounded.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import msgspec
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from radiator.errors import AuthenticationError, OverloadedError, PermissionDeniedError
from radiator.identity import Scope
from radiator.ingest import BatchBuilder
from radiator.web.deps import RuntimeDep, caller_of
from radiator.web.errors import problem_responses, request_problem
from radiator.web.routers.ingest import IngestSummary, summary_of

__all__ = ["MAX_REPORT_BYTES", "decode_report", "page_template", "router", "script_router"]

MAX_REPORT_BYTES = 32 * 1024
_MAX_ERRORS = 10
_MAX_TIMING_MS = 10 * 60 * 1000.0
_SCRIPT = Path(__file__).resolve().parents[1] / "ui" / "static" / "rum.js"
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
_ID_SEGMENT = re.compile(
    r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}|(?=[^/]*\d)[A-Za-z0-9_\-]{20,})$"
)
_MS_BUCKETS = (100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0)
_CLS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
_TIMINGS = (
    ("ttfb_ms", "browser.ttfb_ms", _MS_BUCKETS),
    ("dom_content_loaded_ms", "browser.dom_content_loaded_ms", _MS_BUCKETS),
    ("load_ms", "browser.page_load_ms", _MS_BUCKETS),
    ("lcp_ms", "browser.lcp_ms", _MS_BUCKETS),
    ("cls", "browser.cls", _CLS_BUCKETS),
)
_BROWSERS = (
    ("bot", re.compile(r"bot|crawler|spider|slurp", re.I)),
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Chrome Headless", re.compile(r"HeadlessChrome/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Safari", re.compile(r"Version/[\d.]+.*Safari/")),
)


class _PageLoad(msgspec.Struct):
    ttfb_ms: float | None = None
    dom_content_loaded_ms: float | None = None
    load_ms: float | None = None
    lcp_ms: float | None = None
    cls: float | None = None


class _JsError(msgspec.Struct):
    message: str
    kind: str = "error"
    source: str = ""
    line: int = 0
    column: int = 0
    stack: str = ""


class _Report(msgspec.Struct):
    page: str = "/"
    service: str = "browser"
    environment: str = ""
    page_load: _PageLoad | None = None
    errors: list[_JsError] = []


_DECODER = msgspec.json.Decoder(_Report)


class ReportError(ValueError):
    """The body is not a report this endpoint understands (answered with 422)."""


def page_template(path: str) -> str:
    """The page's path with ids replaced by ``:id``, capped in length."""
    path = path.split("?", 1)[0].split("#", 1)[0] or "/"
    parts = [(":id" if _ID_SEGMENT.match(part) else part[:60]) for part in path.split("/")[:21]]
    template = "/".join(parts)
    return (template if template.startswith("/") else "/" + template)[:200]


def browser_family(user_agent: str) -> str:
    for family, pattern in _BROWSERS:
        if pattern.search(user_agent):
            return family
    return "other"


def decode_report(body: bytes) -> _Report:
    """Parse and validate one report.

    Raises:
        ReportError: not JSON of the report's shape, or a service/environment name that is
            not 1-64 letters, digits, ``.``, ``_`` or ``-``.
    """
    try:
        report = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise ReportError(str(exc)) from exc
    if not _NAME_RE.match(report.service):
        raise ReportError("service must be 1-64 letters, digits, '.', '_' or '-'")
    if report.environment and not _NAME_RE.match(report.environment):
        raise ReportError("environment must be 1-64 letters, digits, '.', '_' or '-'")
    return report


def _histogram(
    builder: BatchBuilder,
    index: int,
    name: str,
    value: float,
    buckets: tuple[float, ...],
    tags: dict[str, str],
) -> int:
    for bound in (*buckets, math.inf):
        if value <= bound:
            le = "+Inf" if math.isinf(bound) else f"{bound:g}"
            builder.point(index, name, 1, {**tags, "le": le}, "histogram")
            index += 1
    builder.point(index, f"{name}.sum", value, tags, "counter")
    builder.point(index + 1, f"{name}.count", 1, tags, "counter")
    return index + 2


def build_report(builder: BatchBuilder, report: _Report, user_agent: str) -> None:
    """Turn a validated report into points and logs in ``builder``."""
    tags = {"service": report.service, "page": page_template(report.page)}
    if report.environment:
        tags["environment"] = report.environment
    browser = browser_family(user_agent)
    index = 0
    if report.page_load is not None:
        builder.point(index, "browser.page_views", 1, {**tags, "browser": browser}, "counter")
        index += 1
        for field, name, buckets in _TIMINGS:
            value = getattr(report.page_load, field)
            if value is None:
                continue
            upper = 100.0 if field == "cls" else _MAX_TIMING_MS
            if not math.isfinite(value) or not 0 <= value <= upper:
                builder.result.reject("points", index, f"{field} must be between 0 and {upper:g}")
                index += 1
                continue
            index = _histogram(builder, index, name, value, buckets, tags)
    errors = report.errors[:_MAX_ERRORS]
    if errors:
        builder.point(
            index, "browser.js_errors", len(errors), {**tags, "browser": browser}, "counter"
        )
    for position, error in enumerate(errors):
        builder.log(
            position,
            "ERROR",
            error.message[:1000] or "(no message)",
            service=report.service,
            attributes={
                "logger": "browser",
                "error.kind": error.kind[:40],
                "source": error.source[:500],
                "line": error.line,
                "column": error.column,
                "stack": error.stack[:4000],
                "page": tags["page"],
                "browser": browser,
                **({"environment": report.environment} if report.environment else {}),
            },
        )


async def _capped_body(request: Request) -> bytes | None:
    """The body, or None once it passes ``MAX_REPORT_BYTES`` (the rest is not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REPORT_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REPORT_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


router = APIRouter(tags=["rum"])
script_router = APIRouter(include_in_schema=False)


def _problem(request: Request, status: int, code: str, detail: str, **headers: str) -> JSONResponse:
    return request_problem(request, status, code, detail, headers={**_CORS, **headers})


@router.options(
    "/rum",
    summary="CORS preflight for browser reports",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Any origin may POST reports"}},
)
def rum_preflight() -> Response:
    return Response(status_code=204, headers=_CORS)


@router.post(
    "/rum",
    summary="Receive a page-load or JavaScript-error report from a browser",
    response_model=IngestSummary,
    responses=problem_responses(401, 403, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                ct: {"schema": {"type": "object"}} for ct in ("text/plain", "application/json")
            },
        }
    },
)
async def rum_report(
    request: Request,
    runtime: RuntimeDep,
    key: str = Query(
        "",
        max_length=200,
        description="An API token holding only the ingest scope (it is public in the page).",
    ),
) -> Any:
    """Sent by ``/rum.js`` with ``navigator.sendBeacon``. Open to every origin; the key is a
    public, ingest-only token. Reports over 32 KiB are refused."""
    caller = caller_of(request)
    action = f"POST {request.url.path}"
    try:
        if not key:
            runtime.identity.record_denied(caller, action, "no_credentials")
            raise AuthenticationError("send an ingest-only API token as ?key=")
        principal = runtime.identity.token_principal(key, caller)
        runtime.identity.authorize(
            principal, Scope.INGEST, caller_of(request, principal.actor), action
        )
    except AuthenticationError as exc:
        return _problem(request, 401, exc.code, exc.message, **{"WWW-Authenticate": "Bearer"})
    except PermissionDeniedError as exc:
        return _problem(request, 403, exc.code, exc.message)
    body = await _capped_body(request)
    if body is None:
        return _problem(
            request, 413, "body_too_large", f"a report may hold at most {MAX_REPORT_BYTES} bytes"
        )
    try:
        report = decode_report(body)
    except ReportError as exc:
        return _problem(request, 422, "invalid_input", f"not a browser report: {exc}")
    builder = runtime.ingest.builder()
    build_report(builder, report, request.headers.get("user-agent", ""))
    try:
        result = runtime.ingest.submit(builder, "rum")
    except OverloadedError as exc:
        return _problem(
            request, 503, exc.code, exc.message, **{"Retry-After": str(round(exc.retry_after) or 1)}
        )
    return JSONResponse(summary_of(result), headers=_CORS)


@script_router.get("/rum.js")
def rum_script() -> FileResponse:
    """The browser script; cacheable for an hour, no third-party code."""
    return FileResponse(
        _SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600", **_CORS},
    )
