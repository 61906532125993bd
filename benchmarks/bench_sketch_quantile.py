"""Sketch quantiles per window: ``WindowIndex.sketch_quantile`` alone, no store, no parsing.

Run: ``.venv/bin/python benchmarks/bench_sketch_quantile.py [--series 800] [--hours 6]
[--range-min 5] [--phi 0.99] [--repeat 5]``.

The entries are what ``quantile_over_time(0.99, bench.latency[5m])`` reads at a 30 s step
(the dashboard's panel E): 1-minute cells, each holding the sketch of 6 latency points
(milliseconds: a lognormal level per series on a daily cycle, lognormal noise, one point in
500 ten times higher), keyed as the store keys them. Step times are floored to the minute,
as the evaluator does when it swaps raw windows for sketches. The window index is built
once, outside the timing (the evaluator builds it for every range function). The best
wall-clock time of ``--repeat`` runs counts, with the CPU time of that run beside it; peak
memory is the largest ``tracemalloc`` figure over one more run (numpy reports its buffers to
it). The last line is the headline: ``sketch_quantile_ms=<wall> peak_mb=<peak>``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from radiator.query.windows import SketchEntries, WindowIndex

MINUTE_US = 60_000_000
GAMMA = 1.02
OFFSET = 1_000_000
POINTS_PER_MINUTE = 6


def entries(series: int, hours: int, range_us: int, seed: int = 6) -> SketchEntries:
    """Sketch entries of every 1-minute cell from ``range_us`` before the first step on."""
    rng = np.random.default_rng(seed)
    cells = hours * 60 + range_us // MINUTE_US
    points = series * cells * POINTS_PER_MINUTE
    series_of = np.repeat(np.arange(series), cells * POINTS_PER_MINUTE)
    cell = np.tile(np.repeat(np.arange(cells), POINTS_PER_MINUTE), series)
    base = rng.lognormal(np.log(60), 0.6, series)
    phase = rng.uniform(0, 2 * np.pi, series)
    daily = 1 + 0.3 * np.sin(2 * np.pi * cell / 1440 + phase[series_of])
    value = base[series_of] * daily * rng.lognormal(0, 0.25, points)
    value[rng.random(points) < 0.002] *= 10
    keys = OFFSET + np.ceil(np.log(value) / np.log(GAMMA)).astype(np.int64)
    # One entry per (series, cell, key), sorted so, as the store returns them.
    width = int(keys.max()) + 1
    code = (series_of * cells + cell) * width + keys
    unique, counts = np.unique(code, return_counts=True)
    return SketchEntries(
        series_of=unique // width // cells,
        ends=(unique // width % cells + 1) * MINUTE_US,
        keys=unique % width,
        counts=counts.astype(np.float64),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=800)
    parser.add_argument("--hours", type=int, default=6)
    parser.add_argument("--range-min", type=int, default=5)
    parser.add_argument("--phi", type=float, default=0.99)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    range_us = args.range_min * MINUTE_US
    data = entries(args.series, args.hours, range_us)
    steps = args.hours * 120 + 1
    times = (range_us + np.arange(steps) * 30_000_000) // MINUTE_US * MINUTE_US
    index = WindowIndex(data.series_of, data.ends, args.series, times, range_us)
    print(
        f"series={args.series} entries={len(data.keys)} steps={steps} "
        f"range={args.range_min}m window entries={int(index.lengths.sum())}"
    )
    wall = cpu = float("inf")
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = index.sketch_quantile(data.keys, data.counts, args.phi)
        elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        if elapsed < wall:
            wall, cpu = elapsed, elapsed_cpu
    tracemalloc.start()
    index.sketch_quantile(data.keys, data.counts, args.phi)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = np.nanmedian(result)
    print(
        f"non-empty windows={int(np.isfinite(result).sum())} median p{args.phi:g}={median:.1f} ms"
    )
    print(f"best wall {wall * 1000:.0f} ms, cpu {cpu * 1000:.0f} ms")
    print(f"sketch_quantile_ms={wall * 1000:.0f} peak_mb={peak / 2**20:.0f}")


if __name__ == "__main__":
    main()
