"""Keep rollup rows clustered by series, so reading one series skips most of the table.

Rollups are written a few buckets at a time, every series interleaved, so without help
each row group of ``rollup_1m`` holds every series and a one-series read over 7 days
scans the whole table. Once a *period* (a UTC day of 1-minute rows, 30 days of 1-hour
rows) is complete behind the rollup's watermark, it is rewritten in one transaction,
ordered by (sid, time): DuckDB's zone maps on ``sid`` then skip the row groups of other
series (measured on 1,000 series x 7 days: 18 of 84 row groups read instead of all 84).

Buckets re-rolled later (late points) are appended unclustered; the period counts them as
*loose* rows and is rewritten again once they exceed a share of it. Each call rewrites at
most a few periods, so the first pass over a large existing store is spread over many
rollup cycles instead of blocking one.
"""

from __future__ import annotations

import duckdb

from radiator.core.telemetry import Resolution

__all__ = ["PERIOD_US", "compact", "create_compaction_table", "note_rewrite"]

_DAY_US = 86_400_000_000
PERIOD_US = {Resolution.MINUTE: _DAY_US, Resolution.HOUR: 30 * _DAY_US}
# Periods rewritten per call and resolution; a day of 1-minute rows for 1,000 series
# (1.44 M rows) takes about a second.
_PER_CALL = 2
# A compacted period is rewritten again when loose rows exceed this share of it.
_LOOSE_SHARE = 0.05


def create_compaction_table(cursor: duckdb.DuckDBPyConnection) -> None:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS rollup_compaction (resolution VARCHAR NOT NULL, "
        "period BIGINT NOT NULL, compact_rows BIGINT NOT NULL, loose BIGINT NOT NULL, "
        "PRIMARY KEY (resolution, period))"
    )


def note_rewrite(
    cursor: duckdb.DuckDBPyConnection, resolution: Resolution, table: str, lo: int, hi: int
) -> None:
    """Count the rows just rewritten in [lo, hi) as loose in the compacted periods they
    fall in. Runs inside the caller's transaction."""
    size = PERIOD_US[resolution]
    touched = cursor.execute(
        "SELECT period FROM rollup_compaction WHERE resolution = $r "
        "AND period < $hi AND period + $size > $lo",
        {"r": resolution.value, "lo": lo, "hi": hi, "size": size},
    ).fetchall()
    for (period,) in touched:
        params = {"lo": max(lo, int(period)), "hi": min(hi, int(period) + size)}
        rows = cursor.execute(
            f'SELECT count(*) FROM {table} WHERE "time" >= make_timestamptz($lo) '  # noqa: S608
            'AND "time" < make_timestamptz($hi)',
            params,
        ).fetchall()[0][0]
        cursor.execute(
            "UPDATE rollup_compaction SET loose = loose + $rows "
            "WHERE resolution = $r AND period = $period",
            {"rows": int(rows), "r": resolution.value, "period": int(period)},
        )


def compact(
    cursor: duckdb.DuckDBPyConnection, resolution: Resolution, table: str, watermark: int
) -> int:
    """Rewrite up to a few complete, unclustered periods of ``table``; rows rewritten."""
    rewritten = 0
    for period in _due(cursor, resolution, table, watermark)[:_PER_CALL]:
        rewritten += _rewrite_period(cursor, resolution, table, period)
    return rewritten


def _due(
    cursor: duckdb.DuckDBPyConnection, resolution: Resolution, table: str, watermark: int
) -> list[int]:
    """Complete periods holding rows that are new or too loose, oldest first."""
    size = PERIOD_US[resolution]
    row = cursor.execute(f'SELECT epoch_us(min("time")) FROM {table}').fetchall()  # noqa: S608
    if not row or row[0][0] is None:
        return []
    first = (int(row[0][0]) // size) * size
    last = (watermark // size) * size  # periods before this one are complete
    # Marks of periods that retention has since deleted are of no further use.
    cursor.execute(
        "DELETE FROM rollup_compaction WHERE resolution = $r AND period < $first",
        {"r": resolution.value, "first": first},
    )
    done = {
        int(period)
        for (period,) in cursor.execute(
            "SELECT period FROM rollup_compaction WHERE resolution = $r "
            "AND loose <= compact_rows * $share",
            {"r": resolution.value, "share": _LOOSE_SHARE},
        ).fetchall()
    }
    return [period for period in range(first, last, size) if period not in done]


def _rewrite_period(
    cursor: duckdb.DuckDBPyConnection, resolution: Resolution, table: str, period: int
) -> int:
    params = {"lo": period, "hi": period + PERIOD_US[resolution]}
    window = '"time" >= make_timestamptz($lo) AND "time" < make_timestamptz($hi)'
    staged = f"radiator_compact_{table}"
    cursor.begin()
    try:
        cursor.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged} AS "  # noqa: S608 - fixed names
            f'SELECT * FROM {table} WHERE {window} ORDER BY sid, "time"',
            params,
        )
        cursor.execute(f"DELETE FROM {table} WHERE {window}", params)  # noqa: S608
        cursor.execute(f"INSERT INTO {table} SELECT * FROM {staged}")  # noqa: S608
        counted = cursor.execute(f"SELECT count(*) FROM {staged}").fetchall()  # noqa: S608
        rows = int(counted[0][0])
        cursor.execute(f"DROP TABLE {staged}")
        cursor.execute(
            "INSERT OR REPLACE INTO rollup_compaction VALUES ($r, $lo, $rows, 0)",
            {"lo": period, "r": resolution.value, "rows": rows},
        )
        cursor.commit()
    except BaseException:
        cursor.rollback()
        raise
    return rows
