"""StatsD over UDP on loopback: lines per second received, aggregated and stored, and loss.

The server runs in this process exactly as ``radiator serve`` wires it (Runtime on an
embedded DuckDB file, the StatsD listener thread, the StatsD flush job and the ingest flush
job); a second process sends a mixed DogStatsD workload at a fixed rate.

Run: ``.venv/bin/python benchmarks/bench_statsd.py [--rate 120000] [--seconds 10]
[--lines-per-datagram 0]``. ``--lines-per-datagram 0`` packs lines into datagrams of at
most 1,432 bytes as a buffering DogStatsD client does; ``1`` sends one line per datagram.

Workload per 10 lines: 5 counters (``:1|c``), 3 timers (``|ms``), 1 gauge, 1 set, tagged
with service/route/status (2,000 series). Counters and timers make loss measurable end to
end: every one sent adds exactly 1 to a stored counter sum or timer ``.count``.

The last line printed is the headline: ``statsd_lines_per_second=<received/s> loss_pct=<end
to end loss of counted lines>``.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

MAX_DATAGRAM = 1432  # DogStatsD's default UDP payload when buffering
SERVICES, ROUTES, STATUSES = 10, 20, ("200", "500")


def workload(count: int) -> tuple[list[str], int]:
    """``count`` distinct-ish lines and how many of them are counted (counters + timers)."""
    lines = []
    counted = 0
    for i in range(count):
        tags = (
            f"#service:svc-{i % SERVICES},route:/api/r{(i // SERVICES) % ROUTES},"
            f"status:{STATUSES[i % 7 == 0]}"
        )
        slot = i % 10
        if slot < 5:
            lines.append(f"bench.requests:1|c|{tags}")
            counted += 1
        elif slot < 8:
            lines.append(f"bench.latency:{(i * 7919) % 1000 / 10:.1f}|ms|{tags}")
            counted += 1
        elif slot == 8:
            lines.append(f"bench.queue_depth:{i % 100}|g|{tags}")
        else:
            lines.append(f"bench.users:user-{i % 5000}|s|{tags}")
    return lines, counted


def pack(lines: list[str], per_datagram: int) -> list[tuple[bytes, int, int]]:
    """(datagram, lines in it, counted lines in it) in sending order."""
    out: list[tuple[bytes, int, int]] = []
    current: list[str] = []
    size = 0

    def close() -> None:
        nonlocal current, size
        if current:
            counted = sum(1 for line in current if "|c|" in line or "|ms|" in line)
            out.append(("\n".join(current).encode(), len(current), counted))
        current, size = [], 0

    for line in lines:
        full = per_datagram and len(current) >= per_datagram
        if full or (not per_datagram and size + len(line) + 1 > MAX_DATAGRAM):
            close()
        current.append(line)
        size += len(line) + 1
    close()
    return out


# -- the sender process ---------------------------------------------------------------------


def send(port: int, rate: int, seconds: float, per_datagram: int) -> None:
    lines, _ = workload(20_000)
    datagrams = pack(lines, per_datagram)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    address = ("127.0.0.1", port)
    sent = counted = datagram_count = 0
    index = 0
    start = time.perf_counter()
    end = start + seconds
    while (now := time.perf_counter()) < end:
        due = int((now - start) * rate)
        while sent < due:
            data, n, c = datagrams[index]
            index = (index + 1) % len(datagrams)
            sock.sendto(data, address)
            sent += n
            counted += c
            datagram_count += 1
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    sock.close()
    print(f"{sent} {counted} {datagram_count} {elapsed:.3f}", flush=True)


# -- the server -----------------------------------------------------------------------------


def serve(args: argparse.Namespace) -> None:
    from radiator.config import Settings
    from radiator.core.telemetry import Aggregation, BucketQuery
    from radiator.core.types import TimeRange
    from radiator.jobs import Scheduler, schedule_builtin_jobs
    from radiator.runtime import Runtime
    from radiator.web.udp import StatsdServer

    with tempfile.TemporaryDirectory(prefix="radiator-bench-statsd-") as directory:
        settings = Settings(
            data_dir=Path(directory),
            statsd_port=_free_udp_port(),
            statsd_flush_seconds=args.flush_seconds,
            self_telemetry=False,
        )
        runtime = Runtime(settings)
        scheduler = Scheduler()
        server = StatsdServer(runtime, scheduler)
        schedule_builtin_jobs(scheduler, runtime)
        scheduler.start()
        server.start()
        assert server.listener is not None
        port = server.listener.address[1]
        print(
            f"server: udp 127.0.0.1:{port}, receive buffer "
            f"{server.listener.receive_buffer_bytes} bytes, flush every {args.flush_seconds}s"
        )
        cpu_before = time.process_time()
        started = time.perf_counter()
        sender = subprocess.run(
            [sys.executable, __file__, "--send", str(port), "--rate", str(args.rate),
             "--seconds", str(args.seconds), "--lines-per-datagram",
             str(args.lines_per_datagram)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        sent, counted_sent, datagrams, send_seconds = sender.stdout.split()
        sent_lines, counted_lines = int(sent), int(counted_sent)
        # Let the listener drain what the kernel holds, then stop as a shutdown would.
        deadline = time.monotonic() + 10
        aggregator = server.aggregator
        while aggregator.lines_received < sent_lines and time.monotonic() < deadline:
            previous = aggregator.lines_received
            time.sleep(0.2)
            if aggregator.lines_received == previous:
                break
        receive_seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_before
        server.stop()
        scheduler.stop()  # runs the last StatsD flush and the last ingest flush
        kernel_drops = sum(
            p.value
            for p in runtime.self_metrics.drain(datetime.now(UTC))
            if p.name == "radiator.statsd.kernel_drops"
        )
        received = aggregator.lines_received
        now = datetime.now(UTC)
        window = TimeRange(now - timedelta(hours=1), now + timedelta(minutes=1))

        def total(name: str) -> float:
            series = runtime.telemetry.query_buckets(
                BucketQuery(name, window, timedelta(hours=2), Aggregation.SUM, group_by=())
            )
            return sum(sum(s.values) for s in series)

        stored_counted = total("bench.requests") + total("bench.latency.count")
        runtime.close()

    rate = float(send_seconds) and sent_lines / float(send_seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loss = 100.0 * (1 - stored_counted / counted_lines) if counted_lines else 0.0
    shape = f"{args.lines_per_datagram} line(s)" if args.lines_per_datagram else "≤1432-byte packed"
    print(
        f"datagrams: {shape}, {int(datagrams)} sent ({sent_lines / int(datagrams):.1f} lines each)"
    )
    print(f"sent:      {sent_lines} lines in {float(send_seconds):.2f}s = {rate:,.0f} lines/s")
    print(
        f"received:  {received} lines ({100 * received / sent_lines:.3f}%), "
        f"kernel drops {kernel_drops:.0f} datagrams"
    )
    print(
        f"stored:    {stored_counted:.0f} of {counted_lines} counted lines "
        f"(counters + timer samples) = {100 * stored_counted / counted_lines:.3f}%"
    )
    print(
        f"server:    {cpu_seconds:.1f}s CPU over {receive_seconds:.1f}s "
        f"({100 * cpu_seconds / receive_seconds:.0f}% of one core), peak RSS {peak_mb:.0f} MB"
    )
    received_rate = received / float(send_seconds)
    print(f"statsd_lines_per_second={received_rate:.0f} loss_pct={max(loss, 0.0):.3f}")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=120_000, help="lines per second to send")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--lines-per-datagram", type=int, default=0, help="0: pack to 1432 B")
    parser.add_argument("--flush-seconds", type=float, default=10.0)
    parser.add_argument("--send", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        send(args.send, args.rate, args.seconds, args.lines_per_datagram)
    else:
        os.environ.pop("RADIATOR_CONFIG", None)
        serve(args)


if __name__ == "__main__":
    main()
