"""Time from an SDK call to the point being queryable, through a real server on a real socket.

One process: ``radiator serve``'s app under uvicorn in a thread, on a Runtime held here (so
the telemetry store can be read while the server runs, as a query would), with default
settings and a file-backed DuckDB store. Each trial waits a random fraction of a second (so
the call lands at a random phase of both flush timers), calls
``client.count("bench.sdk_latency", tags={"trial": i})`` once, and polls the store every
10 ms until that point is there.

What the time is made of: the SDK's flush interval (``--sdk-flush-interval``, 1 s by
default: on average half of it is spent waiting), the request, and the server's ingest flush
(``ingest_flush_seconds``, 1 s: again half on average) to the store.

Run: ``.venv/bin/python benchmarks/bench_sdk_latency.py [--trials N]``.
The last line printed is the headline figure, ``sdk_to_queryable_median_s=<s>``.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import uvicorn

from radiator.config import Settings
from radiator.core.caller import SYSTEM
from radiator.core.telemetry import Aggregation, BucketQuery
from radiator.core.types import TimeRange
from radiator.identity import ApiTokenCreate, Role, Scope, UserCreate
from radiator.runtime import Runtime
from radiator.sdk import Client
from radiator.web import create_app

METRIC = "bench.sdk_latency"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(settings: Settings, runtime: Runtime) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(settings, runtime=runtime)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread


def _visible(runtime: Runtime, trial: int) -> bool:
    window = TimeRange.last(timedelta(minutes=10))
    query = BucketQuery(
        METRIC,
        window,
        window.duration,
        Aggregation.SUM,
        tags={"trial": str(trial)},
        group_by=(),
    )
    return bool(runtime.telemetry.query_buckets(query))


def _trial(client: Client, runtime: Runtime, trial: int, timeout: float) -> float:
    started = time.perf_counter()
    client.count(METRIC, tags={"trial": str(trial)})
    while time.perf_counter() - started < timeout:
        if _visible(runtime, trial):
            return time.perf_counter() - started
        time.sleep(0.01)
    raise SystemExit(f"trial {trial}: the point was not queryable within {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=25)
    parser.add_argument("--sdk-flush-interval", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="radiator-bench-") as directory:
        settings = Settings(
            data_dir=Path(directory),
            port=_free_port(),
            statsd_port=0,
            session_cookie_secure=False,
        )
        runtime = Runtime(settings)
        runtime.identity.create_user(
            UserCreate(username="bench", password="a long benchmark password", role=Role.EDITOR)
        )
        secret = runtime.identity.create_token(
            "bench", ApiTokenCreate(name="bench", scopes=[Scope.INGEST]), SYSTEM
        ).secret
        server, thread = _serve(settings, runtime)
        client = Client(
            f"http://127.0.0.1:{settings.port}",
            secret,
            service="bench",
            flush_interval=args.sdk_flush_interval,
        )
        try:
            _trial(client, runtime, -1, 30)  # warm-up: first connection, first flush
            latencies = []
            for trial in range(args.trials):
                time.sleep(rng.uniform(0, 1.0))
                latencies.append(_trial(client, runtime, trial, 30))
                print(f"trial {trial:2d}: {latencies[-1]:.3f} s", flush=True)
        finally:
            client.close()
            server.should_exit = True
            thread.join(30)
            runtime.close()

    ordered = sorted(latencies)
    print(
        f"trials={len(ordered)} sdk_flush_interval={args.sdk_flush_interval}s "
        f"ingest_flush_seconds={settings.ingest_flush_seconds}s"
    )
    print(
        f"min={ordered[0]:.3f}s p90={ordered[int(0.9 * (len(ordered) - 1))]:.3f}s "
        f"max={ordered[-1]:.3f}s mean={statistics.fmean(ordered):.3f}s "
        f"client_stats={client.stats}"
    )
    print(f"sdk_to_queryable_median_s={statistics.median(ordered):.3f}")


if __name__ == "__main__":
    main()
