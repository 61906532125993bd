"""The embedded telemetry store: DuckDB tables fed by Arrow batches."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import (
    Aggregation,
    BucketQuery,
    CoverageRow,
    DependencyEdge,
    EventFilter,
    EventRow,
    LevelCount,
    LogCount,
    LogCountQuery,
    LogFilter,
    LogRow,
    MetricSeries,
    RecentStats,
    Resolution,
    Series,
    Signal,
    SpanFilter,
    SpanRow,
    StepWindows,
    query_deadline,
)
from radiator.core.types import Labels, TimeRange
from radiator.errors import InvalidInputError, StorageError
from radiator.query.engine import QueryTimeoutError
from radiator.storage.telemetry import archive, duckdb_logcount
from radiator.storage.telemetry import duckdb_logindex as logindex
from radiator.storage.telemetry import duckdb_metrics as metrics
from radiator.storage.telemetry.archive_cache import ManifestCache
from radiator.storage.telemetry.recent import PointArrays, RecentPoints

_log = logging.getLogger(__name__)

__all__ = ["DuckDBTelemetryStore"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_BATCH_VIEW = "radiator_incoming_batch"  # per-cursor view, so threads never share it
# Recent points are loaded an hour at a time, so the load's transient memory stays small.
_RECENT_CHUNK_US = 3_600_000_000
# Tags are stored sorted by key (and never NULL) so equal tag sets compare and group as
# equal whatever order the client sent them in. Rebuilding a map costs more than checking
# its order, and most clients already send sorted tags.
_CANONICAL_TAGS = (
    "coalesce(CASE WHEN list_sort(map_keys(tags)) = map_keys(tags) THEN tags "
    "ELSE map_from_entries(list_sort(map_entries(tags))) END, MAP {}::MAP(VARCHAR, VARCHAR))"
)
_JSON_CHECK_SQL = (
    "SELECT count(*) FROM radiator_incoming_batch "
    "WHERE attributes IS NOT NULL AND NOT json_valid(attributes)"
)

# SQL fragments chosen from closed sets; user text never reaches an f-string.
_AGGREGATES: dict[Aggregation, str] = {
    Aggregation.AVG: "avg(value)",
    Aggregation.SUM: "sum(value)",
    Aggregation.MIN: "min(value)",
    Aggregation.MAX: "max(value)",
    Aggregation.COUNT: "count(*)",
    Aggregation.LAST: 'arg_max(value, "time")',
}
# Integer floor on epoch microseconds, so buckets align to the Unix epoch whatever the
# session time zone; the double modulo keeps pre-1970 times in the right bucket.
_BUCKET = '(epoch_us("time") - ((epoch_us("time") % $step) + $step) % $step)'


def _time_column(signal: Signal) -> str:
    return "start" if signal is Signal.SPANS else "time"


def _sql_type(field: pa.Field) -> str:
    kind = field.type
    if field.name == "attributes":
        return "JSON"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ"
    if pa.types.is_floating(kind):
        return "DOUBLE"
    if pa.types.is_map(kind):
        return "MAP(VARCHAR, VARCHAR)"
    if pa.types.is_list(kind):
        return "VARCHAR[]"
    return "VARCHAR"


def _create_table_sql(signal: Signal) -> str:
    columns = ", ".join(
        f'"{field.name}" {_sql_type(field)}{"" if field.nullable else " NOT NULL"}'
        for field in SCHEMAS[signal]
    )
    return f"CREATE TABLE IF NOT EXISTS {signal.value} ({columns})"


def _insert_sql(signal: Signal) -> str:
    names = [field.name for field in SCHEMAS[signal]]
    selected = [f"{_CANONICAL_TAGS} AS tags" if n == "tags" else f'"{n}"' for n in names]
    quoted = ", ".join(f'"{n}"' for n in names)
    source = f"SELECT {', '.join(selected)} FROM {_BATCH_VIEW}"  # noqa: S608
    if signal is Signal.POINTS:
        return source  # written by SeriesCatalogue.insert_points, which adds each sid
    return f"INSERT INTO {signal.value} ({quoted}) {source}"


_CREATE_SQL = {signal: _create_table_sql(signal) for signal in Signal}
_INSERT_SQL = {signal: _insert_sql(signal) for signal in Signal}
_POINTS_SOURCE = _INSERT_SQL[Signal.POINTS]


def _as_signal(value: Signal | str) -> Signal:
    try:
        return Signal(value)
    except ValueError:
        accepted = ", ".join(s.value for s in Signal)
        raise InvalidInputError(
            f"unknown signal {value!r}; accepted values: {accepted}", field="signal"
        ) from None


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _castable(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether ``actual`` holds the same kind of value as ``expected``, so a cast is sound."""
    if actual == expected or pa.types.is_null(actual):
        return True
    if pa.types.is_timestamp(expected):
        return bool(pa.types.is_timestamp(actual))
    if pa.types.is_floating(expected):
        return bool(pa.types.is_integer(actual) or pa.types.is_floating(actual))
    if pa.types.is_map(expected):
        return bool(pa.types.is_map(actual)) and all(
            _is_text(t) for t in (actual.key_type, actual.item_type)
        )
    if pa.types.is_list(expected):
        listlike = pa.types.is_list(actual) or pa.types.is_large_list(actual)
        return bool(listlike) and _is_text(actual.value_type)
    return _is_text(expected) and _is_text(actual)


def _conform_column(signal: Signal, field: pa.Field, column: pa.ChunkedArray) -> pa.ChunkedArray:
    if not _castable(column.type, field.type):
        raise InvalidInputError(
            f"{signal.value} column {field.name!r} has type {column.type}, expected {field.type}",
            field=field.name,
        )
    if not field.nullable and column.null_count:
        raise InvalidInputError(
            f"{signal.value} column {field.name!r} must not contain nulls", field=field.name
        )
    if column.type == field.type:
        return column
    # Naive timestamps are taken to be UTC (as ``core.types.utc`` does); sub-microsecond
    # precision is dropped.
    options = pc.CastOptions(field.type, allow_time_truncate=True)
    try:
        return column.cast(options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(
            f"{signal.value} column {field.name!r} cannot be read as {field.type}: {exc}",
            field=field.name,
        ) from exc


def _conform_batch(signal: Signal, batch: pa.Table) -> pa.Table:
    """Return ``batch`` with exactly the columns, order and types of ``SCHEMAS[signal]``.

    Extra columns are dropped, missing nullable columns become nulls, compatible types
    (other timestamp units or zones, integers for floats, large or dictionary strings) are
    cast.

    Raises:
        InvalidInputError: a required column is missing or null, or a column has a type
            that does not hold the expected kind of value; ``field`` names the column.
    """
    if isinstance(batch, pa.RecordBatch):
        batch = pa.Table.from_batches([batch])
    if not isinstance(batch, pa.Table):
        raise InvalidInputError(f"a {signal.value} batch must be an Arrow table")
    schema = SCHEMAS[signal]
    columns: list[pa.ChunkedArray | pa.Array] = []
    for field in schema:
        found = batch.schema.get_all_field_indices(field.name)
        if len(found) > 1:
            raise InvalidInputError(
                f"{signal.value} batch has column {field.name!r} more than once", field=field.name
            )
        if found:
            columns.append(_conform_column(signal, field, batch.column(found[0])))
        elif field.nullable:
            columns.append(pa.nulls(batch.num_rows, field.type))
        else:
            raise InvalidInputError(
                f"{signal.value} batch is missing required column {field.name!r}",
                field=field.name,
            )
    return pa.Table.from_arrays(columns, schema=schema)


def _in_range(column: str, time_range: TimeRange | None) -> tuple[str, dict[str, Any]]:
    if time_range is None:
        return "TRUE", {}
    clause = f'"{column}" >= $start AND "{column}" < $end'
    return clause, {"start": time_range.start, "end": time_range.end}


def _like_pattern(text: str) -> str:
    """A substring ILIKE pattern matching ``text`` literally (``\\`` is the escape)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _json_pointer(key: str) -> str:
    """RFC 6901 pointer to a top-level key, so any key text is addressed literally."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _interrupt_at_deadline(cursor: duckdb.DuckDBPyConnection) -> threading.Timer | None:
    """Interrupt ``cursor`` when the running query's deadline (if any) passes."""
    deadline = query_deadline.get()
    if deadline is None:
        return None
    timer = threading.Timer(max(deadline - time.monotonic(), 0.0), cursor.interrupt)
    timer.daemon = True
    timer.start()
    return timer


def _to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def _range_us(time_range: TimeRange) -> tuple[int, int]:
    return _to_us(time_range.start), _to_us(time_range.end)


def _from_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def _attributes(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = orjson.loads(text)
    return value if isinstance(value, dict) else {"value": value}


class _Where:
    """Accumulates bound conditions; every user value is a parameter, never SQL text."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, clause: str, **params: Any) -> None:
        self.clauses.append(clause)
        self.params.update(params)

    def any_of(self, column: str, name: str, values: tuple[str, ...]) -> None:
        if values:
            self.add(f'"{column}" = ANY(${name})', **{name: list(values)})

    def attributes(self, pairs: tuple[tuple[str, str], ...]) -> None:
        for i, (key, value) in enumerate(pairs):
            self.add(
                f"json_extract_string(attributes, $attr_key_{i}) = $attr_value_{i}",
                **{f"attr_key_{i}": _json_pointer(key), f"attr_value_{i}": value},
            )

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "TRUE"


def _range(where: _Where, column: str, time_range: TimeRange) -> None:
    where.add(
        f'"{column}" >= $start AND "{column}" < $end', start=time_range.start, end=time_range.end
    )


_EVENT_COLUMNS = 'epoch_us("time"), kind, service, environment, title, actor, attributes, links'
_LOG_COLUMNS = 'epoch_us("time"), service, level, message, attributes, trace_id, span_id, rowid'
_SPAN_COLUMNS = (
    "trace_id, span_id, parent_id, service, name, epoch_us(start), duration_ms, status, attributes"
)
_DEPENDENCY_SQL = """
SELECT p.service, c.service, count(*),
       count(*) FILTER (WHERE c.status = 'error'),
       quantile_cont(c.duration_ms, 0.5), quantile_cont(c.duration_ms, 0.95)
FROM {source} c JOIN {source} p ON c.trace_id = p.trace_id AND c.parent_id = p.span_id
WHERE c.start >= $start AND c.start < $end
  AND coalesce(p.service, '') <> coalesce(c.service, '')
GROUP BY p.service, c.service
ORDER BY p.service, c.service
"""


class DuckDBTelemetryStore:
    """``TelemetryStore`` on one DuckDB database (a file, or ``":memory:"``).

    Contract specifics:

    - **UTC.** Times are stored as ``TIMESTAMPTZ`` (an instant). Nothing the store does
      depends on the process or session time zone: batches arrive as UTC Arrow timestamps,
      range bounds are bound as aware datetimes, buckets are computed on epoch microseconds
      (so they align to the Unix epoch) and come back as aware UTC datetimes. Naive input
      timestamps are taken to be UTC.
    - **Threads.** One DuckDB connection is opened per store; every call runs on its own
      cursor, so any number of threads may append and query at once. ``close`` waits for no
      one: calls started afterwards raise ``StorageError``.
    - **Batches.** ``append`` conforms the Arrow table to ``SCHEMAS[signal]`` and inserts it
      with one ``INSERT ... SELECT`` over the registered table, all or nothing. Tags are
      stored sorted by key, and missing tags as an empty map. ``attributes`` must be JSON text.
    - **Grouping.** With ``group_by`` naming tags, points lacking one of those tags are grouped
      under a ``Series`` whose tags leave that key out. ``LAST`` picks any one of the points
      sharing the latest time in a bucket.
    - **Errors.** Bad batches raise ``InvalidInputError`` naming the column; DuckDB failures
      raise ``StorageError`` chained to the driver's exception.
    """

    def __init__(self, path: str, archive_dir: str | Path | None = None) -> None:
        self.path = path
        # Where archived days are read from (docs/retention.md); None reads live tables only.
        self.archive_dir = Path(archive_dir) if archive_dir is not None else None
        self._archived = ManifestCache()
        self._lock = threading.Lock()
        self._catalogue = metrics.SeriesCatalogue()
        self._log_index = logindex.IndexGuard()
        # The last hours of raw points in memory, once ``keep_recent`` is called.
        self._recent: RecentPoints | None = None
        self._commits = threading.Lock()  # around commits of points (``_admitting``)
        if path and not path.startswith(":memory:"):
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn: duckdb.DuckDBPyConnection | None = duckdb.connect(path)
        except duckdb.Error as exc:
            raise StorageError(
                f"cannot open the DuckDB telemetry store at {path!r}: {exc}"
            ) from exc
        # Only changes how ad-hoc SQL shows times; no query here depends on it. Without the
        # ICU extension the setting does not exist and DuckDB works in UTC anyway.
        with contextlib.suppress(duckdb.Error):
            self._conn.execute("SET GLOBAL TimeZone = 'UTC'")

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._conn is None:
                raise StorageError("the telemetry store is closed")
            try:
                cursor = self._conn.cursor()
            except duckdb.Error as exc:
                raise StorageError(f"DuckDB telemetry store failed: {exc}") from exc
        timer = _interrupt_at_deadline(cursor)
        try:
            yield cursor
        except duckdb.InterruptException as exc:
            raise QueryTimeoutError(
                "the query ran past its time limit (setting query_timeout_seconds) and was "
                "cancelled; narrow the range or the selectors"
            ) from exc
        except duckdb.Error as exc:
            raise StorageError(f"DuckDB telemetry store failed: {exc}") from exc
        finally:
            if timer is not None:
                timer.cancel()
            cursor.close()

    def _source(self, table: str, time_range: TimeRange | None = None) -> str:
        """SQL table expression reading ``table``: live rows plus archived days in range.

        Just the table name unless archived, unrestored days overlap ``time_range`` (None:
        any day); then a parenthesised UNION ALL with the same columns and a ``rowid``.
        """
        if self.archive_dir is None:
            return table
        files = self._archived.files(table, time_range, self._cursor)
        if not files:
            return table
        with self._cursor() as cursor:
            return archive.union_sql(cursor, self.archive_dir, table, files)

    def create_schema(self) -> None:
        with self._cursor() as cursor:
            for signal in Signal:
                cursor.execute(_CREATE_SQL[signal])
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS ingest_checkpoint (id INTEGER PRIMARY KEY, seq BIGINT)"
            )
            cursor.execute("INSERT OR IGNORE INTO ingest_checkpoint VALUES (1, 0)")
            metrics.create_metric_tables(cursor)
            archive.create_manifest(cursor)
            logindex.create_tables(cursor)
            with self._log_index.lock:
                self._log_index.load(cursor, again=True)

    def append_many(
        self, batches: Sequence[tuple[Signal, pa.Table]], checkpoint: int | None = None
    ) -> int:
        """Append several batches and move the ingest checkpoint in one transaction."""
        tables = [
            (_as_signal(signal), _conform_batch(_as_signal(signal), batch))
            for signal, batch in batches
        ]
        rows = 0
        staged: list[metrics.StagedSeries] = []
        log_times = [t.column("time") for s, t in tables if s is Signal.LOGS and t.num_rows]
        with self._cursor() as cursor:
            cursor.begin()
            try:
                for signal, table in tables:
                    if table.num_rows == 0:
                        continue
                    cursor.register(_BATCH_VIEW, table)
                    if "attributes" in table.column_names:
                        self._check_json(cursor, signal)
                    if signal is Signal.POINTS:
                        staged.append(self._catalogue.insert_points(cursor, _POINTS_SOURCE))
                    else:
                        cursor.execute(_INSERT_SQL[signal])
                    cursor.unregister(_BATCH_VIEW)
                    rows += table.num_rows
                if checkpoint is not None:
                    cursor.execute(
                        "UPDATE ingest_checkpoint SET seq = greatest(seq, $seq) WHERE id = 1",
                        {"seq": checkpoint},
                    )
                with (
                    self._admitting(cursor, staged),
                    self._log_index.committing(cursor, log_times),
                ):
                    cursor.commit()
            except BaseException:
                cursor.rollback()
                raise
        for change in staged:
            self._catalogue.commit(change)
        return rows

    @contextlib.contextmanager
    def _admitting(
        self, cursor: duckdb.DuckDBPyConnection, staged: Sequence[metrics.StagedSeries]
    ) -> Iterator[None]:
        """Around an append's commit: its late buckets are marked for the rollups just
        before, and its points join the recent points once it has committed. Commits of
        points are serialised with recent points' snapshot (the lock is their
        ``admission``), whether or not recent points are kept yet."""
        if not staged:
            yield
            return
        with self._commits:
            # Late marks are made here, with the clock read right before the commit, so
            # a roll-up whose snapshot misses these points always finds their marks.
            times = np.concatenate([change.times for change in staged])
            metrics.mark_late(cursor, times, time.time_ns() // 1000)
            yield
            recent = self._recent
            if recent is not None:
                for change in staged:
                    recent.add(change.sids, change.times, change.values)

    def keep_recent(self, hours: float, max_bytes: int) -> threading.Thread:
        """Hold the last ``hours`` of raw points (at most ``max_bytes``) in memory, grouped
        by series, and answer recent raw reads from there (``recent``).

        Returns at once: the points are loaded by the returned (daemon) thread, and reads
        use the table until it is done.
        """
        if self._recent is not None:
            raise StorageError("this store already keeps recent points")
        recent = self._recent = RecentPoints(hours, max_bytes, admission=self._commits)

        def warm() -> None:
            began = time.monotonic()
            try:
                if recent.warm(self._recent_loader):
                    held = recent.stats()
                    _log.info(
                        "recent points ready: %d series, %d points (%.0f MB) in %.1f s",
                        held.series,
                        held.points,
                        held.bytes / 1e6,
                        time.monotonic() - began,
                    )
            except (StorageError, duckdb.Error) as exc:
                if self._conn is not None:
                    _log.error("loading recent points failed; reads use the table: %s", exc)

        thread = threading.Thread(target=warm, name="radiator-recent-points", daemon=True)
        thread.start()
        return thread

    def recent_stats(self) -> RecentStats | None:
        """What the recent points hold; None when the store does not keep them."""
        return self._recent.stats() if self._recent is not None else None

    def forget_recent_through(self, end: datetime) -> None:
        """Points before ``end`` are about to be deleted or rewritten in the table (retention,
        restore): recent points stop answering for them."""
        if self._recent is not None:
            self._recent.forget_through(_to_us(end))

    def _recent_loader(self, lo_us: int) -> Iterator[PointArrays]:
        """Points at or after ``lo_us`` from one snapshot, an hour at a time; the snapshot
        is fixed before this returns (``RecentPoints.warm``)."""
        with self._lock:
            if self._conn is None:
                raise StorageError("the telemetry store is closed")
            cursor = self._conn.cursor()
        try:
            cursor.begin()
            row = cursor.execute(
                'SELECT epoch_us(max("time")) FROM points WHERE "time" >= make_timestamptz($lo)',
                {"lo": lo_us},
            ).fetchone()
        except BaseException:
            cursor.close()
            raise
        top = int(row[0]) if row and row[0] is not None else lo_us - 1

        def parts() -> Iterator[PointArrays]:
            try:
                for start in range(lo_us, top + 1, _RECENT_CHUNK_US):
                    rows = cursor.execute(
                        'SELECT sid, epoch_us("time") AS t, value FROM points '
                        'WHERE "time" >= make_timestamptz($a) AND "time" < make_timestamptz($b)',
                        {"a": start, "b": min(start + _RECENT_CHUNK_US, top + 1)},
                    ).fetchnumpy()
                    yield (
                        np.asarray(rows["sid"], dtype=np.uint64),
                        np.asarray(rows["t"], dtype=np.int64),
                        np.asarray(rows["value"], dtype=np.float64),
                    )
            finally:
                with contextlib.suppress(duckdb.Error):
                    cursor.rollback()
                cursor.close()

        return parts()

    def checkpoint(self) -> int:
        with self._cursor() as cursor:
            row = cursor.execute("SELECT seq FROM ingest_checkpoint WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def append(self, signal: Signal, batch: pa.Table) -> int:
        return self.append_many([(signal, batch)])

    @staticmethod
    def _check_json(cursor: duckdb.DuckDBPyConnection, signal: Signal) -> None:
        row = cursor.execute(_JSON_CHECK_SQL).fetchone()
        bad = int(row[0]) if row else 0
        if bad:
            raise InvalidInputError(
                f"{signal.value} column 'attributes' must hold JSON text ({bad} rows do not)",
                field="attributes",
            )

    def query_buckets(self, query: BucketQuery) -> list[Series]:
        sql, params = self._bucket_sql(query, self._source("points", query.range))
        with self._cursor() as cursor:
            rows = cursor.execute(sql, params).fetchall()
        return _collect_series(rows, query.group_by)

    @staticmethod
    def _bucket_sql(query: BucketQuery, source: str = "points") -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {
            "name": query.name,
            "start": query.range.start,
            "end": query.range.end,
            "step": query.step // _MICROSECOND,
        }
        where = ['"name" = $name', '"time" >= $start', '"time" < $end']
        for i, (key, value) in enumerate(sorted(query.tags.items())):
            where.append(f"map_extract_value(tags, $tag_key_{i}) = $tag_value_{i}")
            params[f"tag_key_{i}"] = key
            params[f"tag_value_{i}"] = value
        if query.group_by is None:
            select, group = ["map_keys(tags)", "map_values(tags)"], ["tags"]
        else:
            keys = list(dict.fromkeys(query.group_by))
            select = [f"map_extract_value(tags, $group_{i}) AS g{i}" for i in range(len(keys))]
            group = [f"g{i}" for i in range(len(keys))]
            params.update({f"group_{i}": key for i, key in enumerate(keys)})
        columns = ", ".join([*select, f"{_BUCKET} AS bucket", _AGGREGATES[query.aggregation]])
        sql = (
            f"SELECT {columns} FROM {source} WHERE {' AND '.join(where)} "  # noqa: S608
            f"GROUP BY {', '.join([*group, 'bucket'])} ORDER BY bucket"
        )
        return sql, params

    def count(self, signal: Signal, time_range: TimeRange | None = None) -> int:
        signal = _as_signal(signal)
        clause, params = _in_range(_time_column(signal), time_range)
        source = self._source(signal.value, time_range)
        with self._cursor() as cursor:
            row = cursor.execute(
                f"SELECT count(*) FROM {source} WHERE {clause}",  # noqa: S608
                params,
            ).fetchone()
        return int(row[0]) if row else 0

    def metric_names(self, prefix: str = "", limit: int = 1000) -> list[str]:
        if limit <= 0:
            return []
        with self._cursor() as cursor:
            rows = cursor.execute(
                "SELECT DISTINCT name FROM series WHERE starts_with(name, $prefix) "
                "ORDER BY name LIMIT $limit",
                {"prefix": prefix, "limit": limit},
            ).fetchall()
        return [str(row[0]) for row in rows]

    def find_series(
        self, name: str | None, equal: tuple[tuple[str, str], ...], time_range: TimeRange
    ) -> list[MetricSeries]:
        with self._cursor() as cursor:
            rows = metrics.find_series(cursor, name, equal, *_range_us(time_range))
        return [MetricSeries(sid, n, tags, kind) for sid, n, tags, kind in rows]

    def fetch_cells(
        self,
        sids: Sequence[int],
        time_range: TimeRange,
        resolution: Resolution,
        windows: StepWindows | None = None,
        columns: tuple[str, ...] | None = None,
    ) -> pa.Table:
        wanted = metrics.CELL_COLUMNS if columns is None else columns
        request = metrics.CellsRequest(
            tuple(sids), *_range_us(time_range), resolution, windows, wanted
        )
        if resolution is Resolution.RAW and self._recent is not None:
            held = self._recent.points(
                request.sids, request.start_us, request.end_us, request.windows
            )
            if held is not None:
                return held
        points, rollup = self._metric_sources(time_range, resolution)
        with self._cursor() as cursor:
            return metrics.fetch_cells(cursor, request, points, rollup)

    def fetch_sketches(
        self,
        sids: Sequence[int],
        time_range: TimeRange,
        resolution: Resolution,
        windows: StepWindows | None = None,
    ) -> pa.Table:
        request = metrics.CellsRequest(tuple(sids), *_range_us(time_range), resolution, windows)
        if resolution is not Resolution.HOUR and self._recent is not None:
            held = self._recent.sketch_entries(
                request.sids,
                request.start_us,
                request.end_us,
                resolution,
                windows,
                metrics.SKETCH_GAMMA,
                metrics.SKETCH_OFFSET,
            )
            if held is not None:
                return held
        points, rollup = self._metric_sources(time_range, resolution)
        with self._cursor() as cursor:
            return metrics.fetch_sketches(cursor, request, points, rollup)

    def count_points(self, sids: Sequence[int], time_range: TimeRange) -> int:
        request = metrics.CellsRequest(tuple(sids), *_range_us(time_range), Resolution.RAW)
        if self._recent is not None:
            held = self._recent.count(request.sids, request.start_us, request.end_us)
            if held is not None:
                return held
        points, _ = self._metric_sources(time_range, Resolution.RAW)
        with self._cursor() as cursor:
            return metrics.count_points(cursor, request, points)

    def _metric_sources(
        self, time_range: TimeRange, resolution: Resolution
    ) -> tuple[str, str | None]:
        """Points and rollup table expressions, with archived days where the range needs them."""
        if resolution is Resolution.RAW:
            return self._source("points", time_range), None
        return "points", self._source(metrics.ROLLUP_TABLES[resolution], time_range)

    def tag_names(self, name: str | None, time_range: TimeRange) -> list[str]:
        with self._cursor() as cursor:
            return metrics.tag_names(cursor, name, *_range_us(time_range))

    def tag_values(
        self, tag: str, name: str | None, prefix: str, time_range: TimeRange, limit: int
    ) -> list[str]:
        with self._cursor() as cursor:
            return metrics.tag_values(
                cursor, tag, name, prefix, *_range_us(time_range), max(limit, 0)
            )

    def coverage(self) -> list[CoverageRow]:
        with self._cursor() as cursor:
            rows = metrics.coverage_rows(cursor, "spans", "logs", "events")
        return [
            CoverageRow(source, name, service, level, _from_us(first), _from_us(last))
            for source, name, service, level, first, last in rows
        ]

    def roll_up(self, now: datetime) -> dict[Resolution, int]:
        with self._cursor() as cursor:
            written = metrics.roll_up(cursor, _to_us(now))
        self.update_log_index(now)
        return written

    def update_log_index(
        self, now: datetime, max_rows: int = logindex.ROWS_PER_RUN
    ) -> logindex.UpkeepReport:
        """Bring the log text index towards ``now``, reading at most about ``max_rows`` logs.

        ``roll_up`` calls this; a first build over many existing logs takes several calls
        (``pending`` says more is due), newest hours first.
        """
        with self._cursor() as cursor:
            return logindex.update(cursor, self._log_index, _to_us(now), max_rows)

    def healthy(self) -> bool:
        try:
            with self._cursor() as cursor:
                row = cursor.execute("SELECT 1").fetchone()
        except StorageError:
            return False
        return row == (1,)

    def query_events(self, query: EventFilter) -> list[EventRow]:
        where = _Where()
        _range(where, "time", query.range)
        where.any_of("kind", "kinds", query.kinds)
        where.any_of("service", "services", query.services)
        if query.environment is not None:
            where.add("environment = $environment", environment=query.environment)
        if query.text:
            where.add(
                "(title ILIKE $text ESCAPE '\\' OR attributes::VARCHAR ILIKE $text ESCAPE '\\')",
                text=_like_pattern(query.text),
            )
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM {self._source('events', query.range)} "  # noqa: S608
            f"WHERE {where.sql()} "
            'ORDER BY "time" DESC, rowid DESC LIMIT $limit'
        )
        with self._cursor() as cursor:
            rows = cursor.execute(sql, {**where.params, "limit": query.limit}).fetchall()
        return [
            EventRow(
                time=_from_us(r[0]),
                kind=str(r[1]),
                service=r[2] or "",
                environment=r[3] or "",
                title=str(r[4]),
                actor=r[5] or "",
                attributes=_attributes(r[6]),
                links=tuple(r[7] or ()),
            )
            for r in rows
        ]

    def query_logs(self, query: LogFilter) -> list[LogRow]:
        where = self._log_where(query)
        source = self._source("logs", query.range)
        with self._cursor() as cursor:
            rows = self._search_logs(cursor, query, where) if source == "logs" else None
            if rows is None:
                rows = cursor.execute(
                    f"SELECT {_LOG_COLUMNS} FROM {source} WHERE {where.sql()} "  # noqa: S608
                    'ORDER BY epoch_us("time") DESC, rowid DESC LIMIT $limit',
                    {**where.params, "limit": query.limit},
                ).fetchall()
        return [
            LogRow(
                time=_from_us(r[0]),
                service=r[1] or "",
                level=str(r[2]),
                message=str(r[3]),
                attributes=_attributes(r[4]),
                trace_id=r[5] or "",
                span_id=r[6] or "",
                position=(int(r[0]), int(r[7])),
            )
            for r in rows
        ]

    @staticmethod
    def _log_where(query: LogFilter) -> _Where:
        where = _Where()
        _range(where, "time", query.range)
        where.any_of("service", "services", query.services)
        where.any_of("level", "levels", query.levels)
        where.attributes(query.attributes)
        if query.text:
            where.add("message ILIKE $text ESCAPE '\\'", text=_like_pattern(query.text))
        if query.trace_id is not None:
            where.add("trace_id = $trace_id", trace_id=query.trace_id)
        if query.after is not None:
            where.add(
                '(epoch_us("time") < $after_us OR '
                '(epoch_us("time") = $after_us AND rowid < $after_row))',
                after_us=query.after[0],
                after_row=query.after[1],
            )
        return where

    def _log_span(self, query: LogFilter) -> tuple[int, int] | None:
        """The µs span a text search through the index reads; None: plain scan."""
        if not query.text or query.limit <= 0:
            return None
        start, end = _range_us(query.range)
        if query.after is not None:
            end = min(end, query.after[0] + 1)
        return (start, end) if start < end else None

    def _search_logs(
        self, cursor: duckdb.DuckDBPyConnection, query: LogFilter, where: _Where
    ) -> list[Any] | None:
        """Rows of a text search read through the log text index; None when it cannot help.

        Planning and reading share one snapshot, so the rows are those one plain query
        would have returned at its start.
        """
        span = self._log_span(query)
        if span is None or query.text is None or not self._log_index.ready(cursor):
            return None
        sql = (
            f"SELECT {_LOG_COLUMNS} FROM logs WHERE {where.sql()} AND {{units}} "  # noqa: S608
            'ORDER BY epoch_us("time") DESC, rowid DESC LIMIT $limit'
        )

        def read(units: str, params: dict[str, int], limit: int) -> list[Any]:
            bound = {**where.params, **params, "limit": limit}
            return cursor.execute(sql.format(units=units), bound).fetchall()

        cursor.begin()
        try:
            plan = logindex.plan(cursor, query.text, *span)
            rows = None if plan is None else logindex.fetch_newest(plan.units, query.limit, read)
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # keep the first error
                cursor.rollback()
            raise
        cursor.rollback()  # read only
        return rows

    def log_search_plan(self, query: LogFilter) -> logindex.SearchPlan | None:
        """How ``query_logs`` would read ``query``: the hours it scans, newest first.

        None when it scans the range plainly: no text of three or more characters, archived
        days in the range, or an empty range.
        """
        span = self._log_span(query)
        if span is None or query.text is None or self._source("logs", query.range) != "logs":
            return None
        with self._cursor() as cursor:
            if not self._log_index.ready(cursor):
                return None
            return logindex.plan(cursor, query.text, *span)

    def log_level_counts(self, time_range: TimeRange, step: timedelta) -> list[LevelCount]:
        sql = (
            f"SELECT {_BUCKET} AS bucket, coalesce(service, '') AS svc, level, count(*) "  # noqa: S608
            f'FROM {self._source("logs", time_range)} WHERE "time" >= $start AND "time" < $end '
            "GROUP BY bucket, svc, level ORDER BY bucket, svc, level"
        )
        params = {"start": time_range.start, "end": time_range.end, "step": step // _MICROSECOND}
        with self._cursor() as cursor:
            rows = cursor.execute(sql, params).fetchall()
        return [LevelCount(_from_us(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def count_logs(self, query: LogCountQuery) -> list[LogCount]:
        source = self._source("logs", query.range)
        with self._cursor() as cursor:
            return duckdb_logcount.count_logs(cursor, query, source)

    def query_spans(self, query: SpanFilter) -> list[SpanRow]:
        where = _Where()
        if query.range is not None:
            _range(where, "start", query.range)
        if query.trace_id is not None:
            where.add("trace_id = $trace_id", trace_id=query.trace_id)
        where.any_of("service", "services", query.services)
        if query.name is not None:
            where.add("name = $name", name=query.name)
        if query.min_duration_ms is not None:
            where.add("duration_ms >= $min_ms", min_ms=query.min_duration_ms)
        if query.max_duration_ms is not None:
            where.add("duration_ms <= $max_ms", max_ms=query.max_duration_ms)
        if query.status is not None:
            where.add("status = $status", status=query.status)
        where.attributes(query.attributes)
        sql = (
            f"SELECT {_SPAN_COLUMNS} FROM {self._source('spans', query.range)} "  # noqa: S608
            f"WHERE {where.sql()} "
            "ORDER BY start DESC, rowid DESC LIMIT $limit"
        )
        with self._cursor() as cursor:
            rows = cursor.execute(sql, {**where.params, "limit": query.limit}).fetchall()
        return [
            SpanRow(
                trace_id=str(r[0]),
                span_id=str(r[1]),
                parent_id=r[2] or "",
                service=r[3] or "",
                name=str(r[4]),
                start=_from_us(r[5]),
                duration_ms=float(r[6]),
                status=r[7] or "unset",
                attributes=_attributes(r[8]),
            )
            for r in rows
        ]

    def span_dependencies(self, time_range: TimeRange) -> list[DependencyEdge]:
        params = {"start": time_range.start, "end": time_range.end}
        with self._cursor() as cursor:
            sql = _DEPENDENCY_SQL.format(source=self._source("spans", time_range))
            rows = cursor.execute(sql, params).fetchall()
        return [
            DependencyEdge(
                caller=r[0] or "",
                callee=r[1] or "",
                requests=int(r[2]),
                errors=int(r[3]),
                p50_ms=float(r[4]),
                p95_ms=float(r[5]),
            )
            for r in rows
        ]

    def close(self) -> None:
        if self._recent is not None:
            self._recent.close()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except duckdb.Error as exc:
                raise StorageError(f"cannot close the DuckDB telemetry store: {exc}") from exc


def _collect_series(
    rows: Sequence[tuple[Any, ...]], group_by: tuple[str, ...] | None
) -> list[Series]:
    """Turn ``(*group, bucket_us, value)`` rows, oldest first, into series ordered by tags."""
    keys = list(dict.fromkeys(group_by)) if group_by is not None else []
    series: dict[tuple[tuple[str, str], ...], Series] = {}
    for *group, bucket, value in rows:
        tags: Labels
        if group_by is None:
            tags = dict(zip(group[0], group[1], strict=True))
        else:
            tags = {k: v for k, v in zip(keys, group, strict=True) if v is not None}
        key = tuple(sorted(tags.items()))
        found = series.get(key)
        if found is None:
            found = series[key] = Series(tags=tags, times=[], values=[])
        found.times.append(_EPOCH + timedelta(microseconds=bucket))
        found.values.append(float(value))
    return [series[key] for key in sorted(series)]
