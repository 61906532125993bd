"""Columnar batch building with validation in one place, shared by every protocol decoder.

Decoders call ``point``/``event``/``log``/``span`` per item; each call validates the item,
appends it to per-column lists or records a rejection, and ``tables()`` turns the columns
into Arrow tables matching ``radiator.core.schema.SCHEMAS`` in one step per column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import pyarrow as pa

from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import Signal
from radiator.core.types import EventKind, LogLevel, MetricKind, SpanStatus
from radiator.ingest.cardinality import SeriesLimiter
from radiator.ingest.models import IngestResult

__all__ = ["MAX_FUTURE_US", "BatchBuilder"]

MAX_FUTURE_US = 3600 * 1_000_000  # points more than an hour ahead of the server are refused
_MIN_TIME_US = 0
_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_.:\-/]{0,199}$")
_MAX_TAGS = 64
_MAX_TAG_LEN = 1024
_MAX_TEXT = 64 * 1024
_METRIC_KINDS = frozenset(k.value for k in MetricKind)
_EVENT_KINDS = frozenset(k.value for k in EventKind)
_LEVELS = {level.value: level.value for level in LogLevel} | {
    "WARNING": "WARN",
    "CRITICAL": "FATAL",
    "TRACE": "DEBUG",
}
_STATUSES = frozenset(s.value for s in SpanStatus)
_TS = pa.timestamp("us", tz="UTC")
_CACHE_MAX = 100_000
_NO_TAGS: frozenset[tuple[str, str]] = frozenset()
# Process-wide caches of what has already been checked: metric names that are valid, and
# the verdict on each tag set seen ("" when valid). Both are cleared when they grow large.
_valid_names: set[str] = set()
_tag_problems: dict[frozenset[tuple[str, str]], str] = {}


def _tags_problem(tags: Mapping[str, str]) -> str:
    if len(tags) > _MAX_TAGS:
        return f"too many tags ({len(tags)} > {_MAX_TAGS})"
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            return "tag keys and values must be strings"
        if not key or len(key) > _MAX_TAG_LEN or len(value) > _MAX_TAG_LEN:
            return f"tag {key[:40]!r} is empty or longer than {_MAX_TAG_LEN} characters"
    return ""


class BatchBuilder:
    """Accumulates validated items of all four signals for one ingest request."""

    def __init__(self, now_us: int, limiter: SeriesLimiter | None = None) -> None:
        self.now_us = now_us
        self.result = IngestResult()
        self.series_rejected = 0
        self._limiter = limiter
        self._points: dict[str, list[Any]] = {"time": [], "name": [], "value": [], "kind": []}
        # Tags as the three flat lists of an Arrow map array, built without a Python tuple
        # per tag.
        self._tag_offsets: list[int] = [0]
        self._tag_keys: list[str] = []
        self._tag_values: list[str] = []
        self._events: dict[str, list[Any]] = {c: [] for c in SCHEMAS[Signal.EVENTS].names}
        self._logs: dict[str, list[Any]] = {c: [] for c in SCHEMAS[Signal.LOGS].names}
        self._spans: dict[str, list[Any]] = {c: [] for c in SCHEMAS[Signal.SPANS].names}

    # -- items -----------------------------------------------------------------------------

    def _time_problem(self, time_us: int) -> str:
        if time_us < _MIN_TIME_US:
            return "timestamp is before 1970"
        if time_us > self.now_us + MAX_FUTURE_US:
            return "timestamp is more than an hour in the future"
        return ""

    def _time(self, signal: str, index: int, time_us: int | None) -> int | None:
        if time_us is None:
            return self.now_us
        problem = self._time_problem(time_us)
        if problem:
            self.result.reject(signal, index, problem)
            return None
        return time_us

    def point(
        self,
        index: int,
        name: str,
        value: float,
        tags: Mapping[str, str],
        kind: str = "gauge",
        time_us: int | None = None,
    ) -> bool:
        """Add one metric point; False (and a recorded rejection) when it is invalid."""
        return self.series_points(index, tags, ((name, value),), kind, time_us) == 1

    def series_points(
        self,
        index: int,
        tags: Mapping[str, str],
        values: Iterable[tuple[str, float]],
        kind: str = "gauge",
        time_us: int | None = None,
    ) -> int:
        """Add points that share tags, kind and time (one line of line protocol, one OTLP
        data point's fields); the tags are checked and keyed once. Returns how many were
        accepted; each invalid one is rejected under ``index``."""
        result = self.result
        if kind not in _METRIC_KINDS:
            for _ in values:
                result.reject("points", index, f"kind must be one of {sorted(_METRIC_KINDS)}")
            return 0
        tag_items = list(tags.items())
        try:
            key = frozenset(tag_items) if tag_items else _NO_TAGS
        except TypeError:  # an unhashable tag value: certainly not a string
            key, problem = _NO_TAGS, "tag keys and values must be strings"
        else:
            problem = _tag_problems.get(key)  # type: ignore[assignment]
            if problem is None:
                problem = _tags_problem(tags)
                if len(_tag_problems) >= _CACHE_MAX:
                    _tag_problems.clear()
                _tag_problems[key] = problem
        when = self.now_us if time_us is None else time_us
        if not problem and time_us is not None:
            problem = self._time_problem(time_us)
        accepted = 0
        series_key = hash(key) if tag_items else 0
        limiter = self._limiter
        columns = self._points
        for name, value in values:
            if problem:
                result.reject("points", index, problem)
                continue
            if name not in _valid_names:
                if not _NAME_RE.match(name):
                    result.reject("points", index, f"invalid metric name {name[:80]!r}")
                    continue
                if len(_valid_names) >= _CACHE_MAX:
                    _valid_names.clear()
                _valid_names.add(name)
            if value.__class__ is not float:
                if not isinstance(value, int | float) or isinstance(value, bool):
                    result.reject("points", index, f"value of {name} must be a finite number")
                    continue
                value = float(value)
            if value - value != 0.0:  # NaN or infinite
                result.reject("points", index, f"value of {name} must be a finite number")
                continue
            if limiter is not None and not limiter.admit_key(name, series_key):
                self.series_rejected += 1
                result.reject(
                    "points",
                    index,
                    f"metric {name} already has {limiter.limit} series "
                    "(max_series_per_metric); this new tag combination was dropped",
                )
                continue
            columns["time"].append(when)
            columns["name"].append(name)
            columns["value"].append(value)
            columns["kind"].append(kind)
            self._tag_offsets.append(self._tag_offsets[-1] + len(tag_items))
            for tag_key, tag_value in tag_items:
                self._tag_keys.append(tag_key)
                self._tag_values.append(tag_value)
            accepted += 1
        result.accepted += accepted
        return accepted

    def event(
        self,
        index: int,
        kind: str,
        title: str,
        *,
        time_us: int | None = None,
        service: str = "",
        environment: str = "",
        actor: str = "",
        attributes: Mapping[str, Any] | None = None,
        links: Sequence[str] = (),
    ) -> bool:
        if kind not in _EVENT_KINDS:
            self.result.reject("events", index, f"kind must be one of {sorted(_EVENT_KINDS)}")
            return False
        if not title or len(title) > _MAX_TEXT:
            self.result.reject("events", index, "title must be 1 to 65536 characters")
            return False
        when = self._time("events", index, time_us)
        if when is None:
            return False
        attrs = self._json("events", index, attributes)
        if attrs is None:
            return False
        row = (when, kind, service, environment, title, actor, attrs, list(links))
        for column, value in zip(self._events.values(), row, strict=True):
            column.append(value)
        self.result.accepted += 1
        return True

    def log(
        self,
        index: int,
        level: str,
        message: str,
        *,
        time_us: int | None = None,
        service: str = "",
        attributes: Mapping[str, Any] | None = None,
        trace_id: str = "",
        span_id: str = "",
    ) -> bool:
        normal = _LEVELS.get(level.upper())
        if normal is None:
            self.result.reject("logs", index, "level must be DEBUG, INFO, WARN, ERROR or FATAL")
            return False
        when = self._time("logs", index, time_us)
        if when is None:
            return False
        attrs = self._json("logs", index, attributes)
        if attrs is None:
            return False
        row = (when, service, normal, message[:_MAX_TEXT], attrs, trace_id, span_id)
        for column, value in zip(self._logs.values(), row, strict=True):
            column.append(value)
        self.result.accepted += 1
        return True

    def span(
        self,
        index: int,
        trace_id: str,
        span_id: str,
        name: str,
        start_us: int,
        duration_ms: float,
        *,
        parent_id: str = "",
        service: str = "",
        status: str = "unset",
        attributes: Mapping[str, Any] | None = None,
    ) -> bool:
        if not trace_id or not span_id:
            self.result.reject("spans", index, "trace_id and span_id are required")
            return False
        if not name:
            self.result.reject("spans", index, "name is required")
            return False
        if not math.isfinite(duration_ms) or duration_ms < 0:
            self.result.reject("spans", index, "duration_ms must be a non-negative number")
            return False
        if status not in _STATUSES:
            self.result.reject("spans", index, f"status must be one of {sorted(_STATUSES)}")
            return False
        when = self._time("spans", index, start_us)
        if when is None:
            return False
        attrs = self._json("spans", index, attributes)
        if attrs is None:
            return False
        row = (trace_id, span_id, parent_id, service, name, when, duration_ms, status, attrs)
        for column, value in zip(self._spans.values(), row, strict=True):
            column.append(value)
        self.result.accepted += 1
        return True

    def _json(self, signal: str, index: int, value: Mapping[str, Any] | None) -> str | None:
        if not value:
            return "{}"
        try:
            return orjson.dumps(value).decode()
        except TypeError as exc:
            self.result.reject(signal, index, f"attributes are not JSON-serialisable: {exc}")
            return None

    # -- output ----------------------------------------------------------------------------

    def tables(self) -> dict[Signal, pa.Table]:
        """Arrow tables of everything accepted, one per signal that has rows."""
        out: dict[Signal, pa.Table] = {}
        for signal, columns, time_column in (
            (Signal.POINTS, self._points, "time"),
            (Signal.EVENTS, self._events, "time"),
            (Signal.LOGS, self._logs, "time"),
            (Signal.SPANS, self._spans, "start"),
        ):
            if not columns[time_column]:
                continue
            schema = SCHEMAS[signal]
            arrays = []
            for field in schema:
                if signal is Signal.POINTS and field.name == "tags":
                    arrays.append(
                        pa.MapArray.from_arrays(
                            pa.array(self._tag_offsets, pa.int32()),
                            pa.array(self._tag_keys, pa.string()),
                            pa.array(self._tag_values, pa.string()),
                        )
                    )
                elif field.name == time_column:
                    arrays.append(pa.array(columns[field.name], pa.int64()).cast(_TS))
                else:
                    arrays.append(pa.array(columns[field.name], field.type))
            out[signal] = pa.Table.from_arrays(arrays, schema=schema)
        return out
