"""A trigram skip index for log text search in the DuckDB store (docs/logs.md).

A text search runs ``message ILIKE '%text%'``; without help it reads every message in its
range. ``log_text_index(bucket, trigram)`` lists, per hour of log time (a *bucket*, epoch
microseconds of its start), the distinct trigrams (three consecutive characters) of the
lower-cased messages in it. DuckDB's ILIKE compares ``lower`` of both sides character by
character, so a message containing the text contains every trigram of ``lower(text)``, and
an hour lacking one of them cannot hold a match: the search skips it. The index only skips;
every row read still goes through the same ILIKE, so results equal a plain scan's.

Coverage: ``log_index_state`` holds ``[low, high)``, the hours the index describes (empty
hours included), less the hours marked in ``log_index_dirty``. A search reads the matching
covered hours plus whatever of its range lies outside the coverage.

Upkeep (``update``) runs with the rollups. In one transaction it indexes, within a budget of
rows: the hours from ``high`` up to the last hour that ended ``LATENESS_US`` ago, then the
marked hours, then older hours below ``low``, newest first (a first build over millions of
existing logs thus takes several calls and serves the newest hours first).

Rows never go missing: a log appended into an hour that upkeep may already have indexed
(below the guard's *horizon*) marks that hour in the same transaction, and upkeep deletes
only the marks its snapshot saw. ``IndexGuard`` orders the two: upkeep publishes its horizon
and takes its snapshot, and an append checks the horizon and commits, each holding one lock.
Retention marks the hours of a day before it archives or restores it (``rewriting``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

__all__ = [
    "BUCKET_US",
    "LATENESS_US",
    "ROWS_PER_RUN",
    "IndexGuard",
    "SearchPlan",
    "UpkeepReport",
    "create_tables",
    "fetch_newest",
    "plan",
    "rewriting",
    "time_clause",
    "trigrams",
    "update",
]

BUCKET_US = 3_600_000_000
# Hours are indexed once they ended this long ago; later rows only mark their hour dirty.
LATENESS_US = 300_000_000
# Log rows one upkeep call reads at most (at least one hour): under a second on 2 cores.
ROWS_PER_RUN = 500_000
_ROWS_PER_STATEMENT = 250_000  # keeps the DISTINCT of one statement small
_MAX_MARKED = 1000  # marked hours looked at per call
# Search batches grow 4-fold: 2-fold cost a search that reads everything 10 % more
# (more, smaller statements, less parallel), a single batch made common texts 25x slower.
_GROWTH = 4
_MAX_SPANS = 64  # time spans one search statement ORs together
_HOURLY = 48  # hours of a range outside the index read one by one before longer pieces

# Floor to the hour on epoch microseconds, also before 1970 (DuckDB's // truncates).
_BUCKET = f'(epoch_us("time") - ((epoch_us("time") % {BUCKET_US}) + {BUCKET_US}) % {BUCKET_US})'
_TRIGRAMS = "[substring(m, i, 3) for i in range(1, length(m) - 1)]"
_WINDOW = '"time" >= make_timestamptz($a) AND "time" < make_timestamptz($b)'
_INDEX_SQL = (
    f"INSERT INTO log_text_index SELECT DISTINCT b, unnest({_TRIGRAMS}) FROM "  # noqa: S608
    f"(SELECT DISTINCT {_BUCKET} AS b, lower(message) AS m FROM logs WHERE {_WINDOW})"
)
_COUNT_SQL = f"SELECT {_BUCKET} AS b, count(*) FROM logs WHERE {{where}} GROUP BY b"  # noqa: S608


def create_tables(cursor: duckdb.DuckDBPyConnection) -> None:
    """Create the index, its coverage and its dirty marks."""
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS log_text_index "
        "(bucket BIGINT NOT NULL, trigram VARCHAR NOT NULL)"
    )
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS log_index_state "
        "(id INTEGER PRIMARY KEY, low BIGINT, high BIGINT)"
    )
    cursor.execute("INSERT OR IGNORE INTO log_index_state VALUES (1, NULL, NULL)")
    cursor.execute("CREATE TABLE IF NOT EXISTS log_index_dirty (bucket BIGINT NOT NULL)")


def _state(cursor: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    row = cursor.execute("SELECT low, high FROM log_index_state WHERE id = 1").fetchone()
    if row is None or row[0] is None or row[1] is None:
        return None
    return int(row[0]), int(row[1])


def _tables_exist(cursor: duckdb.DuckDBPyConnection) -> bool:
    row = cursor.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_name IN ('log_text_index', 'log_index_state', 'log_index_dirty')"
    ).fetchone()
    return bool(row and row[0] == 3)


class IndexGuard:
    """One per store: orders appends against upkeep so that no log row goes unseen.

    ``horizon`` (epoch µs) bounds every hour upkeep has indexed or is indexing. Upkeep raises
    it and takes its snapshot holding ``lock``; an append holds ``lock`` while it marks the
    hours of its rows below the horizon and commits. So each appended row is in the snapshot
    of any upkeep that could cover its hour, or its hour is marked. ``writer`` lets one
    index writer (upkeep or retention) run at a time.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writer = threading.Lock()
        self._loaded = False
        self._ready = False
        self._horizon: int | None = None

    def load(self, cursor: duckdb.DuckDBPyConnection, *, again: bool = False) -> bool:
        """Read the horizon once (call holding ``lock``); False when the store has no index."""
        if again or not self._loaded:
            self._ready = _tables_exist(cursor)
            state = _state(cursor) if self._ready else None
            if state is not None:
                self.raise_horizon(state[1])
            self._loaded = True
        return self._ready

    def ready(self, cursor: duckdb.DuckDBPyConnection) -> bool:
        """Whether the index tables exist (so searches may use them)."""
        if self._loaded:
            return self._ready
        with self.lock:
            return self.load(cursor)

    def raise_horizon(self, value: int) -> None:
        self._horizon = value if self._horizon is None else max(self._horizon, value)

    @contextlib.contextmanager
    def committing(
        self, cursor: duckdb.DuckDBPyConnection, times: Sequence[pa.ChunkedArray]
    ) -> Iterator[None]:
        """Wrap the commit of an append whose log batches have these ``time`` columns."""
        if not times:
            yield
            return
        with self.lock:
            if self.load(cursor) and self._horizon is not None:
                _mark_rows(cursor, times, self._horizon)
            yield


def _mark_rows(
    cursor: duckdb.DuckDBPyConnection, times: Sequence[pa.ChunkedArray], horizon: int
) -> None:
    micros = np.concatenate([np.asarray(t.cast(pa.int64()), dtype=np.int64) for t in times])
    old = micros[micros < horizon]
    if old.size:
        hours = np.unique(old - old % BUCKET_US)  # numpy's % floors, as Python's does
        cursor.execute("INSERT INTO log_index_dirty SELECT unnest($b)", {"b": hours.tolist()})


def _mark_hours(cursor: duckdb.DuckDBPyConnection, start_us: int, end_us: int) -> None:
    first = start_us - start_us % BUCKET_US
    cursor.execute(
        "DELETE FROM log_text_index WHERE bucket >= $a AND bucket < $b", {"a": first, "b": end_us}
    )
    cursor.execute(
        "INSERT INTO log_index_dirty SELECT unnest(range($a, $b, $step))",
        {"a": first, "b": end_us, "step": BUCKET_US},
    )


@contextlib.contextmanager
def rewriting(
    guard: IndexGuard, cursor: duckdb.DuckDBPyConnection, start_us: int, end_us: int
) -> Iterator[None]:
    """Hold upkeep off while the logs in ``[start_us, end_us)`` are deleted or put back.

    Their hours lose their index rows and are marked first, so searches read them directly
    until upkeep indexes them again from the rows as they are afterwards.
    """
    with guard.writer:
        if guard.ready(cursor):
            cursor.begin()
            try:
                _mark_hours(cursor, start_us, end_us)
                cursor.commit()
            except BaseException:
                _rollback(cursor)
                raise
        yield


# -- searching ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """Where a text search reads: ``units`` of epoch µs ``[start, end)``, newest first.

    Each unit lies within one hour. ``matched`` are the covered hours whose index holds every
    trigram of the text; ``unindexed`` the parts of the range the index does not describe
    (never indexed yet, or marked dirty), which are read whatever they hold.
    """

    trigrams: tuple[str, ...]
    matched: tuple[int, ...]
    unindexed: tuple[tuple[int, int], ...]
    units: tuple[tuple[int, int], ...]


def trigrams(cursor: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """The distinct trigrams of ``lower(text)``, lowered by DuckDB as ILIKE does."""
    row = cursor.execute(
        f"SELECT list_sort(list_distinct({_TRIGRAMS})) FROM (SELECT lower($t) AS m)",  # noqa: S608
        {"t": text},
    ).fetchone()
    return [str(g) for g in row[0]] if row and row[0] else []


def _hours(start_us: int, end_us: int) -> list[tuple[int, int]]:
    """``[start_us, end_us)`` cut at hour boundaries."""
    cuts = [start_us, *range(start_us - start_us % BUCKET_US + BUCKET_US, end_us, BUCKET_US)]
    return [(a, b) for a, b in zip(cuts, [*cuts[1:], end_us], strict=True) if a < b]


def _pieces(start_us: int, end_us: int) -> list[tuple[int, int]]:
    """``[start_us, end_us)`` in units, newest first: hours for its newest two days, then
    pieces each twice as long as the one before, so even a range of years is a few units."""
    cut = max(start_us, end_us - end_us % BUCKET_US - _HOURLY * BUCKET_US)
    pieces = _hours(cut, end_us)[::-1]
    length = 2 * BUCKET_US
    while cut > start_us:
        pieces.append((max(start_us, cut - length), cut))
        cut -= length
        length *= 2
    return pieces


def plan(
    cursor: duckdb.DuckDBPyConnection, text: str, start_us: int, end_us: int
) -> SearchPlan | None:
    """Plan a search of ``text`` in ``[start_us, end_us)``; None when trigrams cannot help
    (a text of fewer than three characters)."""
    grams = trigrams(cursor, text)
    if not grams:
        return None
    state = _state(cursor)
    low, high = state if state else (end_us, end_us)
    lo, hi = max(start_us, low), min(end_us, high)
    unindexed = [(start_us, min(end_us, low)), (max(start_us, high), end_us)]
    matched: list[int] = []
    if lo < hi:
        params = {"a": lo - lo % BUCKET_US, "b": hi}
        matched = [
            int(r[0])
            for r in cursor.execute(
                "SELECT bucket FROM log_text_index WHERE bucket >= $a AND bucket < $b "
                "AND trigram IN (SELECT unnest($g)) GROUP BY bucket "
                "HAVING count(DISTINCT trigram) = $n ORDER BY bucket",
                {**params, "g": grams, "n": len(grams)},
            ).fetchall()
        ]
        dirty = cursor.execute(
            "SELECT DISTINCT bucket FROM log_index_dirty WHERE bucket >= $a AND bucket < $b "
            "ORDER BY bucket",
            params,
        ).fetchall()
        unindexed += [(max(lo, int(h)), min(hi, int(h) + BUCKET_US)) for (h,) in dirty]
    spans = _merged(s for s in unindexed if s[0] < s[1])
    units = [u for a, b in spans for u in _pieces(a, b)]
    units += [(max(lo, h), min(hi, h + BUCKET_US)) for h in matched]
    return SearchPlan(
        trigrams=tuple(grams),
        matched=tuple(matched),
        unindexed=tuple(spans),
        units=tuple(sorted(set(units), reverse=True)),
    )


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, with overlapping or touching ones joined."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and merged[-1][1] >= a:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def time_clause(spans: Sequence[tuple[int, int]], prefix: str) -> tuple[str, dict[str, int]]:
    """SQL matching ``"time"`` in any of ``spans`` (epoch µs, adjacent ones merged)."""
    return _any_span('"time"', "make_timestamptz(${})", spans, prefix)


def _any_span(
    column: str, bound: str, spans: Sequence[tuple[int, int]], prefix: str
) -> tuple[str, dict[str, int]]:
    clauses, params = [], {}
    for i, (a, b) in enumerate(_merged(spans)):
        low, high = bound.format(f"{prefix}a{i}"), bound.format(f"{prefix}b{i}")
        clauses.append(f"({column} >= {low} AND {column} < {high})")
        params.update({f"{prefix}a{i}": a, f"{prefix}b{i}": b})
    return "(" + " OR ".join(clauses or ["FALSE"]) + ")", params


def fetch_newest(
    units: Sequence[tuple[int, int]],
    limit: int,
    read: Callable[[str, dict[str, int], int], list[Any]],
) -> list[Any]:
    """Read ``units`` (disjoint, newest first) until ``limit`` rows are found.

    ``read(clause, params, n)`` returns the newest ``n`` matching rows within the time
    clause. Units go in batches of 1, 4, 16, ... so a common text stops after its newest
    hours and a rare one costs a few statements; each batch is older than the one before, so
    the rows come out in the order one query over all of them would give.
    """
    rows: list[Any] = []
    done, size = 0, 1
    while done < len(units) and len(rows) < limit:
        batch = _merged(units[done : done + size])[-_MAX_SPANS:]  # at most so many ORs
        clause, params = time_clause(batch, "u")
        rows.extend(read(clause, params, limit - len(rows)))
        while done < len(units) and units[done][0] >= batch[0][0]:
            done += 1
        size *= _GROWTH
    return rows


# -- upkeep ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpkeepReport:
    """What one ``update`` did: hours (re)indexed, log rows read, and whether work is left."""

    hours: int
    rows: int
    pending: bool
    low: int | None
    high: int | None


def _counts(
    cursor: duckdb.DuckDBPyConnection, where: str, params: dict[str, int]
) -> dict[int, int]:
    sql = _COUNT_SQL.format(where=where)
    return {int(b): int(n) for b, n in cursor.execute(sql, params).fetchall()}


@dataclass(slots=True)
class _Work:
    """Hour ranges chosen for one upkeep call, within its row budget."""

    budget: int
    ranges: list[tuple[int, int]]
    counts: dict[int, int]
    rows: int = 0

    def take(self, hour: int) -> bool:
        """Whether ``hour`` fits in the budget (the first hour always does); counts it."""
        n = self.counts.get(hour, 0)
        if self.rows and self.rows + n > self.budget:
            return False
        self.rows += n
        return True


def update(
    cursor: duckdb.DuckDBPyConnection, guard: IndexGuard, now_us: int, max_rows: int
) -> UpkeepReport:
    """Index what is due at ``now_us``, reading at most about ``max_rows`` log rows."""
    hi = ((now_us - LATENESS_US) // BUCKET_US) * BUCKET_US
    with guard.writer:
        with guard.lock:
            if not guard.load(cursor):
                return UpkeepReport(0, 0, False, None, None)
            guard.raise_horizon(hi)
            cursor.begin()
            state = _state(cursor)  # the first read fixes the snapshot
        try:
            report = _update(cursor, state, hi, max_rows)
            cursor.commit()
        except BaseException:
            _rollback(cursor)
            raise
    return report


def _rollback(cursor: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # keep the first error, not the rollback's
        cursor.rollback()


def _update(
    cursor: duckdb.DuckDBPyConnection, state: tuple[int, int] | None, hi: int, max_rows: int
) -> UpkeepReport:
    low, high = state if state else (hi, hi)
    hi = max(hi, high)
    work = _Work(max(max_rows, 1), [], {})
    new_high = _forward(cursor, work, high, hi)
    unmarked = _marked(cursor, work, low, high)
    new_low, older = _backward(cursor, work, low)
    for a, b in _statements(work.ranges, work.counts):
        params = {"a": a, "b": b}
        cursor.execute("DELETE FROM log_text_index WHERE bucket >= $a AND bucket < $b", params)
        cursor.execute(_INDEX_SQL, params)
    cursor.execute(
        "UPDATE log_index_state SET low = $low, high = $high WHERE id = 1",
        {"low": new_low, "high": new_high},
    )
    done, params = _any_span("bucket", "${}", work.ranges, "d")
    # Only marks this snapshot saw go: a mark committed since stands for rows it missed.
    cursor.execute(
        f"DELETE FROM log_index_dirty WHERE bucket < $low OR bucket >= $high OR {done}",  # noqa: S608
        {**params, "low": new_low, "high": new_high},
    )
    hours = sum(len(_hours(a, b)) for a, b in work.ranges)
    pending = new_high < hi or unmarked or older
    return UpkeepReport(hours, work.rows, pending, new_low, new_high)


def _forward(cursor: duckdb.DuckDBPyConnection, work: _Work, high: int, hi: int) -> int:
    """Take the hours from ``high`` up to ``hi``, oldest first; return the new ``high``."""
    if high >= hi:
        return high
    work.counts.update(_counts(cursor, _WINDOW, {"a": high, "b": hi}))
    end = high
    for a, _ in _hours(high, hi):
        if not work.take(a):
            break
        end = a + BUCKET_US
    if end > high:
        work.ranges.append((high, end))
    return end


def _marked(cursor: duckdb.DuckDBPyConnection, work: _Work, low: int, high: int) -> bool:
    """Take marked hours within the coverage, newest first; return whether any are left."""
    hours = [
        int(r[0])
        for r in cursor.execute(
            "SELECT DISTINCT bucket FROM log_index_dirty WHERE bucket >= $a AND bucket < $b "
            "ORDER BY bucket DESC LIMIT $n",
            {"a": low, "b": high, "n": _MAX_MARKED + 1},
        ).fetchall()
    ]
    more = len(hours) > _MAX_MARKED
    hours = hours[:_MAX_MARKED]
    if not hours:
        return False
    clause, params = time_clause([(h, h + BUCKET_US) for h in hours], "m")
    work.counts.update(_counts(cursor, clause, params))
    taken = [h for h in hours if work.take(h)]
    work.ranges.extend((h, h + BUCKET_US) for h in taken)
    return more or len(taken) < len(hours)


def _backward(cursor: duckdb.DuckDBPyConnection, work: _Work, low: int) -> tuple[int, bool]:
    """Take hours with logs below ``low``, newest first; return (new ``low``, more left?)."""
    counts = _counts(cursor, '"time" < make_timestamptz($a)', {"a": low})
    work.counts.update(counts)
    bottom = low
    for hour in sorted(counts, reverse=True):
        if not work.take(hour):
            return _extend(work, bottom, low), True
        bottom = hour
    return _extend(work, bottom, low), False


def _extend(work: _Work, bottom: int, low: int) -> int:
    if bottom < low:
        work.ranges.append((bottom, low))
    return bottom


def _statements(
    ranges: Sequence[tuple[int, int]], counts: dict[int, int]
) -> Iterator[tuple[int, int]]:
    """Cut ``ranges`` at hour boundaries into pieces of about ``_ROWS_PER_STATEMENT`` rows."""
    for start, end in ranges:
        a, rows = start, 0
        for h, _ in _hours(start, end):
            n = counts.get(h, 0)
            if rows and rows + n > _ROWS_PER_STATEMENT:
                yield a, h
                a, rows = h, 0
            rows += n
        yield a, end
