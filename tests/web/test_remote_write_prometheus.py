"""End to end: a real Prometheus scrapes a prometheus_client application and remote-writes
to a real Radiator server; the samples arrive, counters as deltas.

Uses Debian's ``prometheus`` package (scripts/test installs it).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from radiator.core.telemetry import Aggregation, BucketQuery
from radiator.core.types import TimeRange
from radiator.identity import Scope
from radiator.runtime import Runtime
from support import free_port

from .support import TokenFactory

PROMETHEUS = Path("/usr/bin/prometheus")
DEADLINE_S = 90

_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ["127.0.0.1:{app_port}"]
remote_write:
  - url: {radiator}/api/v1/write
    authorization:
      credentials: {token}
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send_interval: 1s
"""


@pytest.fixture
def radiator_url(app: FastAPI) -> Iterator[str]:
    """The test's app served by uvicorn on a real socket, in a thread."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)


@pytest.fixture
def shop() -> Iterator[tuple[int, CollectorRegistry]]:
    """A prometheus_client application's /metrics on a free port."""
    registry = CollectorRegistry()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield port, registry
    server.shutdown()
    server.server_close()
    thread.join(5)


def _prometheus(
    tmp_path: Path, app_port: int, radiator: str, token: str
) -> subprocess.Popen[bytes]:
    assert PROMETHEUS.exists(), "Debian's prometheus package is missing; scripts/test installs it"
    config = tmp_path / "prometheus.yml"
    config.write_text(_CONFIG.format(app_port=app_port, radiator=radiator, token=token))
    with (tmp_path / "prometheus.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{free_port()}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _series(runtime: Runtime, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Sum of everything stored per series of ``name``."""
    runtime.ingest.flush()
    now = datetime.now(UTC)
    query = BucketQuery(
        name,
        TimeRange(now - timedelta(hours=1), now + timedelta(hours=1)),
        timedelta(hours=2),
        Aggregation.SUM,
    )
    return {
        frozenset(s.tags.items()): sum(s.values) for s in runtime.telemetry.query_buckets(query)
    }


def _wait(what: str, check: Callable[[], bool], tmp_path: Path, started: float) -> None:
    while not check():
        if time.monotonic() - started > DEADLINE_S:
            log = (tmp_path / "prometheus.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"{what} did not arrive within {DEADLINE_S}s; Prometheus:\n{log}")
        time.sleep(0.25)


def test_prometheus_remote_writes_a_scraped_application_into_radiator(
    tmp_path: Path,
    runtime: Runtime,
    radiator_url: str,
    shop: tuple[int, CollectorRegistry],
    token_for: TokenFactory,
    admin: str,
) -> None:
    app_port, registry = shop
    orders = Counter("orders", "Orders placed.", ["plan"], registry=registry)
    queue = Gauge("queue_depth", "Jobs waiting.", registry=registry)
    latency = Histogram("request_seconds", "Latency.", buckets=(0.1, 1.0), registry=registry)
    orders.labels("pro").inc(3)
    queue.set(7)
    token = token_for(admin, Scope.INGEST)["Authorization"].removeprefix("Bearer ")
    instance = f"127.0.0.1:{app_port}"
    started = time.monotonic()
    prometheus = _prometheus(tmp_path, app_port, radiator_url, token)
    try:
        _wait("the first scrape", lambda: bool(_series(runtime, "queue_depth")), tmp_path, started)
        orders.labels("pro").inc(5)
        latency.observe(0.5)
        latency.observe(2)

        def increase_arrived() -> bool:
            return list(_series(runtime, "orders_total").values()) == [5.0]

        _wait("the counter increase", increase_arrived, tmp_path, started)
        _wait(
            "the histogram",
            lambda: sum(_series(runtime, "request_seconds.count").values()) == 2.0,
            tmp_path,
            started,
        )
    finally:
        prometheus.terminate()
        prometheus.wait(30)

    [orders_tags] = _series(runtime, "orders_total")
    assert dict(orders_tags) == {"job": "shop", "instance": instance, "plan": "pro"}
    buckets = {dict(k)["le"]: v for k, v in _series(runtime, "request_seconds").items()}
    assert buckets == {"0.1": 0.0, "1.0": 1.0, "+Inf": 2.0}
    up = _series(runtime, "up")
    assert frozenset({"job": "shop", "instance": instance}.items()) in up
