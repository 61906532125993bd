"""A real Radiator server on a real socket, in this process, around a Runtime the test holds.

Running it in-process lets a test look into the telemetry store while the server runs
(DuckDB allows one process per file), the way a query would see the data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import uvicorn

from radiator.config import Settings
from radiator.core.telemetry import Aggregation, BucketQuery
from radiator.core.types import TimeRange
from radiator.runtime import Runtime
from radiator.web import create_app
from support import free_port


@contextmanager
def live_server(settings: Settings, runtime: Runtime, *, run_jobs: bool = True) -> Iterator[str]:
    """Serve ``create_app(settings, runtime=runtime)``; yields the base URL."""
    app = create_app(settings, runtime=runtime, run_jobs=run_jobs)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def metric_sum(runtime: Runtime, name: str, **tags: str) -> float:
    """The sum of a metric's points of the last hour (what a dashboard query would show)."""
    window = TimeRange.last(timedelta(hours=1))
    query = BucketQuery(name, window, window.duration, Aggregation.SUM, tags=tags, group_by=())
    return sum(sum(series.values) for series in runtime.telemetry.query_buckets(query))


def wait_for_metric(
    runtime: Runtime, name: str, *, timeout: float = 15, flush: bool = False, **tags: str
) -> float:
    """Poll until ``name`` has data; ``flush`` pushes the ingest buffer when jobs are off."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if flush:
            runtime.ingest.flush()
        total = metric_sum(runtime, name, **tags)
        if total:
            return total
        time.sleep(0.05)
    raise AssertionError(f"{name} {tags} did not arrive within {timeout}s")
