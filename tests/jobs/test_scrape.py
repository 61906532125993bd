"""Scraping real prometheus_client applications over HTTP into a real runtime."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer

from radiator.config import ScrapeTarget, Settings, load_settings
from radiator.core.telemetry import Aggregation, BucketQuery
from radiator.core.types import TimeRange
from radiator.errors import ConfigError, OverloadedError
from radiator.ingest import BatchBuilder, IngestResult
from radiator.jobs import Scheduler
from radiator.jobs.scrape import Scraper, schedule_scrape_jobs
from radiator.runtime import Runtime
from support import free_port

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Tags = frozenset[tuple[str, str]]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[WsgiApp], str]]:
    """``serve(wsgi_app)`` runs the app on a free port in a thread; returns its base URL."""
    servers: list[tuple[Any, threading.Thread]] = []

    def start(app: WsgiApp) -> str:
        port = free_port()
        server = make_server("127.0.0.1", port, app, ThreadingWSGIServer, handler_class=_Quiet)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Shop:
    """A small instrumented application, as a team would write it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.orders = Counter("orders", "Orders placed.", ["plan"], registry=self.registry)
        self.queue = Gauge("queue_depth", "Jobs waiting.", registry=self.registry)
        self.latency = Histogram(
            "request_seconds", "Latency.", buckets=(0.1, 1.0), registry=self.registry
        )
        self.payload = Summary("payload_bytes", "Payload sizes.", registry=self.registry)
        self.accept_headers: list[str] = []
        self._metrics = make_wsgi_app(self.registry)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.accept_headers.append(environ.get("HTTP_ACCEPT", ""))
        return self._metrics(environ, start_response)


def _settings(tmp_path: Path, *targets: ScrapeTarget) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        telemetry_path=":memory:",
        self_telemetry=False,
        scrape_targets=list(targets),
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(_settings(tmp_path))
    yield rt
    rt.close()


def stored(runtime: Runtime, name: str, aggregation: Aggregation) -> dict[Tags, float]:
    """Per series of ``name``: the sum (or count, or last value) of everything stored."""
    runtime.ingest.flush()
    now = datetime.now(UTC)
    query = BucketQuery(
        name,
        TimeRange(now - timedelta(hours=1), now + timedelta(hours=1)),
        timedelta(minutes=5),
        aggregation,
    )
    out: dict[Tags, float] = {}
    for series in runtime.telemetry.query_buckets(query):
        last = aggregation in (Aggregation.LAST, Aggregation.MIN, Aggregation.MAX)
        out[frozenset(series.tags.items())] = series.values[-1] if last else sum(series.values)
    return out


def tags(instance: str, **extra: str) -> Tags:
    return frozenset({"job": "shop", "instance": instance, **extra}.items())


def test_two_scrapes_of_a_client_library_app_give_deltas_gauges_buckets_and_up(
    tmp_path: Path, serve: Callable[[WsgiApp], str]
) -> None:
    shop = Shop()
    url = serve(shop)
    instance = url.removeprefix("http://")
    target = ScrapeTarget(job="shop", url=f"{url}/metrics", labels={"team": "checkout"})
    runtime = Runtime(_settings(tmp_path, target))
    scheduler = Scheduler()
    schedule_scrape_jobs(scheduler, runtime)
    [job] = scheduler.jobs
    shop.orders.labels("pro").inc(3)
    shop.queue.set(7)
    shop.latency.observe(0.05)
    shop.payload.observe(100)
    try:
        job.work()
        shop.orders.labels("pro").inc(2)
        shop.orders.labels("free").inc()  # a series born between the scrapes
        shop.queue.set(4)
        shop.latency.observe(0.5)
        shop.latency.observe(3)
        shop.payload.observe(50)
        job.work()

        series = tags(instance, team="checkout")
        assert stored(runtime, "orders_total", Aggregation.SUM) == {
            tags(instance, team="checkout", plan="pro"): 2.0,
            tags(instance, team="checkout", plan="free"): 1.0,
        }
        assert stored(runtime, "queue_depth", Aggregation.LAST) == {series: 4.0}
        buckets = stored(runtime, "request_seconds", Aggregation.SUM)
        assert {dict(k)["le"]: v for k, v in buckets.items()} == {
            "0.1": 0.0,
            "1.0": 1.0,
            "+Inf": 2.0,
        }
        assert stored(runtime, "request_seconds.count", Aggregation.SUM) == {series: 2.0}
        assert stored(runtime, "request_seconds.sum", Aggregation.SUM) == {
            series: pytest.approx(3.5)
        }
        assert stored(runtime, "payload_bytes.count", Aggregation.SUM) == {series: 1.0}
        assert stored(runtime, "payload_bytes.sum", Aggregation.SUM) == {series: 50.0}
        assert stored(runtime, "up", Aggregation.COUNT) == {series: 2.0}
        assert stored(runtime, "up", Aggregation.MIN) == {series: 1.0}
        assert stored(runtime, "scrape_samples_scraped", Aggregation.LAST)[series] > 10
        assert 0 < stored(runtime, "scrape_duration_seconds", Aggregation.MAX)[series] < 5
        assert job.stats.failures == 0
    finally:
        runtime.close()


def test_openmetrics_is_asked_for_first(runtime: Runtime, serve: Callable[[WsgiApp], str]) -> None:
    shop = Shop()
    scraper = Scraper(ScrapeTarget(job="shop", url=serve(shop)), runtime.ingest)

    outcome = scraper.scrape()

    assert outcome.up, outcome.error
    assert outcome.content_type.startswith("application/openmetrics-text")
    accept = shop.accept_headers[0]
    assert accept.index("application/openmetrics-text") < accept.index("text/plain")


def test_a_target_that_only_speaks_the_text_format_is_understood(
    runtime: Runtime, serve: Callable[[WsgiApp], str]
) -> None:
    shop = Shop()
    shop.queue.set(9)

    def text_only(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
        return [generate_latest(shop.registry)]

    url = serve(text_only)
    scraper = Scraper(ScrapeTarget(job="shop", url=url), runtime.ingest)

    outcome = scraper.scrape()

    assert outcome.up, outcome.error
    assert outcome.content_type.startswith("text/plain")
    assert stored(runtime, "queue_depth", Aggregation.LAST) == {
        tags(url.removeprefix("http://")): 9.0
    }


def test_a_dead_target_is_down_and_the_scrape_does_not_raise(runtime: Runtime) -> None:
    port = free_port()  # nothing listens here
    scraper = Scraper(
        ScrapeTarget(job="shop", url=f"http://127.0.0.1:{port}/metrics"), runtime.ingest
    )

    outcome = scraper.scrape()

    assert not outcome.up
    assert "ConnectError" in outcome.error
    series = tags(f"127.0.0.1:{port}")
    assert stored(runtime, "up", Aggregation.LAST) == {series: 0.0}
    assert stored(runtime, "scrape_samples_scraped", Aggregation.LAST) == {series: 0.0}
    assert series in stored(runtime, "scrape_duration_seconds", Aggregation.LAST)


def _answer(status: str, body: bytes, delay: float = 0.0) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        time.sleep(delay)
        start_response(status, [("Content-Type", "text/plain; version=0.0.4")])
        return [body]

    return app


@pytest.mark.parametrize(
    ("app", "reason"),
    [
        (_answer("500 Internal Server Error", b"oops"), "HTTP 500"),
        (_answer("200 OK", b'this is {not" an exposition\n'), "does not parse"),
        (_answer("200 OK", b"\xff\xfe not text"), "cannot be decoded"),
        (_answer("200 OK", b"late 1\n", delay=1.5), "Timeout"),
    ],
    ids=["http-500", "garbage", "not-utf8", "too-slow"],
)
def test_a_broken_target_is_down_with_a_reason_and_nothing_else_is_kept(
    runtime: Runtime, serve: Callable[[WsgiApp], str], app: WsgiApp, reason: str
) -> None:
    url = serve(app)
    target = ScrapeTarget(job="shop", url=url, interval_seconds=1, timeout_seconds=0.5)
    started = time.monotonic()

    outcome = Scraper(target, runtime.ingest).scrape()

    assert time.monotonic() - started < 1.4
    assert not outcome.up
    assert reason in outcome.error
    assert stored(runtime, "up", Aggregation.LAST) == {tags(url.removeprefix("http://")): 0.0}
    assert stored(runtime, "late", Aggregation.LAST) == {}


class _Overloaded:
    """A pipeline that refuses the batches it is told to, like a full ingest buffer."""

    def __init__(self, runtime: Runtime) -> None:
        self.inner = runtime.ingest
        self.refuse_next = False

    def builder(self) -> BatchBuilder:
        return self.inner.builder()

    def submit(self, builder: BatchBuilder, protocol: str) -> IngestResult:
        if self.refuse_next:
            self.refuse_next = False
            raise OverloadedError("the ingest buffer is full", retry_after=1)
        return self.inner.submit(builder, protocol)


def test_an_increase_refused_by_a_full_buffer_arrives_with_the_next_scrape(
    runtime: Runtime, serve: Callable[[WsgiApp], str]
) -> None:
    shop = Shop()
    sink = _Overloaded(runtime)
    scraper = Scraper(ScrapeTarget(job="shop", url=serve(shop)), sink)
    shop.orders.labels("pro").inc(10)
    scraper.scrape()
    shop.orders.labels("pro").inc(5)
    sink.refuse_next = True

    refused = scraper.scrape()
    shop.orders.labels("pro").inc(1)
    scraper.scrape()

    assert refused.accepted == 0
    assert "ingest buffer is full" in refused.error
    assert list(stored(runtime, "orders_total", Aggregation.SUM).values()) == [6.0]


def test_every_target_gets_its_own_job_at_its_own_interval(tmp_path: Path) -> None:
    targets = [
        ScrapeTarget(job="api", url="http://10.0.0.1:9100/metrics"),
        ScrapeTarget(job="db", url="https://user:secret@db.internal/metrics", interval_seconds=60),
    ]
    runtime = Runtime(_settings(tmp_path, *targets))
    scheduler = Scheduler()
    try:
        scrapers = schedule_scrape_jobs(scheduler, runtime)
    finally:
        runtime.close()

    assert [(job.name, job.interval) for job in scheduler.jobs] == [
        ("scrape:api:10.0.0.1:9100", 15.0),
        ("scrape:db:db.internal", 60.0),
    ]
    assert scrapers[1].labels == {"job": "db", "instance": "db.internal"}
    assert targets[0].timeout == 10.0


# -- configuration ---------------------------------------------------------------------------


@pytest.fixture
def clean_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("RADIATOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_targets_are_configured_as_toml_tables(clean_directory: Path) -> None:
    (clean_directory / "radiator.toml").write_text(
        "[[scrape_targets]]\n"
        'job = "node"\n'
        'url = "http://10.0.0.5:9100/metrics"\n'
        "\n"
        "[[scrape_targets]]\n"
        'job = "api"\n'
        'url = "https://api.internal:8443/metrics"\n'
        "interval_seconds = 30\n"
        "timeout_seconds = 5\n"
        'labels = { env = "prod" }\n',
        encoding="utf-8",
    )

    node, api = load_settings().scrape_targets

    assert (node.job, node.interval_seconds, node.timeout, node.labels) == ("node", 15.0, 10.0, {})
    assert (api.interval_seconds, api.timeout, api.labels) == (30.0, 5.0, {"env": "prod"})


def test_targets_are_configured_as_json_in_the_environment(
    clean_directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "RADIATOR_SCRAPE_TARGETS",
        '[{"job": "node", "url": "http://10.0.0.5:9100/metrics", "interval_seconds": 5}]',
    )

    [target] = load_settings().scrape_targets

    assert (target.job, target.interval_seconds, target.timeout) == ("node", 5.0, 5.0)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"job": "x", "url": "ftp://h/metrics"}, "http:// or https://"),
        ({"job": "x", "url": "http://h", "labels": {"job": "y"}}, "set the job with `job`"),
        ({"job": "x", "url": "http://h", "labels": {"bad-name": "y"}}, "label name"),
        ({"job": "x", "url": "http://h", "interval_seconds": 5, "timeout_seconds": 9}, "exceeds"),
        ({"job": "x", "url": "http://h", "every": 5}, "is not a field it takes"),
    ],
)
def test_a_bad_target_stops_start_up_naming_the_setting(
    clean_directory: Path, target: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(scrape_targets=[target])

    assert "(RADIATOR_SCRAPE_TARGETS)" in caught.value.message
    assert message in caught.value.message


def test_a_target_listed_twice_is_refused(clean_directory: Path) -> None:
    target = {"job": "x", "url": "http://h/metrics"}

    with pytest.raises(ConfigError, match="listed twice"):
        load_settings(scrape_targets=[target, target])
