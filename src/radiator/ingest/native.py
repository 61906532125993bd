"""The native JSON batch format of ``POST /api/v1/ingest``, decoded with msgspec.

```json
{"points": [{"name": "checkout.completed", "value": 1, "kind": "counter",
             "tags": {"plan": "pro"}, "time": 1763900000.5}],
 "events": [{"kind": "deploy", "title": "checkout 1.4.2", "service": "checkout"}],
 "logs":   [{"level": "ERROR", "message": "card declined", "service": "payments-api"}],
 "spans":  [{"trace_id": "…", "span_id": "…", "name": "POST /pay", "start": "2026-11-23T10:00:00Z",
             "duration_ms": 12.5}]}
```

Times are Unix seconds (a number) or RFC 3339 text; absent means now. Each item is decoded
on its own so one bad item is rejected with its index and the rest are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from radiator.ingest.builder import BatchBuilder

__all__ = ["NativeFormatError", "decode_native"]

Time = float | datetime | None


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    points: list[msgspec.Raw] = []
    events: list[msgspec.Raw] = []
    logs: list[msgspec.Raw] = []
    spans: list[msgspec.Raw] = []


class _Point(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    value: float
    kind: str = "gauge"
    tags: dict[str, str] = {}
    time: Time = None


class _Event(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    title: str
    time: Time = None
    service: str = ""
    environment: str = ""
    actor: str = ""
    attributes: dict[str, Any] = {}
    links: list[str] = []


class _Log(msgspec.Struct, forbid_unknown_fields=True):
    message: str
    level: str = "INFO"
    time: Time = None
    service: str = ""
    attributes: dict[str, Any] = {}
    trace_id: str = ""
    span_id: str = ""


class _Span(msgspec.Struct, forbid_unknown_fields=True):
    trace_id: str
    span_id: str
    name: str
    duration_ms: float
    start: Time = None
    parent_id: str = ""
    service: str = ""
    status: str = "unset"
    attributes: dict[str, Any] = {}


_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "points": msgspec.json.Decoder(_Point),
    "events": msgspec.json.Decoder(_Event),
    "logs": msgspec.json.Decoder(_Log),
    "spans": msgspec.json.Decoder(_Span),
}
_ENVELOPE = msgspec.json.Decoder(_Envelope)


class NativeFormatError(ValueError):
    """The body is not a JSON object of the native format (reported as a whole)."""


def _micros(value: Time) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1_000_000)
    return int(value * 1_000_000)


def decode_native(body: bytes, builder: BatchBuilder) -> None:
    """Decode a native batch into ``builder``; bad items become rejections.

    Raises:
        NativeFormatError: the body is not JSON or not an object with the four lists.
    """
    try:
        envelope = _ENVELOPE.decode(body)
    except msgspec.DecodeError as exc:
        raise NativeFormatError(str(exc)) from exc
    for signal, items in (
        ("points", envelope.points),
        ("events", envelope.events),
        ("logs", envelope.logs),
        ("spans", envelope.spans),
    ):
        decoder = _DECODERS[signal]
        for index, raw in enumerate(items):
            try:
                item = decoder.decode(raw)
            except msgspec.DecodeError as exc:
                builder.result.reject(signal, index, str(exc).replace("`$", "`" + signal))
                continue
            _add(builder, index, item)


def _add(builder: BatchBuilder, index: int, item: Any) -> None:
    try:
        when = _micros(item.start if isinstance(item, _Span) else item.time)
    except (OverflowError, ValueError, OSError):
        builder.result.reject(
            type(item).__name__.lstrip("_").lower() + "s", index, "timestamp out of range"
        )
        return
    if isinstance(item, _Point):
        builder.point(index, item.name, item.value, item.tags, item.kind, when)
    elif isinstance(item, _Event):
        builder.event(
            index,
            item.kind,
            item.title,
            time_us=when,
            service=item.service,
            environment=item.environment,
            actor=item.actor,
            attributes=item.attributes,
            links=item.links,
        )
    elif isinstance(item, _Log):
        builder.log(
            index,
            item.level,
            item.message,
            time_us=when,
            service=item.service,
            attributes=item.attributes,
            trace_id=item.trace_id,
            span_id=item.span_id,
        )
    else:
        builder.span(
            index,
            item.trace_id,
            item.span_id,
            item.name,
            when if when is not None else builder.now_us,
            item.duration_ms,
            parent_id=item.parent_id,
            service=item.service,
            status=item.status,
            attributes=item.attributes,
        )
