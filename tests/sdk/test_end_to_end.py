"""The SDK against `radiator serve` as a real process: one line, and the point is stored."""

from __future__ import annotations

import logging
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import radiator.sdk
import radiator.sdk.client as client_module
from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import TimeRange
from radiator.sdk import events, metrics, span
from radiator.sdk.logging import RadiatorHandler
from radiator.storage.telemetry import open_telemetry_store
from support import RADIATOR, free_port, serve_env, start_serve, wait_healthy


def run(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [RADIATOR, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_one_line_in_the_sdk_lands_in_the_store_of_a_real_server(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = serve_env(tmp_path / "data", port, self_telemetry_flush_seconds="3600")
    run(env, tmp_path, "user", "create", "deployer", "--role", "editor", "--password", "x" * 16)
    secret = (
        run(env, tmp_path, "token", "create", "-u", "deployer", "-n", "sdk", "-s", "ingest")
        .strip()
        .splitlines()[-1]
    )

    client = radiator.sdk.init(base, secret, service="checkout", environment="test")
    handler = RadiatorHandler()
    shop_log = logging.getLogger("shop.e2e")
    shop_log.addHandler(handler)
    process: subprocess.Popen[str] | None = None
    try:
        # The server is not up yet: nothing raises, the data waits.
        metrics.count("checkout.completed", tags={"plan": "pro"})
        assert client.flush(timeout=2) is False
        assert client.stats.errors >= 1

        process = start_serve(env, tmp_path)
        wait_healthy(base, process)

        metrics.count("checkout.completed", tags={"plan": "pro"})
        metrics.timing("checkout.duration_ms", 42.0)
        events.deploy("checkout", "1.4.2", actor="ci", commit="9f2c1e0")
        with span("charge card"):
            shop_log.error("card declined")
        assert client.flush(timeout=10)
        assert client.stats.dropped == 0
        assert client.stats.rejected == 0
        assert client.stats.sent >= 12

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert "Application shutdown complete" in output, output
    finally:
        shop_log.removeHandler(handler)
        client.close(timeout=1)
        client_module._default = None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    store = open_telemetry_store("duckdb", str(tmp_path / "data" / "telemetry.duckdb"))
    try:
        window = TimeRange.last(timedelta(hours=1))
        query = BucketQuery(
            "checkout.completed",
            window,
            window.duration,
            Aggregation.SUM,
            tags={"plan": "pro", "service": "checkout", "environment": "test"},
            group_by=(),
        )
        (series,) = store.query_buckets(query)
        assert sum(series.values) == 2, "the count recorded while the server was down is lost"
        assert "checkout.duration_ms.p99" in store.metric_names("checkout.")
        assert store.count(Signal.EVENTS) == 1
        assert store.count(Signal.LOGS) == 1
        assert store.count(Signal.SPANS) == 1
    finally:
        store.close()


def test_a_wrong_token_is_dropped_and_counted_not_raised(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = serve_env(tmp_path / "data", port)
    process = start_serve(env, tmp_path, capture=False)
    try:
        wait_healthy(base, process)
        with radiator.sdk.Client(base, "rad_wrong", service="s") as client:
            client.count("never.stored")
            assert client.flush(timeout=5)
            assert client.stats.dropped == 1
            assert client.stats.sent == 0
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
