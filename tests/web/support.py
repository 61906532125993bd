"""Helpers for the HTTP-layer tests: known passwords, logging in, reading the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
from fastapi.testclient import TestClient

from radiator.audit import AuditQuery, AuditRecord
from radiator.identity import Role
from radiator.runtime import Runtime

PASSWORD = "a long enough test password"

TokenFactory = Callable[..., dict[str, str]]
UserFactory = Callable[[str, Role], str]


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log ``client`` in through the API (the cookie lands in its jar); returns the CSRF token."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


def audit_records(runtime: Runtime, **filters: Any) -> list[AuditRecord]:
    """Audit records matching ``filters`` (AuditQuery fields), oldest first."""
    return list(reversed(runtime.audit.search(AuditQuery(limit=1000, **filters))))


def cookie_from(response: httpx2.Response, name: str) -> str:
    """The raw ``Set-Cookie`` header of ``response`` for cookie ``name``."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers}")
