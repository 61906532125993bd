"""Traces: assembling one trace, searching spans, and service dependency edges."""

from __future__ import annotations

from dataclasses import dataclass

from radiator.core.telemetry import DependencyEdge, SpanFilter, SpanRow, TelemetryStore
from radiator.core.types import TimeRange
from radiator.errors import InvalidInputError, NotFoundError

__all__ = [
    "MAX_SPANS",
    "MAX_TRACE_SPANS",
    "Trace",
    "TraceSpan",
    "dependencies",
    "get_trace",
    "search_spans",
]

MAX_SPANS = 1000
MAX_TRACE_SPANS = 10_000


@dataclass(frozen=True, slots=True)
class TraceSpan:
    """A span in its trace: ``depth`` 0 for roots (no parent, or a parent not stored)."""

    span: SpanRow
    depth: int


@dataclass(frozen=True, slots=True)
class Trace:
    trace_id: str
    spans: list[TraceSpan]
    truncated: bool


def get_trace(store: TelemetryStore, trace_id: str) -> Trace:
    """All spans of one trace ordered by start (then span id), with their depth.

    Raises:
        NotFoundError: no span of that trace is stored.
    """
    rows = store.query_spans(SpanFilter(trace_id=trace_id, limit=MAX_TRACE_SPANS + 1))
    if not rows:
        raise NotFoundError(f"no spans of trace {trace_id!r}")
    truncated = len(rows) > MAX_TRACE_SPANS
    rows = sorted(rows[:MAX_TRACE_SPANS], key=lambda s: (s.start, s.span_id))
    return Trace(trace_id, [TraceSpan(s, d) for s, d in _with_depth(rows)], truncated)


def _with_depth(rows: list[SpanRow]) -> list[tuple[SpanRow, int]]:
    parents = {row.span_id: row.parent_id for row in rows}
    depths: dict[str, int] = {}

    def depth_of(span_id: str) -> int:
        # Walk up iteratively; a cycle in bad data ends the walk instead of recursing forever.
        chain: list[str] = []
        current = span_id
        while current not in depths and current in parents and current not in chain:
            chain.append(current)
            current = parents[current]
        base = depths.get(current, -1) if current in depths else -1
        for offset, node in enumerate(reversed(chain)):
            depths[node] = base + 1 + offset
        return depths[span_id]

    return [(row, depth_of(row.span_id)) for row in rows]


def search_spans(store: TelemetryStore, query: SpanFilter) -> list[SpanRow]:
    """Spans matching ``query``, newest first.

    Raises:
        InvalidInputError: ``limit`` out of bounds, or the duration bounds are crossed.
    """
    if not 1 <= query.limit <= MAX_SPANS:
        raise InvalidInputError(f"limit must be between 1 and {MAX_SPANS}", field="limit")
    low, high = query.min_duration_ms, query.max_duration_ms
    if low is not None and high is not None and high < low:
        raise InvalidInputError(
            "max_duration_ms must not be below min_duration_ms", field="max_duration_ms"
        )
    return store.query_spans(query)


def dependencies(store: TelemetryStore, time_range: TimeRange) -> list[DependencyEdge]:
    """Caller -> callee service edges derived from spans starting in ``time_range``."""
    return store.span_dependencies(time_range)
