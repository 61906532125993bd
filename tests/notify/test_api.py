"""The channels API: admin-only changes, settings refused naming the field, test sends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from radiator.identity import Scope
from radiator.runtime import Runtime
from support import free_port

from .servers import Receiver

API = "/api/v1"
HOOK_SECRET = "api-test-secret-0123456789"


def test_creating_a_channel_needs_the_admin_scope(
    client: TestClient, token_for: object, admin: str
) -> None:
    writer = token_for(admin, Scope.READ, Scope.WRITE)  # type: ignore[operator]
    body = {"name": "hook", "type": "slack", "settings": {"url": "https://x.example/hook"}}

    assert client.post(f"{API}/channels", json=body, headers=writer).status_code == 403


def test_misconfigured_channel_is_refused_naming_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {
        "name": "mail",
        "type": "email",
        "settings": {"host": "smtp", "port": 0, "sender": "a@b.c"},
    }

    response = client.post(f"{API}/channels", json=body, headers=admin_headers)

    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "settings.port"
    assert "settings.port" in problem["detail"]


def test_test_send_reports_delivery_and_failure(
    client: TestClient, admin_headers: dict[str, str], receiver: Receiver, runtime: Runtime
) -> None:
    hook = {"url": receiver.url, "secret": HOOK_SECRET}
    created = client.post(
        f"{API}/channels",
        json={"name": "hook", "type": "webhook", "settings": hook},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["settings"]["secret"] == "***"
    port = free_port()
    mail = {"host": "127.0.0.1", "port": port, "sender": "r@example.com", "to": ["o@example.com"]}
    client.post(
        f"{API}/channels",
        json={"name": "mail", "type": "email", "settings": mail},
        headers=admin_headers,
    )

    ok = client.post(f"{API}/channels/hook/test", headers=admin_headers).json()
    refused = client.post(f"{API}/channels/mail/test", headers=admin_headers).json()

    assert ok["status"] == "delivered"
    assert len(receiver.requests) == 1
    assert refused["status"] == "failed"
    assert refused["attempts"][-1]["error"] == f"SMTP connection refused at 127.0.0.1:{port}"
    log = client.get(f"{API}/deliveries", params={"channel": "mail"}, headers=admin_headers).json()
    assert [d["id"] for d in log] == [refused["id"]]
    assert client.post(f"{API}/channels/nope/test", headers=admin_headers).status_code == 404
