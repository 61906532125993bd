"""Sustained HTTP ingest into a real ``radiator serve``: InfluxDB line protocol, then native JSON.

Run: ``.venv/bin/python benchmarks/bench_ingest_http.py [--seconds 60] [--lines 5000]
[--recent-hours H]``.

The server runs as a subprocess on a temporary data directory (settings through
``RADIATOR_*``); a user and an ingest token are made with the CLI before it starts. Load
generator processes post pre-built bodies over keep-alive connections for ``--seconds`` per
format: line-protocol bodies of ``--lines`` lines with four fields each (so 4 x lines
points), and native ``POST /api/v1/ingest`` bodies holding the same points. A 503 makes a
sender wait its Retry-After, so the accepted rate is what the server sustains with its
buffer bounded. After both phases the server is stopped with SIGTERM (it flushes
everything on the way out) and the stored rows are counted in its DuckDB file.

Figures: points/s accepted per format, rows stored per format, the time the server took to
drain its buffer at shutdown, and the server's peak resident memory (VmHWM). The last line
printed is the headline:
``line_protocol_points_per_second=<n> native_points_per_second=<n> peak_rss_mb=<n>``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson

RADIATOR = str(Path(sys.executable).with_name("radiator"))
FIELDS = ("usage_user", "usage_system", "usage_idle", "usage_iowait")
HOSTS = 250
CPUS = 8
PASSWORD = "benchmark password 1234"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def line_bodies(count: int, lines: int) -> list[bytes]:
    """Telegraf-like ``cpu`` lines: 2,000 series, three float fields and one integer."""
    rng = random.Random(7)
    now_ns = time.time_ns()
    bodies = []
    for b in range(count):
        out = []
        for i in range(lines):
            n = b * lines + i
            host = n % HOSTS
            out.append(
                f"lp_cpu,host=host-{host:04d},region=eu-{host % 4},cpu=cpu{n % CPUS} "
                f"usage_user={rng.random() * 100:.2f},usage_system={rng.random() * 10:.3f},"
                f"usage_idle={rng.random() * 100:.2f},usage_iowait={n % 13}i "
                f"{now_ns - (lines - i) * 1000}"
            )
        bodies.append("\n".join(out).encode())
    return bodies


def native_bodies(count: int, lines: int) -> list[bytes]:
    """The same points as ``line_bodies`` in the native JSON format."""
    rng = random.Random(7)
    now = time.time()
    bodies = []
    for b in range(count):
        points: list[dict[str, Any]] = []
        for i in range(lines):
            n = b * lines + i
            host = n % HOSTS
            tags = {"host": f"host-{host:04d}", "region": f"eu-{host % 4}", "cpu": f"cpu{n % CPUS}"}
            values = (rng.random() * 100, rng.random() * 10, rng.random() * 100, n % 13)
            for field, value in zip(FIELDS, values, strict=True):
                points.append(
                    {"name": f"native_cpu.{field}", "value": value, "tags": tags, "time": now}
                )
        bodies.append(orjson.dumps({"points": points}))
    return bodies


def sender(
    url: str, headers: dict[str, str], bodies: list[bytes], points: int, seconds: float, out: Any
) -> None:
    """Post bodies round-robin for ``seconds``; report (accepted, requests, 503s, errors,
    CPU seconds used by this sender)."""
    accepted = requests = overloaded = errors = 0
    deadline = time.monotonic() + seconds
    with httpx.Client(headers=headers, timeout=60) as client:
        while time.monotonic() < deadline:
            body = bodies[requests % len(bodies)]
            requests += 1
            response = client.post(url, content=body)
            if response.status_code == 204:
                accepted += points
            elif response.status_code == 200:
                accepted += int(response.json()["accepted"])
            elif response.status_code == 503:
                overloaded += 1
                time.sleep(float(response.headers.get("retry-after", "1")))
            else:
                errors += 1
                if errors <= 3:
                    print(f"  {response.status_code}: {response.text[:300]}", file=sys.stderr)
    out.put((accepted, requests, overloaded, errors, time.process_time()))


def run_phase(
    label: str,
    url: str,
    headers: dict[str, str],
    bodies: list[bytes],
    points: int,
    seconds: float,
    connections: int,
    server_pid: int,
) -> tuple[float, int]:
    """One format for ``seconds`` on ``connections`` sender processes; returns (rate, rss)."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs = [
        ctx.Process(target=sender, args=(url, headers, bodies, points, seconds, results))
        for _ in range(connections)
    ]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    peak = 0
    while any(proc.is_alive() for proc in procs):
        peak = max(peak, rss_kb(server_pid, "VmRSS"))
        time.sleep(0.25)
    totals = [results.get() for _ in procs]
    elapsed = time.monotonic() - started
    for proc in procs:
        proc.join()
    accepted = sum(t[0] for t in totals)
    rate = accepted / seconds
    print(
        f"{label}: {accepted:,} points accepted in {seconds:.0f} s = {rate:,.0f} points/s "
        f"({sum(t[1] for t in totals)} requests of {points:,} points, "
        f"{sum(t[2] for t in totals)} answered 503, {sum(t[3] for t in totals)} errors; "
        f"wall {elapsed:.1f} s; senders used {sum(t[4] for t in totals):.1f} CPU s; "
        f"server RSS up to {peak / 1024:.0f} MB)"
    )
    return rate, peak


def rss_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [RADIATOR, *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"radiator {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start within 60 s")


def stored_rows(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "SELECT split_part(name, '.', 1), count(*) FROM points "
            "WHERE name LIKE 'lp_cpu.%' OR name LIKE 'native_cpu.%' GROUP BY 1"
        ).fetchall()
    return {str(prefix): int(count) for prefix, count in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="Duration of each phase.")
    parser.add_argument("--lines", type=int, default=5000, help="Lines per request body.")
    parser.add_argument("--connections", type=int, default=2, help="Sender processes.")
    parser.add_argument("--bodies", type=int, default=8, help="Distinct bodies per format.")
    parser.add_argument(
        "--recent-hours",
        type=float,
        default=None,
        help="Setting telemetry_recent_hours of the server (default: its default; 0: off).",
    )
    args = parser.parse_args()
    points = args.lines * len(FIELDS)

    with tempfile.TemporaryDirectory(prefix="radiator-bench-") as tmp:
        work = Path(tmp)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "RADIATOR_CONFIG"}
        env.update(
            RADIATOR_DATA_DIR=str(work / "data"),
            RADIATOR_PORT=str(port),
            RADIATOR_LOG_LEVEL="WARNING",
        )
        if args.recent_hours is not None:
            env["RADIATOR_TELEMETRY_RECENT_HOURS"] = str(args.recent_hours)
        cli(env, work, "user", "create", "bench", "--admin", "--password", PASSWORD)
        secret = (
            cli(env, work, "token", "create", "--user", "bench", "--name", "bench", "-s", "ingest")
            .strip()
            .splitlines()[-1]
        )
        headers = {"Authorization": f"Token {secret}"}  # as Influx v2 clients send it
        bearer = {"Authorization": f"Bearer {secret}"}

        print(f"building {args.bodies} bodies per format of {points:,} points ...")
        lp = line_bodies(args.bodies, args.lines)
        native = native_bodies(args.bodies, args.lines)
        print(f"line protocol body {len(lp[0]) / 1e6:.2f} MB, native {len(native[0]) / 1e6:.2f} MB")

        server = subprocess.Popen([RADIATOR, "serve"], env=env, cwd=work, stdout=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, server)
            print(f"server pid {server.pid} on {base}", flush=True)
            lp_rate, _ = run_phase(
                "line protocol", f"{base}/write?db=bench", headers, lp, points,
                args.seconds, args.connections, server.pid,
            )  # fmt: skip
            time.sleep(max(5.0, args.seconds / 6))  # let the flusher catch up between formats
            native_rate, _ = run_phase(
                "native JSON", f"{base}/api/v1/ingest", bearer, native, points,
                args.seconds, args.connections, server.pid,
            )  # fmt: skip
            peak_kb = rss_kb(server.pid, "VmHWM")
            stopping = time.monotonic()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=600)
            drain = time.monotonic() - stopping
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        stored = stored_rows(work / "data" / "telemetry.duckdb")
        print(
            f"stored rows: line protocol {stored.get('lp_cpu', 0):,}, "
            f"native {stored.get('native_cpu', 0):,}; shutdown (final flush) took {drain:.1f} s"
        )
        print(
            f"line_protocol_points_per_second={lp_rate:.0f} "
            f"native_points_per_second={native_rate:.0f} peak_rss_mb={peak_kb / 1024:.0f}"
        )


if __name__ == "__main__":
    main()
