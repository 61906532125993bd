"""ASGI middleware: request ids, body-size limits and Radiator's own request metrics."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from radiator.ingest import SelfMetrics
from radiator.web.errors import problem_response

__all__ = ["RequestContextMiddleware", "body_too_large_detail", "route_template"]

_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class _BodyTooLargeError(Exception):
    pass


def route_template(scope: Scope) -> str:
    """The matched route's path template with router prefixes, e.g. ``/api/v1/services/{name}``;
    ``unmatched`` when routing found nothing (so unknown URLs cannot explode cardinality)."""
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    route = effective if effective is not None else scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


def body_too_large_detail(limit: int) -> str:
    return f"request body exceeds the limit of {limit} bytes (setting max_body_bytes)"


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID``, kept from the client when sane), refuses
    bodies over ``max_body_bytes`` with 413, and times each request per route template."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: SelfMetrics | None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _ID_RE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                raw = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in raw):
                    raw.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": raw}
            await send(message)

        too_large = self._declared_too_large(headers)
        try:
            if too_large:
                raise _BodyTooLargeError
            await self.app(scope, self._limited(scope, receive), send_with_id)
        except _BodyTooLargeError:
            if status_holder["started"]:
                raise
            response = problem_response(
                request_id,
                413,
                "body_too_large",
                body_too_large_detail(self.max_body_bytes),
                instance=scope.get("path", ""),
            )
            await response(scope, receive, send_with_id)
        finally:
            if self.metrics is not None:
                self.metrics.observe_request(
                    route_template(scope),
                    scope.get("method", ""),
                    int(status_holder["status"]),
                    time.perf_counter() - started,
                )

    def _declared_too_large(self, headers: dict[str, str]) -> bool:
        length = headers.get("content-length", "")
        return length.isdigit() and int(length) > self.max_body_bytes

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        seen = 0

        async def wrapped() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    # The framework may wrap this exception; the flag lets the error
                    # handlers still answer 413.
                    scope["state"]["body_too_large"] = True
                    raise _BodyTooLargeError
            return message

        return wrapped
