"""Users: password storage, updates, the first admin, and the audit trail of changes."""

from __future__ import annotations

import json

import pytest

from radiator.audit import AuditLog, AuditQuery, Outcome
from radiator.core.caller import Caller
from radiator.errors import AuthenticationError, ConflictError, NotFoundError
from radiator.identity import IdentityService, Role, UserCreate, UserRead, UserUpdate
from radiator.runtime import Runtime

from .support import PASSWORD, last_record, table_rows

ROOT = Caller("root", ip="10.0.0.9", request_id="req-1")


def _create(identity: IdentityService, username: str = "ada", role: Role = Role.EDITOR) -> None:
    identity.create_user(UserCreate(username=username, password=PASSWORD, role=role), ROOT)


def test_password_is_stored_as_an_argon2id_hash(identity: IdentityService) -> None:
    _create(identity)

    user = identity.get_user("ada")

    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_plaintext_password_is_nowhere_in_the_database(
    identity: IdentityService, runtime: Runtime
) -> None:
    _create(identity)
    identity.update_user("ada", UserUpdate(password=PASSWORD + " two"), ROOT)

    users = table_rows(runtime.db, "users")
    audit_log = table_rows(runtime.db, "audit_log")

    assert len(users) == 1
    assert str(users[0]["password_hash"]).startswith("$argon2id$")
    dumped = json.dumps([users, audit_log], default=str)
    assert PASSWORD not in dumped


def test_user_read_never_carries_the_hash(identity: IdentityService) -> None:
    _create(identity)

    read = UserRead.of(identity.get_user("ada"))

    assert "password_hash" not in read.model_dump()


def test_created_user_gets_defaults_and_an_audit_record(
    identity: IdentityService, audit: AuditLog
) -> None:
    created = identity.create_user(UserCreate(username="ada", password=PASSWORD), ROOT)

    assert created.role is Role.VIEWER
    assert created.display_name == "ada"
    assert created.disabled is False
    record = last_record(audit, "user.create")
    assert (record.actor, record.target, record.outcome) == ("root", "user:ada", Outcome.SUCCESS)
    assert (record.ip, record.request_id) == ("10.0.0.9", "req-1")
    assert record.detail == {"role": "viewer"}


def test_duplicate_username_is_a_conflict(identity: IdentityService) -> None:
    _create(identity)

    with pytest.raises(ConflictError):
        _create(identity)

    assert len(identity.list_users()) == 1


def test_unknown_user_is_not_found(identity: IdentityService) -> None:
    with pytest.raises(NotFoundError):
        identity.get_user("nobody")


def test_user_update_is_audited_with_the_fields_changed(
    identity: IdentityService, audit: AuditLog
) -> None:
    _create(identity)

    updated = identity.update_user("ada", UserUpdate(role=Role.ADMIN, password="x" * 12), ROOT)

    assert updated.role is Role.ADMIN
    record = last_record(audit, "user.update")
    assert (record.actor, record.target) == ("root", "user:ada")
    assert record.detail == {"fields": ["password", "role"]}


def test_new_password_replaces_the_old_one(identity: IdentityService) -> None:
    _create(identity)

    identity.update_user("ada", UserUpdate(password="a brand new passphrase"), ROOT)

    with pytest.raises(AuthenticationError):
        identity.login("ada", PASSWORD, ROOT)
    assert identity.login("ada", "a brand new passphrase", ROOT).principal.username == "ada"


def test_null_fields_in_an_update_leave_the_user_unchanged(identity: IdentityService) -> None:
    _create(identity)
    before = identity.get_user("ada")
    nulls = UserUpdate.model_validate(
        {"role": None, "display_name": None, "email": None, "disabled": None, "password": None}
    )

    after = identity.update_user("ada", nulls, ROOT)

    assert after == before
    assert identity.get_user("ada") == before


def test_empty_update_changes_and_records_nothing(
    identity: IdentityService, audit: AuditLog
) -> None:
    _create(identity)

    identity.update_user("ada", UserUpdate(), ROOT)

    assert audit.search(AuditQuery(action="user.update")) == []


def test_first_admin_is_created_exactly_once(identity: IdentityService) -> None:
    assert not identity.has_users()

    first = identity.ensure_first_admin()
    second = identity.ensure_first_admin()

    assert first is not None
    user, password = first
    assert user.username == "admin"
    assert user.role is Role.ADMIN
    assert len(password) >= 12
    assert second is None
    assert [u.username for u in identity.list_users()] == ["admin"]
    assert identity.login("admin", password, ROOT).principal.role is Role.ADMIN


def test_first_admin_is_not_created_when_users_exist(identity: IdentityService) -> None:
    _create(identity, "ada", Role.VIEWER)

    assert identity.ensure_first_admin() is None
    assert [u.username for u in identity.list_users()] == ["ada"]
