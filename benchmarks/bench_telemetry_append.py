"""Append 1,000,000 points in Arrow batches of 10,000, then run one bucketed query.

Run: ``.venv/bin/python benchmarks/bench_telemetry_append.py [--points N] [--batch N]
[--recent]``. With ``--recent`` the points end now and the store keeps recent points in
memory (as ``radiator serve`` does), so every append also adds them there: the difference
is that feature's cost. The last line printed is the headline figure,
``append_points_per_second=<n>``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import TimeRange
from radiator.storage.telemetry import open_telemetry_store

START = datetime(2024, 5, 1, tzinfo=UTC)
INTERVAL = timedelta(milliseconds=100)  # one point every 100 ms across all series
HOSTS = 50
SERVICES = 10


def build_batches(total: int, size: int, start: datetime) -> list[pa.Table]:
    """Prebuilt batches, so the timing measures the store and not batch construction."""
    schema = SCHEMAS[Signal.POINTS]
    start_us = int(start.timestamp() * 1_000_000)
    step_us = INTERVAL // timedelta(microseconds=1)
    tag_sets = [[("host", f"host-{h}"), ("service", f"svc-{h % SERVICES}")] for h in range(HOSTS)]
    batches = []
    for first in range(0, total, size):
        rows = range(first, min(first + size, total))
        batches.append(
            pa.table(
                {
                    "time": pa.array([start_us + i * step_us for i in rows], pa.int64()).cast(
                        schema.field("time").type
                    ),
                    "name": ["http.latency_ms"] * len(rows),
                    "tags": pa.array(
                        [tag_sets[i % HOSTS] for i in rows], schema.field("tags").type
                    ),
                    "value": [float(i % 997) for i in rows],
                    "kind": ["gauge"] * len(rows),
                },
                schema=schema,
            )
        )
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--recent", action="store_true", help="keep recent points in memory")
    args = parser.parse_args()
    span = args.points * INTERVAL
    start = datetime.now(UTC) - span if args.recent else START
    batches = build_batches(args.points, args.batch, start)

    with tempfile.TemporaryDirectory() as tmp:
        store = open_telemetry_store("duckdb", str(Path(tmp) / "telemetry.duckdb"))
        try:
            if args.recent:
                store.keep_recent(span / timedelta(hours=1) + 1, 1 << 30).join()
            began = time.perf_counter()
            for batch in batches:
                store.append(Signal.POINTS, batch)
            append_s = time.perf_counter() - began
            stored = store.count(Signal.POINTS)

            query = BucketQuery(
                name="http.latency_ms",
                range=TimeRange(start, start + span),
                step=timedelta(minutes=1),
                aggregation=Aggregation.AVG,
                tags={"host": "host-7", "service": "svc-7"},
            )
            began = time.perf_counter()
            [series] = store.query_buckets(query)
            query_ms = (time.perf_counter() - began) * 1000
            held = store.recent_stats()
        finally:
            store.close()

    rate = round(stored / append_s)
    print(f"points={stored} batches={len(batches)} batch_size={args.batch}")
    if held is not None:
        print(f"recent points held={held.points}")
    print(f"append_seconds={append_s:.3f}")
    print(f"query_1m_avg_one_series_ms={query_ms:.1f} buckets={len(series.times)}")
    print(f"append_points_per_second={rate}")


if __name__ == "__main__":
    main()
