"""Server-rendered pages: the login form, the home radiator, logging out, the demo link."""

from __future__ import annotations

import re

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from radiator.audit import Outcome
from radiator.catalog import ServiceCreate, TeamCreate
from radiator.identity import Role
from radiator.runtime import Runtime
from radiator.web.deps import SESSION_COOKIE

from .support import PASSWORD, UserFactory, audit_records, login

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_csrf(page: httpx2.Response) -> str:
    match = _CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


def submit_login(
    client: TestClient, username: str, password: str, next_page: str = "/"
) -> httpx2.Response:
    csrf = form_csrf(client.get("/login", params={"next": next_page}))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf, "next": next_page},
        follow_redirects=False,
    )


def test_home_without_a_session_redirects_to_login(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_home_with_an_unknown_session_redirects_to_login(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "forged")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303


def test_the_login_form_carries_a_csrf_cookie_and_field(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert form_csrf(page) == client.cookies["radiator_login_csrf"]


def test_the_login_form_logs_in_and_redirects(
    client: TestClient, runtime: Runtime, make_user: UserFactory
) -> None:
    make_user("ed", Role.EDITOR)
    response = submit_login(client, "ed", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert SESSION_COOKIE in client.cookies
    home = client.get("/")
    assert home.status_code == 200
    assert "ed · editor" in home.text
    (login_record,) = audit_records(runtime, action="auth.login")
    assert (login_record.actor, login_record.outcome) == ("ed", Outcome.ALLOWED)


def test_the_login_form_returns_to_the_page_asked_for(
    client: TestClient, make_user: UserFactory
) -> None:
    make_user("ed", Role.EDITOR)
    response = submit_login(client, "ed", PASSWORD, next_page="/?view=all")
    assert response.headers["location"] == "/?view=all"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example"])
def test_the_login_form_never_redirects_off_site(
    client: TestClient, make_user: UserFactory, target: str
) -> None:
    make_user("ed", Role.EDITOR)
    location = submit_login(client, "ed", PASSWORD, next_page=target).headers["location"]
    assert location.startswith("/")
    assert not location.startswith(("//", "/\\"))
    assert httpx2.URL("http://testserver").join(location).host == "testserver"


def test_the_login_form_without_its_csrf_field_is_refused(
    client: TestClient, make_user: UserFactory
) -> None:
    make_user("ed", Role.EDITOR)
    client.get("/login")
    for token in ("", "forged", "caf\u00e9"):
        response = client.post(
            "/login",
            data={"username": "ed", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 400
        assert "expired" in response.text
    assert SESSION_COOKIE not in client.cookies


def test_a_wrong_password_shows_an_error_with_401(
    client: TestClient, make_user: UserFactory
) -> None:
    make_user("ed", Role.EDITOR)
    response = submit_login(client, "ed", "not the password")
    assert response.status_code == 401
    assert "text/html" in response.headers["content-type"]
    assert "Wrong username or password." in response.text
    assert 'value="ed"' in response.text  # the username is kept, the password is not
    assert "not the password" not in response.text
    assert SESSION_COOKIE not in client.cookies


def test_too_many_wrong_passwords_show_an_error_with_429(
    client: TestClient, make_user: UserFactory, runtime: Runtime
) -> None:
    make_user("ed", Role.EDITOR)
    for _ in range(runtime.settings.login_max_failures):
        assert submit_login(client, "ed", "not the password").status_code == 401
    response = submit_login(client, "ed", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text


def test_the_username_is_escaped_on_the_error_page(client: TestClient) -> None:
    response = submit_login(client, '"><script>alert(1)</script>', "whatever")
    assert response.status_code == 401
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_home_lists_the_services_and_escapes_their_descriptions(
    client: TestClient, runtime: Runtime, make_user: UserFactory
) -> None:
    runtime.catalog.create_team(TeamCreate(name="payments", description="<b>money</b>"))
    runtime.catalog.create_service(
        ServiceCreate(
            name="checkout",
            display_name="Checkout <img src=x onerror=alert(2)>",
            team="payments",
            description="<script>alert(1)</script>",
        )
    )
    runtime.catalog.create_service(ServiceCreate(name="search", team="payments"))
    runtime.catalog.create_service(ServiceCreate(name="orphan"))
    login(client, make_user("vic", Role.VIEWER))

    page = client.get("/")
    assert page.status_code == 200
    assert page.text.count('data-testid="service-row"') == 2
    assert "<code>checkout</code>" in page.text and "<code>search</code>" in page.text
    assert "<code>orphan</code>" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text and "<b>money</b>" not in page.text
    assert '<span class="big" data-testid="service-count">3</span>' in page.text


def test_viewing_home_is_audited(
    client: TestClient, runtime: Runtime, make_user: UserFactory
) -> None:
    login(client, make_user("vic", Role.VIEWER))
    client.get("/")
    (record,) = audit_records(runtime, action="authz.session")
    assert (record.actor, record.target, record.outcome) == ("vic", "GET /", Outcome.ALLOWED)


def test_logout_with_the_csrf_field_ends_the_session(
    client: TestClient, runtime: Runtime, make_user: UserFactory
) -> None:
    login(client, make_user("ed", Role.EDITOR))
    cookie = client.cookies[SESSION_COOKIE]
    csrf = form_csrf(client.get("/"))

    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert SESSION_COOKIE not in client.cookies
    client.cookies.set(SESSION_COOKIE, cookie)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert [r.outcome for r in audit_records(runtime, action="auth.logout")] == [Outcome.SUCCESS]


def test_logout_without_the_csrf_field_does_not_end_the_session(
    client: TestClient, make_user: UserFactory
) -> None:
    login(client, make_user("ed", Role.EDITOR))
    cookie = client.cookies[SESSION_COOKIE]
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": "caf\u00e9"}):
        response = client.post("/logout", data=data, follow_redirects=False)
        assert response.status_code == 303
        client.cookies.set(SESSION_COOKIE, cookie)
        assert client.get("/", follow_redirects=False).status_code == 200


def test_demo_login_is_404_unless_the_demo_set_it_up(
    client: TestClient, make_user: UserFactory
) -> None:
    make_user("demo", Role.EDITOR)
    response = client.get("/demo-login", params={"key": "anything"}, follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert SESSION_COOKIE not in client.cookies


@pytest.mark.parametrize("key", ["", "wrong", "caf\u00e9", "s3cret-demo-ke"])
def test_demo_login_with_a_wrong_key_is_404(
    app: FastAPI, client: TestClient, make_user: UserFactory, key: str
) -> None:
    app.state.demo_login = {"key": "s3cret-demo-key", "username": make_user("demo", Role.EDITOR)}
    response = client.get("/demo-login", params={"key": key}, follow_redirects=False)
    assert response.status_code == 404
    assert SESSION_COOKIE not in client.cookies


def test_demo_login_with_the_right_key_logs_in(
    app: FastAPI, client: TestClient, runtime: Runtime, make_user: UserFactory
) -> None:
    app.state.demo_login = {"key": "s3cret-demo-key", "username": make_user("demo", Role.EDITOR)}
    response = client.get("/demo-login", params={"key": "s3cret-demo-key"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "demo · editor" in client.get("/").text
    (record,) = audit_records(runtime, action="auth.login")
    assert (record.actor, record.outcome, record.detail) == (
        "demo",
        Outcome.ALLOWED,
        {"method": "link"},
    )
