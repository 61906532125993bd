"""The Prometheus-compatible API under /prometheus, read by Prometheus' own promtool."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from radiator.config import Settings
from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import MetricKind, Point
from radiator.identity import Scope
from radiator.runtime import Runtime
from sdk.live import live_server

PROMTOOL = Path("/usr/bin/promtool")


@pytest.fixture
def now() -> datetime:
    """When the test runs (a module-level time would be stale by the time a long suite
    reaches this module)."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def seeded(runtime: Runtime, now: datetime) -> Runtime:
    """Two services' request counters (1 per 10 s) and a latency gauge over the last hour."""
    points = []
    for i in range(360):
        at = now - timedelta(seconds=10 * (360 - i))
        for service, status in (("checkout", "200"), ("checkout", "500"), ("search", "200")):
            tags = {"service": service, "status": status}
            points.append(Point("http.requests", 1.0, at, tags, MetricKind.COUNTER))
        points.append(Point("latency_ms", float(i % 10), at, {"service": "search"}))
    runtime.telemetry.append(Signal.POINTS, points_batch(points))
    return runtime


@pytest.fixture
def server(settings: Settings, seeded: Runtime) -> Iterator[str]:
    with live_server(settings, seeded, run_jobs=False) as base:
        yield base


@pytest.fixture
def token(seeded: Runtime, admin: str, token_for) -> str:  # type: ignore[no-untyped-def]
    return str(token_for(admin, Scope.READ)["Authorization"].removeprefix("Bearer "))


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL.exists(), "Debian's prometheus package is missing; scripts/test installs it"
    return subprocess.run(
        [str(PROMTOOL), "query", *args], capture_output=True, text=True, timeout=60, check=False
    )


def with_token(base: str, token: str) -> str:
    # promtool has no auth flag; Go's HTTP client sends URL credentials as HTTP Basic.
    return base.replace("http://", f"http://radiator:{token}@") + "/prometheus"


def test_promtool_instant_query_sums_rates_by_service(
    server: str, token: str, now: datetime
) -> None:
    result = promtool(
        "instant",
        "-o",
        "json",
        f"--time={(now - timedelta(seconds=5)).timestamp():.0f}",
        with_token(server, token),
        "sum by (service) (rate(http.requests[5m]))",
    )
    assert result.returncode == 0, result.stderr
    rows = {row["metric"]["service"]: float(row["value"][1]) for row in json.loads(result.stdout)}
    assert rows == pytest.approx({"checkout": 0.2, "search": 0.1})


def test_promtool_range_query_returns_a_point_per_step(
    server: str, token: str, now: datetime
) -> None:
    start, end = now - timedelta(minutes=30), now - timedelta(minutes=10)
    result = promtool(
        "range",
        "-o",
        "json",
        f"--start={start.isoformat().replace('+00:00', 'Z')}",
        f"--end={end.isoformat().replace('+00:00', 'Z')}",
        "--step=60s",
        with_token(server, token),
        'sum(increase(http.requests{status="500"}[1m]))',
    )
    assert result.returncode == 0, result.stderr
    [series] = json.loads(result.stdout)
    assert series["metric"] == {}
    assert len(series["values"]) == 21
    assert {float(v) for _, v in series["values"]} == {6.0}


def test_promtool_series_and_labels(server: str, token: str) -> None:
    series = promtool(
        "series",
        "-o",
        "json",
        "--match=http.requests{service='checkout'}",
        with_token(server, token),
    )
    assert series.returncode == 0, series.stderr
    found = sorted(row["status"] for row in json.loads(series.stdout))
    assert found == ["200", "500"]
    names = promtool("labels", "-o", "json", with_token(server, token), "service")
    assert names.returncode == 0, names.stderr
    assert json.loads(names.stdout) == ["checkout", "search"]


def test_promtool_reports_a_parse_error_with_its_position(server: str, token: str) -> None:
    result = promtool("instant", with_token(server, token), "sum(rate(http.requests[5m])")
    assert result.returncode != 0
    assert "column" in result.stderr


def test_unsupported_function_is_a_bad_data_error_not_an_answer(server: str, token: str) -> None:
    response = httpx.get(
        f"{server}/prometheus/api/v1/query",
        params={"query": "irate(http.requests[5m])"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert body["errorType"] == "bad_data"
    assert "irate is not supported by Radiator" in body["error"]


def test_query_range_by_post_form_with_basic_auth(server: str, token: str, now: datetime) -> None:
    credentials = base64.b64encode(f"grafana:{token}".encode()).decode()
    response = httpx.post(
        f"{server}/prometheus/api/v1/query_range",
        data={
            "query": 'latency_ms{service="search"}',
            "start": str((now - timedelta(minutes=5)).timestamp()),
            "end": str(now.timestamp()),
            "step": "1m",
        },
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["resultType"] == "matrix"
    [series] = data["result"]
    assert series["metric"] == {"__name__": "latency_ms", "service": "search"}
    assert all(isinstance(value, str) for _, value in series["values"])


def test_unknown_metric_is_an_empty_result(server: str, token: str) -> None:
    response = httpx.get(
        f"{server}/prometheus/api/v1/query",
        params={"query": "no.such.metric"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json() == {"status": "success", "data": {"resultType": "vector", "result": []}}


def test_scalar_and_missing_parameters(server: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    scalar = httpx.get(
        f"{server}/prometheus/api/v1/query", params={"query": "1 + 2"}, headers=headers
    )
    assert scalar.json()["data"]["resultType"] == "scalar"
    assert scalar.json()["data"]["result"][1] == "3"
    missing = httpx.get(
        f"{server}/prometheus/api/v1/query_range", params={"query": "1"}, headers=headers
    )
    assert missing.status_code == 400
    assert "start" in missing.json()["error"]


def test_credentials_are_required(server: str) -> None:
    response = httpx.get(f"{server}/prometheus/api/v1/query", params={"query": "1"})
    assert response.status_code == 401


def test_radiator_query_cli_prints_each_series_latest_value(server: str, token: str) -> None:
    from support import RADIATOR

    result = subprocess.run(
        [RADIATOR, "query", "sum by (service) (increase(http.requests[1h]))", "--url", server],
        env={"RADIATOR_TOKEN": token, "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The last step is the first 30 s boundary after now; its hour holds nearly all of the
    # 720 seeded requests (those older than an hour before it drop out).
    latest = re.search(r'\{service="checkout"\} +│ +(\d+)', result.stdout)
    assert latest is not None, result.stdout
    assert 680 <= int(latest.group(1)) <= 720
    bad = subprocess.run(
        [RADIATOR, "query", "sum(", "--url", server],
        env={"RADIATOR_TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert "column" in bad.stderr
