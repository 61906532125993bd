"""Small distributed traces across the demo services, and the log lines they leave.

A trace starts at a route of an entry service (web-frontend) and follows the ``calls`` of
each route, so every trace has the shape real requests would. Each span logs one line:
INFO normally, WARN when its own work was slow, ERROR when it failed; every line carries
its trace and span id so logs and traces link up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from random import Random

from radiator.core.types import LogLevel, LogRecord, Span, SpanStatus
from radiator.demo.base import from_us, new_span_id, new_trace_id
from radiator.demo.organisation import DemoOrg, DemoService, Route

__all__ = ["Conditions", "TraceWriter", "roots_reaching"]

_US_PER_MS = 1000
_CALL_GAP_MS = (0.3, 2.5)


@dataclass(frozen=True, slots=True)
class Conditions:
    """How a service behaves at one moment: what its spans draw from."""

    p50_ms: float
    error_rate: float
    incident: bool = False


@dataclass(slots=True)
class _Pending:
    service: DemoService
    route: Route
    span_id: str
    parent_id: str
    start_us: int
    duration_ms: float
    own_ms: float
    code: int
    message: str


def roots_reaching(org: DemoOrg) -> dict[str, list[tuple[str, Route]]]:
    """For each service, the entry routes whose requests reach it.

    A service no entry route reaches gets its own routes, so it still has traces.
    """

    def reaches(service: str, route: Route, target: str, depth: int = 0) -> bool:
        if service == target:
            return True
        if depth > 8:  # the demo graph is acyclic; this only guards a careless edit
            return False
        return any(
            reaches(callee, org.service(callee).route(template), target, depth + 1)
            for callee, template in route.calls
        )

    entries = [(s.name, r) for s in org.entry_services() for r in s.traffic.routes]
    found: dict[str, list[tuple[str, Route]]] = {}
    for service in org.services:
        roots = [(name, route) for name, route in entries if reaches(name, route, service.name)]
        found[service.name] = roots or [(service.name, r) for r in service.traffic.routes]
    return found


class TraceWriter:
    """Builds traces into ``spans`` and their log lines into ``logs``."""

    def __init__(self, org: DemoOrg, rng: Random) -> None:
        self._org = org
        self._rng = rng
        self._fail_at: str | None = None
        self.spans: list[Span] = []
        self.logs: list[LogRecord] = []

    def trace(
        self,
        root: tuple[str, Route],
        start_us: int,
        latest_us: int,
        conditions: Mapping[str, Conditions],
        fail_at: str | None = None,
    ) -> None:
        """Record one trace starting at ``start_us``.

        Args:
            root: the entry service and route the request arrives at.
            latest_us: nothing in the trace may end later; the whole trace shifts earlier.
            conditions: each service's latency and error rate at this moment.
            fail_at: a service whose first span in the trace fails whatever its error rate,
                so error logs follow the 5xx counts.
        """
        pending: list[_Pending] = []
        self._fail_at = fail_at
        self._span(pending, root, start_us, "", conditions)
        overflow = max(p.start_us + int(p.duration_ms * _US_PER_MS) for p in pending) - latest_us
        shift = max(0, overflow)
        trace_id = new_trace_id(self._rng)
        for p in pending:
            self._emit(trace_id, p, p.start_us - shift)

    def _span(
        self,
        out: list[_Pending],
        at: tuple[str, Route],
        start_us: int,
        parent_id: str,
        conditions: Mapping[str, Conditions],
    ) -> _Pending:
        rng = self._rng
        service = self._org.service(at[0])
        route = at[1]
        now = conditions[service.name]
        own_ms = now.p50_ms * rng.lognormvariate(0.0, 0.5)
        span = _Pending(service, route, new_span_id(rng), parent_id, start_us, 0.0, own_ms, 200, "")
        out.append(span)
        cursor = start_us + int(own_ms * 0.3 * _US_PER_MS)
        failed_child: _Pending | None = None
        for callee, template in route.calls:
            cursor += int(rng.uniform(*_CALL_GAP_MS) * _US_PER_MS)
            target = (callee, self._org.service(callee).route(template))
            child = self._span(out, target, cursor, span.span_id, conditions)
            cursor += int(child.duration_ms * _US_PER_MS)
            if child.code >= 500:
                failed_child = child
                break  # no receipt is sent for a charge that failed
        span.duration_ms = round((cursor - start_us) / _US_PER_MS + own_ms * 0.7, 3)
        if self._fail_at == service.name or rng.random() < now.error_rate:
            if self._fail_at == service.name:
                self._fail_at = None
            errors = service.errors
            span.code = rng.choice((500, 503))
            span.message = errors[0] if now.incident else rng.choice(errors)
        elif failed_child is not None and rng.random() < 0.7:
            span.code = 502
            span.message = (
                f"call to {failed_child.service.name} {failed_child.route.label} failed: "
                f"{failed_child.code} after {failed_child.duration_ms:.0f} ms"
            )
        return span

    def _emit(self, trace_id: str, p: _Pending, start_us: int) -> None:
        host = self._rng.choice(p.service.hosts)
        failed = p.code >= 500
        attributes: dict[str, object] = {
            "http.method": p.route.method,
            "http.route": p.route.template,
            "http.status_code": p.code,
            "host": host,
        }
        self.spans.append(
            Span(
                trace_id=trace_id,
                span_id=p.span_id,
                parent_id=p.parent_id,
                service=p.service.name,
                name=p.route.label,
                start=from_us(start_us),
                duration_ms=p.duration_ms,
                status=SpanStatus.ERROR if failed else SpanStatus.OK,
                attributes=attributes,
            )
        )
        slow = p.own_ms > self._slow_ms(p.service)
        if failed:
            level, message = LogLevel.ERROR, f"{p.route.label} {p.code}: {p.message}"
        elif slow:
            level, message = LogLevel.WARN, f"slow request: {p.route.label} took {p.own_ms:.0f} ms"
        else:
            level, message = LogLevel.INFO, f"{p.route.label} {p.code} {p.duration_ms:.0f}ms"
        self.logs.append(
            LogRecord(
                time=from_us(start_us + int(p.duration_ms * _US_PER_MS)),
                service=p.service.name,
                level=level,
                message=message,
                attributes={**attributes, "duration_ms": p.duration_ms},
                trace_id=trace_id,
                span_id=p.span_id,
            )
        )

    @staticmethod
    def _slow_ms(service: DemoService) -> float:
        return service.traffic.p50_ms * 4
