"""`radiator agent`: host metrics collected with psutil and shipped to a real server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import psutil
import pytest
from typer.testing import CliRunner

from conftest import TokenFactory
from radiator.cli.agent import HostCollector
from radiator.cli.main import app
from radiator.config import Settings
from radiator.core.types import MetricKind
from radiator.identity import Scope
from radiator.runtime import Runtime
from support import free_port

from .live import live_server, metric_sum, wait_for_metric


def loopback_traffic(size: int = 256 * 1024) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with socket.create_connection(listener.getsockname()) as sender:
            receiver, _ = listener.accept()
            with receiver:
                sender.sendall(b"x" * size)
                received = 0
                while received < size:
                    received += len(receiver.recv(65536))


def test_a_collection_covers_cpu_memory_disk_network_load_and_processes() -> None:
    collector = HostCollector("web-1", top=3)
    collector.prime()
    loopback_traffic()
    samples = collector.collect()

    names = {s.name for s in samples}
    assert {
        "system.cpu.percent",
        "system.cpu.core.percent",
        "system.cpu.mode.percent",
        "system.memory.used_bytes",
        "system.memory.percent",
        "system.swap.total_bytes",
        "system.disk.used_bytes",
        "system.disk.percent",
        "system.net.bytes_sent",
        "system.net.bytes_recv",
        "system.load.1",
        "system.load.15",
        "system.uptime_s",
        "system.processes",
        "process.cpu.percent",
        "process.memory.rss_bytes",
    } <= names
    assert all(s.tags["host"] == "web-1" for s in samples)
    cores = [s for s in samples if s.name == "system.cpu.core.percent"]
    assert len(cores) == psutil.cpu_count()
    assert {s.tags["mount"] for s in samples if s.name == "system.disk.percent"} >= {"/"}
    assert len([s for s in samples if s.name == "process.memory.rss_bytes"]) == 3
    assert max(s.value for s in samples if s.name == "process.memory.rss_bytes") > 1_000_000


def test_cumulative_io_counters_are_sent_as_deltas() -> None:
    def kernel_total() -> int:
        return int(psutil.net_io_counters(pernic=True)["lo"].bytes_sent)

    collector = HostCollector("web-1")
    before = kernel_total()
    collector.prime()
    loopback_traffic(512 * 1024)
    deltas = []
    for _ in range(2):
        (lo,) = [
            s
            for s in collector.collect()
            if s.name == "system.net.bytes_sent" and s.tags["interface"] == "lo"
        ]
        assert lo.kind is MetricKind.COUNTER
        deltas.append(lo.value)
    after = kernel_total()

    assert deltas[0] >= 512 * 1024
    # Increases, not running totals: together they are at most what the kernel counted.
    assert sum(deltas) <= after - before


def test_the_first_reading_of_a_counter_sends_nothing() -> None:
    collector = HostCollector("web-1")

    assert collector._delta("system.net.bytes_sent", 1000, interface="eth0") is None
    again = collector._delta("system.net.bytes_sent", 1500, interface="eth0")
    assert again is not None and again.value == 500
    restarted = collector._delta("system.net.bytes_sent", 20, interface="eth0")
    assert restarted is not None and restarted.value == 20


@pytest.fixture
def served(settings: Settings, runtime: Runtime) -> Iterator[str]:
    with live_server(settings, runtime, run_jobs=False) as url:
        yield url


def test_agent_once_ships_host_metrics_to_a_real_server(
    served: str, runtime: Runtime, token_for: TokenFactory, admin: str
) -> None:
    secret = token_for(admin, Scope.INGEST)["Authorization"].removeprefix("Bearer ")
    result = CliRunner().invoke(
        app,
        [
            "agent",
            "--url",
            served,
            "--token",
            secret,
            "--once",
            "--interval",
            "0.3",
            "--host-tag",
            "agent-test-host",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "sent" in result.output
    assert wait_for_metric(runtime, "system.memory.total_bytes", flush=True) == (
        psutil.virtual_memory().total
    )
    tags = {"host": "agent-test-host", "service": "host"}
    assert metric_sum(runtime, "system.cpu.core.percent", cpu="0", **tags) >= 0
    assert metric_sum(runtime, "system.disk.total_bytes", mount="/", **tags) > 0
    assert metric_sum(runtime, "system.processes", **tags) > 1


def test_agent_once_fails_clearly_when_the_server_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        app, ["agent", "--url", url, "--token", "rad_x", "--once", "--interval", "0.1"]
    )

    assert result.exit_code == 1
    assert "could not send" in result.output
