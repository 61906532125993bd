"""Every error the HTTP layer gives is one RFC 9457 problem+json shape, never a 500.

The shape: content type ``application/problem+json`` and exactly the keys
``type, title, status, detail, instance, code, request_id``, plus ``errors`` (a list of
``{field, message}``) when individual inputs were wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from radiator.config import Settings
from radiator.identity import Role, Scope

from .support import TokenFactory, UserFactory, login

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "request_id"}
LIMIT = 2048  # max_body_bytes for this module; the setting's minimum is 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": LIMIT})


def assert_problem(response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    """Check the one problem shape and return the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) - {"errors"} == PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:radiator:problem:{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    if "errors" in body:
        assert isinstance(body["errors"], list) and body["errors"]
        for error in body["errors"]:
            assert set(error) == {"field", "message"}
            assert isinstance(error["field"], str) and isinstance(error["message"], str)
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


def test_malformed_json_is_400_malformed_json(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/teams",
        content=b'{"name": "payments",',
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400, "malformed_json")
    assert "malformed JSON" in body["detail"]


def test_unknown_field_is_422_naming_the_body_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/teams", json={"name": "payments", "colour": "blue"}, headers=admin_headers
    )
    body = assert_problem(response, 422, "invalid_input")
    assert fields(body) == ["body.colour"]
    assert "body.colour" in body["detail"]


def test_wrong_type_in_the_body_is_422_naming_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/services", json={"name": "api", "tier": "gold"}, headers=admin_headers
    )
    body = assert_problem(response, 422, "invalid_input")
    assert fields(body) == ["body.tier"]


def test_wrong_type_in_the_query_is_422_naming_the_parameter(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/audit", params={"limit": "many"}, headers=admin_headers)
    body = assert_problem(response, 422, "invalid_input")
    assert fields(body) == ["query.limit"]


def test_several_invalid_inputs_are_all_named(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/services", json={"name": 5, "tier": 9, "extra": True}, headers=admin_headers
    )
    body = assert_problem(response, 422, "invalid_input")
    assert set(fields(body)) == {"body.name", "body.tier", "body.extra"}
    assert "(and 2 more)" in body["detail"]


def test_a_service_error_with_a_field_is_422_naming_it(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/services", json={"name": "api", "team": "ghosts"}, headers=admin_headers
    )
    body = assert_problem(response, 422, "invalid_input")
    assert fields(body) == ["team"]


def test_missing_credentials_are_401_with_www_authenticate(client: TestClient) -> None:
    response = client.get("/api/v1/teams")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization", ["Bearer rad_not-a-real-token", "Basic YWRtaW46YWRtaW4=", "Bearer "]
)
def test_bad_credentials_are_401_with_www_authenticate(
    client: TestClient, authorization: str
) -> None:
    response = client.get("/api/v1/teams", headers={"Authorization": authorization})
    assert_problem(response, 401, "unauthenticated")
    assert "www-authenticate" in response.headers


def test_insufficient_scope_is_403(client: TestClient, admin: str, token_for: TokenFactory) -> None:
    response = client.post(
        "/api/v1/teams", json={"name": "payments"}, headers=token_for(admin, Scope.READ)
    )
    body = assert_problem(response, 403, "permission_denied")
    assert "'write'" in body["detail"]


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/no-such-page", "/static/nope.css"])
def test_unknown_route_is_404(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404, "not_found")


def test_unknown_resource_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = assert_problem(
        client.get("/api/v1/services/ghost", headers=admin_headers), 404, "not_found"
    )
    assert "ghost" in body["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/teams", {"GET", "POST"}),
        ("POST", "/api/v1/teams/payments", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/api/v1/audit", {"GET"}),
    ],
)
def test_wrong_method_is_405_listing_every_allowed_method(
    client: TestClient, admin_headers: dict[str, str], method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path, headers=admin_headers)
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == allowed


def test_conflict_is_409(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert (
        client.post("/api/v1/teams", json={"name": "payments"}, headers=admin_headers).status_code
        == 201
    )
    response = client.post("/api/v1/teams", json={"name": "payments"}, headers=admin_headers)
    body = assert_problem(response, 409, "conflict")
    assert "payments" in body["detail"]


def test_body_over_the_limit_with_content_length_is_413(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    payload = b'{"name": "payments", "description": "' + b"x" * LIMIT + b'"}'
    response = client.post(
        "/api/v1/teams",
        content=payload,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert int(response.request.headers["content-length"]) > LIMIT
    body = assert_problem(response, 413, "body_too_large")
    assert str(LIMIT) in body["detail"] and "max_body_bytes" in body["detail"]


def _chunks(total: int, size: int = 512) -> Iterator[bytes]:
    yield b'{"name": "payments", "description": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


def test_streamed_body_over_the_limit_without_content_length_is_413(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/teams",
        content=_chunks(LIMIT * 2),
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    body = assert_problem(response, 413, "body_too_large")
    assert str(LIMIT) in body["detail"]
    # Nothing of the refused request was stored.
    assert client.get("/api/v1/teams", headers=admin_headers).json() == []


def test_streamed_form_over_the_limit_is_413(client: TestClient) -> None:
    def form() -> Iterator[bytes]:
        yield b"username=admin&password="
        for _ in range(LIMIT // 256 + 2):
            yield b"p" * 256

    response = client.post(
        "/login", content=form(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_problem(response, 413, "body_too_large")


def test_streamed_body_under_the_limit_is_accepted(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/teams",
        content=_chunks(LIMIT // 2),
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


def test_repeated_failed_logins_are_429_with_retry_after(
    client: TestClient, admin: str, settings: Settings
) -> None:
    wrong = {"username": admin, "password": "not the password"}
    for _ in range(settings.login_max_failures):
        assert_problem(client.post("/api/v1/auth/login", json=wrong), 401, "unauthenticated")
    response = client.post("/api/v1/auth/login", json=wrong)
    assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= settings.login_failure_window_seconds


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/tokens/99999999999999999999"),
        ("DELETE", "/api/v1/tokens/-99999999999999999999"),
        ("GET", "/api/v1/audit?before_id=99999999999999999999"),
        ("GET", "/api/v1/audit?since=9999-12-31T23:59:59-23:00"),
        ("GET", "/api/v1/audit?until=0001-01-01T00:00:00%2B05:00"),
    ],
)
def test_out_of_range_numbers_and_times_are_422_not_500(
    client: TestClient, admin_headers: dict[str, str], method: str, path: str
) -> None:
    assert_problem(client.request(method, path, headers=admin_headers), 422, "invalid_input")


def test_non_ascii_csrf_token_is_403_not_500(client: TestClient, make_user: UserFactory) -> None:
    login(client, make_user("ed", Role.EDITOR))
    response = client.post(
        "/api/v1/teams",
        json={"name": "payments"},
        headers=[(b"X-CSRF-Token", "caf\xe9".encode("latin-1"))],
    )
    assert_problem(response, 403, "permission_denied")


def test_unexpected_failure_is_500_in_the_same_shape(app: FastAPI) -> None:
    @app.get("/api/v1/_boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/_boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret internals" not in response.text
    assert body["request_id"]
