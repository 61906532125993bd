"""POST /api/v1/write: Prometheus remote write 1.0 through the HTTP API."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cramjam
import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from radiator.config import Settings
from radiator.core.schema import points_batch
from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import Point, TimeRange
from radiator.identity import Scope
from radiator.ingest.prometheus_pb import WriteRequest
from radiator.runtime import Runtime

from .support import TokenFactory

HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "Prometheus/2.42.0",
}
Series = tuple[dict[str, str], list[tuple[float, int]]]


def now_ms() -> int:
    return int(time.time() * 1000)


def write_request(*series: Series, metadata: Sequence[tuple[str, int]] = ()) -> bytes:
    message = WriteRequest()
    for labels, samples in series:
        ts = message.timeseries.add()
        for name, value in labels.items():
            ts.labels.add(name=name, value=value)
        for value, when in samples:
            ts.samples.add(value=value, timestamp=when)
    for family, kind in metadata:
        message.metadata.add(type=kind, metric_family_name=family)
    return bytes(cramjam.snappy.compress_raw(message.SerializeToString()))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The smallest ingest buffer allowed, so overload is cheap to cause."""
    return make_settings(tmp_path, ingest_buffer_max_bytes=1024 * 1024)


@pytest.fixture
def ingest_headers(token_for: TokenFactory, admin: str) -> dict[str, str]:
    return {**HEADERS, **token_for(admin, Scope.INGEST)}


def total(runtime: Runtime, name: str, aggregation: Aggregation = Aggregation.SUM) -> float:
    runtime.ingest.flush()
    now = datetime.now(UTC)
    query = BucketQuery(
        name,
        TimeRange(now - timedelta(hours=1), now + timedelta(hours=1)),
        timedelta(hours=2),
        aggregation,
        group_by=(),
    )
    return sum(v for series in runtime.telemetry.query_buckets(query) for v in series.values)


def test_a_remote_write_is_stored_with_counters_as_deltas(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    t = now_ms() - 30_000
    counter = {"__name__": "http_requests_total", "job": "api", "instance": "a:9100"}

    first = client.post(
        "/api/v1/write",
        content=write_request(
            (counter, [(100, t), (110, t + 15_000)]),
            ({"__name__": "queue_depth", "job": "api"}, [(7, t)]),
        ),
        headers=ingest_headers,
    )
    second = client.post(
        "/api/v1/write",
        content=write_request((counter, [(125, t + 30_000)])),
        headers=ingest_headers,
    )

    assert (first.status_code, second.status_code) == (204, 204)
    assert first.content == b""
    assert total(runtime, "http_requests_total") == 25.0
    assert total(runtime, "queue_depth", Aggregation.LAST) == 7.0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not snappy at all", "not snappy-compressed"),
        (bytes(cramjam.snappy.compress_raw(b"\xff\xff\xff garbage")), "not a prometheus"),
        (b"", "not snappy-compressed"),
    ],
    ids=["bad-snappy", "bad-protobuf", "empty"],
)
def test_an_undecodable_body_is_a_400_problem(
    client: TestClient, ingest_headers: dict[str, str], body: bytes, reason: str
) -> None:
    response = client.post("/api/v1/write", content=body, headers=ingest_headers)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "malformed_remote_write"
    assert reason in problem["detail"]


def test_a_body_that_decompresses_beyond_the_limit_is_a_413(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    limit = runtime.settings.max_body_bytes
    body = bytes(cramjam.snappy.compress_raw(b"\0" * (limit + 1)))
    assert len(body) < limit

    response = client.post("/api/v1/write", content=body, headers=ingest_headers)

    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Encoding": "gzip"},
        {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"},
        {"Content-Type": "application/json"},
    ],
    ids=["gzip", "remote-write-2", "json"],
)
def test_other_encodings_are_a_415(
    client: TestClient, ingest_headers: dict[str, str], headers: dict[str, str]
) -> None:
    body = write_request(({"__name__": "g"}, [(1, now_ms())]))

    response = client.post("/api/v1/write", content=body, headers={**ingest_headers, **headers})

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_request_of_only_bad_series_is_a_422_naming_them(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    body = write_request(({"job": "nameless"}, [(1, now_ms())]))

    response = client.post("/api/v1/write", content=body, headers=ingest_headers)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "timeseries[0]", "message": "the series has no __name__ label"}
    ]


def test_good_series_are_kept_beside_bad_ones(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    body = write_request(
        ({"job": "nameless"}, [(1, now_ms())]), ({"__name__": "fine"}, [(3, now_ms())])
    )

    response = client.post("/api/v1/write", content=body, headers=ingest_headers)

    assert response.status_code == 204
    assert total(runtime, "fine") == 3.0


def test_a_token_needs_the_ingest_scope(
    client: TestClient, token_for: TokenFactory, admin: str
) -> None:
    body = write_request(({"__name__": "g"}, [(1, now_ms())]))

    anonymous = client.post("/api/v1/write", content=body, headers=HEADERS)
    reader = client.post(
        "/api/v1/write", content=body, headers={**HEADERS, **token_for(admin, Scope.READ)}
    )

    assert anonymous.status_code == 401
    assert reader.status_code == 403


def _fill_buffer(runtime: Runtime) -> None:
    """Queue one batch as large as the whole ingest buffer, so the next one is refused."""
    now = datetime.now(UTC)
    table = points_batch(Point("filler", 0.0, now) for _ in range(40_000))
    assert table.nbytes >= runtime.settings.ingest_buffer_max_bytes
    runtime.ingest.submit_tables({Signal.POINTS: table})


def test_overload_is_a_503_with_retry_after_and_the_retry_loses_nothing(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    t = now_ms() - 10_000
    counter = {"__name__": "jobs_total"}
    client.post(
        "/api/v1/write", content=write_request((counter, [(10, t)])), headers=ingest_headers
    )
    body = write_request((counter, [(15, t + 1000), (18, t + 2000)]))
    _fill_buffer(runtime)

    refused = client.post("/api/v1/write", content=body, headers=ingest_headers)
    runtime.ingest.flush()
    retried = client.post("/api/v1/write", content=body, headers=ingest_headers)

    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["code"] == "overloaded"
    assert retried.status_code == 204
    assert total(runtime, "jobs_total") == 8.0


@pytest.mark.parametrize("content_type", ["application/octet-stream", None])
def test_octet_stream_or_no_content_type_is_read_as_remote_write(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str], content_type: str | None
) -> None:
    headers = {k: v for k, v in ingest_headers.items() if k != "Content-Type"}
    if content_type:
        headers["Content-Type"] = content_type
    body = write_request(({"__name__": "level"}, [(2, now_ms())]))

    response = client.post("/api/v1/write", content=body, headers=headers)

    assert response.status_code == 204
    assert total(runtime, "level") == 2.0
