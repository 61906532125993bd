"""Live tail of log records: what to poll next, which rows are new, and the event stream.

The stream first sends the newest ``backfill`` records (oldest first), then polls the store
for records at or after the newest time seen minus a short grace period, and sends each
row it has not sent before (rows are told apart by their store ``position``). Records that
arrive later than the grace period with an older time are not shown: a tail follows time.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from radiator.core.clock import Clock
from radiator.core.telemetry import LogFilter, LogRow
from radiator.core.types import TimeRange
from radiator.errors import OverloadedError

__all__ = [
    "MAX_BACKFILL",
    "TailCursor",
    "TailOptions",
    "TailSlots",
    "heartbeat",
    "sse_event",
    "tail_events",
]

MAX_BACKFILL = 1000
_BACKFILL_LOOKBACK = timedelta(days=7)
_HORIZON = timedelta(days=1)  # records stamped this far ahead of now still show
_POLL_LIMIT = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_ROWID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class TailOptions:
    """Timing of a tail: poll interval, heartbeat interval and how late a record may be."""

    poll_seconds: float = 0.5
    heartbeat_seconds: float = 15.0
    grace: timedelta = timedelta(seconds=5)


def sse_event(event: str, data: str) -> str:
    """One Server-Sent Event; ``data`` must be one line (JSON is)."""
    return f"event: {event}\ndata: {data}\n\n"


def heartbeat() -> str:
    """A comment line: keeps proxies from closing an idle stream; clients ignore it."""
    return ": heartbeat\n\n"


@dataclass(slots=True)
class TailCursor:
    """Where a tail is: the newest time it follows and the rows it sent since then."""

    newest: datetime
    grace: timedelta
    seen: dict[tuple[int, int], datetime] = field(default_factory=dict)

    def poll_filter(self, base: LogFilter, now: datetime) -> LogFilter:
        """The query for rows the tail may not have sent yet."""
        start = self.newest - self.grace
        end = max(now, start) + _HORIZON
        return dataclasses.replace(base, range=TimeRange(start, end), limit=_POLL_LIMIT, after=None)

    def accept(self, rows: list[LogRow], now: datetime) -> list[LogRow]:
        """The rows not sent before, oldest first; remembers them.

        ``newest`` follows the rows but never passes ``now``, so one record stamped in the
        future does not hide the records that follow it.
        """
        fresh = [row for row in rows if row.position not in self.seen]
        fresh.sort(key=lambda row: row.position)
        for row in fresh:
            self.seen[row.position] = row.time
            if row.time > self.newest:
                self.newest = min(row.time, max(now, self.newest))
        horizon = self.newest - self.grace
        self.seen = {pos: time for pos, time in self.seen.items() if time >= horizon}
        return fresh


class TailSlots:
    """At most ``limit`` tails at once; ``acquire`` refuses one more with OverloadedError."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._active = 0
        self._lock = threading.Lock()

    @property
    def active(self) -> int:
        return self._active

    def acquire(self) -> None:
        with self._lock:
            if self._active >= self._limit:
                raise OverloadedError(
                    f"{self._limit} live log tails are open, the most Radiator serves at once "
                    "(setting log_tail_max_streams); close one or retry later",
                    retry_after=5,
                )
            self._active += 1

    def release(self) -> None:
        with self._lock:
            self._active = max(0, self._active - 1)


def _epoch_us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


Fetch = Callable[[LogFilter], Awaitable[list[LogRow]]]


async def _backfill(fetch: Fetch, base: LogFilter, count: int, now: datetime) -> list[LogRow]:
    if count <= 0:
        return []
    query = dataclasses.replace(
        base, range=TimeRange(now - _BACKFILL_LOOKBACK, now + _HORIZON), limit=count, after=None
    )
    return list(reversed(await fetch(query)))


async def tail_events(
    fetch: Fetch,
    base: LogFilter,
    *,
    backfill: int,
    render: Callable[[LogRow], str],
    clock: Clock,
    sleep: Callable[[float], Awaitable[None]],
    disconnected: Callable[[], Awaitable[bool]],
    options: TailOptions = TailOptions(),
    stop_at: datetime | None = None,
) -> AsyncIterator[str]:
    """The event stream of a tail: ``log`` events (data is ``render(row)``) and heartbeats.

    A ``ready`` event (data ``{"backfilled": n}``) follows the backfill; what comes after it
    is live.

    Ends when ``disconnected`` says so or at ``stop_at``; ``base`` holds the filters (its
    range is replaced).
    """
    # Sent at once, so the client has the response before the first record arrives.
    yield ": tail started\n\n"
    now = clock()
    cursor = TailCursor(newest=now, grace=options.grace)
    first = await _backfill(fetch, base, backfill, now)
    for row in cursor.accept(first, now):
        yield sse_event("log", render(row))
    yield sse_event("ready", f'{{"backfilled": {len(first)}}}')
    # The first poll also finds older records of the grace period: those are not new.
    after = first[-1].position if first else (_epoch_us(now), _MAX_ROWID)
    for row in cursor.accept(await fetch(cursor.poll_filter(base, now)), now):
        if row.position > after:
            yield sse_event("log", render(row))
    last_beat = now
    while not await disconnected():
        now = clock()
        if stop_at is not None and now >= stop_at:
            return
        rows = await fetch(cursor.poll_filter(base, now))
        for row in cursor.accept(rows, now):
            yield sse_event("log", render(row))
        if (now - last_beat).total_seconds() >= options.heartbeat_seconds:
            yield heartbeat()
            last_beat = now
        await sleep(options.poll_seconds)
