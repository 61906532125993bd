"""`radiator serve` as a real process on a real socket."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from radiator.core.telemetry import Signal
from radiator.storage.telemetry import open_telemetry_store
from support import free_port, serve_env, start_serve, wait_healthy


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    port = free_port()
    # Only the flush at shutdown may write self-telemetry in this test.
    env = serve_env(tmp_path / "data", port, self_telemetry_flush_seconds="3600")
    process = start_serve(env, tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        yield process, f"http://127.0.0.1:{port}", tmp_path / "data"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_first_start_prints_an_admin_who_can_log_in_and_shutdown_flushes_self_telemetry(
    server: tuple[subprocess.Popen[str], str, Path],
) -> None:
    process, base, data_dir = server
    assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
    for _ in range(5):
        assert httpx.get(f"{base}/api/v1/services").status_code == 401

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    # uvicorn re-raises the signal after a graceful shutdown.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    match = re.search(r"username: (\S+)\s+password: (\S+)", output)
    assert match, output
    assert match.group(1) == "admin"

    store = open_telemetry_store("duckdb", str(data_dir / "telemetry.duckdb"))
    try:
        assert store.count(Signal.POINTS) > 0
        assert "radiator.http.requests" in store.metric_names("radiator.http")
    finally:
        store.close()


def test_printed_admin_password_logs_in_and_is_printed_only_once(tmp_path: Path) -> None:
    port = free_port()
    env = {**serve_env(tmp_path / "data", port), "PYTHONUNBUFFERED": "1"}
    base = f"http://127.0.0.1:{port}"
    outputs = []
    for _ in range(2):
        process = start_serve(env, tmp_path)
        try:
            wait_healthy(base, process)
            if not outputs:
                process.send_signal(signal.SIGTERM)
                outputs.append(process.communicate(timeout=30)[0])
                continue
            match = re.search(r"username: (\S+)\s+password: (\S+)", outputs[0])
            assert match, outputs[0]
            login = httpx.post(
                f"{base}/api/v1/auth/login",
                json={"username": match.group(1), "password": match.group(2)},
            )
            assert login.status_code == 200, login.text
            assert login.json()["user"]["role"] == "admin"
            process.send_signal(signal.SIGTERM)
            outputs.append(process.communicate(timeout=30)[0])
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "password:" not in outputs[1]
