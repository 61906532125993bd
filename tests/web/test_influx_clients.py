"""Real InfluxDB client libraries writing to a real Radiator server on a socket.

``influxdb`` (the v1 client) and ``influxdb-client`` (the v2 client) talk to uvicorn serving
the app in a thread; the points are then read back from the telemetry store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from influxdb import InfluxDBClient as V1Client
from influxdb.exceptions import InfluxDBClientError
from influxdb_client import InfluxDBClient as V2Client
from influxdb_client import Point, WritePrecision
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.write_api import SYNCHRONOUS

from radiator.config import Settings
from radiator.core.telemetry import Aggregation, BucketQuery
from radiator.core.types import TimeRange
from radiator.identity import Scope
from radiator.runtime import Runtime
from radiator.web import create_app
from radiator.web.routers.influx import INFLUX_VERSION
from support import free_port

from .support import TokenFactory


@pytest.fixture
def server(settings: Settings, runtime: Runtime) -> Iterator[int]:
    """uvicorn serving the app on a free port in a thread; yields the port."""
    port = free_port()
    app = create_app(settings, runtime=runtime, run_jobs=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield port
    served.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def secret(token_for: TokenFactory, admin: str) -> str:
    return token_for(admin, Scope.INGEST)["Authorization"].removeprefix("Bearer ")


def series(runtime: Runtime, name: str) -> dict[tuple[tuple[str, str], ...], list[float]]:
    runtime.ingest.flush()
    found = runtime.telemetry.query_buckets(
        BucketQuery(
            name=name,
            range=TimeRange.last(timedelta(hours=2)),
            step=timedelta(seconds=1),
            aggregation=Aggregation.LAST,
        )
    )
    return {tuple(sorted(s.tags.items())): s.values for s in found}


def test_the_v1_client_writes_with_basic_auth_and_gzip(
    server: int, runtime: Runtime, secret: str
) -> None:
    client = V1Client("127.0.0.1", server, "telegraf", secret, "telegraf", gzip=True)
    try:
        assert client.ping() == INFLUX_VERSION
        client.create_database("telegraf")
        now = datetime.now(UTC).replace(microsecond=0)
        written = client.write_points(
            [
                {
                    "measurement": "cpu",
                    "tags": {"host": "web 1", "cpu": "cpu-total"},
                    "time": (now - timedelta(seconds=1)).isoformat(),
                    "fields": {"usage_idle": 97.5, "usage_user": 2, "online": True},
                },
                {
                    "measurement": "cpu",
                    "tags": {"host": "web 1", "cpu": "cpu-total"},
                    "time": now.isoformat(),
                    "fields": {"usage_idle": 95.0, "usage_user": 4, "online": False},
                },
            ],
            time_precision="ms",
        )
        assert written is True
        with pytest.raises(InfluxDBClientError, match="partial write") as raised:
            client.write_points(["cpu,host=x v=1", "cpu,host=x v=notanumber"], protocol="line")
        assert raised.value.code == 400
    finally:
        client.close()

    key = (("cpu", "cpu-total"), ("db", "telegraf"), ("host", "web 1"))
    assert series(runtime, "cpu.usage_idle") == {key: [97.5, 95.0]}
    assert series(runtime, "cpu.usage_user") == {key: [2.0, 4.0]}
    assert series(runtime, "cpu.online") == {key: [1.0, 0.0]}
    assert series(runtime, "cpu.v") == {(("db", "telegraf"), ("host", "x")): [1.0]}


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_the_v2_client_writes_with_token_auth(
    server: int, runtime: Runtime, secret: str, gzip: bool
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with V2Client(
        url=f"http://127.0.0.1:{server}", token=secret, org="acme", enable_gzip=gzip
    ) as client:
        assert client.ping()
        writer = client.write_api(write_options=SYNCHRONOUS)
        writer.write(
            bucket="infra",
            record=[
                Point("mem")
                .tag("host", "db-1")
                .field("used_percent", 41.25)
                .field("total", 8_000_000)
                .field("note", "strings are skipped")
                .time(now - timedelta(seconds=1), WritePrecision.S),
                Point("mem")
                .tag("host", "db-1")
                .field("used_percent", 42.5)
                .field("total", 8_000_000)
                .time(now, WritePrecision.S),
            ],
            write_precision=WritePrecision.S,
        )
        with pytest.raises(InfluxDBError, match="partial write") as raised:
            writer.write(bucket="infra", record="mem,host=db-2 used_percent=1\nmem bad")
        assert raised.value.response.status == 400

    key = (("db", "infra"), ("host", "db-1"))
    assert series(runtime, "mem.used_percent")[key] == [41.25, 42.5]
    assert series(runtime, "mem.total")[key] == [8_000_000.0, 8_000_000.0]
    assert series(runtime, "mem.used_percent")[(("db", "infra"), ("host", "db-2"))] == [1.0]
    assert "mem.note" not in runtime.telemetry.metric_names("mem.")


def test_the_v2_client_sees_a_wrong_token_as_unauthorized(server: int) -> None:
    with V2Client(url=f"http://127.0.0.1:{server}", token="wrong", org="acme") as client:
        writer = client.write_api(write_options=SYNCHRONOUS)
        with pytest.raises(InfluxDBError) as raised:
            writer.write(bucket="infra", record="mem v=1")
    assert raised.value.response.status == 401
