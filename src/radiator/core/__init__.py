"""Value types and store protocols shared by every domain. No I/O happens here."""

from __future__ import annotations

from radiator.core.telemetry import Aggregation, BucketQuery, Series, Signal, TelemetryStore
from radiator.core.types import (
    Event,
    EventKind,
    Labels,
    LogLevel,
    LogRecord,
    MetricKind,
    Point,
    Span,
    SpanStatus,
    TimeRange,
    canonical_series,
    utc,
)

__all__ = [
    "Aggregation",
    "BucketQuery",
    "Event",
    "EventKind",
    "Labels",
    "LogLevel",
    "LogRecord",
    "MetricKind",
    "Point",
    "Series",
    "Signal",
    "Span",
    "SpanStatus",
    "TelemetryStore",
    "TimeRange",
    "canonical_series",
    "utc",
]
