"""The InfluxDB write API: /write (v1), /api/v2/write (v2), /ping and /query."""

from __future__ import annotations

import base64
import gzip
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from radiator.config import Settings
from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import TimeRange
from radiator.identity import Role, Scope
from radiator.runtime import Runtime
from radiator.web.routers.influx import INFLUX_VERSION

from .support import TokenFactory, UserFactory, audit_records

PROBLEM = "application/problem+json"


def now_ns() -> int:
    return time.time_ns()


def stored(runtime: Runtime, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Sum of each series of ``name`` in the last day, keyed by its sorted tags."""
    runtime.ingest.flush()
    series = runtime.telemetry.query_buckets(
        BucketQuery(
            name=name,
            range=TimeRange.last(timedelta(days=1)),
            step=timedelta(days=2),
            aggregation=Aggregation.SUM,
        )
    )
    return {tuple(sorted(s.tags.items())): sum(s.values) for s in series}


@pytest.fixture
def secret(token_for: TokenFactory, admin: str) -> str:
    """The secret of an ingest-only token."""
    return token_for(admin, Scope.INGEST)["Authorization"].removeprefix("Bearer ")


def token_header(secret: str) -> dict[str, str]:
    return {"Authorization": f"Token {secret}"}


def basic_header(secret: str, user: str = "telegraf") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


# -- writing ----------------------------------------------------------------------------------


def test_v1_write_stores_each_field_as_a_gauge_and_answers_204(
    client: TestClient, runtime: Runtime, secret: str
) -> None:
    body = f"cpu,host=a usage_idle=97.5,usage_user=2i {now_ns()}\ncpu,host=b usage_idle=50"
    response = client.post("/write?db=telegraf", content=body, headers=token_header(secret))

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert response.headers["x-influxdb-version"] == INFLUX_VERSION
    assert stored(runtime, "cpu.usage_idle") == {
        (("db", "telegraf"), ("host", "a")): 97.5,
        (("db", "telegraf"), ("host", "b")): 50.0,
    }
    assert stored(runtime, "cpu.usage_user") == {(("db", "telegraf"), ("host", "a")): 2.0}


def test_v2_write_records_the_bucket_as_db_and_reads_the_precision(
    client: TestClient, runtime: Runtime, secret: str
) -> None:
    seconds = int(time.time())
    response = client.post(
        "/api/v2/write",
        params={"org": "acme", "bucket": "metrics", "precision": "s"},
        content=f"mem,host=a used_percent=23.5 {seconds}",
        headers=token_header(secret),
    )

    assert response.status_code == 204, response.text
    assert stored(runtime, "mem.used_percent") == {(("db", "metrics"), ("host", "a")): 23.5}
    runtime.ingest.flush()
    [series] = runtime.telemetry.query_buckets(
        BucketQuery(
            name="mem.used_percent",
            range=TimeRange.last(timedelta(hours=1)),
            step=timedelta(seconds=1),
            aggregation=Aggregation.LAST,
        )
    )
    assert int(series.times[0].timestamp()) == seconds


def test_without_db_no_db_tag_is_added(client: TestClient, runtime: Runtime, secret: str) -> None:
    response = client.post("/write", content="disk,path=/ free=3i", headers=token_header(secret))

    assert response.status_code == 204
    assert stored(runtime, "disk.free") == {(("path", "/"),): 3.0}


def test_partial_write_stores_the_valid_lines_and_answers_influx_400(
    client: TestClient, runtime: Runtime, secret: str
) -> None:
    body = "cpu v=1\ncpu v=oops\n# comment\ncpu v=2\ncpu\n"
    response = client.post("/write?db=x", content=body, headers=token_header(secret))

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    payload: dict[str, Any] = response.json()
    assert payload["code"] == "invalid"
    assert payload["message"] == payload["error"] == payload["detail"]
    assert payload["message"].startswith("partial write:")
    assert "(2 accepted, 2 rejected; line 2: invalid field value 'oops'" in payload["message"]
    assert "line 5: missing fields" in payload["message"]
    assert [e["field"] for e in payload["errors"]] == ["line 2", "line 5"]
    assert payload["request_id"] == response.headers["x-request-id"]
    assert sum(stored(runtime, "cpu.v").values()) == 3.0


def test_a_write_of_only_bad_lines_is_400_unable_to_parse(
    client: TestClient, runtime: Runtime, secret: str
) -> None:
    response = client.post(
        "/api/v2/write?bucket=b", content='cpu v=\ncpu s="text"', headers=token_header(secret)
    )

    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("unable to parse points (0 accepted, 2 rejected; line 1:")
    assert "line 2: only string fields" in message
    assert runtime.telemetry.count(Signal.POINTS) == 0


def test_more_rejections_than_shown_are_counted(client: TestClient, secret: str) -> None:
    body = "\n".join(["cpu v=x"] * 8)
    response = client.post("/write", content=body, headers=token_header(secret))

    assert response.json()["message"].endswith("; and 3 more)")
    assert len(response.json()["errors"]) == 8


def test_an_empty_body_is_204(client: TestClient, secret: str) -> None:
    assert client.post("/write", content=b"", headers=token_header(secret)).status_code == 204


@pytest.mark.parametrize(("path", "precision"), [("/write", "d"), ("/api/v2/write", "m")])
def test_an_unknown_precision_is_422_naming_the_parameter(
    client: TestClient, secret: str, path: str, precision: str
) -> None:
    response = client.post(
        path, params={"precision": precision}, content="cpu v=1", headers=token_header(secret)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.precision"


# -- gzip ---------------------------------------------------------------------------------------


def test_gzip_bodies_are_decompressed(client: TestClient, runtime: Runtime, secret: str) -> None:
    body = gzip.compress(b"net,iface=eth0 bytes_recv=10i\nnet,iface=eth1 bytes_recv=5i")
    response = client.post(
        "/api/v2/write?bucket=b",
        content=body,
        headers={**token_header(secret), "Content-Encoding": "gzip"},
    )

    assert response.status_code == 204, response.text
    assert sum(stored(runtime, "net.bytes_recv").values()) == 15.0


def test_concatenated_gzip_members_are_all_read(
    client: TestClient, runtime: Runtime, secret: str
) -> None:
    body = gzip.compress(b"a v=1\n") + gzip.compress(b"a v=2\n")
    response = client.post(
        "/write", content=body, headers={**token_header(secret), "Content-Encoding": "gzip"}
    )

    assert response.status_code == 204
    assert sum(stored(runtime, "a.v").values()) == 3.0


def test_a_gzip_body_decompressing_past_max_body_bytes_is_413(
    client: TestClient, runtime: Runtime, secret: str, settings: Settings
) -> None:
    bomb = gzip.compress(b"cpu v=1\n" * (settings.max_body_bytes // 8 + 10))
    assert len(bomb) < settings.max_body_bytes
    response = client.post(
        "/write", content=bomb, headers={**token_header(secret), "Content-Encoding": "gzip"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "body_too_large"
    assert runtime.telemetry.count(Signal.POINTS) == 0


@pytest.mark.parametrize(
    ("body", "detail"),
    [(b"not gzip at all", "not valid gzip"), (gzip.compress(b"cpu v=1\n")[:-12], "truncated")],
)
def test_a_broken_gzip_body_is_400(
    client: TestClient, secret: str, body: bytes, detail: str
) -> None:
    response = client.post(
        "/write", content=body, headers={**token_header(secret), "Content-Encoding": "gzip"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "malformed_body"
    assert detail in response.json()["detail"]


def test_other_content_encodings_are_415(client: TestClient, secret: str) -> None:
    response = client.post(
        "/write", content=b"x", headers={**token_header(secret), "Content-Encoding": "br"}
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_encoding"


# -- overload -------------------------------------------------------------------------------


class TestWhenTheBufferIsFull:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"ingest_buffer_max_bytes": 1024 * 1024})

    def test_writes_are_refused_with_503_and_retry_after_and_nothing_is_half_stored(
        self, client: TestClient, runtime: Runtime, secret: str
    ) -> None:
        body = "\n".join(f"load,host=h{i % 50} v={i}" for i in range(5000))
        statuses = []
        for _ in range(40):
            response = client.post("/write", content=body, headers=token_header(secret))
            statuses.append(response.status_code)
            if response.status_code != 204:
                break

        assert statuses[-1] == 503, statuses
        assert set(statuses[:-1]) == {204}
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "overloaded"
        assert runtime.ingest.flush() == 5000 * (len(statuses) - 1)
        after = client.post("/write", content=body, headers=token_header(secret))
        assert after.status_code == 204


# -- authentication -------------------------------------------------------------------------


def test_v1_basic_auth_carries_the_token_as_password(
    client: TestClient, runtime: Runtime, secret: str
) -> None:
    response = client.post("/write?db=d", content="a v=1", headers=basic_header(secret))

    assert response.status_code == 204
    [record] = audit_records(runtime, action="authz.token", target="POST /write")
    assert record.outcome == "allowed"


def test_v1_query_parameters_carry_the_token(client: TestClient, secret: str) -> None:
    response = client.post(
        "/write", params={"db": "d", "u": "telegraf", "p": secret}, content="a v=1"
    )

    assert response.status_code == 204


def test_bearer_still_works(client: TestClient, secret: str) -> None:
    response = client.post(
        "/api/v2/write", content="a v=1", headers={"Authorization": f"Bearer {secret}"}
    )

    assert response.status_code == 204


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Token wrong"},
        {"Authorization": "Basic " + base64.b64encode(b"telegraf:wrong").decode()},
    ],
    ids=["none", "unknown token", "unknown basic password"],
)
def test_missing_or_unknown_credentials_are_401_and_audited(
    client: TestClient, runtime: Runtime, headers: dict[str, str]
) -> None:
    response = client.post("/write", content="a v=1", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    denied = audit_records(runtime, outcome="denied")
    assert denied, "the refusal is in the audit log"
    assert runtime.telemetry.count(Signal.POINTS) == 0


@pytest.mark.parametrize(
    "authorization", ["Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode()]
)
def test_malformed_basic_credentials_are_401_malformed_authorization(
    client: TestClient, runtime: Runtime, authorization: str
) -> None:
    response = client.post("/write", content="a v=1", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert "Basic with the token as password" in response.json()["detail"]
    [record] = audit_records(runtime, action="authz.anonymous")
    assert record.detail["reason"] == "malformed_authorization"


def test_a_token_without_the_ingest_scope_is_403(
    client: TestClient, token_for: TokenFactory, make_user: UserFactory
) -> None:
    reader = token_for(make_user("viewer", Role.VIEWER), Scope.READ)["Authorization"]
    response = client.post("/write", content="a v=1", headers=token_header(reader.split()[1]))

    assert response.status_code == 403


def test_influx_credential_forms_are_accepted_only_by_the_agent_endpoints(
    client: TestClient, secret: str
) -> None:
    for headers, params in [
        (token_header(secret), {}),
        (basic_header(secret), {}),
        ({}, {"u": "x", "p": secret}),
    ]:
        response = client.get("/api/v1/services", headers=headers, params=params)
        assert response.status_code == 401, (headers, params)


# -- ping and query ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_ping_answers_204_with_the_influx_version(client: TestClient, method: str) -> None:
    response = client.request(method, "/ping")

    assert response.status_code == 204
    assert response.headers["x-influxdb-version"] == INFLUX_VERSION


def test_create_database_from_a_form_body_succeeds_like_telegraf_expects(
    client: TestClient, secret: str
) -> None:
    response = client.post(
        "/query",
        data={"q": 'CREATE DATABASE "telegraf"'},
        headers=basic_header(secret),
    )

    assert response.status_code == 200
    assert response.json() == {"results": [{"statement_id": 0}]}


def test_other_queries_are_400_pointing_at_the_api(client: TestClient, secret: str) -> None:
    response = client.post(
        "/query", params={"q": "SELECT * FROM cpu"}, headers=basic_header(secret)
    )

    assert response.status_code == 400
    assert "/api/v1" in response.json()["error"]
