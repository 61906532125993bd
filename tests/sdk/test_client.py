"""The SDK client on a mock transport: aggregation, batching, and never hurting the host app."""

from __future__ import annotations

import itertools
import json
import logging
import math
import threading
import time

import pytest

from radiator.sdk import Client, MockTransport, Response

from .helpers import points_by_name


def down(_: bytes) -> Response:
    raise ConnectionRefusedError("connection refused")


def test_counters_are_summed_into_one_delta_tagged_with_service_and_environment(
    client: Client, transport: MockTransport
) -> None:
    for _ in range(3):
        client.count("checkout.completed", tags={"plan": "pro"})
    client.count("checkout.completed", 2, tags={"plan": "free"})

    assert client.flush()

    points = points_by_name(transport)["checkout.completed"]
    by_plan = {p["tags"]["plan"]: p for p in points}
    assert by_plan["pro"]["value"] == 3
    assert by_plan["free"]["value"] == 2
    assert by_plan["pro"]["kind"] == "counter"
    assert by_plan["pro"]["tags"] == {"plan": "pro", "service": "checkout", "environment": "test"}
    assert abs(by_plan["pro"]["time"] - time.time()) < 5


def test_a_counter_starts_from_zero_in_the_next_interval(
    client: Client, transport: MockTransport
) -> None:
    client.count("jobs.done", 5)
    client.flush()
    client.count("jobs.done", 1)
    client.flush()

    assert [p["value"] for p in points_by_name(transport)["jobs.done"]] == [5, 1]


def test_a_gauge_sends_its_last_value(client: Client, transport: MockTransport) -> None:
    for depth in (3, 9, 4):
        client.gauge("queue.depth", depth)
    client.flush()

    (point,) = points_by_name(transport)["queue.depth"]
    assert (point["value"], point["kind"]) == (4, "gauge")


def test_timings_are_summarised_like_statsd_timers(
    client: Client, transport: MockTransport
) -> None:
    for ms in range(1, 101):
        client.timing("db.query_ms", float(ms), tags={"table": "orders"})
    client.flush()

    points = points_by_name(transport)
    summary = {name.rsplit(".", 1)[1]: found[0] for name, found in points.items()}
    assert set(summary) == {"count", "sum", "min", "max", "p50", "p90", "p95", "p99"}
    assert {p["kind"] for p in summary.values()} == {"timer"}
    values = {stat: p["value"] for stat, p in summary.items()}
    assert values == {
        "count": 100,
        "sum": 5050,
        "min": 1,
        "max": 100,
        "p50": 50,
        "p90": 90,
        "p95": 95,
        "p99": 99,
    }
    assert summary["p99"]["tags"]["table"] == "orders"


def test_histogram_values_are_summarised_too(client: Client, transport: MockTransport) -> None:
    for items in (1, 2, 3):
        client.histogram("basket.items", items)
    client.flush()

    points = points_by_name(transport)
    assert points["basket.items.count"][0]["value"] == 3
    assert points["basket.items.max"][0]["value"] == 3
    assert points["basket.items.p50"][0]["kind"] == "timer"


def test_a_timing_sample_stays_bounded_but_count_and_sum_stay_exact(
    client: Client, transport: MockTransport
) -> None:
    for _ in range(5000):
        client.timing("hot.path_ms", 2.0)
    client.flush()

    points = points_by_name(transport)
    assert points["hot.path_ms.count"][0]["value"] == 5000
    assert points["hot.path_ms.sum"][0]["value"] == 10000
    assert points["hot.path_ms.p99"][0]["value"] == 2.0


def test_the_background_thread_sends_every_flush_interval(transport: MockTransport) -> None:
    with Client("http://x", "t", service="s", flush_interval=0.05, transport=transport) as client:
        client.count("ticks")
        deadline = time.monotonic() + 5
        while not transport.bodies and time.monotonic() < deadline:
            time.sleep(0.01)
        assert transport.items("points")[0]["name"] == "ticks"
        assert client.stats.sent == 1


def test_close_sends_what_is_left_and_later_calls_are_dropped(
    transport: MockTransport, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client("http://x", "t", service="s", flush_interval=3600, transport=transport)
    client.count("last.words")
    client.close()
    client.close()
    client.count("after.close")
    client.count("after.close")

    assert [p["name"] for p in transport.items("points")] == ["last.words"]
    assert transport.closed
    assert client.stats.dropped == 2
    assert sum("closed" in r.getMessage() for r in caplog.records) == 1


def test_events_logs_and_spans_are_batched_in_one_native_request(
    client: Client, transport: MockTransport
) -> None:
    client.count("a")
    client.event("deploy", "checkout 1.0", actor="ci")
    client.log("warning", "slow", attributes={"ms": 900})
    client.flush()

    (batch,) = transport.batches
    assert set(batch) == {"points", "events", "logs"}
    event = batch["events"][0]
    assert (event["kind"], event["service"], event["environment"]) == ("deploy", "checkout", "test")
    log = batch["logs"][0]
    assert (log["level"], log["message"], log["service"]) == ("WARN", "slow", "checkout")
    assert log["attributes"] == {"ms": 900, "environment": "test"}


def test_large_backlogs_are_split_into_several_requests(
    client: Client, transport: MockTransport
) -> None:
    for index in range(4500):
        client.log("INFO", f"line {index}")
    assert client.flush()

    sizes = [len(batch["logs"]) for batch in transport.batches]
    assert len(sizes) >= 3
    assert max(sizes) <= 2000
    assert sum(sizes) == 4500
    assert client.stats.sent == 4500


def test_attributes_that_are_not_json_still_arrive_as_text(
    client: Client, transport: MockTransport
) -> None:
    client.log("INFO", "odd", attributes={"nan": math.nan, "obj": object()})
    client.flush()

    attributes = transport.items("logs")[0]["attributes"]
    assert attributes["nan"] == "nan"
    assert attributes["obj"].startswith("<object object")


# -- the host application is never hurt ------------------------------------------------------


def test_calls_return_at_once_while_the_server_is_slow() -> None:
    release = threading.Event()

    def slow(body: bytes) -> Response:
        release.wait(10)
        return Response(200, b'{"accepted": 1, "rejected": 0, "errors": []}')

    transport = MockTransport(slow)
    client = Client("http://x", "t", service="s", flush_interval=0.01, transport=transport)
    try:
        client.count("first")
        deadline = time.monotonic() + 5
        while not transport.bodies and time.monotonic() < deadline:
            time.sleep(0.01)
        assert transport.bodies, "the sender never tried"
        started = time.perf_counter()
        for _ in range(1000):
            client.count("while.blocked")
        assert time.perf_counter() - started < 0.5
    finally:
        release.set()
        client.close(timeout=2)


def test_nothing_raises_when_the_server_is_down_and_data_waits_for_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[object] = []

    def flaky(body: bytes) -> Response:
        if not answers:
            raise ConnectionRefusedError("connection refused")
        return MockTransport().send(body)

    transport = MockTransport(flaky)
    with Client("http://x", "t", service="s", flush_interval=3600, transport=transport) as client:
        client.count("orders")
        assert client.flush(timeout=1) is False
        client.count("orders")
        assert client.flush(timeout=1) is False
        assert client.stats.errors == 2
        assert client.stats.queued == 2

        answers.append("up")
        assert client.flush()

        assert [p["value"] for p in transport.items("points")[-2:]] == [1, 1]
        assert client.stats.sent == 2
        assert client.stats.dropped == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "retrying" in warnings[0].getMessage()


def test_the_sender_retries_with_backoff_until_the_server_recovers() -> None:
    calls: list[float] = []

    def recovering(body: bytes) -> Response:
        calls.append(time.monotonic())
        if len(calls) < 3:
            return Response(503, b"busy")
        return MockTransport().send(body)

    transport = MockTransport(recovering)
    with Client("http://x", "t", service="s", flush_interval=0.01, transport=transport) as client:
        client.count("orders")
        deadline = time.monotonic() + 10
        while client.stats.sent == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.stats.sent == 1
        assert client.stats.errors == 2
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.3, "retried without backing off"
    assert gaps[1] > gaps[0] * 1.2, "backoff does not grow"


def test_retry_after_of_a_429_is_honoured() -> None:
    calls: list[float] = []

    def limited(body: bytes) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return Response(429, b"", retry_after=1.5)
        return MockTransport().send(body)

    transport = MockTransport(limited)
    with Client("http://x", "t", service="s", flush_interval=0.01, transport=transport) as client:
        client.count("orders")
        deadline = time.monotonic() + 10
        while client.stats.sent == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(calls) >= 2
    assert calls[1] - calls[0] >= 1.4


def test_a_4xx_answer_drops_the_batch_with_one_warning_not_one_per_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = MockTransport(lambda body: Response(401, b'{"detail": "invalid API token"}'))
    with Client("http://x", "bad", service="s", flush_interval=3600, transport=transport) as client:
        for _ in range(3):
            client.count("orders")
            client.log("INFO", "hello")
            assert client.flush()
        assert client.stats.dropped == 6
        assert client.stats.queued == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "401" in warnings[0]
    assert "invalid API token" in warnings[0]


def test_items_the_server_rejects_are_counted_and_named_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = {
        "accepted": 1,
        "rejected": 1,
        "errors": [{"signal": "points", "index": 1, "reason": "too many series"}],
    }
    transport = MockTransport(lambda body: Response(200, json.dumps(answer).encode()))
    with Client("http://x", "t", service="s", flush_interval=3600, transport=transport) as client:
        client.count("a")
        client.count("b")
        client.flush()
        client.count("a")
        client.flush()
        assert (client.stats.sent, client.stats.rejected) == (2, 2)
    assert sum("too many series" in r.getMessage() for r in caplog.records) == 1


def test_the_buffer_is_bounded_and_drops_are_counted() -> None:
    transport = MockTransport(down)
    with Client(
        "http://x", "t", service="s", flush_interval=3600, max_queue=10, transport=transport
    ) as client:
        for index in range(25):
            client.count(f"series.{index}")
        for index in range(15):
            client.log("INFO", f"line {index}")
        assert client.stats.dropped == 15 + 5
        assert client.stats.queued == 20

        for _ in range(3):
            client.flush(timeout=0.1)
            client.count("more")
        client.flush(timeout=0.1)
        stats = client.stats
        assert stats.queued <= 10 + 10, "unsent batches are not bounded"
        assert stats.dropped > 20


def test_a_transport_that_misbehaves_does_not_reach_the_application() -> None:
    def broken(body: bytes) -> Response:
        raise RuntimeError("bug in a custom transport")

    with Client(
        "http://x", "t", service="s", flush_interval=3600, transport=MockTransport(broken)
    ) as client:
        client.count("orders")
        assert client.flush(timeout=0.5) is False
        assert client.stats.errors == 1


def test_invalid_names_values_and_kinds_are_dropped_not_raised(
    client: Client, transport: MockTransport, caplog: pytest.LogCaptureFixture
) -> None:
    client.count("has spaces")
    client.gauge("ok.name", math.inf)
    client.gauge("ok.name", "not a number")  # type: ignore[arg-type]
    client.event("launch", "no such kind")
    client.flush()

    assert transport.bodies == []
    assert client.stats.dropped == 4
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


def test_a_client_without_url_drops_everything_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client("", "", service="s")
    client.count("orders")
    client.log("INFO", "hello")

    assert client.flush() is False
    assert client.stats.dropped == 2
    assert sum("not configured" in r.getMessage() for r in caplog.records) == 1
    client.close()


def test_a_forked_child_starts_with_an_empty_buffer(
    client: Client, transport: MockTransport
) -> None:
    client.count("parent.only")
    client._after_fork()
    client.count("child.only")
    client.flush()

    assert [p["name"] for p in transport.items("points")] == ["child.only"]
