"""Browser drawing speed (issue 4): a 12-panel dashboard over 7 days, and one 100,000-point chart.

Run: ``.venv/bin/python benchmarks/bench_ui.py [--data PATH] [--series 1000] [--days 7]
[--logs 10000000] [--runs 5]``. The defaults are the query issue's dataset and file, so a
dataset built by ``bench_query.py`` is reused; ``--series 200 --logs 100000 --data
/tmp/radiator-bench-ui.duckdb`` makes a smaller one.

The dataset is the query benchmark's (``query_dataset.py``: ``bench.latency`` gauges and
``bench.requests`` counters tagged service/series), generated once at ``--data`` (the query
benchmark's file is reused when the sizes match). A real ``radiator serve`` opens it; a
12-panel dashboard over the last 7 days is created through the API; headless Debian
Chromium (Playwright) opens it ``--runs`` times and the time from navigation start to the
moment the last panel is drawn (``data-drawn`` on the grid, set after every chart has
rendered) is recorded. Then, on the same page, ``RadiatorChart.render`` draws a synthetic
result of 100,000 points and its time is measured in the page.

Targets: dashboard drawn <= 1.5 s; 100,000-point chart <= 200 ms. The last line is the
dashboard's median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from query_dataset import meta_path  # noqa: E402

from support import CHROMIUM, CHROMIUM_ARGS, RADIATOR, free_port, serve_env, wait_healthy  # noqa: E402

PANELS = [
    (
        "rps",
        "Requests per second by service",
        "sum by (service) (rate(bench.requests[5m]))",
        "timeseries",
    ),
    ("rps-total", "Requests per second", "sum(rate(bench.requests[5m]))", "stat"),
    ("latency-avg", "Mean latency by service", "avg by (service) (bench.latency)", "timeseries"),
    ("latency-p99", "p99 latency by service", "p99 by (service) (bench.latency)", "timeseries"),
    ("latency-max", "Max latency", "max(bench.latency)", "stat"),
    ("top", "Top 5 series", "topk(5, avg by (series) (bench.latency))", "timeseries"),
    ("bottom", "Bottom 5 series", "bottomk(5, avg by (series) (bench.latency))", "timeseries"),
    ("spread", "Latency spread", "stddev by (service) (bench.latency)", "timeseries"),
    ("count", "Series reporting", "count(bench.latency)", "stat"),
    (
        "ratio",
        "Requests per unit latency",
        "sum by (service) (rate(bench.requests[5m])) / sum by (service) (bench.latency)",
        "timeseries",
    ),
    ("bars", "Requests by service", "sum by (service) (increase(bench.requests[1h]))", "bar"),
    ("table", "Latency by service", "avg by (service) (bench.latency)", "table"),
]


def ensure_dataset(data: Path, series: int, days: float, logs: int) -> None:
    meta = meta_path(data)
    wanted = {"series": series, "days": days, "logs": logs}
    if data.exists() and meta.exists():
        found = json.loads(meta.read_text())
        if all(found.get(k) == v for k, v in wanted.items()):
            return
    data.unlink(missing_ok=True)
    command = [
        sys.executable,
        str(HERE / "query_dataset.py"),
        "--data",
        str(data),
        "--series",
        str(series),
        "--days",
        str(days),
        "--logs",
        str(logs),
    ]
    subprocess.run(command, check=True)


def request(base: str, token: str, method: str, path: str, body: object) -> object:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=120) as response:
        return json.loads(response.read() or b"null")


def make_token(env: dict[str, str], cwd: Path) -> str:
    out = subprocess.run(
        [RADIATOR, "token", "create", "-u", "admin", "-n", "bench", "-s", "read", "-s", "write"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1].split()[-1]


CHART_SCRIPT = """
async () => {
  const n = 100000, t0 = 1.7e9;
  const times = new Array(n), values = new Array(n);
  for (let i = 0; i < n; i++) {
    times[i] = t0 + i * 6;
    values[i] = 50 + 30 * Math.sin(i / 500) + (i % 7);
  }
  const result = { times: times, series: [{ labels: { service: 'bench' }, values: values }] };
  const box = document.createElement('div'); box.style.width = '1200px';
  document.body.appendChild(box);
  const started = performance.now();
  const chart = RadiatorChart.render(box, result, [], { height: 300 });
  // Until the frame after next: the chart is drawn and painted.
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const elapsed = performance.now() - started;
  chart.destroy(); box.remove();
  return elapsed;
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("/tmp/radiator-bench-query.duckdb"))
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--logs", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ensure_dataset(args.data, args.series, args.days, args.logs)
    work = Path(tempfile.mkdtemp(prefix="radiator-bench-ui-"))
    port = free_port()
    # No day-long backfill of logs.records at start: it would compete with the measurement.
    env = serve_env(
        work / "data",
        port,
        telemetry_path=str(args.data),
        admin_password="bench-password-123",
        log_metrics_backfill_hours="0",
    )
    subprocess.run([RADIATOR, "db", "upgrade"], env=env, cwd=work, check=True, capture_output=True)
    subprocess.run(
        [RADIATOR, "user", "create", "admin", "--admin", "--password", "bench-password-123"],
        env=env,
        cwd=work,
        capture_output=True,
        check=False,
    )
    token = make_token(env, work)
    server = subprocess.Popen(
        [RADIATOR, "serve"], env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server, timeout=120)
        panels = [
            {
                "id": pid,
                "title": title,
                "type": kind,
                "queries": [{"expr": expr}],
                "x": (i % 2) * 6,
                "y": (i // 2) * 3,
                "w": 6,
                "h": 3,
            }
            for i, (pid, title, expr, kind) in enumerate(PANELS)
        ]
        board = {
            "slug": "bench-12",
            "title": "Bench 12 panels",
            "time_from": f"now-{int(args.days)}d",
            "refresh_seconds": None,
            "panels": panels,
        }
        request(base, token, "POST", "/api/v1/dashboards", board)
        drawn, charts = measure(base, args.runs)
    finally:
        server.terminate()
        server.wait(30)
    print(f"dataset: {args.series} series x {args.days:g} days, machine: 2 cores")
    print(f"dashboard_12_panels_7d_drawn_ms runs={drawn}")
    print(f"chart_100k_points_ms runs={charts} median={statistics.median(charts):.1f}")
    print(f"dashboard_12_panels_7d_drawn_ms_median={statistics.median(drawn):.0f}")


def measure(base: str, runs: int) -> tuple[list[float], list[float]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=base)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill("bench-password-123")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/")
        drawn = []
        for _ in range(runs + 1):
            page.goto("/dashboards/bench-12?refresh=0")
            page.wait_for_selector("#grid[data-drawn]", timeout=120_000)
            elapsed = page.evaluate(
                "Number(document.getElementById('grid').getAttribute('data-drawn'))"
                " - performance.timeOrigin"
            )
            drawn.append(round(float(elapsed), 1))
            time.sleep(0.2)
        charts = [round(float(page.evaluate(CHART_SCRIPT)), 1) for _ in range(runs)]
        browser.close()
    return drawn[1:], charts


if __name__ == "__main__":
    main()
