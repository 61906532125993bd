"""The HTTP API: request ids, probes, OpenAPI, the catalog, tokens, sessions and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from radiator import __version__
from radiator.audit import Outcome
from radiator.config import Settings
from radiator.identity import Role, Scope, UserCreate, UserUpdate
from radiator.runtime import Runtime
from radiator.web import create_app
from radiator.web.deps import SESSION_COOKIE

from .support import PASSWORD, TokenFactory, UserFactory, audit_records, cookie_from, login

# -- request ids and probes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/healthz"), ("GET", "/api/v1/teams"), ("GET", "/nowhere"), ("PUT", "/api/v1/audit")],
)
def test_every_response_has_a_request_id(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert len(response.headers["x-request-id"]) >= 8


def test_a_sane_incoming_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/api/v1/teams", headers={"X-Request-ID": "trace-42.abc_DEF"})
    assert response.headers["x-request-id"] == "trace-42.abc_DEF"
    assert response.json()["request_id"] == "trace-42.abc_DEF"


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 65, "<script>", "a\tb"])
def test_an_unsafe_incoming_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] not in ("", incoming)


def test_the_request_id_reaches_the_audit_log(
    client: TestClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    client.get("/api/v1/teams", headers={**admin_headers, "X-Request-ID": "req-audit-1"})
    records = audit_records(runtime, action="authz.token")
    assert [r.request_id for r in records] == ["req-audit-1"]


def test_healthz_says_ok_without_credentials(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_readyz_is_ready_when_both_stores_answer(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"state_store": "ok", "telemetry_store": "ok"},
    }


def test_openapi_lists_the_api_routes(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/auth/login": {"post"},
        "/api/v1/auth/logout": {"post"},
        "/api/v1/auth/me": {"get"},
        "/api/v1/users": {"get", "post"},
        "/api/v1/users/{username}": {"get", "patch"},
        "/api/v1/tokens": {"get", "post"},
        "/api/v1/tokens/{token_id}": {"delete"},
        "/api/v1/teams": {"get", "post"},
        "/api/v1/teams/{name}": {"get", "patch", "delete"},
        "/api/v1/services": {"get", "post"},
        "/api/v1/services/{name}": {"get", "patch", "delete"},
        "/api/v1/audit": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    assert not any(path in paths for path in ("/", "/login", "/logout", "/demo-login"))


def test_openapi_documents_errors_as_problem_json(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    get_service = paths["/api/v1/services/{name}"]["get"]["responses"]
    for status in ("401", "403", "404", "422"):
        assert set(get_service[status]["content"]) == {"application/problem+json"}, status
    assert "WWW-Authenticate" in get_service["401"]["headers"]
    assert "409" in paths["/api/v1/teams"]["post"]["responses"]
    login_429 = paths["/api/v1/auth/login"]["post"]["responses"]["429"]
    assert "Retry-After" in login_429["headers"]


# -- catalog through a write token -------------------------------------------------------------


def test_teams_and_services_crud_with_a_write_token(
    client: TestClient, make_user: UserFactory, token_for: TokenFactory
) -> None:
    headers = token_for(make_user("ed", Role.EDITOR), Scope.READ, Scope.WRITE)

    created = client.post(
        "/api/v1/teams",
        json={"name": "payments", "description": "Takes the money", "members": ["ed"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == "Payments"
    patched = client.patch(
        "/api/v1/teams/payments", json={"display_name": "Payments Team"}, headers=headers
    )
    assert patched.json()["display_name"] == "Payments Team"
    assert client.get("/api/v1/teams/payments", headers=headers).json()["members"] == ["ed"]

    service = {
        "name": "checkout",
        "team": "payments",
        "tier": 1,
        "links": [{"title": "Runbook", "url": "https://runbooks.example.com/checkout"}],
    }
    assert client.post("/api/v1/services", json=service, headers=headers).status_code == 201
    assert (
        client.post("/api/v1/services", json={"name": "search"}, headers=headers).status_code == 201
    )
    owned = client.get("/api/v1/services", params={"team": "payments"}, headers=headers).json()
    assert [s["name"] for s in owned] == ["checkout"]
    all_services = client.get("/api/v1/services", headers=headers).json()
    assert sorted(s["name"] for s in all_services) == ["checkout", "search"]
    updated = client.patch("/api/v1/services/checkout", json={"tier": 2}, headers=headers)
    assert updated.json()["tier"] == 2
    assert client.get("/api/v1/services/checkout", headers=headers).json()["tier"] == 2

    # A team that still owns services cannot go; once they are gone it can.
    assert client.delete("/api/v1/teams/payments", headers=headers).status_code == 409
    assert client.delete("/api/v1/services/checkout", headers=headers).status_code == 204
    assert client.get("/api/v1/services/checkout", headers=headers).status_code == 404
    assert client.delete("/api/v1/teams/payments", headers=headers).status_code == 204
    assert client.get("/api/v1/teams", headers=headers).json() == []


def test_catalog_changes_are_audited_with_the_token_as_actor(
    client: TestClient, runtime: Runtime, make_user: UserFactory, token_for: TokenFactory
) -> None:
    headers = token_for(make_user("ed", Role.EDITOR), Scope.WRITE)
    client.post("/api/v1/teams", json={"name": "payments"}, headers=headers)
    (record,) = audit_records(runtime, action="team.create")
    assert record.actor.startswith("ed (token:")
    assert record.target == "team:payments"
    assert record.outcome is Outcome.SUCCESS


def test_a_read_only_token_cannot_write_and_the_denial_is_audited(
    client: TestClient, runtime: Runtime, make_user: UserFactory, token_for: TokenFactory
) -> None:
    headers = token_for(make_user("ed", Role.EDITOR), Scope.READ)
    assert client.get("/api/v1/teams", headers=headers).status_code == 200
    for response in (
        client.post("/api/v1/teams", json={"name": "payments"}, headers=headers),
        client.patch("/api/v1/services/x", json={"tier": 1}, headers=headers),
        client.delete("/api/v1/services/x", headers=headers),
    ):
        assert response.status_code == 403
    assert runtime.catalog.list_teams() == []
    denied = audit_records(runtime, action="authz.token", outcome=Outcome.DENIED)
    assert [r.target for r in denied] == [
        "POST /api/v1/teams",
        "PATCH /api/v1/services/{name}",
        "DELETE /api/v1/services/{name}",
    ]
    assert all(r.actor.startswith("ed (token:") and r.detail["scope"] == "write" for r in denied)


def test_token_scopes_are_capped_by_the_owners_role(
    client: TestClient, runtime: Runtime, make_user: UserFactory, token_for: TokenFactory
) -> None:
    # Demoting a user takes effect on tokens minted before the demotion.
    headers = token_for(make_user("ed", Role.EDITOR), Scope.READ, Scope.WRITE)
    runtime.identity.update_user("ed", UserUpdate(role=Role.VIEWER))
    assert client.post("/api/v1/teams", json={"name": "x"}, headers=headers).status_code == 403


# -- role checks and the audit log -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/audit", "/api/v1/tokens?all=true"])
def test_a_viewer_session_cannot_use_admin_routes(
    client: TestClient, make_user: UserFactory, path: str
) -> None:
    login(client, make_user("vic", Role.VIEWER))
    response = client.get(path)
    assert response.status_code == 403, response.text


def test_a_viewer_session_cannot_create_users(client: TestClient, make_user: UserFactory) -> None:
    csrf = login(client, make_user("vic", Role.VIEWER))
    response = client.post(
        "/api/v1/users",
        json={"username": "mallory", "password": "x" * 16, "role": "admin"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 403


def test_the_audit_log_is_admin_only(
    client: TestClient, make_user: UserFactory, token_for: TokenFactory
) -> None:
    editor = token_for(make_user("ed", Role.EDITOR), Scope.READ, Scope.WRITE, Scope.INGEST)
    assert client.get("/api/v1/audit", headers=editor).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/v1/audit"])
def test_the_audit_log_cannot_be_changed_through_the_api(
    client: TestClient, admin_headers: dict[str, str], method: str, path: str
) -> None:
    response = client.request(method, path, json={"actor": "nobody"}, headers=admin_headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    one = client.request(method, f"{path}/1", headers=admin_headers)
    assert one.status_code in (404, 405)


def test_audit_filters_narrow_the_results(
    client: TestClient, runtime: Runtime, admin_headers: dict[str, str], make_user: UserFactory
) -> None:
    started = datetime.now(UTC)
    make_user("vic", Role.VIEWER)
    client.post("/api/v1/auth/login", json={"username": "vic", "password": "wrong password"})
    client.post("/api/v1/teams", json={"name": "payments"}, headers=admin_headers)

    def search(**params: str | int) -> list[dict[str, Any]]:
        response = client.get("/api/v1/audit", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()
        return records

    everything = search()
    ids = [r["id"] for r in everything]
    assert ids == sorted(ids, reverse=True), "newest first"

    assert [r["target"] for r in search(action="team.create")] == ["team:payments"]
    assert {r["action"] for r in search(action="auth.")} == {"auth.login"}
    denied = search(outcome="denied", actor="vic")
    assert [(r["action"], r["target"]) for r in denied] == [("auth.login", "vic")]
    assert all(r["target"] == "vic" for r in search(target="vic"))
    assert len(search(limit=2)) == 2
    assert search(before_id=ids[1]) == everything[2:]

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert search(since=future) == []
    assert search(until="2000-01-01T00:00:00Z") == []
    window = {"since": started.isoformat(), "until": future}
    assert {"auth.login", "team.create"} <= {r["action"] for r in search(**window)}


# -- tokens ------------------------------------------------------------------------------------


def test_a_token_secret_is_shown_once_and_revoking_it_locks_it_out(
    client: TestClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/tokens", json={"name": "ci", "scopes": ["read"]}, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    token = created.json()["token"]
    assert secret.startswith(token["prefix"])
    mine = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/teams", headers=mine).status_code == 200

    listed = client.get("/api/v1/tokens", headers=admin_headers)
    assert secret not in listed.text
    assert all("secret" not in t for t in listed.json())
    assert token["id"] in [t["id"] for t in listed.json()]

    revoked = client.delete(f"/api/v1/tokens/{token['id']}", headers=admin_headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = client.get("/api/v1/teams", headers=mine)
    assert response.status_code == 401
    (denial,) = audit_records(runtime, action="auth.token")
    assert denial.outcome is Outcome.DENIED
    assert denial.target == f"token:{token['prefix']}"
    assert denial.detail["reason"] == "revoked"
    assert secret not in str(denial)


def test_revoking_an_unknown_token_is_404(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert client.delete("/api/v1/tokens/424242", headers=admin_headers).status_code == 404


def test_a_token_without_admin_scope_cannot_create_or_revoke_tokens(
    client: TestClient, runtime: Runtime, make_user: UserFactory, token_for: TokenFactory
) -> None:
    ed = make_user("ed", Role.EDITOR)
    narrow = token_for(ed, Scope.READ, Scope.WRITE, Scope.INGEST)
    response = client.post(
        "/api/v1/tokens", json={"name": "wider", "scopes": ["write"]}, headers=narrow
    )
    assert response.status_code == 403
    assert client.get("/api/v1/tokens", headers=narrow).status_code == 403
    assert client.delete("/api/v1/tokens/1", headers=narrow).status_code == 403
    assert len(runtime.identity.list_tokens(ed)) == 1


def test_a_session_user_manages_their_own_tokens(
    client: TestClient, runtime: Runtime, make_user: UserFactory
) -> None:
    csrf = login(client, make_user("ed", Role.EDITOR))
    headers = {"X-CSRF-Token": csrf}
    created = client.post(
        "/api/v1/tokens", json={"name": "laptop", "scopes": ["ingest"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    too_wide = client.post(
        "/api/v1/tokens", json={"name": "root", "scopes": ["admin"]}, headers=headers
    )
    assert too_wide.status_code == 422
    assert [t["name"] for t in client.get("/api/v1/tokens").json()] == ["laptop"]
    assert [t.name for t in runtime.identity.list_tokens()] == ["laptop"]


def test_a_non_admin_cannot_revoke_someone_elses_token(
    client: TestClient, admin_headers: dict[str, str], make_user: UserFactory
) -> None:
    created = client.post(
        "/api/v1/tokens", json={"name": "ops", "scopes": ["read"]}, headers=admin_headers
    ).json()
    csrf = login(client, make_user("ed", Role.EDITOR))
    response = client.delete(
        f"/api/v1/tokens/{created['token']['id']}", headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 403
    secret = {"Authorization": f"Bearer {created['secret']}"}
    client.cookies.clear()
    assert client.get("/api/v1/teams", headers=secret).status_code == 200


# -- sessions ----------------------------------------------------------------------------------


def test_login_sets_an_httponly_session_cookie(client: TestClient, make_user: UserFactory) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"username": make_user("ed", Role.EDITOR), "password": ""}
    )
    assert response.status_code == 422  # an empty password is not even checked
    response = client.post("/api/v1/auth/login", json={"username": "ed", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["via"] == "session" and body["user"]["username"] == "ed"
    assert "password_hash" not in body["user"]
    cookie = cookie_from(response, SESSION_COOKIE).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # the test settings turn Secure off


@pytest.fixture
def secure_runtime(settings: Settings, tmp_path: Path) -> Iterator[Runtime]:
    secure = settings.model_copy(
        update={"session_cookie_secure": True, "data_dir": tmp_path / "secure"}
    )
    runtime = Runtime(secure)
    yield runtime
    runtime.close()


def test_the_session_cookie_is_secure_when_configured(secure_runtime: Runtime) -> None:
    secure_runtime.identity.create_user(
        UserCreate(username="ed", password=PASSWORD, role=Role.EDITOR)
    )
    app: FastAPI = create_app(secure_runtime.settings, runtime=secure_runtime, run_jobs=False)
    with TestClient(app, base_url="https://testserver") as secure_client:
        response = secure_client.post(
            "/api/v1/auth/login", json={"username": "ed", "password": PASSWORD}
        )
    assert response.status_code == 200
    cookie = cookie_from(response, SESSION_COOKIE).lower()
    assert "secure" in cookie.split("; ")
    assert "httponly" in cookie.split("; ")


def test_state_changing_cookie_requests_need_the_csrf_token(
    client: TestClient, runtime: Runtime, make_user: UserFactory
) -> None:
    csrf = login(client, make_user("ed", Role.EDITOR))
    assert client.get("/api/v1/teams").status_code == 200  # reads need no token

    refused = client.post("/api/v1/teams", json={"name": "payments"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    wrong = client.post(
        "/api/v1/teams", json={"name": "payments"}, headers={"X-CSRF-Token": "guess"}
    )
    assert wrong.status_code == 403
    assert runtime.catalog.list_teams() == []

    accepted = client.post(
        "/api/v1/teams", json={"name": "payments"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 201
    denials = audit_records(runtime, outcome=Outcome.DENIED)
    assert [(r.actor, r.target, r.detail["reason"]) for r in denials] == [
        ("ed", "POST /api/v1/teams", "csrf_token_missing"),
        ("ed", "POST /api/v1/teams", "csrf_token_missing"),
    ]


def test_me_returns_the_csrf_token_of_the_session(
    client: TestClient, make_user: UserFactory
) -> None:
    csrf = login(client, make_user("ed", Role.EDITOR))
    me = client.get("/api/v1/auth/me").json()
    assert me["csrf_token"] == csrf
    assert set(me["scopes"]) == {"read", "write", "ingest"}


def test_logout_ends_the_session_on_the_server(client: TestClient, make_user: UserFactory) -> None:
    csrf = login(client, make_user("ed", Role.EDITOR))
    cookie = client.cookies[SESSION_COOKIE]
    assert client.post("/api/v1/auth/logout").status_code == 403  # needs the CSRF token too
    response = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert SESSION_COOKIE not in client.cookies
    # The old cookie value no longer works, even when replayed.
    client.cookies.set(SESSION_COOKIE, cookie)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_every_authentication_and_authorisation_decision_is_audited(
    client: TestClient,
    runtime: Runtime,
    make_user: UserFactory,
    token_for: TokenFactory,
) -> None:
    make_user("ed", Role.EDITOR)
    reader = token_for("ed", Scope.READ)
    client.post("/api/v1/auth/login", json={"username": "ed", "password": "wrong password"})
    client.post("/api/v1/auth/login", json={"username": "ghost", "password": PASSWORD})
    csrf = login(client, "ed")
    client.get("/api/v1/auth/me")
    client.get("/api/v1/teams")
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    client.get("/api/v1/teams")  # cookie gone: no credentials
    client.get("/api/v1/teams", headers=reader)
    client.get("/api/v1/auth/me", headers=reader)
    client.post("/api/v1/teams", json={"name": "x"}, headers=reader)
    client.get("/api/v1/teams", headers={"Authorization": "Bearer rad_made_up"})
    client.get("/api/v1/teams", headers={"Authorization": "Basic abc"})

    token_actor = next(r.actor for r in audit_records(runtime, action="authz.token"))
    decisions = [
        (r.actor, r.action, r.target, r.outcome)
        for r in audit_records(runtime)
        if r.action.startswith(("auth.", "authz."))
    ]
    assert decisions == [
        ("ed", "auth.login", "ed", Outcome.DENIED),
        ("ghost", "auth.login", "ghost", Outcome.DENIED),
        ("ed", "auth.login", "ed", Outcome.ALLOWED),
        ("ed", "authz.session", "GET /api/v1/auth/me", Outcome.ALLOWED),
        ("ed", "authz.session", "GET /api/v1/teams", Outcome.ALLOWED),
        ("ed", "authz.session", "POST /api/v1/auth/logout", Outcome.ALLOWED),
        ("ed", "auth.logout", "ed", Outcome.SUCCESS),
        ("anonymous", "authz.anonymous", "GET /api/v1/teams", Outcome.DENIED),
        (token_actor, "authz.token", "GET /api/v1/teams", Outcome.ALLOWED),
        (token_actor, "authz.token", "GET /api/v1/auth/me", Outcome.ALLOWED),
        (token_actor, "authz.token", "POST /api/v1/teams", Outcome.DENIED),
        ("anonymous", "auth.token", "token:rad_made_u", Outcome.DENIED),
        ("anonymous", "authz.anonymous", "GET /api/v1/teams", Outcome.DENIED),
    ]
    assert token_actor.startswith("ed (token:")
    assert all(r.ip and r.request_id for r in audit_records(runtime, action="auth."))
