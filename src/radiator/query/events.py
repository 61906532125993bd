"""Event search: the overlays on charts and the spine of incident timelines."""

from __future__ import annotations

import dataclasses

from radiator.core.telemetry import EventFilter, EventRow, TelemetryStore
from radiator.errors import InvalidInputError

__all__ = ["MAX_EVENTS", "search_events"]

MAX_EVENTS = 1000


def search_events(
    store: TelemetryStore, query: EventFilter, *, with_dependencies: bool = False
) -> list[EventRow]:
    """Events matching ``query``, newest first.

    Args:
        with_dependencies: also match events of the services ``query.services`` depend on,
            directly or not, as seen in spans of the same range.

    Raises:
        InvalidInputError: ``limit`` is not between 1 and ``MAX_EVENTS`` (field ``limit``).
    """
    if not 1 <= query.limit <= MAX_EVENTS:
        raise InvalidInputError(f"limit must be between 1 and {MAX_EVENTS}", field="limit")
    if with_dependencies and query.services:
        query = dataclasses.replace(query, services=_with_callees(store, query))
    return store.query_events(query)


def _with_callees(store: TelemetryStore, query: EventFilter) -> tuple[str, ...]:
    calls: dict[str, set[str]] = {}
    for edge in store.span_dependencies(query.range):
        calls.setdefault(edge.caller, set()).add(edge.callee)
    found = set(query.services)
    pending = list(found)
    while pending:
        for callee in calls.get(pending.pop(), set()) - found:
            found.add(callee)
            pending.append(callee)
    return tuple(sorted(found))
