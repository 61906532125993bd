"""Log search with cursor paging, and counts by level per service per interval."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from datetime import timedelta

import orjson

from radiator.core.telemetry import LevelCount, LogFilter, LogRow, TelemetryStore
from radiator.core.types import LogLevel, TimeRange
from radiator.errors import InvalidInputError

__all__ = [
    "MAX_BUCKETS",
    "MAX_LOGS",
    "LogPage",
    "decode_cursor",
    "encode_cursor",
    "level_counts",
    "levels_at_least",
    "search_logs",
]

MAX_LOGS = 1000
MAX_BUCKETS = 1000
_ORDER = list(LogLevel)


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of records, newest first; ``next_cursor`` is None on the last page."""

    records: list[LogRow]
    next_cursor: str | None


def encode_cursor(position: tuple[int, int]) -> str:
    """An opaque cursor for the row at ``position``: URL-safe base64 of its JSON."""
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    """The position a cursor from ``encode_cursor`` stands for.

    Raises:
        InvalidInputError: the cursor was not made by ``encode_cursor`` (field ``cursor``).
    """
    try:
        value = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii", "strict")))
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        value = None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(type(v) is int and -(2**63) <= v < 2**63 for v in value)
    ):
        return int(value[0]), int(value[1])
    raise InvalidInputError("cursor is not one this API returned", field="cursor")


def levels_at_least(minimum: LogLevel) -> tuple[str, ...]:
    """The level names at or above ``minimum`` in severity."""
    return tuple(str(level) for level in _ORDER[_ORDER.index(minimum) :])


def search_logs(store: TelemetryStore, query: LogFilter) -> LogPage:
    """A page of records matching ``query``, newest first, with the cursor of the next page.

    Raises:
        InvalidInputError: ``limit`` is not between 1 and ``MAX_LOGS`` (field ``limit``).
    """
    if not 1 <= query.limit <= MAX_LOGS:
        raise InvalidInputError(f"limit must be between 1 and {MAX_LOGS}", field="limit")
    # One row more than asked tells whether another page exists.
    rows = store.query_logs(dataclasses.replace(query, limit=query.limit + 1))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = encode_cursor(rows[-1].position) if more and rows else None
    return LogPage(records=rows, next_cursor=cursor)


def level_counts(store: TelemetryStore, time_range: TimeRange, step: timedelta) -> list[LevelCount]:
    """Record counts per ``step`` bucket, service and level, oldest bucket first.

    Raises:
        InvalidInputError: ``step`` is not positive or makes more than ``MAX_BUCKETS``
            buckets (field ``step``).
    """
    if step <= timedelta(0):
        raise InvalidInputError("step must be positive", field="step")
    if time_range.duration / step > MAX_BUCKETS:
        raise InvalidInputError(
            f"step is too small: the range would have more than {MAX_BUCKETS} buckets",
            field="step",
        )
    return store.log_level_counts(time_range, step)
