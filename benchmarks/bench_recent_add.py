"""Adding appended points to the recent points held in memory (``RecentPoints.add``).

Run: ``.venv/bin/python benchmarks/bench_recent_add.py [--batches 40]``.

Every append the server commits is also added to memory; this times that step alone for
batches of a few shapes (series per batch x points per batch, times increasing batch after
batch, as ingest flushes are), including spreading the pending batches over their series
at the end. One line per shape; the last line is the rate for 100,000 series in batches
of 200,000 points, the hardest shape (a step per series).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from radiator.storage.telemetry.recent import RecentPoints

SHAPES = ((1_000, 20_000), (1_000, 200_000), (20_000, 200_000), (100_000, 200_000))


def rate(series: int, points: int, batches: int) -> float:
    """Points per second added, for ``batches`` batches of ``points`` over ``series``."""
    recent = RecentPoints(12, 1 << 40)
    recent.warm(lambda _: iter([]))
    start = int(time.time() * 1e6) - 3_600_000_000
    sids = np.random.default_rng(1).integers(0, 2**63, series, dtype=np.uint64)
    per_series = max(points // series, 1)
    batch_sids = np.tile(sids, per_series)[:points]
    values = np.random.default_rng(2).random(points)
    times = [
        np.repeat(start + (k * per_series + np.arange(per_series)) * 1_000_000, series)[:points]
        for k in range(batches)
    ]
    began = time.perf_counter()
    for batch_times in times:
        recent.add(batch_sids, batch_times, values)
    held = recent.stats()  # spreads what is pending
    elapsed = time.perf_counter() - began
    assert held.points == points * batches
    return points * batches / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    figure = 0.0
    for series, points in SHAPES:
        figure = rate(series, points, args.batches)
        per_batch = points / figure * 1000
        print(
            f"{series} series, batches of {points} points: {per_batch:.1f} ms a batch, "
            f"{figure / 1e6:.1f} M points/s"
        )
    print(f"recent_add_points_per_second_100k_series={figure:.0f}")


if __name__ == "__main__":
    main()
