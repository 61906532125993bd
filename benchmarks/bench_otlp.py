"""OTLP/HTTP protobuf metrics into a real ``radiator serve`` process.

Prebuilds ``ExportMetricsServiceRequest`` bodies (default: 1,000 series x 10 points each, ten
metrics of 100 series with two point attributes), then load processes POST them over
keep-alive connections for ``--seconds`` and count the data points the server acknowledged
(200: in the write-ahead log). At the end the server is stopped (it flushes), the stored
points are counted, and the server's peak RSS (VmHWM) is reported.

Run: ``.venv/bin/python benchmarks/bench_otlp.py [--seconds 30] [--kind gauge|sum]
[--clients 1]``. The last line printed is the headline, ``otlp_points_per_second=<n>``
(acknowledged points per second of load).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from radiator.config import Settings
from radiator.core.caller import SYSTEM
from radiator.core.telemetry import Signal
from radiator.identity import ApiTokenCreate, Role, Scope, UserCreate
from radiator.ingest import BatchBuilder, SeriesLimiter
from radiator.ingest.otlp_codec import Encoding, OtlpSignal, decode_request
from radiator.ingest.otlp_cumulative import CumulativeStreams
from radiator.ingest.otlp_metrics import MetricsDecoder
from radiator.runtime import Runtime
from radiator.storage.telemetry import open_telemetry_store

RADIATOR = str(Path(sys.executable).with_name("radiator"))
METRICS = 10


def build_body(series: int, points: int, kind: str, round_: int) -> bytes:
    """One request: ``series`` series (spread over ten metrics), ``points`` points each.

    Cumulative sums count up from one body to the next, so every point is a real delta.
    """
    now = time.time_ns()
    start = now - 3_000 * 1_000_000_000
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    for key, value in (
        ("service.name", "bench"),
        ("deployment.environment.name", "perf"),
        ("telemetry.sdk.name", "opentelemetry"),
        ("telemetry.sdk.language", "python"),
    ):
        resource.resource.attributes.add(key=key, value=AnyValue(string_value=value))
    scope = resource.scope_metrics.add()
    scope.scope.name = "bench"
    per_metric = max(1, series // METRICS)
    for m in range(METRICS):
        metric = scope.metrics.add(name=f"bench.requests_{m}", unit="1")
        if kind == "sum":
            metric.sum.aggregation_temporality = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
            metric.sum.is_monotonic = True
            data_points = metric.sum.data_points
        else:
            data_points = metric.gauge.data_points
        for s in range(per_metric):
            for p in range(points):
                step = round_ * points + p
                point = data_points.add(
                    start_time_unix_nano=start,
                    time_unix_nano=start + (step + 1) * 1_000_000_000,
                    as_double=float(step * 3 + s % 5),
                )
                point.attributes.add(key="host", value=AnyValue(string_value=f"host-{s}"))
                point.attributes.add(key="route", value=AnyValue(string_value=f"/api/{s % 7}"))
    return bytes(request.SerializeToString())


def decode_rate(bodies: list[bytes], rounds: int = 3) -> float:
    """Points per second through decode, mapping and validation alone, in this process
    (no HTTP, no write-ahead log, no store): the receiver's own ceiling."""
    streams = CumulativeStreams(since_ns=0)
    limiter = SeriesLimiter(1_000_000)
    points = 0
    began = time.perf_counter()
    for _ in range(rounds):
        for body in bodies:
            request = decode_request(OtlpSignal.METRICS, Encoding.PROTOBUF, body)
            builder = BatchBuilder(time.time_ns() // 1000, limiter)
            session = streams.session()
            MetricsDecoder(builder, session).add(request.resource_metrics)
            session.commit()
            builder.tables()
            points += builder.result.accepted
    return points / (time.perf_counter() - began)


def _load(
    url: str, token: str, bodies: list[bytes], per_body: int, seconds: float, out: mp.Queue
) -> None:
    headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {token}"}
    acknowledged = refused = requests = 0
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < deadline:
            body = bodies[requests % len(bodies)]
            response = client.post(url, content=body, headers=headers)
            requests += 1
            if response.status_code == 200:
                acknowledged += per_body
            elif response.status_code in (429, 503):
                refused += per_body
                time.sleep(float(response.headers.get("Retry-After", "1")))
            else:
                raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")
    out.put((acknowledged, refused, requests))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _ingest_token(data_dir: Path) -> str:
    runtime = Runtime(Settings(data_dir=data_dir))
    try:
        runtime.identity.create_user(
            UserCreate(username="bench", password="benchmark password 1", role=Role.ADMIN)
        )
        token = runtime.identity.create_token(
            "bench", ApiTokenCreate(name="bench", scopes=[Scope.INGEST]), SYSTEM
        )
        return token.secret
    finally:
        runtime.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--series", type=int, default=1_000)
    parser.add_argument("--points", type=int, default=10, help="points per series per body")
    parser.add_argument("--bodies", type=int, default=20, help="distinct bodies to cycle")
    parser.add_argument("--kind", choices=["gauge", "sum"], default="gauge")
    parser.add_argument("--clients", type=int, default=1, help="load processes")
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy the server (speedscope JSON, GIL holders)"
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="experiment: start the server with its import-time heap frozen (gc.freeze())",
    )
    args = parser.parse_args()

    bodies = [build_body(args.series, args.points, args.kind, r) for r in range(args.bodies)]
    per_body = (args.series // METRICS) * METRICS * args.points
    print(f"bodies={len(bodies)} points_per_body={per_body} body_bytes={len(bodies[0])}")
    print(f"in_process_decode_points_per_second={round(decode_rate(bodies))}")

    with tempfile.TemporaryDirectory(prefix="radiator-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        token = _ingest_token(data_dir)
        port = _free_port()
        env = {
            **os.environ,
            "RADIATOR_DATA_DIR": str(data_dir),
            "RADIATOR_PORT": str(port),
            "RADIATOR_LOG_LEVEL": "WARNING",
            "RADIATOR_MAX_SERIES_PER_METRIC": "100000",
        }
        env.pop("RADIATOR_CONFIG", None)
        command = [RADIATOR, "serve"]
        if args.gc_freeze:
            freeze = "import gc, radiator.cli.main as m; gc.freeze(); m.main()"
            command = [sys.executable, "-c", freeze, "serve"]
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, server)
            results: mp.Queue[tuple[int, int, int]] = mp.Queue()
            loaders = [
                mp.Process(
                    target=_load,
                    args=(f"{base}/v1/metrics", token, bodies, per_body, args.seconds, results),
                )
                for _ in range(args.clients)
            ]
            began = time.perf_counter()
            for loader in loaders:
                loader.start()
            spy = None
            if args.profile:
                spy = subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("py-spy")),
                        "record",
                        "--format",
                        "speedscope",
                        "-o",
                        args.profile,
                        "-d",
                        str(int(args.seconds)),
                        "-p",
                        str(server.pid),
                        "--threads",
                    ],
                    stdout=subprocess.DEVNULL,
                )
            totals = [results.get(timeout=args.seconds + 300) for _ in loaders]
            elapsed = time.perf_counter() - began
            for loader in loaders:
                loader.join()
            if spy is not None:
                spy.wait(timeout=120)
            peak_mb = _peak_rss_mb(server.pid)
            stop_began = time.perf_counter()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=600)
            drain_s = time.perf_counter() - stop_began
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()

        store = open_telemetry_store("duckdb", str(data_dir / "telemetry.duckdb"))
        try:
            stored = store.count(Signal.POINTS)
        finally:
            store.close()

    acknowledged = sum(t[0] for t in totals)
    refused = sum(t[1] for t in totals)
    requests = sum(t[2] for t in totals)
    print(f"kind={args.kind} clients={args.clients} seconds={elapsed:.1f} requests={requests}")
    print(f"acknowledged_points={acknowledged} refused_points={refused} stored_points={stored}")
    print(f"shutdown_drain_seconds={drain_s:.1f} peak_server_rss_mb={peak_mb:.0f}")
    print(f"otlp_points_per_second={round(acknowledged / elapsed)}")


if __name__ == "__main__":
    main()
