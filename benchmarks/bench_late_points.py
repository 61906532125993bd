"""Rolling up after late points: only their buckets, against everything since the oldest.

Run: ``.venv/bin/python benchmarks/bench_late_points.py [--series 200] [--days 2]
[--late 20]``.

Builds a store of ``--series`` gauges at 10 s over ``--days`` days ending at the last whole
hour, and rolls it up. Then, twice on the same data: ``--late`` points arrive for random
minutes of the last day (one per minute), and ``roll_up`` is timed. The first time the
store recomputes only the buckets they fell into (the current rule); the second time the
same points are recorded as earlier versions did (``dirty_from``: everything from the
oldest late point up to the watermark is recomputed), which is the comparison. Rows
written and seconds are printed for both; the last line is the ratio of the two times.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import Signal
from radiator.storage.telemetry import DuckDBTelemetryStore, open_telemetry_store

STEP_S = 10


def batch(times_us: np.ndarray, values: np.ndarray, names: list[int]) -> pa.Table:
    schema = SCHEMAS[Signal.POINTS]
    return pa.table(
        {
            "time": pa.array(times_us, pa.int64()).cast(schema.field("time").type),
            "name": ["bench.late"] * len(times_us),
            "tags": pa.array([[("series", f"s{n:04d}")] for n in names], schema.field("tags").type),
            "value": pa.array(values, pa.float64()),
            "kind": ["gauge"] * len(times_us),
        },
        schema=schema,
    )


def fill(store: DuckDBTelemetryStore, series: int, start_us: int, end_us: int) -> int:
    written = 0
    hour = 3_600_000_000
    rng = np.random.default_rng(7)
    for lo in range(start_us, end_us, hour):
        steps = np.arange(lo, min(lo + hour, end_us), STEP_S * 1_000_000, dtype=np.int64)
        times = np.repeat(steps, series)
        names = np.tile(np.arange(series), len(steps)).tolist()
        store.append(Signal.POINTS, batch(times, rng.random(len(times)) * 100, names))
        written += len(times)
    return written


def timed_roll_up(store: DuckDBTelemetryStore, now: datetime) -> tuple[float, int]:
    began = time.perf_counter()
    written = store.roll_up(now)
    return time.perf_counter() - began, sum(written.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--days", type=float, default=2)
    parser.add_argument("--late", type=int, default=20)
    args = parser.parse_args()
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    end_us = int(end.timestamp() * 1_000_000)
    start_us = end_us - int(args.days * 86_400) * 1_000_000
    now = end + timedelta(minutes=5)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_telemetry_store("duckdb", str(Path(tmp) / "late.duckdb"))
        assert isinstance(store, DuckDBTelemetryStore)
        try:
            began = time.perf_counter()
            points = fill(store, args.series, start_us, end_us)
            print(
                f"store: {points} points ({args.series} series, {args.days} days) in "
                f"{time.perf_counter() - began:.1f} s"
            )
            seconds, rows = timed_roll_up(store, now)
            print(f"first roll_up: {rows} rows in {seconds:.1f} s")
            while store.roll_up(now):  # compaction and any remainder
                pass
            rng = random.Random(3)
            minutes = rng.sample(range(24 * 60), args.late)  # minutes of the last day
            late_us = np.array(
                [end_us - 86_400_000_000 + m * 60_000_000 + 1 for m in minutes], dtype=np.int64
            )
            oldest = int(late_us.min())
            names = [rng.randrange(args.series) for _ in minutes]

            store.append(Signal.POINTS, batch(late_us, np.full(len(late_us), 1e6), names))
            per_bucket, per_rows = timed_roll_up(store, now)
            print(f"{args.late} late points, their buckets: {per_rows} rows in {per_bucket:.3f} s")

            with store._cursor() as cursor:  # the same again, recorded as before
                cursor.execute("DELETE FROM rollup_dirty")
                cursor.execute("UPDATE rollup_state SET dirty_from = $t", {"t": oldest})
            from_oldest, old_rows = timed_roll_up(store, now)
            print(
                f"{args.late} late points, from the oldest on: {old_rows} rows in "
                f"{from_oldest:.3f} s"
            )
        finally:
            store.close()
    print(f"late_points_roll_up_speedup={from_oldest / per_bucket:.1f}")


if __name__ == "__main__":
    main()
