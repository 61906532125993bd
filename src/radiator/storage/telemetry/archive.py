"""The Parquet archive of the DuckDB telemetry store: whole UTC days, one directory each.

Layout: ``<archive_dir>/<table>/date=YYYY-MM-DD/part-<n>.parquet`` (ZSTD-compressed).
A day is archived in one transaction: its rows are copied to a new part file, the file is
read back and its row count compared, and only then are the rows deleted and the
manifest updated; any failure rolls the deletion back and removes the new file. The
manifest is the ``archive_partitions`` table in the same database, so it changes in the
same transaction as the rows it describes. Files not listed in it are ignored.

A restored day is copied back into the live table and flagged, so reads skip its files
(no duplicates) and restoring it again does nothing. When it falls out of retention again,
its live rows replace its files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb

from radiator.core.types import TimeRange
from radiator.errors import InvalidInputError, StorageError

__all__ = [
    "MANIFEST_TABLE",
    "ArchivedPartition",
    "archive_day",
    "create_manifest",
    "day_range",
    "list_partitions",
    "restore_day",
    "table_exists",
    "union_sql",
]

MANIFEST_TABLE = "archive_partitions"
_MANIFEST_SQL = (
    f"CREATE TABLE IF NOT EXISTS {MANIFEST_TABLE} (table_name VARCHAR NOT NULL, "
    "day DATE NOT NULL, rows BIGINT NOT NULL, bytes BIGINT NOT NULL, files VARCHAR[] NOT NULL, "
    "archived_at TIMESTAMPTZ NOT NULL, restored BOOLEAN NOT NULL, restored_at TIMESTAMPTZ)"
)
_MANIFEST_COLUMNS = "table_name, day, rows, bytes, files, archived_at, restored, restored_at"
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_PART = re.compile(r"part-(\d+)\.parquet$")
# Archived rows get negative row ids, so they never equal a live row's and sort as older
# than any (a late row of an archived day was inserted after it). Within a day they are
# unique and keep the insertion order the file preserved: part number, then row in file.
_ARCHIVE_ROWID = (
    "(CAST(regexp_extract(filename, 'part-(\\d+)\\.parquet$', 1) AS BIGINT) << 40) "
    "+ file_row_number - 4611686018427387904"  # 2 ** 62
)


@dataclasses.dataclass(frozen=True, slots=True)
class ArchivedPartition:
    """One archived day of one table, as the manifest lists it.

    ``files`` are paths relative to the archive directory; ``rows`` and ``bytes`` are their
    totals. ``restored`` days have their rows back in the live table.
    """

    table: str
    day: date
    rows: int
    bytes: int
    files: tuple[str, ...]
    archived_at: datetime
    restored: bool = False
    restored_at: datetime | None = None


def create_manifest(cursor: duckdb.DuckDBPyConnection) -> None:
    cursor.execute(_MANIFEST_SQL)


def day_range(day: date) -> TimeRange:
    """The UTC day ``day`` as a half-open time range."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return TimeRange(start, start + timedelta(days=1))


def _checked_name(table: str) -> str:
    if not _NAME.match(table):
        raise InvalidInputError(f"{table!r} is not a telemetry table name", field="table")
    return table


def table_exists(cursor: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = cursor.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = $t "
        "AND table_schema = current_schema()",
        {"t": table},
    ).fetchone()
    return bool(row and row[0])


def _columns(cursor: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = $t AND table_schema = current_schema() ORDER BY ordinal_position",
        {"t": table},
    ).fetchall()
    if not rows:
        raise InvalidInputError(f"no telemetry table {table!r}", field="table")
    return [(str(name), str(kind)) for name, kind in rows]


def _row(row: tuple[Any, ...]) -> ArchivedPartition:
    table, day, rows, size, files, archived_at, restored, restored_at = row
    assert isinstance(day, date)
    assert isinstance(archived_at, datetime)
    return ArchivedPartition(
        table=str(table),
        day=day,
        rows=int(rows),
        bytes=int(size),
        files=tuple(files),
        archived_at=archived_at.astimezone(UTC),
        restored=bool(restored),
        restored_at=restored_at.astimezone(UTC) if isinstance(restored_at, datetime) else None,
    )


def list_partitions(
    cursor: duckdb.DuckDBPyConnection,
    table: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[ArchivedPartition]:
    """The manifest's partitions, by table then day, optionally of one table and day span."""
    rows = cursor.execute(
        f"SELECT {_MANIFEST_COLUMNS} FROM {MANIFEST_TABLE} "  # noqa: S608
        "WHERE ($t IS NULL OR table_name = $t) AND ($first IS NULL OR day >= $first) "
        "AND ($last IS NULL OR day <= $last) ORDER BY table_name, day",
        {"t": table, "first": first, "last": last},
    ).fetchall()
    return [_row(r) for r in rows]


def _save(cursor: duckdb.DuckDBPyConnection, part: ArchivedPartition) -> None:
    cursor.execute(
        f"DELETE FROM {MANIFEST_TABLE} WHERE table_name = $t AND day = $d",  # noqa: S608
        {"t": part.table, "d": part.day},
    )
    cursor.execute(
        f"INSERT INTO {MANIFEST_TABLE} VALUES ($t, $d, $rows, $bytes, $files, $at, $r, $rat)",  # noqa: S608
        {
            "t": part.table,
            "d": part.day,
            "rows": part.rows,
            "bytes": part.bytes,
            "files": list(part.files),
            "at": part.archived_at,
            "r": part.restored,
            "rat": part.restored_at,
        },
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parquet_scan(
    cursor: duckdb.DuckDBPyConnection,
    root: Path,
    files: Sequence[str],
    columns: list[tuple[str, str]],
    *,
    rowid: bool = True,
) -> str:
    """SELECT of the table's columns, cast to the live types, from archived ``files``.

    A column the files lack (added to the table after they were written) reads as NULL.
    """
    source = f"read_parquet([{', '.join(_literal(str(root / f)) for f in files)}], "
    source += "union_by_name = true, hive_partitioning = false"
    described = cursor.execute(f"DESCRIBE SELECT * FROM {source})").fetchall()  # noqa: S608
    present = {str(row[0]) for row in described}
    selected = [
        f"CAST({_quoted(name) if name in present else 'NULL'} AS {kind}) AS {_quoted(name)}"
        for name, kind in columns
    ]
    if rowid:
        selected.append(f"{_ARCHIVE_ROWID} AS rowid")
    return (
        f"SELECT {', '.join(selected)} FROM {source}, "  # noqa: S608
        "filename = true, file_row_number = true)"
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def union_sql(
    cursor: duckdb.DuckDBPyConnection, root: Path, table: str, files: Sequence[str]
) -> str:
    """A parenthesised ``UNION ALL`` of live ``table`` and archived ``files`` (relative to
    ``root``): the table's columns plus ``rowid``, archived values cast to the live types."""
    columns = _columns(cursor, _checked_name(table))
    names = ", ".join(f'"{name}"' for name, _ in columns)
    live = f"SELECT {names}, rowid AS rowid FROM {table}"  # noqa: S608
    return f"({live} UNION ALL {_parquet_scan(cursor, root, files, columns)})"


def _new_part(root: Path, table: str, day: date, files: Sequence[str]) -> str:
    """The relative path of the day's next part file; never one that exists already."""
    numbers = [int(m.group(1)) for f in files if (m := _PART.search(f))]
    number = max(numbers, default=0) + 1
    while True:
        relative = f"{table}/date={day.isoformat()}/part-{number}.parquet"
        try:
            if not (root / relative).exists():  # a crash may have left one behind
                return relative
        except OSError:  # e.g. a file where a directory should be: COPY will say so
            return relative
        number += 1


def _count(cursor: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> int:
    row = cursor.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _write_part(
    cursor: duckdb.DuckDBPyConnection, root: Path, relative: str, select: str, bounds: TimeRange
) -> int:
    """COPY ``select`` to ``root/relative`` and return the row count read back from the file."""
    path = root / relative
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create archive directory {path.parent}: {exc}") from exc
    params = {"start": bounds.start, "end": bounds.end}
    cursor.execute(
        f"COPY ({select}) TO {_literal(str(path))} (FORMAT PARQUET, COMPRESSION ZSTD)", params
    )
    return _count(cursor, "SELECT count(*) FROM read_parquet($f)", {"f": str(path)})


def archive_day(
    cursor: duckdb.DuckDBPyConnection,
    root: Path,
    table: str,
    time_column: str,
    day: date,
    now: datetime,
) -> ArchivedPartition | None:
    """Move the live rows of ``table`` on UTC ``day`` into a new Parquet part, atomically.

    Returns the manifest entry afterwards, or None when the day had no live rows.

    Raises:
        StorageError: the file could not be written, or does not hold every row; nothing
            was deleted.
    """
    _checked_name(table)
    bounds = day_range(day)
    where = f'"{time_column}" >= $start AND "{time_column}" < $end'
    found = list_partitions(cursor, table, day, day)
    old = found[0] if found else None
    columns = ", ".join(f'"{name}"' for name, _ in _columns(cursor, table))
    written: Path | None = None
    cursor.begin()
    try:
        params: dict[str, object] = {"start": bounds.start, "end": bounds.end}
        live = _count(cursor, f"SELECT count(*) FROM {table} WHERE {where}", params)  # noqa: S608
        if live == 0:
            cursor.rollback()
            return None
        keep = () if old is None or old.restored else old.files
        relative = _new_part(root, table, day, old.files if old else ())
        written = root / relative
        select = f"SELECT {columns} FROM {table} WHERE {where}"  # noqa: S608
        copied = _write_part(cursor, root, relative, select, bounds)
        if copied != live:
            raise StorageError(f"archive file {written} holds {copied} rows, expected {live}")
        deleted = _count(cursor, f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
        if deleted != live:
            raise StorageError(f"deleting {table} on {day} removed {deleted} rows, not {live}")
        part = ArchivedPartition(
            table=table,
            day=day,
            rows=live + (old.rows if keep and old else 0),
            bytes=written.stat().st_size + (old.bytes if keep and old else 0),
            files=(*keep, relative),
            archived_at=now,
        )
        _save(cursor, part)
        cursor.commit()
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):  # keep the first error, not the rollback's
            cursor.rollback()
        if written is not None:
            with contextlib.suppress(OSError):
                written.unlink(missing_ok=True)
        if isinstance(exc, duckdb.Error | OSError):
            raise StorageError(f"archiving {table} on {day} failed: {exc}") from exc
        raise
    if old is not None and old.restored:
        # Its rows were live again and are now in the new part; the old files are stale.
        for stale in old.files:
            with contextlib.suppress(OSError):
                (root / stale).unlink()
    return part


def restore_day(
    cursor: duckdb.DuckDBPyConnection, root: Path, part: ArchivedPartition, now: datetime
) -> int:
    """Copy an archived day back into its live table and flag it restored; return rows.

    A day already restored is left alone (0 rows), so restoring twice never duplicates.

    Raises:
        StorageError: a file is missing or holds another row count than the manifest says.
    """
    if part.restored:
        return 0
    table = _checked_name(part.table)
    columns = _columns(cursor, table)
    names = ", ".join(f'"{name}"' for name, _ in columns)
    select = _parquet_scan(cursor, root, part.files, columns, rowid=False)
    cursor.begin()
    try:
        inserted = _count(cursor, f"INSERT INTO {table} ({names}) {select}", {})
        if inserted != part.rows:
            raise StorageError(
                f"archive of {table} on {part.day} holds {inserted} rows, manifest says {part.rows}"
            )
        _save(cursor, dataclasses.replace(part, restored=True, restored_at=now))
        cursor.commit()
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):  # keep the first error, not the rollback's
            cursor.rollback()
        if isinstance(exc, duckdb.Error):
            raise StorageError(f"restoring {table} on {part.day} failed: {exc}") from exc
        raise
    return inserted
