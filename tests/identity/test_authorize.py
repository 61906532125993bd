"""Authorisation: every decision, allowed or denied, lands in the audit log."""

from __future__ import annotations

import pytest

from radiator.audit import AuditLog, AuditQuery, Outcome
from radiator.core.caller import Caller
from radiator.errors import PermissionDeniedError
from radiator.identity import ApiTokenCreate, IdentityService, Principal, Role, Scope, UserCreate

from .support import PASSWORD, FakeClock, last_record

REQUEST = Caller("ada", ip="192.0.2.10", request_id="req-42")


@pytest.fixture
def token_principal(identity: IdentityService) -> Principal:
    identity.create_user(UserCreate(username="ada", password=PASSWORD, role=Role.EDITOR))
    created = identity.create_token(
        "ada", ApiTokenCreate(name="ci", scopes=[Scope.READ]), Caller("root")
    )
    return identity.token_principal(created.secret, REQUEST)


@pytest.fixture
def session_principal(identity: IdentityService) -> Principal:
    identity.create_user(UserCreate(username="vic", password=PASSWORD, role=Role.VIEWER))
    return identity.login("vic", PASSWORD, REQUEST).principal


def test_allowed_decision_is_recorded(
    identity: IdentityService, audit: AuditLog, token_principal: Principal
) -> None:
    identity.authorize(token_principal, Scope.READ, REQUEST, "GET /api/v1/services")

    record = last_record(audit, "authz.token")
    assert record.actor == token_principal.actor
    assert record.actor.startswith("ada (token:rad_")
    assert record.target == "GET /api/v1/services"
    assert record.outcome is Outcome.ALLOWED
    assert record.detail == {"scope": "read"}
    assert (record.ip, record.request_id) == ("192.0.2.10", "req-42")


def test_denied_decision_is_recorded_and_raised(
    identity: IdentityService, audit: AuditLog, token_principal: Principal
) -> None:
    # The owner's role allows write, but this token was not given it.
    with pytest.raises(PermissionDeniedError) as caught:
        identity.authorize(token_principal, Scope.WRITE, REQUEST, "POST /api/v1/services")

    assert caught.value.details == {"scope": "write"}
    record = last_record(audit, "authz.token")
    assert (record.actor, record.target) == (token_principal.actor, "POST /api/v1/services")
    assert (record.outcome, record.detail) == (Outcome.DENIED, {"scope": "write"})


def test_session_decisions_are_recorded_under_the_username(
    identity: IdentityService, audit: AuditLog, session_principal: Principal
) -> None:
    identity.authorize(session_principal, Scope.READ, REQUEST, "GET /")
    with pytest.raises(PermissionDeniedError):
        identity.authorize(session_principal, Scope.ADMIN, REQUEST, "GET /admin")

    records = audit.search(AuditQuery(action="authz.session"))
    assert [(r.actor, r.target, r.outcome, r.detail["scope"]) for r in records] == [
        ("vic", "GET /admin", Outcome.DENIED, "admin"),
        ("vic", "GET /", Outcome.ALLOWED, "read"),
    ]


def test_request_without_credentials_is_recorded_as_denied(
    identity: IdentityService, audit: AuditLog
) -> None:
    identity.record_denied(Caller("anonymous", ip="192.0.2.99"), "GET /api/v1/users", "no_token")

    record = last_record(audit, "authz.anonymous")
    assert (record.actor, record.target) == ("anonymous", "GET /api/v1/users")
    assert (record.outcome, record.detail, record.ip) == (
        Outcome.DENIED,
        {"reason": "no_token"},
        "192.0.2.99",
    )


def test_allowed_ingest_decisions_are_recorded_once_a_minute_with_the_uses_between(
    identity: IdentityService, audit: AuditLog, clock: FakeClock
) -> None:
    identity.create_user(UserCreate(username="agent", password=PASSWORD, role=Role.EDITOR))
    created = identity.create_token(
        "agent", ApiTokenCreate(name="host", scopes=[Scope.INGEST]), Caller("root")
    )
    principal = identity.token_principal(created.secret, REQUEST)
    for _ in range(5):
        identity.authorize(principal, Scope.INGEST, REQUEST, "POST /api/v1/ingest")
        clock.advance(seconds=10)
    clock.advance(seconds=30)
    identity.authorize(principal, Scope.INGEST, REQUEST, "POST /api/v1/ingest")
    with pytest.raises(PermissionDeniedError):
        identity.authorize(principal, Scope.WRITE, REQUEST, "POST /api/v1/services")
    with pytest.raises(PermissionDeniedError):
        identity.authorize(principal, Scope.WRITE, REQUEST, "POST /api/v1/services")

    records = audit.search(AuditQuery(action="authz.token", actor=principal.actor))
    allowed = [r for r in records if r.outcome is Outcome.ALLOWED]
    assert [r.detail.get("uses_since_previous_record") for r in allowed] == [4, 0]
    assert len([r for r in records if r.outcome is Outcome.DENIED]) == 2
