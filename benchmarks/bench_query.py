"""Query speed on the issue 6 dataset: metric queries, a 12-panel dashboard, log search.

Run: ``.venv/bin/python benchmarks/bench_query.py [--data /tmp/radiator-bench-query.duckdb]
[--series 1000] [--days 7] [--logs 10000000] [--runs 10] [--no-http] [--recent-hours 12]``.

The dataset (see ``query_dataset.py``) is generated in a child process the first time and
kept at ``--data`` (with ``<data>.json`` describing it), so reruns reuse it; a different
``--series``/``--days``/``--logs`` regenerates it. Then, in this process: each query once to
warm up and ``--runs`` more times through ``QueryService`` (median reported), the rare-term
log search through ``store.query_logs``, and this process's peak RSS. Then the store is
closed and a real ``radiator serve`` opens the same file: the dashboard as one
``POST /api/v1/query`` with 12 queries, the other queries over HTTP, the log search as
``GET /api/v1/logs?q=...``, and the server's peak RSS (VmHWM).

Targets (issue 6): one series 7 days at 1 m (avg and p99) <= 50 ms; sum by service over all
series, last hour at 10 s <= 200 ms; 12-panel dashboard <= 300 ms; rare-term log search
over 10M lines <= 500 ms; server peak memory <= 2 GB. The last line is the dashboard
request's median over HTTP (or in process with ``--no-http``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from radiator.core.telemetry import LogFilter
from radiator.core.types import TimeRange
from radiator.query.service import QueryOutcome, QueryService, RangeSpec
from radiator.storage.telemetry import open_telemetry_store

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from query_dataset import meta_path  # noqa: E402

from support import RADIATOR, free_port, serve_env, wait_healthy  # noqa: E402

ONE_SERIES = (
    'avg_over_time(bench.latency{series="s0042"}[1m])',
    'quantile_over_time(0.99, bench.latency{series="s0042"}[1m])',
)
SUM_LATENCY = "sum by (service) (bench.latency)"
SUM_ALL = 'sum by (service) ({__name__=~"bench\\\\..+"})'
SUM_RATE = "sum by (service) (rate(bench.requests[1m]))"
DASHBOARD = (
    "sum by (service) (rate(bench.requests[5m]))",
    "sum(rate(bench.requests[5m]))",
    "topk(5, sum by (service) (rate(bench.requests[5m])))",
    'quantile_over_time(0.99, bench.latency{service="svc-03"}[5m])',
    "max by (service) (quantile_over_time(0.99, bench.latency[5m]))",
    "avg by (service) (avg_over_time(bench.latency[5m]))",
    "avg(bench.latency)",
    "topk(5, avg_over_time(bench.latency[5m]))",
    'max by (host) (max_over_time(bench.latency{service="svc-07"}[5m]))',
    "sum by (service) (increase(bench.requests[1h]))",
    'avg_over_time(bench.latency{series="s0042"}[5m])',
    "count(bench.latency)",
)
RECENT_MAX_BYTES = 512_000_000  # the default of telemetry_recent_max_mb
TARGETS_MS = {"one_series": 50, "sum_by_service": 200, "dashboard": 300, "log_search": 500}


def ensure_dataset(args: argparse.Namespace) -> dict[str, Any]:
    meta_file = meta_path(args.data)
    if meta_file.exists() and args.data.exists():
        meta: dict[str, Any] = json.loads(meta_file.read_text())
        if (meta["series"], meta["days"], meta["logs"]) == (args.series, args.days, args.logs):
            return meta
    command = [sys.executable, str(HERE / "query_dataset.py"), "--data", str(args.data)]
    command += ["--series", str(args.series), "--days", str(args.days), "--logs", str(args.logs)]
    subprocess.run(command, check=True)
    loaded: dict[str, Any] = json.loads(meta_file.read_text())
    return loaded


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls after one warm-up call (printed as it is measured)."""
    action()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    median = statistics.median(times)
    print(f"    median {median:.1f} ms (min {min(times):.1f}, max {max(times):.1f}, {runs} runs)")
    return median


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else f"MISSED by {value / target:.2f}x"


def check(outcome: QueryOutcome, want_series: int | None = None) -> str:
    if outcome.error is not None:
        raise SystemExit(f"{outcome.expr}: {outcome.error}")
    if want_series is not None and len(outcome.series) != want_series:
        raise SystemExit(f"{outcome.expr}: {len(outcome.series)} series, want {want_series}")
    return f"series={len(outcome.series)} points={len(outcome.times)}"


def in_process(args: argparse.Namespace, meta: dict[str, Any]) -> dict[str, float]:
    end = datetime.fromisoformat(meta["end"])
    start = datetime.fromisoformat(meta["start"])
    store = open_telemetry_store("duckdb", str(args.data))
    service = QueryService(store)
    figures: dict[str, float] = {}
    try:
        if args.recent_hours > 0:  # as `radiator serve` does (setting telemetry_recent_hours)
            began = time.perf_counter()
            store.keep_recent(args.recent_hours, RECENT_MAX_BYTES).join()
            held = store.recent_stats()
            if held is None or not held.ready:
                raise SystemExit("recent points did not load")
            figures["recent_load_s"] = time.perf_counter() - began
            print(
                f"  recent points: {held.series} series, {held.points} points "
                f"({held.bytes / 1e6:.0f} MB) loaded in {figures['recent_load_s']:.2f} s"
            )
            if (held.horizon_us or 0) > (end - timedelta(hours=7)).timestamp() * 1e6:
                print("  (the dataset ends too long ago for them to cover the dashboard)")
        week = RangeSpec(start, end, 60)
        for name, expr in zip(("one_series_avg", "one_series_p99"), ONE_SERIES, strict=True):
            print(f"  {expr}: {check(service.run(expr, week), 1)}")
            figures[name] = median_ms(lambda e=expr: service.run(e, week), args.runs)
        hour = RangeSpec(end - timedelta(hours=1), end, 10)
        for name, expr in (
            ("sum_latency", SUM_LATENCY),
            ("sum_all", SUM_ALL),
            ("sum_rate", SUM_RATE),
        ):
            print(f"  {expr}: {check(service.run(expr, hour))}")
            figures[name] = median_ms(lambda e=expr: service.run(e, hour), args.runs)
        six = RangeSpec(end - timedelta(hours=6), end, None, 1200)
        panels = [(chr(65 + i), expr) for i, expr in enumerate(DASHBOARD)]
        for outcome in service.run_many(panels, six):
            print(f"  {outcome.id} {outcome.expr}: {check(outcome)}")
        figures["dashboard"] = median_ms(lambda: service.run_many(panels, six), args.runs)
        for panel_id, expr in panels:  # where the dashboard's time goes: one warm run each
            began = time.perf_counter()
            service.run(expr, six, panel_id)
            print(f"    panel {panel_id}: {(time.perf_counter() - began) * 1000:.0f} ms  {expr}")
        logs = LogFilter(range=TimeRange(start, end), text=meta["rare_term"], limit=100)
        found = store.query_logs(logs)
        term, want = meta["rare_term"], meta["rare_lines"]
        print(f"  log search {term!r}: {len(found)} lines (generated {want})")
        if len(found) != meta["rare_lines"]:
            raise SystemExit("log search found the wrong number of lines")
        figures["log_search"] = median_ms(lambda: store.query_logs(logs), args.runs)
    finally:
        store.close()
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def wait_recent(base: str, server: subprocess.Popen[Any], timeout: float = 300) -> str:
    """Wait until the server's recent points are loaded (``/readyz``), so the timed
    requests read them as a running server would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited with {server.returncode}")
        with urllib.request.urlopen(f"{base}/readyz", timeout=10) as answer:
            recent = json.loads(answer.read()).get("recent_points")
        if recent is None:
            raise SystemExit("the server does not keep recent points")
        if recent["state"] == "ready":
            return f"{recent['series']} series, {recent['points']} points from {recent['from']}"
        time.sleep(0.2)
    raise SystemExit(f"recent points did not load within {timeout} s")


def _token(env: dict[str, str], cwd: Path) -> str:
    def cli(*words: str) -> str:
        done = subprocess.run([RADIATOR, *words], env=env, cwd=cwd, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"radiator {' '.join(words)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    cli("user", "create", "bench", "--role", "viewer", "--password", "bench-password-123")
    return (
        cli("token", "create", "-u", "bench", "-n", "bench", "-s", "read").strip().splitlines()[-1]
    )


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.base + path, json.dumps(body).encode(), self.headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.loads(answer.read())

    def get(self, path: str, params: dict[str, str]) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers=self.headers)
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.loads(answer.read())


def _query_body(
    exprs: tuple[str, ...], start: datetime, end: datetime, step: int | None
) -> dict[str, Any]:
    return {
        "queries": [{"id": chr(65 + i), "expr": e} for i, e in enumerate(exprs)],
        "start": start.timestamp(),
        "end": end.timestamp(),
        "step": step,
        "width": 1200,
    }


def over_http(args: argparse.Namespace, meta: dict[str, Any]) -> dict[str, float]:
    end = datetime.fromisoformat(meta["end"])
    start = datetime.fromisoformat(meta["start"])
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        port = free_port()
        env = serve_env(
            Path(tmp),
            port,
            telemetry_path=str(args.data),
            self_telemetry="false",
            archive_enabled="false",
            telemetry_recent_hours=str(args.recent_hours),
            # A fresh state database would count the last day of logs into logs.records at
            # start-up (a one-off backfill), competing with the timed queries.
            log_metrics_backfill_hours="0",
        )
        token = _token(env, Path(tmp))
        log = (Path(tmp) / "serve.log").open("w")
        server = subprocess.Popen(
            [RADIATOR, "serve"], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, server, timeout=120)
            client = Client(base, token)
            if args.recent_hours > 0:
                print(f"  recent points: {wait_recent(base, server)}")
            bodies = {
                "http_one_series_avg": _query_body(ONE_SERIES[:1], start, end, 60),
                "http_one_series_p99": _query_body(ONE_SERIES[1:], start, end, 60),
                "http_sum_all": _query_body((SUM_ALL,), end - timedelta(hours=1), end, 10),
                "http_dashboard": _query_body(DASHBOARD, end - timedelta(hours=6), end, None),
            }
            for name, body in bodies.items():
                answer = client.post("/api/v1/query", body)
                errors = [r["error"] for r in answer["results"] if r["error"]]
                if errors:
                    raise SystemExit(f"{name}: {errors}")
                print(f"  {name}: {len(answer['results'])} results, step {answer['step']} s")
                figures[name] = median_ms(lambda b=body: client.post("/api/v1/query", b), args.runs)
            params = {"q": meta["rare_term"], "start": start.isoformat(), "end": end.isoformat()}
            found = client.get("/api/v1/logs", params)
            print(f"  GET /api/v1/logs q={meta['rare_term']}: {len(found['records'])} lines")
            if len(found["records"]) != meta["rare_lines"]:
                raise SystemExit("GET /api/v1/logs found the wrong number of lines")
            figures["http_log_search"] = median_ms(
                lambda: client.get("/api/v1/logs", params), args.runs
            )
            figures["server_rss_mb"] = _peak_rss_mb(server.pid)
        except BaseException:
            log.flush()
            print((Path(tmp) / "serve.log").read_text()[-4000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("/tmp/radiator-bench-query.duckdb"))
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--logs", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument(
        "--recent-hours",
        type=float,
        default=12,
        help="hours of raw points held in memory (setting telemetry_recent_hours; 0: off)",
    )
    args = parser.parse_args()
    meta = ensure_dataset(args)
    head = subprocess.run(
        ["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print(f"code: git {head or 'unknown'} (plus uncommitted changes, if any)")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"dataset: {meta['points']:,} points ({meta['series']} series x {meta['days']} days "
        "at 10 s), "
        f"{meta['log_rows']:,} log lines, {meta['file_bytes'] / 2**30:.2f} GiB file; "
        f"load {meta['load_seconds']} s, roll_up {meta['rollup_seconds']} s"
    )
    print("in process (QueryService / store.query_logs):")
    figures = in_process(args, meta)
    if not args.no_http:
        print("over HTTP (radiator serve):")
        figures |= over_http(args, meta)
    days = meta["days"]
    rows = [
        (f"one series {days} d @1m avg_over_time", "one_series_avg", "one_series"),
        (f"one series {days} d @1m quantile_over_time 0.99", "one_series_p99", "one_series"),
        ("sum by service, bench.latency, 1 h @10s", "sum_latency", "sum_by_service"),
        ("sum by service, all series, 1 h @10s", "sum_all", "sum_by_service"),
        ("sum by service of rate(counter), 1 h @10s", "sum_rate", "sum_by_service"),
        ("12-panel dashboard, 6 h, width 1200", "dashboard", "dashboard"),
        ("rare-term log search", "log_search", "log_search"),
        ("HTTP one series avg", "http_one_series_avg", "one_series"),
        ("HTTP one series p99", "http_one_series_p99", "one_series"),
        ("HTTP sum by service, all series", "http_sum_all", "sum_by_service"),
        ("HTTP log search", "http_log_search", "log_search"),
        ("HTTP 12-panel dashboard", "http_dashboard", "dashboard"),
    ]
    for label, key, target in rows:
        if key in figures:
            limit, ms = TARGETS_MS[target], figures[key]
            print(f"{label}: {ms:.1f} ms (target {limit} ms, {verdict(ms, limit)})")
    print(f"peak RSS of this process: {figures['rss_mb']:.0f} MB")
    if "server_rss_mb" in figures:
        mb = figures["server_rss_mb"]
        print(f"peak RSS of radiator serve: {mb:.0f} MB (target 2048 MB, {verdict(mb, 2048)})")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    key = "http_dashboard" if "http_dashboard" in figures else "dashboard"
    print(f"dashboard_12_panels_median_ms={figures[key]:.1f}")


if __name__ == "__main__":
    main()
