"""The real OpenTelemetry Python SDK exporting over OTLP/HTTP to a real Radiator server.

The server is uvicorn on a free port in a thread of the test process, so the test can read
the stores afterwards. Providers are created locally and shut down; the SDK's global
providers are never set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import TimeRange
from radiator.identity import Scope
from radiator.runtime import Runtime
from support import free_port

from .support import TokenFactory

RESOURCE = Resource.create(
    {"service.name": "shop", "deployment.environment.name": "test", "service.version": "1.2"}
)


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def headers(token_for: TokenFactory, admin: str) -> dict[str, str]:
    return token_for(admin, Scope.INGEST)


def series(runtime: Runtime, name: str, aggregation: Aggregation, *by: str) -> dict[str, float]:
    """One value per combination of the ``by`` tags over the last hour, aggregated."""
    runtime.ingest.flush()
    now = datetime.now(UTC)
    found = runtime.telemetry.query_buckets(
        BucketQuery(
            name=name,
            range=TimeRange(now - timedelta(hours=1), now + timedelta(minutes=1)),
            step=timedelta(hours=2),
            aggregation=aggregation,
            group_by=by,
        )
    )
    out: dict[str, float] = {}
    for one in found:
        key = ",".join(one.tags.get(tag, "") for tag in by)
        assert len(one.values) <= 2
        if aggregation is Aggregation.SUM:
            out[key] = sum(one.values)
        else:
            out[key] = one.values[-1]
    return out


def rows(runtime: Runtime, sql: str) -> list[dict[str, Any]]:
    """Rows of a query on the telemetry store (there is no log or span query API yet)."""
    runtime.ingest.flush()
    with runtime.telemetry._cursor() as cursor:  # type: ignore[attr-defined]
        result = cursor.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_cumulative_sdk_metrics_are_stored_as_deltas_gauges_and_buckets(
    server: str, runtime: Runtime, headers: dict[str, str]
) -> None:
    exporter = OTLPMetricExporter(endpoint=f"{server}/v1/metrics", headers=headers)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    views = [
        View(instrument_name="payload.size", aggregation=ExponentialBucketHistogramAggregation())
    ]
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader], views=views)
    try:
        meter = provider.get_meter("shop.orders", "0.1")
        orders = meter.create_counter("orders.placed")
        queue = meter.create_up_down_counter("queue.depth")
        latency = meter.create_histogram(
            "checkout.duration", unit="ms", explicit_bucket_boundaries_advisory=[10.0, 100.0]
        )
        temperature = meter.create_gauge("cpu.temperature")
        sizes = meter.create_histogram("payload.size", unit="By")

        orders.add(5, {"plan": "pro"})
        orders.add(2, {"plan": "free"})
        queue.add(7)
        queue.add(-2)
        for value in (5.0, 50.0, 500.0):
            latency.record(value)
        temperature.set(40.5)
        for size in (3.0, 100.0, 1000.0):
            sizes.record(size)
        assert reader.force_flush()

        orders.add(3, {"plan": "pro"})
        queue.add(1)
        latency.record(20.0)
        temperature.set(41.0)
        sizes.record(5000.0)
        assert reader.force_flush()
    finally:
        provider.shutdown()

    assert series(runtime, "orders.placed", Aggregation.SUM, "plan") == {"pro": 8.0, "free": 2.0}
    assert series(runtime, "queue.depth", Aggregation.LAST) == {"": 6.0}
    assert series(runtime, "cpu.temperature", Aggregation.LAST) == {"": 41.0}
    assert series(runtime, "checkout.duration", Aggregation.SUM, "le") == {
        "10.0": 1.0,
        "100.0": 3.0,
        "+Inf": 4.0,
    }
    assert series(runtime, "checkout.duration.sum", Aggregation.SUM) == {"": 575.0}
    assert series(runtime, "checkout.duration.count", Aggregation.SUM) == {"": 4.0}

    recorded = [3.0, 100.0, 1000.0, 5000.0]
    ladder = series(runtime, "payload.size", Aggregation.SUM, "le")
    assert ladder.pop("+Inf") == 4.0
    for bound, at_or_below in ladder.items():
        expected = sum(1 for v in recorded if v <= float(bound) * (1 + 1e-12))
        assert at_or_below == expected, (bound, ladder)
    assert series(runtime, "payload.size.count", Aggregation.SUM) == {"": 4.0}

    [tags] = rows(runtime, "SELECT tags FROM points WHERE name = 'cpu.temperature' LIMIT 1")
    assert dict(tags["tags"]) == {
        "service": "shop",
        "environment": "test",
        "service.version": "1.2",
    }
    kinds = rows(
        runtime, "SELECT DISTINCT name, kind FROM points WHERE name LIKE 'orders%' ORDER BY 1"
    )
    assert kinds == [{"name": "orders.placed", "kind": "counter"}]


def test_delta_temporality_and_gzip_from_the_sdk(
    server: str, runtime: Runtime, headers: dict[str, str]
) -> None:
    exporter = OTLPMetricExporter(
        endpoint=f"{server}/v1/metrics",
        headers=headers,
        compression=Compression.Gzip,
        preferred_temporality={
            Counter: AggregationTemporality.DELTA,
            Histogram: AggregationTemporality.DELTA,
        },
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    try:
        meter = provider.get_meter("delta")
        sent = meter.create_counter("bytes.sent")
        sent.add(100)
        assert reader.force_flush()
        sent.add(20)
        assert reader.force_flush()
    finally:
        provider.shutdown()

    assert series(runtime, "bytes.sent", Aggregation.SUM) == {"": 120.0}


def test_the_exporter_reads_partial_success_as_success(
    server: str, runtime: Runtime, headers: dict[str, str]
) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    try:
        meter = provider.get_meter("bad")
        meter.create_counter("fine").add(1)
        # OTel allows names of up to 255 characters, Radiator 200.
        meter.create_counter("long." + "x" * 230).add(1)
        data = reader.get_metrics_data()
    finally:
        provider.shutdown()
    exporter = OTLPMetricExporter(endpoint=f"{server}/v1/metrics", headers=headers)

    assert data is not None
    assert exporter.export(data) is MetricExportResult.SUCCESS
    assert series(runtime, "fine", Aggregation.SUM) == {"": 1.0}
    assert runtime.telemetry.metric_names(prefix="long.") == []


# opentelemetry-sdk deprecates its LoggingHandler in favour of a separate instrumentation
# package; it is still the SDK's logging bridge, and the one this test means to exercise.
@pytest.mark.filterwarnings("ignore:`LoggingHandler` in `opentelemetry-sdk` is deprecated")
def test_python_logging_through_the_sdk_bridge_keeps_levels_and_trace_ids(
    server: str, runtime: Runtime, headers: dict[str, str]
) -> None:
    logger_provider = LoggerProvider(resource=RESOURCE)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{server}/v1/logs", headers=headers))
    )
    tracer_provider = TracerProvider(resource=RESOURCE)
    handler = LoggingHandler(level=logging.DEBUG, logger_provider=logger_provider)
    logger = logging.getLogger("tests.otlp.payments")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        tracer = tracer_provider.get_tracer("payments")
        with tracer.start_as_current_span("charge") as span:
            logger.warning("card declined for %s", "order-17", extra={"amount": 12.5})
            trace_id = format(span.get_span_context().trace_id, "032x")
            span_id = format(span.get_span_context().span_id, "016x")
        logger.debug("retrying")
        try:
            raise ValueError("gateway timeout")
        except ValueError:
            logger.exception("charge failed")
        logger.critical("ledger unreachable")
    finally:
        logger.removeHandler(handler)
        logger_provider.shutdown()
        tracer_provider.shutdown()

    found = rows(runtime, "SELECT * FROM logs ORDER BY time")
    assert [(r["level"], r["message"]) for r in found] == [
        ("WARN", "card declined for order-17"),
        ("DEBUG", "retrying"),
        ("ERROR", "charge failed"),
        ("FATAL", "ledger unreachable"),
    ]
    warning, _, failure, _ = found
    assert {r["service"] for r in found} == {"shop"}
    assert (warning["trace_id"], warning["span_id"]) == (trace_id, span_id)
    attributes = orjson.loads(warning["attributes"])
    assert attributes["amount"] == 12.5
    assert attributes["otel.scope.name"] == "tests.otlp.payments"
    assert attributes["deployment.environment.name"] == "test"
    failure_attributes = orjson.loads(failure["attributes"])
    assert failure_attributes["exception.type"] == "ValueError"
    assert "gateway timeout" in failure_attributes["exception.stacktrace"]


def test_nested_sdk_spans_keep_their_parent_links(
    server: str, runtime: Runtime, headers: dict[str, str]
) -> None:
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server}/v1/traces", headers=headers))
    )
    try:
        tracer = provider.get_tracer("checkout")
        with tracer.start_as_current_span("POST /checkout") as root:
            root.set_attribute("http.route", "/checkout")
            with tracer.start_as_current_span("reserve stock"):
                time.sleep(0.01)
            with tracer.start_as_current_span("charge card") as charge:
                charge.set_status(Status(StatusCode.ERROR, "declined"))
                charge.add_event("retry", {"attempt": 2})
    finally:
        provider.shutdown()

    spans = {r["name"]: r for r in rows(runtime, "SELECT * FROM spans")}
    assert set(spans) == {"POST /checkout", "reserve stock", "charge card"}
    root_row = spans["POST /checkout"]
    assert root_row["parent_id"] == ""
    assert root_row["status"] == "unset"
    assert root_row["service"] == "shop"
    for child in ("reserve stock", "charge card"):
        assert spans[child]["parent_id"] == root_row["span_id"]
        assert spans[child]["trace_id"] == root_row["trace_id"]
    assert spans["reserve stock"]["duration_ms"] >= 10
    assert root_row["duration_ms"] >= spans["reserve stock"]["duration_ms"]
    assert spans["charge card"]["status"] == "error"
    charge_attributes = orjson.loads(spans["charge card"]["attributes"])
    assert charge_attributes["otel.status_description"] == "declined"
    assert charge_attributes["otel.events"][0]["name"] == "retry"
    assert charge_attributes["span.kind"] == "internal"
    assert orjson.loads(root_row["attributes"])["http.route"] == "/checkout"
    assert runtime.telemetry.count(Signal.SPANS) == 3
