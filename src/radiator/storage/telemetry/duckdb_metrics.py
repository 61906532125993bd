"""Metric reads for the DuckDB store: the series catalogue, rollups and window cells.

Every point row carries ``sid``, a 64-bit hash of its metric name and (sorted) tags, and
the ``series`` table lists each series once with its kind and first/last time, so a query
resolves its selectors on a few thousand catalogue rows and then reads points by ``sid``.

Rollups (``rollup_1m``, ``rollup_1h``) hold per series and bucket the count, sum, min, max,
first and last value and a mergeable log-bucketed quantile sketch (DDSketch's mapping,
relative accuracy about 1 %): key ``±(1_000_000 + ceil(log_γ |v|))`` with ``γ = 1.02``,
``0`` for zero. Sketch keys sort in the order of the values they stand for.

``roll_up`` computes the buckets from a watermark up to the last complete bucket, and
recomputes the buckets late points fell into (recorded at append time, bucket by bucket,
in ``rollup_dirty``), so rollups converge to the raw data. Reads stitch rollups before the
watermark with the same aggregates computed from raw points after it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from radiator.core.telemetry import Resolution, StepWindows
from radiator.storage.telemetry import duckdb_compact

__all__ = [
    "CATALOGUE_SLACK_US",
    "CELL_COLUMNS",
    "ROLLUP_TABLES",
    "SKETCH_GAMMA",
    "SKETCH_OFFSET",
    "CellsRequest",
    "SeriesCatalogue",
    "StagedSeries",
    "count_points",
    "create_metric_tables",
    "fetch_cells",
    "fetch_sketches",
    "find_series",
    "points_insert_sql",
    "roll_up",
    "tag_names",
    "tag_values",
    "watermarks",
]

SKETCH_GAMMA = 1.02
SKETCH_OFFSET = 1_000_000

_SIDS_VIEW = "radiator_query_sids"
_DIRTY = "rollup_dirty"
# Late buckets closer than this many buckets apart are recomputed in one range (a few clean
# buckets cost less than another statement), and a run recomputes at most so many ranges.
_DIRTY_GAP = 10
_RANGES_PER_RUN = 100
# Buckets are rolled up only once this much time has passed since they ended, so points
# of batches still being written are in place; points later than that mark the rollup dirty.
_LATENESS_US = 30_000_000
_BUCKET_US = {Resolution.MINUTE: 60_000_000, Resolution.HOUR: 3_600_000_000}
_TABLE = {Resolution.MINUTE: "rollup_1m", Resolution.HOUR: "rollup_1h"}
ROLLUP_TABLES: dict[Resolution, str] = dict(_TABLE)

_SKETCH_KEY = (
    f"CASE WHEN value > 0 THEN {SKETCH_OFFSET} + CAST(ceil(ln(value) / ln({SKETCH_GAMMA})) "
    f"AS INTEGER) WHEN value < 0 THEN -({SKETCH_OFFSET} + CAST(ceil(ln(-value) / "
    f"ln({SKETCH_GAMMA})) AS INTEGER)) ELSE 0 END"
)

_ROLLUP_COLUMNS = (
    'sid UBIGINT NOT NULL, "time" TIMESTAMPTZ NOT NULL, count BIGINT NOT NULL, '
    "sum DOUBLE, min DOUBLE, max DOUBLE, first DOUBLE, last DOUBLE, "
    "sketch MAP(INTEGER, UBIGINT)"
)


def create_metric_tables(cursor: duckdb.DuckDBPyConnection) -> None:
    """Create the catalogue, rollup and watermark tables; add ``sid`` to older stores."""
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS series (sid UBIGINT PRIMARY KEY, name VARCHAR NOT NULL, "
        "tags MAP(VARCHAR, VARCHAR), kind VARCHAR, first_time TIMESTAMPTZ, "
        "last_time TIMESTAMPTZ)"
    )
    for table in _TABLE.values():
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} ({_ROLLUP_COLUMNS})")
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS rollup_state (resolution VARCHAR PRIMARY KEY, "
        "watermark BIGINT NOT NULL, dirty_from BIGINT)"
    )
    # Buckets behind the watermark that late points fell into (``mark_late``); a bucket may
    # be listed more than once. ``dirty_from`` is what older versions recorded instead:
    # everything from there to the watermark, still honoured.
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {_DIRTY} (resolution VARCHAR NOT NULL, bucket BIGINT NOT NULL)"
    )
    for resolution in _TABLE:
        cursor.execute(
            "INSERT OR IGNORE INTO rollup_state VALUES ($r, 0, NULL)", {"r": resolution.value}
        )
    duckdb_compact.create_compaction_table(cursor)
    columns = {row[0] for row in cursor.execute("DESCRIBE points").fetchall()}
    if "sid" not in columns:
        # A store from before the catalogue: give existing points their sid and list them.
        cursor.execute("ALTER TABLE points ADD COLUMN sid UBIGINT")
        cursor.execute("UPDATE points SET sid = hash(name, tags)")
        cursor.execute(
            "INSERT OR IGNORE INTO series SELECT sid, any_value(name), any_value(tags), "
            'any_value(kind), min("time"), max("time") FROM points GROUP BY sid'
        )


# The catalogue is refreshed when a series' stored last time falls this far behind; queries
# widen their lower bound by twice as much, so a lagging last_time never hides a series.
_REFRESH_US = 60_000_000
CATALOGUE_SLACK_US = 2 * _REFRESH_US


def points_insert_sql(source: str) -> str:
    """INSERT of points from ``source`` (a SELECT with canonical tags) with their ``sid``,
    returning each row's sid, time and value (for the catalogue and recent points)."""
    return (
        'INSERT INTO points ("time", name, tags, value, kind, sid) '
        f'SELECT "time", name, tags, value, kind, hash(name, tags) FROM ({source}) '
        'RETURNING sid, epoch_us("time") AS t, value'
    )


@dataclass(slots=True)
class StagedSeries:
    """Catalogue changes of one append, applied to the cache once its transaction commits,
    and the points it wrote."""

    spans: dict[int, tuple[int, int]]
    sids: npt.NDArray[np.uint64]
    times: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


class SeriesCatalogue:
    """Keeps the ``series`` table current at a small cost per batch.

    Reading tags back costs as much as the insert itself, so a batch's rows come back as
    (sid, time) only; series seen before (cached here) cost a dictionary look-up, new ones
    are copied from the points just written, and known ones get their time span widened
    when it moved by more than a minute.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: dict[int, tuple[int, int]] = {}

    def insert_points(self, cursor: duckdb.DuckDBPyConnection, source: str) -> StagedSeries:
        rows = cursor.execute(points_insert_sql(source)).fetchnumpy()
        sids, times = rows["sid"].astype(np.uint64), rows["t"].astype(np.int64)
        unique, inverse = np.unique(sids, return_inverse=True)
        first = np.full(len(unique), np.iinfo(np.int64).max)
        last = np.full(len(unique), np.iinfo(np.int64).min)
        np.minimum.at(first, inverse, times)
        np.maximum.at(last, inverse, times)
        batch = {
            int(sid): (int(lo), int(hi)) for sid, lo, hi in zip(unique, first, last, strict=True)
        }
        with self._lock:
            known = {sid: self._spans.get(sid) for sid in batch}
        new = [sid for sid, span in known.items() if span is None]
        moved = {
            sid: (min(span[0], batch[sid][0]), max(span[1], batch[sid][1]))
            for sid, span in known.items()
            if span is not None
            and (batch[sid][0] < span[0] or batch[sid][1] > span[1] + _REFRESH_US)
        }
        if new:
            self._add(cursor, new, int(first.min()), int(last.max()))
        if moved:
            self._widen(cursor, moved)
        values = np.asarray(rows["value"], dtype=np.float64)  # never NULL (the schema)
        return StagedSeries({**{sid: batch[sid] for sid in new}, **moved}, sids, times, values)

    def commit(self, staged: StagedSeries) -> None:
        with self._lock:
            self._spans.update(staged.spans)

    @staticmethod
    def _add(cursor: duckdb.DuckDBPyConnection, sids: list[int], lo: int, hi: int) -> None:
        cursor.register(_SIDS_VIEW, pa.table({"sid": pa.array(sids, pa.uint64())}))
        try:
            cursor.execute(
                "INSERT INTO series SELECT sid, any_value(name), any_value(tags), "
                'any_value(kind), min("time"), max("time") FROM points '
                'WHERE "time" >= make_timestamptz($lo) AND "time" <= make_timestamptz($hi) '
                f"AND sid IN (SELECT sid FROM {_SIDS_VIEW}) GROUP BY sid "
                "ON CONFLICT (sid) DO UPDATE SET "
                "first_time = least(series.first_time, excluded.first_time), "
                "last_time = greatest(series.last_time, excluded.last_time)",
                {"lo": lo, "hi": hi},
            )
        finally:
            cursor.unregister(_SIDS_VIEW)

    @staticmethod
    def _widen(cursor: duckdb.DuckDBPyConnection, spans: dict[int, tuple[int, int]]) -> None:
        view = "radiator_series_spans"
        cursor.register(
            view,
            pa.table(
                {
                    "sid": pa.array(list(spans), pa.uint64()),
                    "lo": pa.array([s[0] for s in spans.values()], pa.int64()),
                    "hi": pa.array([s[1] for s in spans.values()], pa.int64()),
                }
            ),
        )
        try:
            cursor.execute(
                "UPDATE series SET first_time = least(first_time, make_timestamptz(v.lo)), "
                "last_time = greatest(last_time, make_timestamptz(v.hi)) "
                f"FROM {view} AS v WHERE series.sid = v.sid"
            )
        finally:
            cursor.unregister(view)


def mark_late(cursor: duckdb.DuckDBPyConnection, times: npt.NDArray[np.int64], now_us: int) -> None:
    """Record the buckets a roll-up may have completed without the points at ``times``
    (epoch µs), so ``roll_up`` recomputes those buckets (and only those). Call it in the
    append's transaction, just before it commits, with the wall clock's ``now_us``.

    That is every bucket behind the watermark, and also every bucket a roll-up running at
    this moment may be completing: one that ended ``_LATENESS_US`` before now (its
    snapshot, taken before this append commits, would not see the points). Rows are only
    ever inserted here (``roll_up`` deletes the ones it has seen), so an append never
    conflicts with a roll-up.
    """
    if not len(times):
        return
    resolutions: list[str] = []
    buckets: list[npt.NDArray[np.int64]] = []
    for resolution, watermark in watermarks(cursor).items():
        behind = times[times < max(watermark, now_us - _LATENESS_US)]
        if len(behind):
            size = _BUCKET_US[resolution]
            found = np.unique((behind // size) * size)
            resolutions += [resolution.value] * len(found)
            buckets.append(found)
    if not resolutions:
        return
    view = "radiator_late_buckets"
    cursor.register(
        view,
        pa.table({"resolution": resolutions, "bucket": pa.array(np.concatenate(buckets))}),
    )
    try:
        cursor.execute(f"INSERT INTO {_DIRTY} SELECT resolution, bucket FROM {view}")
    finally:
        cursor.unregister(view)


def watermarks(cursor: duckdb.DuckDBPyConnection) -> dict[Resolution, int]:
    """Epoch microseconds up to which each rollup is complete."""
    rows = cursor.execute("SELECT resolution, watermark FROM rollup_state").fetchall()
    return {Resolution(r): int(w) for r, w in rows}


def _rollup_from_points(bucket_us: int) -> str:
    bucket = f'(epoch_us("time") // {bucket_us}) * {bucket_us}'
    return (
        f"SELECT sid, make_timestamptz({bucket}) AS t, count(*), sum(value), min(value), "
        'max(value), arg_min(value, "time"), arg_max(value, "time"), '
        f"histogram({_SKETCH_KEY}) FILTER (WHERE isfinite(value)) "
        'FROM points WHERE "time" >= make_timestamptz($lo) AND "time" < make_timestamptz($hi) '
        "GROUP BY sid, t"
    )


def _rollup_from_minutes() -> str:
    hour = 3_600_000_000
    bucket = f'make_timestamptz((epoch_us("time") // {hour}) * {hour})'
    window = 'WHERE "time" >= make_timestamptz($lo) AND "time" < make_timestamptz($hi)'
    return (
        "WITH m AS (SELECT * FROM rollup_1m "
        f"{window}), "
        f"stats AS (SELECT sid, {bucket} AS t, sum(count) AS count, sum(sum) AS sum, "
        'min(min) AS min, max(max) AS max, arg_min(first, "time") AS first, '
        'arg_max(last, "time") AS last FROM m GROUP BY sid, t), '
        f"keys AS (SELECT sid, {bucket} AS t, unnest(map_keys(sketch)) AS k, "
        "unnest(map_values(sketch)) AS c FROM m), "
        "merged AS (SELECT sid, t, k, sum(c)::UBIGINT AS c FROM keys GROUP BY sid, t, k), "
        "sketches AS (SELECT sid, t, map(list(k ORDER BY k), list(c ORDER BY k)) AS sketch "
        "FROM merged GROUP BY sid, t) "
        "SELECT s.sid, s.t, s.count, s.sum, s.min, s.max, s.first, s.last, k.sketch "
        "FROM stats s LEFT JOIN sketches k ON s.sid = k.sid AND s.t = k.t"
    )


def roll_up(cursor: duckdb.DuckDBPyConnection, now_us: int) -> dict[Resolution, int]:
    """Bring both rollups up to the last complete bucket before ``now_us``, and recompute
    the buckets late points fell into.

    Returns how many buckets each resolution (re)wrote. One transaction per resolution,
    then complete days are clustered by series (``duckdb_compact``).
    """
    written: dict[Resolution, int] = {}
    for resolution in (Resolution.MINUTE, Resolution.HOUR):
        size = _BUCKET_US[resolution]
        hi = ((now_us - _LATENESS_US) // size) * size
        if resolution is Resolution.HOUR:
            # Hours are built from minutes, so they may go no further than the minutes.
            hi = min(hi, (watermarks(cursor)[Resolution.MINUTE] // size) * size)
        oldest = _oldest(cursor, resolution)
        if oldest is None:
            continue
        count = _rewrite(cursor, resolution, hi, (oldest // size) * size)
        if count is not None:
            written[resolution] = count
    for resolution, watermark in watermarks(cursor).items():
        duckdb_compact.compact(cursor, resolution, _TABLE[resolution], watermark)
    return written


def late_from(cursor: duckdb.DuckDBPyConnection, resolution: Resolution) -> int | None:
    """The start of the oldest bucket waiting to be recomputed for late points, if any."""
    row = cursor.execute(
        f"SELECT least((SELECT min(bucket) FROM {_DIRTY} WHERE resolution = $r), "
        "(SELECT dirty_from FROM rollup_state WHERE resolution = $r))",
        {"r": resolution.value},
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _oldest(cursor: duckdb.DuckDBPyConnection, resolution: Resolution) -> int | None:
    table = "points" if resolution is Resolution.MINUTE else "rollup_1m"
    row = cursor.execute(f'SELECT epoch_us(min("time")) FROM {table}').fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _late_buckets(cursor: duckdb.DuckDBPyConnection, resolution: Resolution) -> list[int]:
    """Distinct late buckets of ``resolution``, oldest first. An hour whose minutes still
    wait to be recomputed waits with them (hours are built from minutes)."""
    pending_minutes = (
        f"AND NOT EXISTS (SELECT 1 FROM {_DIRTY} m WHERE m.resolution = "
        f"'{Resolution.MINUTE.value}' AND m.bucket >= d.bucket "
        f"AND m.bucket < d.bucket + {_BUCKET_US[Resolution.HOUR]})"
        if resolution is Resolution.HOUR
        else ""
    )
    rows = cursor.execute(
        f"SELECT DISTINCT bucket FROM {_DIRTY} d WHERE resolution = $r {pending_minutes} "
        "ORDER BY bucket",
        {"r": resolution.value},
    ).fetchall()
    return [int(r[0]) for r in rows]


def _ranges(buckets: list[int], size: int) -> list[tuple[int, int]]:
    """Sorted buckets as [lo, hi) ranges, neighbours within ``_DIRTY_GAP`` buckets joined."""
    ranges: list[tuple[int, int]] = []
    for bucket in buckets:
        if ranges and bucket - ranges[-1][1] <= _DIRTY_GAP * size:
            ranges[-1] = (ranges[-1][0], bucket + size)
        else:
            ranges.append((bucket, bucket + size))
    return ranges


def _rewrite(
    cursor: duckdb.DuckDBPyConnection, resolution: Resolution, hi: int, floor: int
) -> int | None:
    """In one transaction: recompute the late buckets (at most ``_RANGES_PER_RUN`` ranges
    of them) and the buckets from the watermark to ``hi``; forget the late buckets seen.
    Buckets before ``floor`` (the oldest live source row) are never recomputed: their
    source rows were archived away, and only the live ones would remain. Returns the rows
    written, or None when no bucket was due."""
    table = _TABLE[resolution]
    size = _BUCKET_US[resolution]
    source = (
        _rollup_from_points(size) if resolution is Resolution.MINUTE else _rollup_from_minutes()
    )
    cursor.begin()
    try:
        row = cursor.execute(
            "SELECT watermark, dirty_from FROM rollup_state WHERE resolution = $r",
            {"r": resolution.value},
        ).fetchone()
        watermark, legacy = (int(row[0]), row[1]) if row else (0, None)
        late = _late_buckets(cursor, resolution)
        # Marks at or past the watermark need no work of their own: the points they were
        # made for are in this snapshot, so the buckets' first roll-up includes them.
        ranges = _ranges([b for b in late if b < watermark], size)
        done = late
        if len(ranges) > _RANGES_PER_RUN:
            ranges = ranges[:_RANGES_PER_RUN]
            done = [b for b in late if b < ranges[-1][1] or b >= watermark]
        if legacy is not None:
            ranges.insert(0, ((int(legacy) // size) * size, watermark))
        if hi > watermark:
            ranges.append((watermark, hi))
        ranges = [(max(lo, floor), top) for lo, top in ranges if top > floor]
        if not ranges and not done:
            cursor.rollback()
            return None
        written = 0
        window = '"time" >= make_timestamptz($lo) AND "time" < make_timestamptz($hi)'
        for lo, top in _ranges_joined(ranges):
            params = {"lo": lo, "hi": top}
            cursor.execute(f"DELETE FROM {table} WHERE {window}", params)
            cursor.execute(f"INSERT INTO {table} {source}", params)
            counted = cursor.execute(
                f"SELECT count(*) FROM {table} WHERE {window}",
                params,
            ).fetchone()
            written += int(counted[0]) if counted else 0
            duckdb_compact.note_rewrite(cursor, resolution, table, lo, top)
        if done:
            # Only the rows this transaction sees: marks committed meanwhile stay for the
            # next run, with the points they were made for.
            cursor.execute(
                f"DELETE FROM {_DIRTY} WHERE resolution = $r AND bucket IN (SELECT unnest($done))",
                {"r": resolution.value, "done": done},
            )
        cursor.execute(
            "UPDATE rollup_state SET watermark = greatest(watermark, $hi), dirty_from = NULL "
            "WHERE resolution = $r",
            {"hi": max(hi, watermark), "r": resolution.value},
        )
        cursor.commit()
    except BaseException:
        cursor.rollback()
        raise
    return written if ranges else None


def _ranges_joined(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching ranges as one."""
    joined: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if joined and lo <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], hi))
        else:
            joined.append((lo, hi))
    return joined


_START = 'epoch_us("time")'
CELL_COLUMNS = ("count", "sum", "min", "max", "first", "last")
_CELL_AGGREGATES = {
    "count": "count(*)",
    "sum": "sum(value)",
    "min": "min(value)",
    "max": "max(value)",
    "first": 'arg_min(value, "time")',
    "last": 'arg_max(value, "time")',
}


@dataclass(frozen=True, slots=True)
class CellsRequest:
    """Cells of ``sids`` with bucket start in [start_us, end_us) at ``resolution``."""

    sids: tuple[int, ...]
    start_us: int
    end_us: int
    resolution: Resolution
    windows: StepWindows | None = None
    columns: tuple[str, ...] = CELL_COLUMNS

    def in_windows(self, start: str, params: dict[str, Any]) -> str:
        """SQL condition: the cell starting at ``start`` (epoch µs) ends in a window; TRUE
        without windows. Adds its parameters to ``params``."""
        if self.windows is None:
            return "TRUE"
        size = _BUCKET_US.get(self.resolution, 0)
        params.update(
            w_anchor=self.windows.anchor_us - size,
            w_step=self.windows.step_us,
            w_range=self.windows.range_us,
        )
        # The steps at or after the cell's end: the nearest is (anchor - end) mod step away.
        return f"((($w_anchor - {start}) % $w_step) + $w_step) % $w_step < $w_range"


def _with_sids(cursor: duckdb.DuckDBPyConnection, sids: tuple[int, ...]) -> None:
    """Register the requested sids with their positions (each read's ``series`` column)."""
    positions = pa.array(np.arange(len(sids), dtype=np.int32))
    cursor.register(_SIDS_VIEW, pa.table({"sid": pa.array(sids, pa.uint64()), "series": positions}))


def _joined(table: str) -> str:
    """``table`` joined to the requested sids: a hash join that also gives each row its
    series position (cheaper than looking sids up afterwards) and lets DuckDB skip row
    groups by the sids' range."""
    return f"{table} JOIN {_SIDS_VIEW} USING (sid)"


# Points behind the rollup's watermark are read from the rollup; newer ones are aggregated
# here, over whole buckets (the request's bounds are bucket starts).
_RAW_WINDOW = (
    '"time" >= make_timestamptz($raw_lo) AND "time" < make_timestamptz($raw_hi) '
    'AND epoch_us("time") >= $wm'
)


def _stitch_params(
    cursor: duckdb.DuckDBPyConnection, request: CellsRequest, size: int
) -> dict[str, int]:
    return {
        "wm": watermarks(cursor)[request.resolution],
        "raw_lo": (request.start_us // size) * size,
        "raw_hi": -(-request.end_us // size) * size,
    }


def fetch_cells(
    cursor: duckdb.DuckDBPyConnection,
    request: CellsRequest,
    points: str = "points",
    rollup: str | None = None,
) -> pa.Table:
    """Columns sid, series (the sid's position in the request), time (epoch µs) and those
    of count, sum, min, max, first, last in ``request.columns``, in no set order; at ``RAW``
    sid, series, time and value (each point is a cell of count 1).

    ``points`` and ``rollup`` are the table expressions to read (the store passes ones that
    include archived days when the range reaches them).

    At a rollup resolution, buckets before the rollup's watermark come from the rollup
    table and later ones are aggregated from points.
    """
    _with_sids(cursor, request.sids)
    params: dict[str, Any] = {"lo": request.start_us, "hi": request.end_us}
    window = '"time" >= make_timestamptz($lo) AND "time" < make_timestamptz($hi)'
    if request.resolution is Resolution.RAW:
        sql = (
            'SELECT sid, series, epoch_us("time") AS time, value '
            f"FROM {_joined(points)} WHERE {window} "
            f"AND {request.in_windows(_START, params)}"
        )
    else:
        size = _BUCKET_US[request.resolution]
        params.update(_stitch_params(cursor, request, size))
        bucket = f'(epoch_us("time") // {size}) * {size}'
        wanted = [c for c in CELL_COLUMNS if c in request.columns]
        stored = "".join(f", {c}" for c in wanted)
        computed = "".join(f", {_CELL_AGGREGATES[c]} AS {c}" for c in wanted)
        sql = (
            f'SELECT sid, series, epoch_us("time") AS time{stored} '
            f"FROM {_joined(rollup or _TABLE[request.resolution])} WHERE {window} "
            f'AND epoch_us("time") < $wm AND {request.in_windows(_START, params)} '
            f"UNION ALL SELECT sid, series, {bucket} AS time{computed} "
            f"FROM {_joined('points')} WHERE {_RAW_WINDOW} "
            f"AND {request.in_windows(bucket, params)} GROUP BY sid, series, 3"
        )
    try:
        # Sorting here cost DuckDB most of the read (860 of 887 ms for 1.7M rows); the
        # evaluator orders the rows by series and time itself (query.select).
        return cursor.sql(sql, params=params).to_arrow_table()
    finally:
        cursor.unregister(_SIDS_VIEW)


def count_points(
    cursor: duckdb.DuckDBPyConnection, request: CellsRequest, points: str = "points"
) -> int:
    """Raw points of the request's sids with time in [start_us, end_us)."""
    _with_sids(cursor, request.sids)
    try:
        rows = cursor.execute(
            f"SELECT count(*) FROM {_joined(points)} "
            'WHERE "time" >= make_timestamptz($lo) AND "time" < make_timestamptz($hi)',
            {"lo": request.start_us, "hi": request.end_us},
        ).fetchall()
    finally:
        cursor.unregister(_SIDS_VIEW)
    return int(rows[0][0])


def fetch_sketches(
    cursor: duckdb.DuckDBPyConnection,
    request: CellsRequest,
    points: str = "points",
    rollup: str | None = None,
) -> pa.Table:
    """Columns sid, series, time (epoch µs), key, count: the sketch entries of each cell,
    in no set order.

    At ``RAW`` each point gives its own key, so raw and rolled-up reads agree.
    """
    _with_sids(cursor, request.sids)
    params: dict[str, Any] = {"lo": request.start_us, "hi": request.end_us}
    window = '"time" >= make_timestamptz($lo) AND "time" < make_timestamptz($hi)'

    def raw_keys(bucket: str, where: str) -> str:
        return (
            f"SELECT sid, series, {bucket} AS time, {_SKETCH_KEY} AS key, "
            f"count(*)::UBIGINT AS count FROM {_joined(points)} WHERE {where} "
            f"AND isfinite(value) AND {request.in_windows(bucket, params)} "
            "GROUP BY sid, series, 3, 4"
        )

    if request.resolution is Resolution.RAW:
        sql = raw_keys(_START, window)
    else:
        size = _BUCKET_US[request.resolution]
        params.update(_stitch_params(cursor, request, size))
        sql = (
            'SELECT sid, series, epoch_us("time") AS time, unnest(map_keys(sketch)) AS key, '
            "unnest(map_values(sketch)) AS count "
            f"FROM {_joined(rollup or _TABLE[request.resolution])} WHERE {window} "
            f'AND epoch_us("time") < $wm AND {request.in_windows(_START, params)} UNION ALL '
            + raw_keys(f'(epoch_us("time") // {size}) * {size}', _RAW_WINDOW)
        )
    try:
        return cursor.sql(sql, params=params).to_arrow_table()
    finally:
        cursor.unregister(_SIDS_VIEW)


def find_series(
    cursor: duckdb.DuckDBPyConnection,
    name: str | None,
    equal: tuple[tuple[str, str], ...],
    start_us: int,
    end_us: int,
) -> list[tuple[int, str, dict[str, str], str]]:
    """Series named ``name`` (any when None) having every ``(tag, value)`` of ``equal``
    (``""`` matching a missing tag), with data overlapping [start_us, end_us)."""
    where = ["last_time >= make_timestamptz($lo)", "first_time < make_timestamptz($hi)"]
    params: dict[str, Any] = {"lo": start_us - CATALOGUE_SLACK_US, "hi": end_us}
    if name is not None:
        where.append("name = $name")
        params["name"] = name
    for i, (key, value) in enumerate(equal):
        where.append(f"coalesce(map_extract_value(tags, $k{i}), '') = $v{i}")
        params[f"k{i}"] = key
        params[f"v{i}"] = value
    rows = cursor.execute(
        f"SELECT sid, name, map_keys(tags), map_values(tags), kind FROM series "
        f"WHERE {' AND '.join(where)} ORDER BY name, sid",
        params,
    ).fetchall()
    return [
        (int(sid), str(n), dict(zip(keys, values, strict=True)), str(kind))
        for sid, n, keys, values, kind in rows
    ]


def tag_names(
    cursor: duckdb.DuckDBPyConnection, name: str | None, start_us: int, end_us: int
) -> list[str]:
    """Tag keys used by the series of ``name`` (all metrics when None) in the range."""
    where = "last_time >= make_timestamptz($lo) AND first_time < make_timestamptz($hi)"
    params: dict[str, Any] = {"lo": start_us, "hi": end_us}
    if name is not None:
        where += " AND name = $name"
        params["name"] = name
    rows = cursor.execute(
        f"SELECT DISTINCT unnest(map_keys(tags)) AS k FROM series WHERE {where} ORDER BY k",
        params,
    ).fetchall()
    return [str(r[0]) for r in rows]


def tag_values(
    cursor: duckdb.DuckDBPyConnection,
    tag: str,
    name: str | None,
    prefix: str,
    start_us: int,
    end_us: int,
    limit: int,
) -> list[str]:
    """Distinct values of ``tag`` starting with ``prefix``, sorted, at most ``limit``."""
    where = (
        "last_time >= make_timestamptz($lo) AND first_time < make_timestamptz($hi) "
        "AND v IS NOT NULL AND starts_with(v, $prefix)"
    )
    params: dict[str, Any] = {
        "lo": start_us,
        "hi": end_us,
        "tag": tag,
        "prefix": prefix,
        "limit": limit,
    }
    if name is not None:
        where += " AND name = $name"
        params["name"] = name
    rows = cursor.execute(
        "SELECT DISTINCT v FROM (SELECT map_extract_value(tags, $tag) AS v, "
        f"first_time, last_time, name FROM series) WHERE {where} ORDER BY v LIMIT $limit",
        params,
    ).fetchall()
    return [str(r[0]) for r in rows]


def coverage_rows(
    cursor: duckdb.DuckDBPyConnection, spans: str, logs: str, events: str
) -> list[tuple[str, str, str, str, int, int]]:
    """(source, name, service, level tag, first µs, last µs): per metric name and service
    from the catalogue, per service for spans and logs, per kind and service for events."""
    sql = (
        "SELECT 'metric', name, coalesce(map_extract_value(tags, 'service'), ''), "
        "coalesce(map_extract_value(tags, 'telemetry.level'), ''), "
        "epoch_us(min(first_time)), epoch_us(max(last_time)) FROM series GROUP BY 2, 3, 4 "
        f"UNION ALL SELECT 'spans', '', coalesce(service, ''), '', epoch_us(min(start)), "
        f"epoch_us(max(start)) FROM {spans} GROUP BY 3 "
        f"UNION ALL SELECT 'logs', '', coalesce(service, ''), '', epoch_us(min(\"time\")), "
        f'epoch_us(max("time")) FROM {logs} GROUP BY 3 '
        "UNION ALL SELECT 'event', kind, coalesce(service, ''), '', epoch_us(min(\"time\")), "
        f'epoch_us(max("time")) FROM {events} GROUP BY 2, 3'
    )
    return [
        (str(source), str(name), str(service), str(level), int(first), int(last))
        for source, name, service, level, first, last in cursor.execute(sql).fetchall()
    ]
