"""Arrow schemas for the four signals, and builders from value objects.

Times are UTC microseconds. Tags and attributes are stored as string maps / JSON text so
every backend can hold them without a schema per metric.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import pyarrow as pa

from radiator.core.telemetry import Signal
from radiator.core.types import Event, LogRecord, Point, Span, utc

__all__ = ["SCHEMAS", "events_batch", "logs_batch", "points_batch", "spans_batch"]

_TS = pa.timestamp("us", tz="UTC")
_TAGS = pa.map_(pa.string(), pa.string())

SCHEMAS: dict[Signal, pa.Schema] = {
    Signal.POINTS: pa.schema(
        [
            pa.field("time", _TS, nullable=False),
            pa.field("name", pa.string(), nullable=False),
            pa.field("tags", _TAGS),
            pa.field("value", pa.float64(), nullable=False),
            pa.field("kind", pa.string(), nullable=False),
        ]
    ),
    Signal.EVENTS: pa.schema(
        [
            pa.field("time", _TS, nullable=False),
            pa.field("kind", pa.string(), nullable=False),
            pa.field("service", pa.string()),
            pa.field("environment", pa.string()),
            pa.field("title", pa.string(), nullable=False),
            pa.field("actor", pa.string()),
            pa.field("attributes", pa.string()),
            pa.field("links", pa.list_(pa.string())),
        ]
    ),
    Signal.LOGS: pa.schema(
        [
            pa.field("time", _TS, nullable=False),
            pa.field("service", pa.string()),
            pa.field("level", pa.string(), nullable=False),
            pa.field("message", pa.string(), nullable=False),
            pa.field("attributes", pa.string()),
            pa.field("trace_id", pa.string()),
            pa.field("span_id", pa.string()),
        ]
    ),
    Signal.SPANS: pa.schema(
        [
            pa.field("trace_id", pa.string(), nullable=False),
            pa.field("span_id", pa.string(), nullable=False),
            pa.field("parent_id", pa.string()),
            pa.field("service", pa.string()),
            pa.field("name", pa.string(), nullable=False),
            pa.field("start", _TS, nullable=False),
            pa.field("duration_ms", pa.float64(), nullable=False),
            pa.field("status", pa.string()),
            pa.field("attributes", pa.string()),
        ]
    ),
}


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def points_batch(points: Iterable[Point]) -> pa.Table:
    rows = list(points)
    return pa.table(
        {
            "time": [utc(p.time) for p in rows],
            "name": [p.name for p in rows],
            "tags": [list(p.tags.items()) for p in rows],
            "value": [float(p.value) for p in rows],
            "kind": [str(p.kind) for p in rows],
        },
        schema=SCHEMAS[Signal.POINTS],
    )


def events_batch(events: Iterable[Event]) -> pa.Table:
    rows = list(events)
    return pa.table(
        {
            "time": [utc(e.time) for e in rows],
            "kind": [str(e.kind) for e in rows],
            "service": [e.service for e in rows],
            "environment": [e.environment for e in rows],
            "title": [e.title for e in rows],
            "actor": [e.actor for e in rows],
            "attributes": [_json(e.attributes) for e in rows],
            "links": [list(e.links) for e in rows],
        },
        schema=SCHEMAS[Signal.EVENTS],
    )


def logs_batch(records: Iterable[LogRecord]) -> pa.Table:
    rows = list(records)
    return pa.table(
        {
            "time": [utc(r.time) for r in rows],
            "service": [r.service for r in rows],
            "level": [str(r.level) for r in rows],
            "message": [r.message for r in rows],
            "attributes": [_json(r.attributes) for r in rows],
            "trace_id": [r.trace_id for r in rows],
            "span_id": [r.span_id for r in rows],
        },
        schema=SCHEMAS[Signal.LOGS],
    )


def spans_batch(spans: Iterable[Span]) -> pa.Table:
    rows = list(spans)
    return pa.table(
        {
            "trace_id": [s.trace_id for s in rows],
            "span_id": [s.span_id for s in rows],
            "parent_id": [s.parent_id for s in rows],
            "service": [s.service for s in rows],
            "name": [s.name for s in rows],
            "start": [utc(s.start) for s in rows],
            "duration_ms": [float(s.duration_ms) for s in rows],
            "status": [str(s.status) for s in rows],
            "attributes": [_json(s.attributes) for s in rows],
        },
        schema=SCHEMAS[Signal.SPANS],
    )
