"""Live tail of log records over Server-Sent Events: GET /api/v1/logs/tail."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from radiator.core.clock import system_clock
from radiator.core.telemetry import LogFilter, LogRow
from radiator.core.types import LogLevel, TimeRange
from radiator.errors import InvalidInputError
from radiator.query.logs import levels_at_least
from radiator.query.tail import MAX_BACKFILL, TailSlots, tail_events
from radiator.web.deps import Reader, RuntimeDep
from radiator.web.errors import problem_responses
from radiator.web.routers.explore import LogRead

__all__ = ["EVENT_STREAM", "router"]

EVENT_STREAM = "text/event-stream"
_ATTR_PREFIX = "attr."
_MAX_ATTR_FILTERS = 20

router = APIRouter(tags=["explore"])

_STREAM_DOC = {
    "description": "An event stream: one `log` event per record, its data a JSON object "
    'shaped like the records of GET /logs; one `ready` event (data `{"backfilled": n}`) '
    "when the backfill is sent; a `: heartbeat` comment every 15 seconds.",
    "content": {
        EVENT_STREAM: {
            "itemSchema": {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": {"type": "string", "enum": ["log", "ready"]},
                    "data": {"type": "string", "contentMediaType": "application/json"},
                },
            }
        }
    },
}


class _TailResponse(StreamingResponse):
    """An event stream that gives back its tail slot however it ends."""

    media_type = EVENT_STREAM

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None]) -> None:
        super().__init__(
            content,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _slots(request: Request, limit: int) -> TailSlots:
    slots: TailSlots | None = getattr(request.app.state, "log_tail_slots", None)
    if slots is None:
        slots = TailSlots(limit)
        request.app.state.log_tail_slots = slots
    return slots


def _attribute_filters(request: Request) -> tuple[tuple[str, str], ...]:
    pairs = tuple(
        (key.removeprefix(_ATTR_PREFIX), value)
        for key, value in request.query_params.multi_items()
        if key.startswith(_ATTR_PREFIX)
    )
    if len(pairs) > _MAX_ATTR_FILTERS:
        raise InvalidInputError(
            f"at most {_MAX_ATTR_FILTERS} attribute filters", field=_ATTR_PREFIX + "*"
        )
    return pairs


def _levels(level: list[LogLevel] | None, min_level: LogLevel | None) -> tuple[str, ...]:
    levels = {str(item) for item in level or ()}
    if min_level is not None:
        allowed = set(levels_at_least(min_level))
        levels = levels & allowed if levels else allowed
        if not levels:
            raise InvalidInputError("no level is both listed and at least min_level", field="level")
    return tuple(sorted(levels))


def _render(row: LogRow) -> str:
    return LogRead(
        time=row.time,
        service=row.service,
        level=row.level,
        message=row.message,
        attributes=row.attributes,
        trace_id=row.trace_id,
        span_id=row.span_id,
    ).model_dump_json()


@router.get(
    "/logs/tail",
    summary="Follow new log records live (Server-Sent Events)",
    description="Sends the newest `backfill` records, then each new matching record as it "
    "is stored, until the client disconnects (or `max_seconds` pass). Filters as for "
    "GET /logs, `attr.<key>=<value>` included. See docs/logs.md.",
    response_class=StreamingResponse,
    responses={200: _STREAM_DOC, **problem_responses(503)},
)
async def tail_logs(
    _: Reader,
    request: Request,
    runtime: RuntimeDep,
    service: Annotated[list[str] | None, Query(description="Repeatable")] = None,
    level: Annotated[list[LogLevel] | None, Query(description="Repeatable")] = None,
    min_level: LogLevel | None = None,
    q: Annotated[str | None, Query(description="Text in the message")] = None,
    trace_id: str | None = None,
    backfill: Annotated[
        int, Query(ge=0, le=MAX_BACKFILL, description="Newest records to send first")
    ] = 20,
    max_seconds: Annotated[
        float | None, Query(gt=0, le=86400, description="End the stream after this long")
    ] = None,
) -> StreamingResponse:
    now = system_clock()
    base = LogFilter(
        range=TimeRange(now - timedelta(seconds=1), now),
        services=tuple(service or ()),
        levels=_levels(level, min_level),
        attributes=_attribute_filters(request),
        text=q or None,
        trace_id=trace_id,
    )
    slots = _slots(request, runtime.settings.log_tail_max_streams)
    slots.acquire()

    async def fetch(query: LogFilter) -> list[LogRow]:
        return await run_in_threadpool(runtime.telemetry.query_logs, query)

    events = tail_events(
        fetch,
        base,
        backfill=backfill,
        render=_render,
        clock=system_clock,
        sleep=anyio.sleep,
        disconnected=request.is_disconnected,
        stop_at=now + timedelta(seconds=max_seconds) if max_seconds else None,
    )
    return _TailResponse(events, slots.release)
