"""API tokens: shown once, stored hashed, scoped within the owner's role, revocable, expiring."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from radiator.audit import AuditLog, Outcome
from radiator.core.caller import Caller
from radiator.errors import AuthenticationError, InvalidInputError
from radiator.identity import (
    ApiTokenCreate,
    ApiTokenCreated,
    IdentityService,
    Role,
    Scope,
    UserCreate,
    UserUpdate,
)
from radiator.identity.secrets import TOKEN_PREFIX
from radiator.runtime import Runtime

from .support import PASSWORD, FakeClock, last_record, table_rows

ROOT = Caller("root")
CI = Caller("anonymous", ip="203.0.113.5", request_id="req-ci")


@pytest.fixture
def ada(identity: IdentityService) -> str:
    identity.create_user(UserCreate(username="ada", password=PASSWORD, role=Role.EDITOR))
    return "ada"


def _token(
    identity: IdentityService, owner: str, *scopes: Scope, days: int | None = None
) -> ApiTokenCreated:
    data = ApiTokenCreate(name="ci", scopes=list(scopes), expires_in_days=days)
    return identity.create_token(owner, data, ROOT)


def test_token_secret_is_shown_once_and_only_its_sha256_is_stored(
    identity: IdentityService, runtime: Runtime, ada: str
) -> None:
    created = _token(identity, ada, Scope.INGEST)

    [row] = table_rows(runtime.db, "api_tokens")

    assert created.secret.startswith(TOKEN_PREFIX)
    assert row["secret_hash"] == hashlib.sha256(created.secret.encode()).hexdigest()
    assert created.secret not in [str(value) for value in row.values()]
    assert created.token.prefix == created.secret[: len(created.token.prefix)]
    assert len(created.token.prefix) < len(created.secret) // 2
    listed = identity.list_tokens(ada)
    assert [t.id for t in listed] == [created.token.id]
    assert "secret" not in listed[0].model_dump()


def test_token_creation_is_audited(identity: IdentityService, audit: AuditLog, ada: str) -> None:
    created = _token(identity, ada, Scope.READ, Scope.INGEST)

    record = last_record(audit, "token.create")

    assert (record.actor, record.target) == ("root", f"token:{created.token.prefix}")
    assert record.detail == {"owner": "ada", "scopes": ["read", "ingest"]}
    assert created.secret not in record.model_dump_json()


def test_token_authenticates_as_its_owner(identity: IdentityService, ada: str) -> None:
    created = _token(identity, ada, Scope.READ, Scope.WRITE)

    principal = identity.token_principal(created.secret, CI)

    assert principal.username == "ada"
    assert principal.role is Role.EDITOR
    assert principal.via == "token"
    assert principal.token_prefix == created.token.prefix
    assert principal.actor == f"ada (token:{created.token.prefix})"
    assert principal.scopes == {Scope.READ, Scope.WRITE}


def test_token_scopes_beyond_the_role_are_refused(
    identity: IdentityService, runtime: Runtime
) -> None:
    identity.create_user(UserCreate(username="vic", password=PASSWORD, role=Role.VIEWER))

    with pytest.raises(InvalidInputError) as caught:
        _token(identity, "vic", Scope.READ, Scope.WRITE, Scope.ADMIN)

    assert caught.value.field == "scopes"
    assert "admin" in caught.value.message
    assert "write" in caught.value.message
    assert table_rows(runtime.db, "api_tokens") == []


def test_principal_scopes_are_token_scopes_within_the_role(
    identity: IdentityService, ada: str
) -> None:
    created = _token(identity, ada, Scope.READ, Scope.WRITE)

    identity.update_user(ada, UserUpdate(role=Role.VIEWER))

    assert identity.token_principal(created.secret, CI).scopes == {Scope.READ}


def test_admin_token_holds_only_the_scopes_it_was_given(identity: IdentityService) -> None:
    identity.create_user(UserCreate(username="root", password=PASSWORD, role=Role.ADMIN))

    created = _token(identity, "root", Scope.INGEST)

    assert identity.token_principal(created.secret, CI).scopes == {Scope.INGEST}


def test_revoked_token_is_rejected(identity: IdentityService, audit: AuditLog, ada: str) -> None:
    created = _token(identity, ada, Scope.READ)

    revoked = identity.revoke_token(created.token.id, ROOT)

    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError):
        identity.token_principal(created.secret, CI)
    record = last_record(audit, "auth.token")
    assert (record.actor, record.target) == ("anonymous", f"token:{created.token.prefix}")
    assert (record.outcome, record.detail) == (Outcome.DENIED, {"reason": "revoked"})
    assert last_record(audit, "token.revoke").detail == {"owner": "ada"}


def test_revoking_twice_keeps_the_first_revocation(
    identity: IdentityService, ada: str, clock: FakeClock
) -> None:
    created = _token(identity, ada, Scope.READ)
    first = identity.revoke_token(created.token.id, ROOT)
    clock.advance(hours=1)

    again = identity.revoke_token(created.token.id, ROOT)

    assert again.revoked_at == first.revoked_at


def test_expired_token_is_rejected(
    identity: IdentityService, audit: AuditLog, ada: str, clock: FakeClock
) -> None:
    created = _token(identity, ada, Scope.READ, days=1)
    assert created.token.expires_at == clock.now + timedelta(days=1)

    clock.advance(hours=23, minutes=59)
    assert identity.token_principal(created.secret, CI).username == "ada"
    clock.advance(minutes=1)

    with pytest.raises(AuthenticationError):
        identity.token_principal(created.secret, CI)
    assert last_record(audit, "auth.token").detail == {"reason": "expired"}


def test_unknown_token_is_rejected(identity: IdentityService, audit: AuditLog) -> None:
    with pytest.raises(AuthenticationError):
        identity.token_principal(TOKEN_PREFIX + "not-a-real-secret", CI)

    record = last_record(audit, "auth.token")
    assert (record.outcome, record.detail) == (Outcome.DENIED, {"reason": "unknown_token"})
    # Only a recognisable prefix of the presented secret is recorded.
    assert "not-a-real-secret" not in record.target


def test_token_of_a_disabled_user_is_rejected(
    identity: IdentityService, audit: AuditLog, ada: str
) -> None:
    created = _token(identity, ada, Scope.READ)

    identity.update_user(ada, UserUpdate(disabled=True))

    with pytest.raises(AuthenticationError):
        identity.token_principal(created.secret, CI)
    assert last_record(audit, "auth.token").detail == {"reason": "owner_disabled"}


def test_token_use_is_recorded_at_most_once_a_minute(
    identity: IdentityService, ada: str, clock: FakeClock
) -> None:
    created = _token(identity, ada, Scope.READ)
    first_use = clock.now

    identity.token_principal(created.secret, CI)
    clock.advance(seconds=30)
    identity.token_principal(created.secret, CI)
    assert identity.get_token(created.token.id).last_used_at == first_use

    clock.advance(minutes=2)
    identity.token_principal(created.secret, CI)
    assert identity.get_token(created.token.id).last_used_at == clock.now
