"""Alert evaluation speed: a cycle over 10,000 rules, and a 30-day backtest.

Run: ``.venv/bin/python benchmarks/bench_alerts.py [--rules 10000] [--metrics 500]
[--hosts 4] [--cycles 3] [--days 30]``.

Setup (not timed): a runtime on a temporary directory (SQLite state, DuckDB telemetry);
``--metrics`` gauges with ``--hosts`` series each, one point a minute for the last hour;
``--rules`` threshold rules spread over the metrics, half on the raw selector and half on
``max by (host)`` of it (so ``2 * metrics`` distinct queries), with thresholds of 90 to
99 on values drawn from 0 to 100 (about 5 % of rule and host pairs fire); then one series
with ``--days`` of 1-minute points, rolled up.

Timed: ``--cycles`` evaluation cycles (the first creates the alerts, later ones only
refresh them) through ``AlertService.evaluate``; then the backtest of one rule over the
``--days`` at a 1-minute step (best of 3). Targets (issue 5): the cycle well under the
30 s interval; the backtest <= 1 s. The last line holds both figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from radiator.alerts import AlertRuleCreate
from radiator.catalog import ServiceCreate, TeamCreate
from radiator.config import Settings
from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind, Point
from radiator.runtime import Runtime


def _fill_recent(runtime: Runtime, metrics: int, hosts: int, now: datetime) -> None:
    rng = np.random.default_rng(1)
    for first in range(0, metrics, 50):
        points = [
            Point(f"bench.m{m}", float(v), now - timedelta(minutes=60 - i), {"host": f"h{h}"},
                  MetricKind.GAUGE)
            for m in range(first, min(first + 50, metrics))
            for h in range(hosts)
            for i, v in enumerate(rng.uniform(0, 100, 60))
        ]  # fmt: skip
        runtime.telemetry.append(Signal.POINTS, points_batch(points))


def _add_rules(runtime: Runtime, count: int, metrics: int, now: datetime) -> None:
    store = runtime.alerts.store
    for i in range(count):
        metric = f"bench.m{i % metrics}"
        query = metric if (i // metrics) % 2 == 0 else f"max by (host) ({metric})"
        rule = AlertRuleCreate(
            name=f"rule-{i:05d}",
            owner="checkout",
            query=query,
            condition={"kind": "threshold", "op": ">", "value": 90 + (i % 10)},  # type: ignore[arg-type]
        )
        values = {**rule.model_dump(mode="json"), "source": "api", "source_file": ""}
        store.add_rule({**values, "created_at": now, "updated_at": now})


def _fill_month(runtime: Runtime, days: int, now: datetime) -> None:
    minutes = days * 1440
    rng = np.random.default_rng(2)
    values = 50 + 10 * np.sin(np.arange(minutes) / 1440 * 2 * np.pi) + rng.normal(0, 2, minutes)
    for at in rng.integers(0, minutes - 10, 20):
        values[at : at + 5] = 120.0  # five minutes: longer than the rule's for
    start = now - timedelta(minutes=minutes)
    for first in range(0, minutes, 100_000):
        points = [
            Point(
                "bench.month", float(values[i]), start + timedelta(minutes=i), {}, MetricKind.GAUGE
            )
            for i in range(first, min(first + 100_000, minutes))
        ]
        runtime.telemetry.append(Signal.POINTS, points_batch(points))
    runtime.telemetry.roll_up(now + timedelta(minutes=5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="radiator-bench-alerts-") as directory:
        settings = Settings(data_dir=Path(directory), self_telemetry=False)
        runtime = Runtime(settings)
        try:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            runtime.catalog.create_team(TeamCreate(name="payments"))
            runtime.catalog.create_service(ServiceCreate(name="checkout", team="payments"))
            _fill_recent(runtime, args.metrics, args.hosts, now)
            _add_rules(runtime, args.rules, args.metrics, now)
            cycles = []
            for n in range(args.cycles):
                report = runtime.alerts.evaluate(now + timedelta(seconds=30 * n))
                cycles.append(report.seconds)
                print(
                    f"cycle {n + 1}: {report.seconds:.2f} s, {report.rules} rules, "
                    f"{report.queries} queries, transitions {report.transitions}",
                    flush=True,
                )
            _fill_month(runtime, args.days, now)
            rule = AlertRuleCreate(
                name="month",
                owner="checkout",
                query="bench.month",
                condition={"kind": "threshold", "op": ">", "value": 100},  # type: ignore[arg-type]
                for_seconds=120,
            )
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                result = runtime.alerts.backtest(rule, now - timedelta(days=args.days), now, 60)
                timings.append(time.perf_counter() - started)
            print(f"backtest: {result.steps} steps, {result.firings} firings", flush=True)
        finally:
            runtime.close()
    steady = statistics.median(cycles[1:]) if len(cycles) > 1 else cycles[0]
    print(
        f"rules={args.rules} first_cycle_s={cycles[0]:.2f} steady_cycle_s={steady:.2f} "
        f"backtest_{args.days}d_1m_s={min(timings):.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
