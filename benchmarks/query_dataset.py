"""Generate the query benchmark's dataset into a DuckDB telemetry store (issue 6).

``--series`` series at 10 s resolution for ``--days`` days, ending at the top of the
current hour, plus ``--logs`` log lines over the same days. Four series in five are the
gauge ``bench.latency`` (milliseconds), the fifth the counter ``bench.requests``
(increments per 10 s). Every series has the tags ``host`` (100 hosts), ``series``
(``s0000``...) and ``service`` (20 services). Points are built as Arrow columns with numpy
and appended in time order, all series interleaved, a few million rows per batch, as a
busy ingest would. A handful of log lines contain ``RARE_TERM``; the rest come from
templates with random fields. After loading, ``roll_up`` builds the 1-minute and 1-hour
rollups, then runs until the rollups are clustered by series and the log text index is
built (work the rollup job spreads over many runs).

Run: ``.venv/bin/python benchmarks/query_dataset.py --data /tmp/q.duckdb [--series N]
[--days N] [--logs N]``. It writes ``<data>.json`` beside the file with the dataset's
shape and the load and rollup times; ``bench_query.py`` runs it when that file is missing.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import Signal
from radiator.storage.telemetry import open_telemetry_store

STEP_S = 10
SERVICES = 20
HOSTS = 100
RARE_TERM = "zanzibar"
RARE_LINES = 7
GAUGE = "bench.latency"
COUNTER = "bench.requests"
_TS = pa.timestamp("us", tz="UTC")


def meta_path(data: Path) -> Path:
    return data.with_name(data.name + ".json")


def series_kind(index: int) -> str:
    return "counter" if index % 5 == 4 else "gauge"


class PointMaker:
    """Arrow point tables for every series over a run of 10-second steps."""

    def __init__(self, series: int, start_us: int, seed: int = 6) -> None:
        self.count = series
        self.start_us = start_us
        self.rng = np.random.default_rng(seed)
        index = np.arange(series)
        self.counter = index % 5 == 4
        self.names = pa.array([GAUGE, COUNTER]).take(pa.array(self.counter.astype(np.int8)))
        self.kinds = pa.array(["gauge", "counter"]).take(pa.array(self.counter.astype(np.int8)))
        values = [
            [f"host-{i % HOSTS:03d}", f"s{i:04d}", f"svc-{i % SERVICES:02d}"] for i in range(series)
        ]
        self.tag_items = pa.array([v for triple in values for v in triple])
        self.tag_keys = pa.array(["host", "series", "service"])
        self.base = self.rng.lognormal(np.log(60), 0.6, series)  # ms, or requests per s
        self.phase = self.rng.uniform(0, 2 * np.pi, series)
        self.offset_us = (index % STEP_S) * 1_000_000  # series do not all report at :00

    def table(self, first_step: int, steps: int) -> pa.Table:
        n = steps * self.count
        sidx = np.tile(np.arange(self.count), steps)
        step = np.repeat(np.arange(first_step, first_step + steps), self.count)
        seconds = step * STEP_S
        times = self.start_us + seconds * 1_000_000 + self.offset_us[sidx]
        daily = 1 + 0.3 * np.sin(2 * np.pi * seconds / 86400 + self.phase[sidx])
        level = self.base[sidx] * daily
        gauge = level * self.rng.lognormal(0, 0.25, n)
        spikes = self.rng.random(n) < 0.002
        gauge[spikes] *= 10
        counts = self.rng.poisson(level * STEP_S).astype(np.float64)
        value = np.where(self.counter[sidx], counts, gauge)
        item_index = (sidx[:, None] * 3 + np.arange(3)).ravel()
        tags = pa.MapArray.from_arrays(
            pa.array(np.arange(0, 3 * n + 1, 3, dtype=np.int32)),
            self.tag_keys.take(pa.array(np.tile(np.arange(3), n))),
            self.tag_items.take(pa.array(item_index)),
        )
        sid = pa.array(sidx)
        return pa.Table.from_arrays(
            [
                pa.array(times, pa.int64()).cast(_TS),
                self.names.take(sid),
                tags,
                pa.array(value),
                self.kinds.take(sid),
            ],
            schema=SCHEMAS[Signal.POINTS],
        )


_TEMPLATES = (
    "GET /api/v1/{thing}/{n} 200 in {ms} ms",
    "POST /api/v1/{thing} 201 in {ms} ms user={user}",
    "GET /api/v1/{thing}/{n} 404 in {ms} ms",
    "cache miss for {thing}:{n}, loading from database",
    "slow query on {thing} took {ms} ms (rows={n})",
    "retrying call to {svc} after timeout ({ms} ms), attempt {a}",
    "connection pool {svc} exhausted, {n} waiters",
    "payment {n} authorised for user {user} amount={ms}.{a}0 EUR",
    "worker {a} picked job {n} from queue {thing}",
    "user {user} logged in from 10.{a}.{n_small}.{ms_small}",
    "failed to send e-mail to user {user}: SMTP 451 temporary failure",
    "scheduled {thing} cleanup removed {n} rows in {ms} ms",
)
_THINGS = ("orders", "carts", "users", "invoices", "products", "sessions", "shipments")
_LEVELS = ("debug", "info", "warn", "error")
_LEVEL_WEIGHTS = (0.1, 0.8, 0.07, 0.03)


def _message_pool(size: int, rng: random.Random) -> pa.Array:
    messages = []
    for _ in range(size):
        messages.append(
            rng.choice(_TEMPLATES).format(
                thing=rng.choice(_THINGS),
                n=rng.randrange(1, 10_000_000),
                ms=rng.randrange(1, 5000),
                user=f"u{rng.randrange(100_000):05d}",
                svc=f"svc-{rng.randrange(SERVICES):02d}",
                a=rng.randrange(1, 10),
                n_small=rng.randrange(256),
                ms_small=rng.randrange(256),
            )
        )
    return pa.array(messages)


class LogMaker:
    """Arrow log tables, times spread evenly over the dataset, oldest first."""

    def __init__(self, total: int, start_us: int, span_us: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        self.total = total
        self.start_us = start_us
        self.span_us = span_us
        self.pool = _message_pool(50_000, rng)
        self.services = pa.array([f"svc-{i:02d}" for i in range(SERVICES)])
        self.levels = pa.array(list(_LEVELS))
        self.attributes = pa.array(
            [json.dumps({"host": f"host-{i % HOSTS:03d}", "pod": f"p-{i}"}) for i in range(500)]
        )
        self.traces = pa.array([f"{rng.getrandbits(128):032x}" for _ in range(20_000)])
        rare_at = rng.sample(range(total), min(RARE_LINES, total))
        self.rare = sorted(rare_at)

    def table(self, first: int, count: int) -> tuple[pa.Table, int]:
        index = np.arange(first, first + count)
        times = self.start_us + (index * self.span_us) // self.total
        pick = self.rng.integers(0, len(self.pool), count)
        messages = self.pool.take(pa.array(pick))
        rare = [r - first for r in self.rare if first <= r < first + count]
        if rare:
            mask = np.zeros(count, dtype=bool)
            mask[rare] = True
            texts = [
                f"reconciliation of ledger {r} failed: upstream {RARE_TERM}-gateway returned 502"
                for r in rare
            ]
            messages = pc.replace_with_mask(messages, pa.array(mask), pa.array(texts))
        levels = self.rng.choice(len(_LEVELS), count, p=_LEVEL_WEIGHTS)
        table = pa.Table.from_arrays(
            [
                pa.array(times, pa.int64()).cast(_TS),
                self.services.take(pa.array(self.rng.integers(0, SERVICES, count))),
                self.levels.take(pa.array(levels)),
                messages,
                self.attributes.take(pa.array(self.rng.integers(0, 500, count))),
                self.traces.take(pa.array(self.rng.integers(0, 20_000, count))),
                pa.nulls(count, pa.string()),
            ],
            schema=SCHEMAS[Signal.LOGS],
        )
        return table, len(rare)


def generate(data: Path, series: int, days: float, logs: int, chunk_rows: int) -> dict[str, Any]:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    start_us = int(start.timestamp()) * 1_000_000
    total_steps = int(days * 86400) // STEP_S
    steps_per_chunk = max(1, chunk_rows // series)
    points = PointMaker(series, start_us)
    log_maker = LogMaker(logs, start_us, int(days * 86400) * 1_000_000)
    log_chunk = -(-logs // max(1, -(-total_steps // steps_per_chunk))) if logs else 0
    store = open_telemetry_store("duckdb", str(data))
    began = time.perf_counter()
    point_rows = log_rows = rare = 0
    build_s = 0.0
    try:
        for first in range(0, total_steps, steps_per_chunk):
            t0 = time.perf_counter()
            batches = [
                (Signal.POINTS, points.table(first, min(steps_per_chunk, total_steps - first)))
            ]
            if log_rows < logs:
                table, found = log_maker.table(log_rows, min(log_chunk, logs - log_rows))
                batches.append((Signal.LOGS, table))
                rare += found
            build_s += time.perf_counter() - t0
            store.append_many(batches)
            point_rows += batches[0][1].num_rows
            log_rows += batches[1][1].num_rows if len(batches) > 1 else 0
            elapsed = time.perf_counter() - began
            print(f"loaded points={point_rows} logs={log_rows} elapsed_s={elapsed:.1f}", flush=True)
        load_s = time.perf_counter() - began
        began = time.perf_counter()
        written = store.roll_up(end)
        rollup_s = time.perf_counter() - began
        # Clustering rollups by series and the log text index are built a few days / rows
        # per run by the rollup job; here they are run to completion, as time would.
        began = time.perf_counter()
        for _ in range(int(days) // 2 + 2):
            store.roll_up(end)
        while store.update_log_index(end + timedelta(minutes=5)).pending:
            pass
        upkeep_s = time.perf_counter() - began
    finally:
        store.close()
    meta = {
        "series": series,
        "days": days,
        "logs": logs,
        "points": point_rows,
        "log_rows": log_rows,
        "rare_lines": rare,
        "rare_term": RARE_TERM,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "load_seconds": round(load_s, 1),
        "build_seconds": round(build_s, 1),
        "rollup_seconds": round(rollup_s, 1),
        "upkeep_seconds": round(upkeep_s, 1),
        "rollup_rows": {k.value: v for k, v in written.items()},
        "file_bytes": data.stat().st_size,
    }
    meta_path(data).write_text(json.dumps(meta, indent=2))
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--logs", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=3_000_000)
    args = parser.parse_args()
    for stale in (args.data, args.data.with_name(args.data.name + ".wal")):
        stale.unlink(missing_ok=True)
    meta_path(args.data).unlink(missing_ok=True)
    meta = generate(args.data, args.series, args.days, args.logs, args.chunk_rows)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
