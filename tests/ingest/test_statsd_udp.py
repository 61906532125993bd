"""StatsD end to end: real client libraries (``statsd``, Datadog's ``datadog``) send over a
real UDP socket to the listener the app's lifespan starts; after a flush the aggregates are
in the telemetry store."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import statsd
from datadog.dogstatsd import DogStatsd
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import make_settings
from radiator.core.telemetry import Aggregation, BucketQuery, Signal, TelemetryStore
from radiator.core.types import TimeRange
from radiator.ingest.selfmetrics import SelfMetrics
from radiator.ingest.statsd_aggregate import StatsdAggregator
from radiator.runtime import Runtime
from radiator.storage.telemetry import open_telemetry_store
from radiator.web import create_app
from radiator.web.udp import StatsdListener, StatsdServer, read_kernel_drops
from support import free_port, start_serve


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Statsd:
    """The app with its StatsD listener on a free port, and ways to flush and read back."""

    def __init__(self, app: FastAPI, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        server: StatsdServer = app.state.statsd
        assert server.listener is not None
        self.aggregator = server.aggregator
        self.port = server.listener.address[1]

    def wait_for_lines(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.aggregator.lines_received < count:
            assert time.monotonic() < deadline, (
                f"{self.aggregator.lines_received} of {count} lines arrived"
            )
            time.sleep(0.01)

    def flush(self) -> None:
        """Run the StatsD flush job, then flush the ingest pipeline into the store."""
        scheduler = self.app.state.scheduler
        (job,) = [job for job in scheduler.jobs if job.name == "statsd-flush"]
        scheduler.run_once(job)
        assert job.stats.failures == 0, job.stats.last_error
        self.runtime.ingest.flush()

    def stored(self, name: str) -> dict[tuple[tuple[str, str], ...], float]:
        return stored(self.runtime.telemetry, name)


def stored(store: TelemetryStore, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Sum of each series of ``name`` written in the last few minutes, by its tags."""
    now = datetime.now(UTC)
    series = store.query_buckets(
        BucketQuery(
            name=name,
            range=TimeRange(now - timedelta(minutes=5), now + timedelta(minutes=1)),
            step=timedelta(minutes=10),
            aggregation=Aggregation.SUM,
        )
    )
    return {tuple(sorted(s.tags.items())): sum(s.values) for s in series}


@pytest.fixture
def udp(tmp_path: Path) -> Iterator[Statsd]:
    settings = make_settings(
        tmp_path,
        statsd_port=free_udp_port(),
        statsd_flush_seconds=3600,  # the tests flush by hand
        self_telemetry_flush_seconds=3600,
    )
    runtime = Runtime(settings)
    app = create_app(settings, runtime=runtime)
    try:
        with TestClient(app):
            yield Statsd(app, runtime)
    finally:
        runtime.close()


@pytest.fixture
def always_sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both clients drop a sample with probability 1 - rate; make them always send it, so the
    server's sample-rate correction can be checked exactly."""

    class NeverSkip:
        @staticmethod
        def random() -> float:
            return 0.0

    monkeypatch.setattr(statsd.client.base, "random", NeverSkip)
    monkeypatch.setattr("datadog.dogstatsd.base.random", NeverSkip.random)


def test_statsd_client_counters_gauges_timers_and_sets(udp: Statsd, always_sampled: None) -> None:
    client = statsd.StatsClient("127.0.0.1", udp.port, prefix="shop")
    client.incr("orders")
    client.incr("orders", 4)
    client.incr("orders", rate=0.5)  # 1 / 0.5
    client.decr("stock", 2)
    client.gauge("queue", 10)
    client.gauge("queue", 5, delta=True)
    client.gauge("temperature", -7)  # sent as "0|g" then "-7|g"
    for millis in (10, 20, 30, 40):
        client.timing("checkout.latency", millis)
    with client.timer("checkout.latency"):
        pass
    client.set("visitors", "alice")
    client.set("visitors", "bob")
    client.set("visitors", "alice")
    with client.pipeline() as pipe:  # several lines in one datagram
        pipe.incr("orders", 10)
        pipe.gauge("queue", 1, delta=True)
    client.close()
    udp.wait_for_lines(18)
    udp.flush()

    assert udp.stored("shop.orders") == {(): 1 + 4 + 2 + 10}
    assert udp.stored("shop.stock") == {(): -2}
    assert udp.stored("shop.queue") == {(): 16}
    assert udp.stored("shop.temperature") == {(): -7}
    assert udp.stored("shop.visitors") == {(): 2}
    assert udp.stored("shop.checkout.latency.count") == {(): 5}
    assert udp.stored("shop.checkout.latency.max") == {(): 40}
    assert udp.stored("shop.checkout.latency.p50") == {(): 20}
    assert 100 <= udp.stored("shop.checkout.latency.sum")[()] < 150


def test_dogstatsd_client_with_tags_rates_distributions_events_and_checks(
    udp: Statsd, always_sampled: None
) -> None:
    client = DogStatsd(host="127.0.0.1", port=udp.port, disable_telemetry=True)
    tags = ["service:checkout", "env:prod"]
    client.increment("http.requests", tags=[*tags, "status:200"])
    client.increment("http.requests", 2, tags=[*tags, "status:200"], sample_rate=0.25)
    client.increment("http.requests", tags=[*tags, "status:500"])
    client.gauge("pool.in_use", 3, tags=tags)
    client.histogram("payload.bytes", 100, tags=tags)
    client.histogram("payload.bytes", 300, tags=tags)
    for value in range(1, 101):
        client.distribution("http.latency", value, tags=[*tags, "canary"])
    client.timing("db.query", 12.5, tags=tags, sample_rate=0.5)
    client.set("users", "u1", tags=tags)
    client.event(
        "checkout 1.4.2 deployed",
        "rolled out by CI\nall green",
        alert_type="success",
        tags=["kind:deploy", "service:checkout", "env:prod", "version:1.4.2"],
        hostname="web-1",
    )
    client.event("Something odd", "", tags=["team:payments"])
    client.service_check("checkout.can_pay", DogStatsd.CRITICAL, tags=tags, message="no | card")
    client.close_socket()
    udp.wait_for_lines(111)
    udp.flush()

    checkout = (("env", "prod"), ("service", "checkout"))
    assert udp.stored("http.requests") == {
        (*checkout, ("status", "200")): 1 + 2 / 0.25,
        (*checkout, ("status", "500")): 1,
    }
    assert udp.stored("pool.in_use") == {checkout: 3}
    assert udp.stored("payload.bytes.sum") == {checkout: 400}
    assert udp.stored("payload.bytes.count") == {checkout: 2}
    canary = (("canary", ""), *checkout)
    assert udp.stored("http.latency.count") == {canary: 100}
    assert udp.stored("http.latency.p50") == {canary: 50}
    assert udp.stored("http.latency.p99") == {canary: 99}
    assert udp.stored("db.query.count") == {checkout: 2}  # one sample at rate 0.5
    assert udp.stored("users") == {checkout: 1}
    assert udp.stored("checkout.can_pay.status") == {checkout: 2}
    assert udp.runtime.telemetry.count(Signal.EVENTS) == 2


def test_buffered_dogstatsd_client_packs_many_lines_per_datagram(udp: Statsd) -> None:
    client = DogStatsd(
        host="127.0.0.1", port=udp.port, disable_buffering=False, disable_telemetry=True
    )
    for i in range(500):
        client.increment("jobs.done", tags=[f"queue:q{i % 5}"])
    client.flush()
    client.close_socket()
    udp.wait_for_lines(500)
    assert udp.aggregator.packets_received < 100
    udp.flush()
    assert udp.stored("jobs.done") == {(("queue", f"q{i}"),): 100 for i in range(5)}


def test_bad_lines_over_udp_are_counted_and_the_rest_is_kept(udp: Statsd) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"good:1|c\nbad line\ngood:2|c\nx:1|zz", ("127.0.0.1", udp.port))
        sock.sendto(b"\xff\xfe:1|c", ("127.0.0.1", udp.port))
    udp.wait_for_lines(5)
    udp.flush()
    assert udp.stored("good") == {(): 3}
    drained = udp.runtime.self_metrics.drain(datetime.now(UTC))
    rejected = {p.tags["reason"]: p.value for p in drained if p.name == "radiator.statsd.rejected"}
    assert rejected == {"syntax": 1, "type": 1, "encoding": 1}


def test_shutdown_writes_what_was_received(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, statsd_port=free_udp_port(), statsd_flush_seconds=3600)
    runtime = Runtime(settings)
    try:
        app = create_app(settings, runtime=runtime)
        with TestClient(app):
            client = statsd.StatsClient("127.0.0.1", settings.statsd_port)
            for _ in range(25):
                client.incr("before.shutdown")
            client.close()
            # No waiting: whatever the kernel holds at shutdown is read and flushed too.
        runtime.ingest.flush()
        assert stored(runtime.telemetry, "before.shutdown") == {(): 25}
    finally:
        runtime.close()


def test_port_zero_turns_statsd_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, statsd_port=0)
    runtime = Runtime(settings)
    try:
        app = create_app(settings, runtime=runtime)
        with TestClient(app) as client:
            assert app.state.statsd.listener is None
            assert client.get("/healthz").status_code == 200
    finally:
        runtime.close()


def test_a_taken_port_is_logged_and_the_api_still_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        settings = make_settings(tmp_path, statsd_port=port)
        runtime = Runtime(settings)
        try:
            app = create_app(settings, runtime=runtime)
            with TestClient(app) as client:
                assert app.state.statsd.listener is None
                assert client.get("/healthz").status_code == 200
        finally:
            runtime.close()
    assert any(f"cannot listen on udp://127.0.0.1:{port}" in r.message for r in caplog.records)


def test_no_listener_without_background_jobs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, statsd_port=free_udp_port())
    runtime = Runtime(settings)
    try:
        app = create_app(settings, runtime=runtime, run_jobs=False)
        with TestClient(app):
            assert app.state.statsd.listener is None
    finally:
        runtime.close()


# -- kernel drops ---------------------------------------------------------------------------


def test_kernel_drops_are_read_from_proc_net_udp(tmp_path: Path) -> None:
    table = tmp_path / "udp"
    table.write_text(
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
        "  timeout inode ref pointer drops\n"
        "  1: 0100007F:1FBD 00000000:0000 07 00000000:00000000 00:00000000 00000000     0"
        "        0 424242 2 0000000000000000 17\n"
    )
    assert read_kernel_drops(424242, (table,)) == 17
    assert read_kernel_drops(1, (table,)) is None
    assert read_kernel_drops(1, (tmp_path / "missing",)) is None


@pytest.mark.skipif(not Path("/proc/net/udp").exists(), reason="needs Linux /proc")
def test_datagrams_the_kernel_drops_are_counted() -> None:
    release = threading.Event()

    class Stuck(StatsdAggregator):
        def add_many(self, datagrams: Any, peers: Any = ()) -> Any:
            release.wait(10)
            return super().add_many(datagrams, peers)

    metrics = SelfMetrics()
    listener = StatsdListener(
        Stuck(metrics), metrics, host="127.0.0.1", port=0, receive_buffer_bytes=4096
    )
    listener._size_buffer = lambda sock: sock.setsockopt(  # type: ignore[method-assign]
        socket.SOL_SOCKET, socket.SO_RCVBUF, 4096
    )
    listener.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for _ in range(400):
                sock.sendto(b"x:1|c" * 100, listener.address)
    finally:
        release.set()
        listener.stop()
    drops = [p.value for p in metrics.drain(datetime.now(UTC)) if p.name.endswith("kernel_drops")]
    assert drops and drops[0] > 0


# -- a real server process ------------------------------------------------------------------


def test_radiator_serve_aggregates_statsd_and_flushes_on_sigterm(tmp_path: Path) -> None:
    http_port, udp_port = free_port(), free_udp_port()
    env = {
        **os.environ,
        "RADIATOR_DATA_DIR": str(tmp_path / "data"),
        "RADIATOR_PORT": str(http_port),
        "RADIATOR_STATSD_PORT": str(udp_port),
    }
    env.pop("RADIATOR_CONFIG", None)
    process = start_serve(env, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        client = DogStatsd(host="127.0.0.1", port=udp_port, disable_telemetry=True)
        for i in range(30):
            client.increment("serve.requests", tags=["service:api"])
            client.histogram("serve.latency", i, tags=["service:api"])
        client.event(
            "api 2.0.1",
            "by CI",
            tags=["kind:deploy", "service:api", "env:prod"],
            date_happened=int(time.time()) - 60,
        )
        client.close_socket()
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert "Application shutdown complete" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    store = open_telemetry_store("duckdb", str(tmp_path / "data" / "telemetry.duckdb"))
    try:
        assert stored(store, "serve.requests") == {(("service", "api"),): 30}
        assert stored(store, "serve.latency.count") == {(("service", "api"),): 30}
        assert stored(store, "serve.latency.max") == {(("service", "api"),): 29}
    finally:
        store.close()
    connection = duckdb.connect(str(tmp_path / "data" / "telemetry.duckdb"), read_only=True)
    try:
        events = connection.execute(
            "SELECT kind, service, environment, title, attributes FROM events"
        ).fetchall()
    finally:
        connection.close()
    ((kind, service, environment, title, attributes),) = events
    assert (kind, service, environment, title) == ("deploy", "api", "prod", "api 2.0.1")
    assert json.loads(attributes) == {"text": "by CI"}
