"""Which archived Parquet files a read must include, kept in memory between archive changes.

Every read of the DuckDB store asks this before it runs, so the answer must not cost a
query each time. The manifest changes only through ``archive.archive_day`` and
``archive.restore_day`` inside ``ManifestCache.changing``, and one process owns a DuckDB
file, so the cache is exact: while a change is under way, reads query the manifest
directly, and afterwards the cache is reloaded on first use.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, timedelta

import duckdb

from radiator.core.types import TimeRange
from radiator.storage.telemetry.archive import MANIFEST_TABLE

__all__ = ["ManifestCache"]

CursorFactory = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
# table -> (days in order, files of each day): the unrestored archived partitions
_Files = dict[str, tuple[list[date], list[tuple[str, ...]]]]


def _load(open_cursor: CursorFactory) -> _Files:
    with open_cursor() as cursor:
        rows = cursor.execute(
            f"SELECT table_name, day, files FROM {MANIFEST_TABLE} "  # noqa: S608
            "WHERE NOT restored ORDER BY table_name, day"
        ).fetchall()
    found: _Files = {}
    for table, day, files in rows:
        days, parts = found.setdefault(str(table), ([], []))
        days.append(day)
        parts.append(tuple(files))
    return found


class ManifestCache:
    """The manifest's unrestored files per table and day, reloaded after each change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes = 0  # changes under way
        self._generation = 0  # changes finished
        self._cached: tuple[int, _Files] | None = None

    @contextlib.contextmanager
    def changing(self) -> Iterator[None]:
        """Wrap every change of the manifest: reads bypass the cache until it is done."""
        with self._lock:
            self._changes += 1
        try:
            yield
        finally:
            with self._lock:
                self._changes -= 1
                self._generation += 1
                self._cached = None

    def files(
        self, table: str, time_range: TimeRange | None, open_cursor: CursorFactory
    ) -> list[str]:
        """Archived files (relative paths) of ``table`` on days overlapping ``time_range``."""
        days, parts = self._snapshot(open_cursor).get(table, ([], []))
        lo, hi = 0, len(days)
        if time_range is not None:
            first = time_range.start.astimezone(UTC).date()
            last = (time_range.end - timedelta(microseconds=1)).astimezone(UTC).date()
            lo, hi = bisect.bisect_left(days, first), bisect.bisect_right(days, last)
        return [f for files in parts[lo:hi] for f in files]

    def _snapshot(self, open_cursor: CursorFactory) -> _Files:
        with self._lock:
            quiet = self._changes == 0
            generation, cached = self._generation, self._cached
        if quiet and cached is not None and cached[0] == generation:
            return cached[1]
        loaded = _load(open_cursor)
        with self._lock:
            if quiet and self._changes == 0 and self._generation == generation:
                self._cached = (generation, loaded)
        return loaded
