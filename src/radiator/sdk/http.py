"""What the ASGI and WSGI middleware record per request, shared by both.

Per request, tagged with ``route`` (the template, e.g. ``/orders/{id}``), ``method`` and
``status`` (``2xx``…``5xx``):

- ``http.server.requests``: counter of requests (the home radiator sums it by service).
- ``http.server.duration_ms``: timer (count, sum, min, max, p50, p90, p95, p99).
- ``http.server.exceptions``: counter of unhandled exceptions, tagged ``exception`` (type).
- one span named ``METHOD /route`` whose parent is the caller's ``traceparent``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from radiator.sdk.client import Client, get_client
from radiator.sdk.trace import TraceContext, parse_traceparent

__all__ = [
    "DURATION_METRIC",
    "EXCEPTIONS_METRIC",
    "OTHER_ROUTE",
    "REQUESTS_METRIC",
    "UNMATCHED_ROUTE",
    "RequestRecorder",
]

_log = logging.getLogger("radiator.sdk")
REQUESTS_METRIC = "http.server.requests"
DURATION_METRIC = "http.server.duration_ms"
EXCEPTIONS_METRIC = "http.server.exceptions"
UNMATCHED_ROUTE = "unmatched"
OTHER_ROUTE = "other"
_MAX_PATH = 200


@dataclass
class RequestRecorder:
    """Turns finished requests into metrics and spans, keeping route names bounded.

    A framework's route template is always used. Without one, the raw path is used for at
    most ``max_raw_paths`` distinct paths (then ``other``), and a 404 without a route is
    ``unmatched``, so scanners probing random URLs cannot explode the series count.
    """

    client: Client | None = None
    max_raw_paths: int = 100
    record_spans: bool = True
    _raw_paths: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, traceparent: str, tracestate: str = "") -> TraceContext:
        """The span of a new request: a child of the caller's, or a new trace's root."""
        parent = parse_traceparent(traceparent, tracestate) if traceparent else None
        return parent.child() if parent is not None else TraceContext.new()

    def route_name(self, template: str | None, raw_path: str, status: int) -> str:
        if template:
            return template
        if status == 404:
            return UNMATCHED_ROUTE
        path = raw_path[:_MAX_PATH] or "/"
        with self._lock:
            if path in self._raw_paths:
                return path
            if len(self._raw_paths) < self.max_raw_paths:
                self._raw_paths.add(path)
                return path
        return OTHER_ROUTE

    def finish(
        self,
        context: TraceContext,
        *,
        method: str,
        route: str,
        status: int,
        started: float,
        duration_ms: float,
        exception: BaseException | None = None,
    ) -> None:
        """Record one request; never raises."""
        try:
            self._finish(context, method, route, status, started, duration_ms, exception)
        except Exception:
            _log.debug("recording a request failed", exc_info=True)

    def _finish(
        self,
        context: TraceContext,
        method: str,
        route: str,
        status: int,
        started: float,
        duration_ms: float,
        exception: BaseException | None,
    ) -> None:
        client = self.client or get_client()
        status_class = f"{status // 100}xx" if 100 <= status < 600 else "5xx"
        tags = {"route": route, "method": method, "status": status_class}
        client.count(REQUESTS_METRIC, tags=tags)
        client.timing(DURATION_METRIC, duration_ms, tags=tags)
        attributes: dict[str, object] = {
            "http.method": method,
            "http.route": route,
            "http.status_code": status,
            "span.kind": "server",
        }
        if exception is not None:
            kind = type(exception).__name__
            client.count(
                EXCEPTIONS_METRIC, tags={"route": route, "method": method, "exception": kind}
            )
            attributes["exception.type"] = kind
            attributes["exception.message"] = str(exception)[:2000]
        if self.record_spans and context.sampled:
            client.span(
                context,
                f"{method} {route}",
                start=started,
                duration_ms=duration_ms,
                status="error" if exception is not None or status >= 500 else "ok",
                attributes=attributes,
            )


def now() -> tuple[float, float]:
    """Wall-clock start (for the span) and a monotonic start (for the duration)."""
    return time.time(), time.perf_counter()
