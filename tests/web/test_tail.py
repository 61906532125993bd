"""GET /api/v1/logs/tail: a live Server-Sent Events stream, on a real server and in-process."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from radiator.core.caller import SYSTEM
from radiator.core.schema import logs_batch
from radiator.core.telemetry import Signal
from radiator.core.types import LogLevel, LogRecord
from radiator.identity import ApiTokenCreate, Role, Scope, UserCreate
from radiator.runtime import Runtime
from support import free_port, serve_env, start_serve, wait_healthy

TAIL = "/api/v1/logs/tail"


def _events(lines: Iterator[str], count: int) -> list[dict[str, Any]]:
    """The data of the next ``count`` ``log`` events (comments and blank lines skipped)."""
    found: list[dict[str, Any]] = []
    event = ""
    for line in lines:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "log":
            found.append(orjson.loads(line.removeprefix("data: ")))
            if len(found) == count:
                return found
    raise AssertionError(f"the stream ended after {found}")


def _ingest(http: httpx.Client, base: str, headers: dict[str, str], *logs: Any) -> None:
    answer = http.post(f"{base}/api/v1/ingest", json={"logs": list(logs)}, headers=headers)
    assert answer.status_code < 300, answer.text


def _log(service: str, level: str, message: str, seconds_ago: float = 0) -> dict[str, Any]:
    moment = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return {
        "service": service,
        "level": level,
        "message": message,
        "time": moment.isoformat(),
        "attributes": {"region": "eu"},
    }


def _wait_stored(http: httpx.Client, base: str, headers: dict[str, str], count: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = http.get(f"{base}/api/v1/logs", headers=headers).json()["records"]
        if len(found) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"{count} records were not stored in time")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A real `radiator serve` allowing one tail at a time, and a read+ingest token."""
    port = free_port()
    env = serve_env(tmp_path / "data", port, log_tail_max_streams="1")
    # The user and token are made in this process on the server's data directory, first.
    setup = Runtime(make_settings(tmp_path, data_dir=tmp_path / "data", telemetry_path=""))
    try:
        setup.identity.create_user(
            UserCreate(username="tailer", password="x" * 16, role=Role.EDITOR)
        )
        data = ApiTokenCreate(name="t", scopes=[Scope.INGEST, Scope.READ])
        secret = setup.identity.create_token("tailer", data, SYSTEM).secret
    finally:
        setup.close()
    headers = {"Authorization": f"Bearer {secret}"}
    process = start_serve(env, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        yield base, headers
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert "Application shutdown complete" in output, output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_tail_streams_backfill_then_records_ingested_over_http(
    server: tuple[str, dict[str, str]],
) -> None:
    base, headers = server
    with httpx.Client(timeout=15) as http:
        _ingest(
            http,
            base,
            headers,
            _log("checkout", "ERROR", "first", seconds_ago=3),
            _log("checkout", "ERROR", "second", seconds_ago=2),
            _log("checkout", "WARN", "third", seconds_ago=1),
            _log("search", "ERROR", "other service", seconds_ago=1),
        )
        _wait_stored(http, base, headers, 4)
        params = {"service": "checkout", "backfill": "2", "attr.region": "eu"}
        with http.stream("GET", f"{base}{TAIL}", params=params, headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            backfill = _events(lines, 2)
            assert [e["message"] for e in backfill] == ["second", "third"]
            assert set(backfill[0]) == {
                "time", "service", "level", "message", "attributes", "trace_id", "span_id"
            }  # fmt: skip

            refused = http.get(f"{base}{TAIL}", headers=headers)
            assert refused.status_code == 503
            assert "log_tail_max_streams" in refused.json()["detail"]

            _ingest(
                http,
                base,
                headers,
                _log("search", "ERROR", "not this service"),
                _log("checkout", "ERROR", "live one"),
            )
            _ingest(http, base, headers, _log("checkout", "INFO", "live two"))
            live = _events(lines, 2)
            assert [(e["service"], e["message"]) for e in live] == [
                ("checkout", "live one"),
                ("checkout", "live two"),
            ]

        # The closed tail gives its slot back once the server notices the disconnect.
        deadline = time.monotonic() + 10
        status = 0
        while time.monotonic() < deadline and status != 200:
            again = http.get(f"{base}{TAIL}", params={"max_seconds": "0.5"}, headers=headers)
            status = again.status_code
            time.sleep(0.2)
        assert status == 200


def test_tail_through_the_test_client_ends_after_max_seconds(
    client: TestClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    now = datetime.now(UTC)
    records = [
        LogRecord(now - timedelta(seconds=3 - i), "api", level, f"m{i}")
        for i, level in enumerate([LogLevel.ERROR, LogLevel.DEBUG, LogLevel.FATAL])
    ]
    runtime.telemetry.append(Signal.LOGS, logs_batch(records))

    answer = client.get(
        TAIL, params={"min_level": "ERROR", "max_seconds": "1"}, headers=admin_headers
    )

    assert answer.status_code == 200
    blocks = [block.splitlines() for block in answer.text.split("\n\n") if block]
    assert blocks[0] == [": tail started"]
    events = [(b[0], orjson.loads(b[1].removeprefix("data: "))) for b in blocks[1:]]
    assert events == [
        ("event: log", {**events[0][1], "message": "m0", "level": "ERROR"}),
        ("event: log", {**events[1][1], "message": "m2", "level": "FATAL"}),
        ("event: ready", {"backfilled": 2}),
    ]


def test_tail_refuses_bad_parameters_and_anonymous_callers(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert client.get(TAIL, params={"backfill": "-1"}, headers=admin_headers).status_code == 422
    assert client.get(TAIL, params={"level": "LOUD"}, headers=admin_headers).status_code == 422
    assert client.get(TAIL).status_code == 401
