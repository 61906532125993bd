"""The one-line module functions: ``metrics``, ``events`` and the default client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

import radiator.sdk
import radiator.sdk.client as client_module
from radiator.sdk import Client, MockTransport, events, metrics

from .helpers import points_by_name


def test_one_line_creates_a_counter(default_client: Client, transport: MockTransport) -> None:
    metrics.count("checkout.completed", tags={"plan": "pro"})
    default_client.flush()

    (point,) = transport.items("points")
    assert point["name"] == "checkout.completed"
    assert point["value"] == 1
    assert point["kind"] == "counter"
    assert point["tags"] == {"plan": "pro", "service": "checkout", "environment": "test"}


def test_gauge_histogram_and_timing_values(
    default_client: Client, transport: MockTransport
) -> None:
    metrics.gauge("pool.size", 40)
    metrics.histogram("basket.items", 3, tags={"shop": "eu"})
    assert metrics.timing("db.query_ms", 12.5) is None
    default_client.flush()

    points = points_by_name(transport)
    assert points["pool.size"][0]["value"] == 40
    assert points["basket.items.count"][0]["tags"]["shop"] == "eu"
    assert points["db.query_ms.max"][0]["value"] == 12.5


def test_timing_as_a_context_manager(default_client: Client, transport: MockTransport) -> None:
    with metrics.timing("checkout.duration_ms", tags={"plan": "pro"}) as timer:
        time.sleep(0.02)
    default_client.flush()

    assert timer.last_ms is not None
    assert 15 <= timer.last_ms < 1000
    (point,) = points_by_name(transport)["checkout.duration_ms.max"]
    assert point["value"] == timer.last_ms
    assert point["tags"]["plan"] == "pro"


def test_timing_as_a_context_manager_still_records_when_the_block_raises(
    default_client: Client, transport: MockTransport
) -> None:
    with pytest.raises(KeyError), metrics.timing("failing.block_ms"):
        raise KeyError("x")
    default_client.flush()

    assert points_by_name(transport)["failing.block_ms.count"][0]["value"] == 1


def test_timing_as_a_decorator_times_every_call_and_keeps_the_function(
    default_client: Client, transport: MockTransport
) -> None:
    @metrics.timing("report.render_ms")
    def render(pages: int) -> str:
        """Render a report."""
        return "x" * pages

    assert render(3) == "xxx"
    assert render(2) == "xx"
    assert render.__name__ == "render"
    assert render.__doc__ == "Render a report."
    default_client.flush()

    assert points_by_name(transport)["report.render_ms.count"][0]["value"] == 2


def test_timing_decorates_coroutine_functions(
    default_client: Client, transport: MockTransport
) -> None:
    @metrics.timing("fetch_ms")
    async def fetch() -> int:
        await asyncio.sleep(0.01)
        return 7

    assert asyncio.iscoroutinefunction(fetch)
    assert asyncio.run(fetch()) == 7
    default_client.flush()

    assert points_by_name(transport)["fetch_ms.min"][0]["value"] >= 5


def test_a_decorator_applied_before_init_uses_the_client_configured_later(
    transport: MockTransport,
) -> None:
    @metrics.timing("early.bound_ms")
    def work() -> None:
        return None

    client = radiator.sdk.init("http://x", "t", service="late", transport=transport)
    try:
        work()
        client.flush()
        assert points_by_name(transport)["early.bound_ms.count"][0]["tags"]["service"] == "late"
    finally:
        client.close()
        client_module._default = None


def test_events_emit_and_deploy(default_client: Client, transport: MockTransport) -> None:
    events.emit("config_change", "pool size 40", actor="ana", pool=40, links=["https://x/1"])
    events.deploy(
        "payments",
        "2.0.1",
        environment="production",
        actor="ci",
        commit="9f2c1e0",
        url="https://ci.example.com/runs/812",
    )
    default_client.flush()

    change, deploy = transport.items("events")
    assert change["kind"] == "config_change"
    assert change["service"] == "checkout"
    assert change["attributes"] == {"pool": 40}
    assert change["links"] == ["https://x/1"]
    assert deploy == {
        "kind": "deploy",
        "title": "payments 2.0.1",
        "time": deploy["time"],
        "service": "payments",
        "environment": "production",
        "actor": "ci",
        "attributes": {"version": "2.0.1", "commit": "9f2c1e0"},
        "links": ["https://ci.example.com/runs/812"],
    }


def test_init_reads_the_environment_and_replaces_the_previous_default(
    monkeypatch: pytest.MonkeyPatch, transport: MockTransport
) -> None:
    monkeypatch.setenv("RADIATOR_URL", "http://radiator.example:8080")
    monkeypatch.setenv("RADIATOR_TOKEN", "rad_secret")
    monkeypatch.setenv("RADIATOR_SERVICE", "billing")
    monkeypatch.setenv("RADIATOR_ENVIRONMENT", "staging")
    first = radiator.sdk.init()
    try:
        assert radiator.sdk.get_client() is first
        assert (first.service, first.environment) == ("billing", "staging")
        assert first._transport is not None
        assert first._transport.url == "http://radiator.example:8080/api/v1/ingest"  # type: ignore[attr-defined]
        second = radiator.sdk.init(service="other", transport=transport)
        assert radiator.sdk.get_client() is second
        assert first._closed
        second.close()
    finally:
        client_module._default = None


def test_get_client_without_init_is_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "_default", None)
    monkeypatch.setenv("RADIATOR_SERVICE", "from-env")
    monkeypatch.delenv("RADIATOR_URL", raising=False)
    client = radiator.sdk.get_client()
    try:
        assert client.service == "from-env"
        metrics.count("goes.nowhere")
        assert client.stats.dropped == 1
    finally:
        client.close()


def test_importing_the_sdk_leaves_the_server_dependencies_out() -> None:
    heavy = ["fastapi", "starlette", "duckdb", "pyarrow", "sqlalchemy", "orjson", "msgspec"]
    code = (
        "import sys, radiator.sdk, radiator.sdk.logging, radiator.sdk.asgi, radiator.sdk.wsgi\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIATOR_")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.strip() == "[]"
