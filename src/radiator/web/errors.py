"""The one error shape of the HTTP API: RFC 9457 problem details (application/problem+json).

Every error, whether raised by a service, by request validation or by routing, leaves here
as ``{"type", "title", "status", "detail", "instance", "code", "request_id"[, "errors"]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from radiator.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RadiatorError,
    RateLimitedError,
    StorageError,
)

__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_SCHEMA",
    "install_error_handlers",
    "problem_response",
    "problem_responses",
    "request_problem",
]

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger(__name__)

_STATUS: list[tuple[type[RadiatorError], int]] = [
    (InvalidInputError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (RateLimitedError, 429),
    (OverloadedError, 503),
    (StorageError, 503),
    (ConfigError, 500),
]
_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}
_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}

_STRING = {"type": "string"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details, the body of every error response.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance", "code", "request_id"],
    "properties": {
        "type": {**_STRING, "description": "URN naming the kind of problem."},
        "title": {**_STRING, "description": "Short summary of the status."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {**_STRING, "description": "What was wrong, for people."},
        "instance": {**_STRING, "description": "The request path."},
        "code": {**_STRING, "description": "Stable machine-readable error code."},
        "request_id": {**_STRING, "description": "The X-Request-ID of the request."},
        "errors": {
            "type": "array",
            "description": "Each invalid input, where known.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": _STRING, "message": _STRING},
            },
        },
    },
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": _STRING}},
    429: {
        "Retry-After": {
            "required": True,
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
_HEADERS[503] = _HEADERS[429]
_DESCRIPTIONS = {
    400: "Malformed request, e.g. a JSON body that does not parse",
    401: "No valid credentials",
    403: "The credentials lack the scope this needs, or the CSRF token is missing",
    404: "No such resource",
    409: "Conflicts with the current state",
    413: "Request body larger than the max_body_bytes setting",
    422: "Invalid input; `errors` names each field",
    429: "Too many requests",
    503: "Radiator is overloaded (the ingest buffer is full); retry after Retry-After seconds",
}


def problem_responses(
    *statuses: int, descriptions: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring the problem+json body (and headers) for ``statuses``."""
    docs: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "description": (descriptions or {}).get(status)
            or _DESCRIPTIONS.get(status, _TITLES.get(status, "Error")),
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
        }
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        docs[status] = entry
    return docs


def problem_response(
    request_id: str,
    status: int,
    code: str,
    detail: str,
    *,
    instance: str = "",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:radiator:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = errors
    all_headers = {"X-Request-ID": request_id, **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=all_headers)


def request_problem(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``problem_response`` for the request being answered (its id and path)."""
    return problem_response(
        _rid(request),
        status,
        code,
        detail,
        instance=request.url.path,
        errors=errors,
        headers=headers,
    )


def _rid(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


# Query errors are the client's bad request (with the position where one applies), and a
# query cancelled for running too long is the server declining the work.
_STATUS_BY_CODE = {
    "invalid_query": 400,
    "query_evaluation": 400,
    "query_too_large": 400,
    "query_timeout": 503,
}


def _status_of(exc: RadiatorError) -> int:
    if exc.code in _STATUS_BY_CODE:
        return _STATUS_BY_CODE[exc.code]
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


async def _radiator_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RadiatorError)
    status = _status_of(exc)
    headers: dict[str, str] = {}
    errors: list[dict[str, Any]] | None = None
    if isinstance(exc, RateLimitedError | OverloadedError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if exc.code == "query_timeout":
        # A query that ran out of time may fit when the server is less busy.
        headers["Retry-After"] = "10"
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="radiator"'
    if isinstance(exc, InvalidInputError) and exc.field:
        entry: dict[str, Any] = {"field": exc.field, "message": exc.message}
        entry.update(
            {k: exc.details[k] for k in ("position", "line", "column") if k in exc.details}
        )
        errors = [entry]
    if status >= 500:
        _log.error("request %s failed: %s", _rid(request), exc.message)
    return problem_response(
        _rid(request),
        status,
        exc.code,
        exc.message,
        instance=request.url.path,
        errors=errors,
        headers=headers,
    )


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in raw):
        err = next(e for e in raw if e.get("type") == "json_invalid")
        ctx = err.get("ctx") or {}
        detail = f"malformed JSON body: {ctx.get('error', err.get('msg', 'cannot decode'))}"
        return problem_response(
            _rid(request), 400, "malformed_json", detail, instance=request.url.path
        )
    errors = [
        {"field": _field(err.get("loc", ())), "message": str(err.get("msg", ""))} for err in raw
    ]
    first = errors[0] if errors else {"field": "", "message": "invalid request"}
    detail = f"{first['field']}: {first['message']}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem_response(
        _rid(request), 422, "invalid_input", detail, instance=request.url.path, errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if getattr(request.state, "body_too_large", False):
        limit = request.app.state.runtime.settings.max_body_bytes
        return problem_response(
            _rid(request),
            413,
            "body_too_large",
            f"request body exceeds the limit of {limit} bytes (setting max_body_bytes)",
            instance=request.url.path,
        )
    code = _CODES.get(exc.status_code, "http_error")
    detail = str(exc.detail) if exc.detail else _TITLES.get(exc.status_code, "error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such endpoint: {request.method} {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = _allowed_methods(request) or headers.get("Allow", "")
        headers["Allow"] = allowed
        detail = f"{request.method} is not allowed here; allowed: {allowed}"
    return problem_response(
        _rid(request), exc.status_code, code, detail, instance=request.url.path, headers=headers
    )


def _allowed_methods(request: Request) -> str:
    """Every method any route at this path accepts. The router's own 405 names only the
    first route whose path matched (``GET`` for a path that also takes ``POST``)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(route.methods or ())
    return ", ".join(sorted(methods))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unhandled error in request %s", _rid(request))
    return problem_response(
        _rid(request),
        500,
        "internal_error",
        "an unexpected error happened; see the server log",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RadiatorError, _radiator_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
