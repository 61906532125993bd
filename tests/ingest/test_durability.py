"""kill -9 in the middle of a load: every acknowledged point, event, log and span survives,
and nothing is stored twice. A real `radiator serve` process, real sockets."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import httpx

from support import RADIATOR, free_port, serve_env, start_serve, wait_healthy


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    process = start_serve(env, cwd, capture=False)
    wait_healthy(f"http://127.0.0.1:{env['RADIATOR_PORT']}", process)
    return process


def _batch(start: int, size: int) -> dict[str, list[dict[str, object]]]:
    ids = range(start, start + size)
    return {
        "points": [{"name": "durability.seq", "value": i, "tags": {"w": str(i % 7)}} for i in ids],
        "events": [{"kind": "custom", "title": f"event {start}"}],
        "logs": [{"message": f"log {start}", "level": "INFO", "service": "load"}],
        "spans": [
            {"trace_id": f"t{start}", "span_id": f"s{start}", "name": "op", "duration_ms": 1}
        ],
    }


def test_acknowledged_data_survives_kill_9_without_duplicates(tmp_path: Path) -> None:
    port = free_port()
    env = serve_env(tmp_path / "data", port, ingest_flush_seconds="1", self_telemetry="false")
    subprocess.run(
        [RADIATOR, "user", "create", "loader", "--role", "editor"],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    created = subprocess.run(
        [RADIATOR, "token", "create", "-u", "loader", "-n", "load", "-s", "ingest"],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
    server = _start(env, tmp_path)

    acknowledged: list[int] = []  # batch start numbers answered 200
    lock = threading.Lock()
    stop = threading.Event()
    size = 200

    def load(worker: int) -> None:
        n = worker
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            while not stop.is_set():
                start = n * size
                try:
                    answer = client.post("/api/v1/ingest", json=_batch(start, size), timeout=5)
                except httpx.HTTPError:
                    return  # the server is gone
                if answer.status_code == 200:
                    with lock:
                        acknowledged.append(start)
                n += 4

    workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 30
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
        if server.poll() is None:
            server.kill()
            server.wait()
    assert len(acknowledged) >= 60, "the load never got going"
    # The kill left acknowledged points only in the write-ahead log, so replay must matter.
    killed = duckdb.connect(str(tmp_path / "data" / "telemetry.duckdb"))
    try:
        row = killed.execute("SELECT count(*) FROM points").fetchone()
        in_store_at_kill = int(row[0]) if row else 0
    finally:
        killed.close()
    assert in_store_at_kill < len(acknowledged) * size

    # Restart: start-up replays the write-ahead log; a graceful stop flushes the rest.
    restarted = _start(env, tmp_path)
    restarted.send_signal(signal.SIGTERM)
    restarted.wait(timeout=30)

    connection = duckdb.connect(str(tmp_path / "data" / "telemetry.duckdb"), read_only=True)
    try:
        values = [
            int(v)
            for (v,) in connection.execute(
                "SELECT value FROM points WHERE name = 'durability.seq'"
            ).fetchall()
        ]
        titles = {t for (t,) in connection.execute("SELECT title FROM events").fetchall()}
        logs = {m for (m,) in connection.execute("SELECT message FROM logs").fetchall()}
        traces = {t for (t,) in connection.execute("SELECT trace_id FROM spans").fetchall()}
    finally:
        connection.close()
    assert len(values) == len(set(values)), "some points were stored twice"
    stored = set(values)
    for start in acknowledged:
        assert set(range(start, start + size)) <= stored, f"batch {start} was acknowledged but lost"
        assert f"event {start}" in titles
        assert f"log {start}" in logs
        assert f"t{start}" in traces
