"""Batch detector throughput: points scored per second, every detector.

Run: ``.venv/bin/python benchmarks/bench_detect.py [--points 1000000] [--repeat 3]``.

The series is what detectors meet in practice: lognormal noise on a daily cycle (1-minute
points), a spike every 5,000 points, a level shift and 0.5 % missing values. Each detector
scores it in one batch call ``--repeat`` times; the best wall-clock time counts, and the CPU
time of that process is printed beside it (on a shared, busy machine the CPU rate is what a
quiet machine would show). The KS detector, which sorts a 150-point window at every point,
is timed on a tenth of the points. The default detector's streaming form is timed on
``--stream`` points, one ``update`` call each. The last line is the headline:
``default_detector=<name> points_per_second=<n>`` (wall clock).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from radiator.detect import DEFAULT_DETECTOR, DETECTORS, make_detector


def series(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(n, dtype=np.float64)
    x = 100 + 30 * np.sin(2 * np.pi * t / 1440) + rng.lognormal(0, 0.5, n) * 5
    x[::5000] += 200
    x[n // 2 :] += 20
    x[rng.random(n) < 0.005] = np.nan
    return x, 1.7e9 + 60 * t


def measure(name: str, x: np.ndarray, t: np.ndarray, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU-time rates, in points per second."""
    params = {"upper": 250.0} if name == "threshold" else {}
    detector = make_detector(name, **params)
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        detector.score(x, t)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return len(x) / wall, len(x) / max(cpu, 1e-9)


def measure_stream(name: str, x: np.ndarray, t: np.ndarray) -> float:
    """Points per second through the streaming form, one ``update`` call per point."""
    params = {"upper": 250.0} if name == "threshold" else {}
    stream = make_detector(name, **params).stream()
    start = time.perf_counter()
    for value, when in zip(x.tolist(), t.tolist(), strict=True):
        stream.update(value, when)
    return len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stream", type=int, default=20_000, help="points to stream")
    args = parser.parse_args()
    x, t = series(args.points)
    rates = {}
    for name in DETECTORS:
        n = args.points // 10 if name == "ks" else args.points
        rates[name], cpu = measure(name, x[:n], t[:n], args.repeat)
        print(f"{name:12s} {n:>9,d} points {rates[name]:>12,.0f} points/s (CPU time: {cpu:,.0f})")
    streamed = measure_stream(DEFAULT_DETECTOR, x[: args.stream], t[: args.stream])
    print(f"streaming {DEFAULT_DETECTOR}: {args.stream:,d} points  {streamed:,.0f} points/s")
    print(f"default_detector={DEFAULT_DETECTOR} points_per_second={rates[DEFAULT_DETECTOR]:.0f}")


if __name__ == "__main__":
    main()
