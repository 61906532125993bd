"""OTLP/HTTP at /v1/metrics, /v1/logs and /v1/traces: content types, encodings, status codes."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from google.protobuf import json_format
from google.rpc import status_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)

from conftest import make_settings
from ingest.otlp_support import gauge, metrics_request, number
from radiator.core.caller import SYSTEM
from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import TimeRange
from radiator.identity import ApiTokenCreate, Role, Scope, UserCreate
from radiator.runtime import Runtime
from radiator.web import create_app

from .support import PASSWORD, TokenFactory

PROTOBUF = "application/x-protobuf"
PATHS = ["/v1/metrics", "/v1/logs", "/v1/traces"]


@pytest.fixture
def ingest_headers(token_for: TokenFactory, admin: str) -> dict[str, str]:
    return token_for(admin, Scope.INGEST)


def _now_ns() -> int:
    return time.time_ns()


def body(*values: float, name: str = "room.temperature") -> bytes:
    request = metrics_request(gauge(name, *(number(v, at=_now_ns()) for v in values)))
    return bytes(request.SerializeToString())


def stored_values(runtime: Runtime, name: str) -> list[float]:
    """Every stored value of ``name`` from the last hour, oldest first."""
    runtime.ingest.flush()
    series = runtime.telemetry.query_buckets(
        BucketQuery(
            name=name,
            range=TimeRange.last(timedelta(hours=1), now=datetime.now(UTC) + timedelta(minutes=1)),
            step=timedelta(microseconds=1),
            aggregation=Aggregation.SUM,
        )
    )
    return [value for s in series for value in s.values]


def test_protobuf_metrics_are_stored_and_answered_in_protobuf(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    response = client.post(
        "/v1/metrics", content=body(21.5), headers={**ingest_headers, "Content-Type": PROTOBUF}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == PROTOBUF
    assert ExportMetricsServiceResponse.FromString(response.content).ByteSize() == 0
    assert stored_values(runtime, "room.temperature") == [21.5]


def test_json_metrics_are_answered_in_json(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    request = metrics_request(gauge("room.humidity", number(40, at=_now_ns())))
    response = client.post(
        "/v1/metrics",
        content=json_format.MessageToJson(request),
        headers={**ingest_headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    assert stored_values(runtime, "room.humidity") == [40.0]


def test_gzip_bodies_are_accepted(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    response = client.post(
        "/v1/metrics",
        content=gzip.compress(body(3.0, name="gz.metric")),
        headers={**ingest_headers, "Content-Type": PROTOBUF, "Content-Encoding": "gzip"},
    )

    assert response.status_code == 200
    assert stored_values(runtime, "gz.metric") == [3.0]


def test_rejected_points_are_reported_as_partial_success_and_the_rest_kept(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    request = metrics_request(
        gauge("kept", number(1, at=_now_ns())), gauge("not valid!", number(2, at=_now_ns()))
    )
    response = client.post(
        "/v1/metrics",
        content=json_format.MessageToJson(request),
        headers={**ingest_headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert response.json() == {
        "partialSuccess": {
            "rejectedDataPoints": "1",
            "errorMessage": "data point 1: invalid metric name 'not valid!'",
        }
    }
    assert stored_values(runtime, "kept") == [1.0]


@pytest.mark.parametrize("path", PATHS)
def test_undecodable_bodies_get_400_with_a_status_in_the_request_encoding(
    client: TestClient, ingest_headers: dict[str, str], path: str
) -> None:
    garbage = client.post(
        path, content=b"\x0a\xff\xff", headers={**ingest_headers, "Content-Type": PROTOBUF}
    )
    bad_json = client.post(
        path, content=b"{nope", headers={**ingest_headers, "Content-Type": "application/json"}
    )

    assert garbage.status_code == 400
    assert garbage.headers["content-type"] == PROTOBUF
    status = status_pb2.Status.FromString(garbage.content)
    assert status.code == 3
    assert "protobuf" in status.message
    assert bad_json.status_code == 400
    assert bad_json.json()["code"] == 3
    assert "not JSON" in bad_json.json()["message"]


@pytest.mark.parametrize("path", PATHS)
def test_other_content_types_get_415(
    client: TestClient, ingest_headers: dict[str, str], path: str
) -> None:
    response = client.post(
        path, content=b"x", headers={**ingest_headers, "Content-Type": "text/plain"}
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert "application/x-protobuf or application/json" in response.json()["detail"]


def test_other_content_encodings_get_415(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    response = client.post(
        "/v1/traces",
        content=b"x",
        headers={**ingest_headers, "Content-Type": PROTOBUF, "Content-Encoding": "br"},
    )

    assert response.status_code == 415
    assert "content encoding 'br'" in response.json()["detail"]


def test_a_gzip_body_that_inflates_past_max_body_bytes_gets_413(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    bomb = gzip.compress(b"\0" * (runtime.settings.max_body_bytes + 1))

    response = client.post(
        "/v1/logs",
        content=bomb,
        headers={**ingest_headers, "Content-Type": PROTOBUF, "Content-Encoding": "gzip"},
    )

    assert response.status_code == 413
    assert "decompresses" in response.json()["detail"]


@pytest.mark.parametrize("path", PATHS)
def test_exports_need_a_token_with_the_ingest_scope(
    client: TestClient, token_for: TokenFactory, admin: str, path: str
) -> None:
    anonymous = client.post(path, content=b"", headers={"Content-Type": PROTOBUF})
    reader = client.post(
        path, content=b"", headers={**token_for(admin, Scope.READ), "Content-Type": PROTOBUF}
    )

    assert anonymous.status_code == 401
    assert reader.status_code == 403


@pytest.mark.parametrize("path", PATHS)
def test_an_empty_export_succeeds(
    client: TestClient, ingest_headers: dict[str, str], path: str
) -> None:
    response = client.post(path, content=b"", headers={**ingest_headers, "Content-Type": PROTOBUF})

    assert response.status_code == 200
    assert response.content == b""


@pytest.fixture
def small_buffer(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    """An app whose ingest buffer holds 1 MiB, the smallest allowed."""
    settings = make_settings(tmp_path / "small", ingest_buffer_max_bytes=1 << 20)
    runtime = Runtime(settings)
    try:
        with TestClient(create_app(settings, runtime=runtime, run_jobs=False)) as client:
            yield client, runtime
    finally:
        runtime.close()


def test_a_full_buffer_answers_503_with_retry_after_and_keeps_nothing(
    small_buffer: tuple[TestClient, Runtime],
) -> None:
    client, runtime = small_buffer
    runtime.identity.create_user(UserCreate(username="ops", password=PASSWORD, role=Role.ADMIN))
    token = runtime.identity.create_token(
        "ops", ApiTokenCreate(name="otel", scopes=[Scope.INGEST]), SYSTEM
    )
    filler = runtime.ingest.builder()
    for i in range(100_000):
        filler.point(i, "filler", 1.0, {"i": str(i % 100)}, "gauge")
    runtime.ingest.submit(filler, "test")  # an empty buffer takes any one batch
    assert runtime.ingest.buffer_fill > 1

    response = client.post(
        "/v1/metrics",
        content=json_format.MessageToJson(metrics_request(gauge("x", number(1, at=_now_ns())))),
        headers={"Authorization": f"Bearer {token.secret}", "Content-Type": "application/json"},
    )

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["code"] == 14
    assert "buffer is full" in response.json()["message"]
    assert stored_values(runtime, "x") == []


@given(
    st.binary(max_size=300),
    st.sampled_from(PATHS),
    st.sampled_from([PROTOBUF, "application/json"]),
    st.sampled_from(["", "gzip"]),
)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_no_body_makes_the_server_fail(
    client: TestClient,
    ingest_headers: dict[str, str],
    content: bytes,
    path: str,
    content_type: str,
    encoding: str,
) -> None:
    headers = {**ingest_headers, "Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding

    response = client.post(path, content=content, headers=headers)

    assert response.status_code in (200, 400), response.text


def test_json_bodies_from_the_spec_example_are_understood(
    client: TestClient, runtime: Runtime, ingest_headers: dict[str, str]
) -> None:
    start = str(_now_ns() - 10**9)
    document = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "manual"},
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "parentSpanId": "eee19b7ec3c1b173",
                                "name": "I'm a server span",
                                "startTimeUnixNano": start,
                                "endTimeUnixNano": str(int(start) + 5_000_000),
                                "kind": 2,
                                "attributes": [
                                    {"key": "my.span.attr", "value": {"stringValue": "v"}}
                                ],
                            }
                        ],
                    }
                ],
            }
        ]
    }

    response = client.post(
        "/v1/traces",
        content=orjson.dumps(document),
        headers={**ingest_headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 200, response.text
    runtime.ingest.flush()
    assert runtime.telemetry.count(Signal.SPANS) == 1
