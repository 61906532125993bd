"""Contract suite for the SQL identity stores (users, API tokens, sessions) on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event

from radiator.errors import ConflictError, NotFoundError
from radiator.identity import Role, Scope, Session, User
from radiator.storage.state import Database, SqlSessionStore, SqlTokenStore, SqlUserStore

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
# A non-UTC zone in, to check the stores hand back the same instant in UTC.
PLUS_TWO = timezone(timedelta(hours=2))


def _assert_utc(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


@pytest.fixture
def db(state_dsn: str) -> Iterator[Database]:
    database = Database(state_dsn)
    database.upgrade()
    yield database
    database.close()


@pytest.fixture
def users(db: Database) -> SqlUserStore:
    return SqlUserStore(db, clock=lambda: T0)


@pytest.fixture
def tokens(db: Database) -> SqlTokenStore:
    return SqlTokenStore(db, clock=lambda: T0)


@pytest.fixture
def sessions(db: Database) -> SqlSessionStore:
    return SqlSessionStore(db)


def _add_user(users: SqlUserStore, username: str, role: Role = Role.VIEWER) -> User:
    return users.add(
        username=username,
        password_hash="$argon2id$not-a-real-hash",
        role=role,
        display_name=username.title(),
        email=f"{username}@example.com",
    )


# -- users -----------------------------------------------------------------------------------


def test_added_user_is_found_by_id_and_username(users: SqlUserStore) -> None:
    added = _add_user(users, "ada", Role.EDITOR)

    by_id = users.get(added.id)
    by_name = users.by_username("ada")

    assert by_id == by_name == added
    assert added.role is Role.EDITOR
    assert added.display_name == "Ada"
    assert added.email == "ada@example.com"
    assert added.disabled is False
    assert added.created_at == T0
    _assert_utc(by_id.created_at if by_id else None)


def test_unknown_user_is_none(users: SqlUserStore) -> None:
    assert users.get(12345) is None
    assert users.by_username("nobody") is None


def test_duplicate_username_is_a_conflict(users: SqlUserStore) -> None:
    _add_user(users, "ada")

    with pytest.raises(ConflictError) as caught:
        _add_user(users, "ada")

    assert "ada" in caught.value.message
    assert users.count() == 1


def test_users_are_listed_by_username_and_counted(users: SqlUserStore) -> None:
    for name in ("grace", "ada", "linus"):
        _add_user(users, name)

    assert [u.username for u in users.list()] == ["ada", "grace", "linus"]
    assert users.count() == 3


def test_empty_store_counts_no_users(users: SqlUserStore) -> None:
    assert users.count() == 0
    assert users.list() == []


def test_user_update_changes_only_given_fields(users: SqlUserStore) -> None:
    ada = _add_user(users, "ada")

    updated = users.update(ada.id, role=Role.ADMIN, disabled=True, email="a@b.example")

    assert updated.role is Role.ADMIN
    assert updated.disabled is True
    assert updated.email == "a@b.example"
    assert updated.display_name == ada.display_name
    assert users.get(ada.id) == updated


def test_updating_an_unknown_user_is_not_found(users: SqlUserStore) -> None:
    with pytest.raises(NotFoundError):
        users.update(999, disabled=True)


# -- API tokens ------------------------------------------------------------------------------


def _add_token(
    tokens: SqlTokenStore, user: User, secret_hash: str, expires_at: datetime | None = None
) -> int:
    token = tokens.add(
        name=f"token-{secret_hash[:4]}",
        prefix="rad_abcdef",
        secret_hash=secret_hash,
        scopes=[Scope.INGEST, Scope.READ],
        user_id=user.id,
        expires_at=expires_at,
    )
    return token.id


def test_added_token_is_found_by_hash_and_id(users: SqlUserStore, tokens: SqlTokenStore) -> None:
    ada = _add_user(users, "ada")
    expires = (T0 + timedelta(days=30)).astimezone(PLUS_TWO)

    token_id = _add_token(tokens, ada, "a" * 64, expires_at=expires)
    found = tokens.by_hash("a" * 64)

    assert found is not None
    assert found == tokens.get(token_id)
    assert found.id == token_id
    assert found.scopes == [Scope.INGEST, Scope.READ]
    assert found.user_id == ada.id
    assert found.username == "ada"
    assert found.prefix == "rad_abcdef"
    assert found.created_at == T0
    assert found.expires_at == expires
    _assert_utc(found.created_at)
    _assert_utc(found.expires_at)
    assert found.last_used_at is None
    assert found.revoked_at is None
    assert found.active


def test_unknown_token_hash_is_none(tokens: SqlTokenStore) -> None:
    assert tokens.by_hash("f" * 64) is None
    assert tokens.get(4242) is None


def test_tokens_are_listed_per_user_in_creation_order(
    users: SqlUserStore, tokens: SqlTokenStore
) -> None:
    ada = _add_user(users, "ada")
    grace = _add_user(users, "grace")
    first = _add_token(tokens, ada, "1" * 64)
    other = _add_token(tokens, grace, "2" * 64)
    second = _add_token(tokens, ada, "3" * 64)

    assert [t.id for t in tokens.list(ada.id)] == [first, second]
    assert [t.id for t in tokens.list(grace.id)] == [other]
    assert [t.id for t in tokens.list()] == [first, other, second]


def test_revoked_token_records_when(users: SqlUserStore, tokens: SqlTokenStore) -> None:
    token_id = _add_token(tokens, _add_user(users, "ada"), "a" * 64)
    when = T0 + timedelta(hours=1)

    revoked = tokens.revoke(token_id, when)

    assert revoked.revoked_at == when
    assert not revoked.active
    stored = tokens.by_hash("a" * 64)
    assert stored is not None
    assert stored.revoked_at == when
    _assert_utc(stored.revoked_at)


def test_revoking_an_unknown_token_is_not_found(tokens: SqlTokenStore) -> None:
    with pytest.raises(NotFoundError):
        tokens.revoke(4242, T0)


def test_touched_token_records_last_use(users: SqlUserStore, tokens: SqlTokenStore) -> None:
    token_id = _add_token(tokens, _add_user(users, "ada"), "a" * 64)
    when = (T0 + timedelta(minutes=5)).astimezone(PLUS_TWO)

    tokens.touch(token_id, when)

    stored = tokens.get(token_id)
    assert stored is not None
    assert stored.last_used_at == when
    _assert_utc(stored.last_used_at)


# -- sessions --------------------------------------------------------------------------------


def _session(user: User, id_hash: str, expires_at: datetime) -> Session:
    return Session(
        id_hash=id_hash,
        user_id=user.id,
        csrf_token="csrf-" + id_hash[:8],
        created_at=T0,
        expires_at=expires_at,
    )


def test_added_session_is_found_by_hash(users: SqlUserStore, sessions: SqlSessionStore) -> None:
    ada = _add_user(users, "ada")
    session = _session(ada, "s" * 64, (T0 + timedelta(hours=12)).astimezone(PLUS_TWO))

    sessions.add(session)
    found = sessions.get("s" * 64)

    assert found == session
    assert found is not None
    _assert_utc(found.created_at)
    _assert_utc(found.expires_at)


def test_unknown_session_is_none(sessions: SqlSessionStore) -> None:
    assert sessions.get("x" * 64) is None


def test_extended_session_has_the_new_expiry(
    users: SqlUserStore, sessions: SqlSessionStore
) -> None:
    sessions.add(_session(_add_user(users, "ada"), "s" * 64, T0 + timedelta(hours=1)))
    later = T0 + timedelta(hours=13)

    sessions.extend("s" * 64, later)

    found = sessions.get("s" * 64)
    assert found is not None
    assert found.expires_at == later


def test_deleted_session_is_gone(users: SqlUserStore, sessions: SqlSessionStore) -> None:
    ada = _add_user(users, "ada")
    sessions.add(_session(ada, "a" * 64, T0 + timedelta(hours=1)))
    sessions.add(_session(ada, "b" * 64, T0 + timedelta(hours=1)))

    sessions.delete("a" * 64)
    sessions.delete("never-existed")

    assert sessions.get("a" * 64) is None
    assert sessions.get("b" * 64) is not None


def test_deleting_a_users_sessions_keeps_others(
    users: SqlUserStore, sessions: SqlSessionStore
) -> None:
    ada = _add_user(users, "ada")
    grace = _add_user(users, "grace")
    sessions.add(_session(ada, "a" * 64, T0 + timedelta(hours=1)))
    sessions.add(_session(ada, "b" * 64, T0 + timedelta(hours=1)))
    sessions.add(_session(grace, "c" * 64, T0 + timedelta(hours=1)))

    sessions.delete_for_user(ada.id)

    assert sessions.get("a" * 64) is None
    assert sessions.get("b" * 64) is None
    assert sessions.get("c" * 64) is not None


def test_purge_removes_only_expired_sessions(
    users: SqlUserStore, sessions: SqlSessionStore
) -> None:
    ada = _add_user(users, "ada")
    sessions.add(_session(ada, "a" * 64, T0 - timedelta(minutes=1)))
    sessions.add(_session(ada, "b" * 64, T0))
    sessions.add(_session(ada, "c" * 64, T0 + timedelta(minutes=1)))

    purged = sessions.purge_expired(T0.astimezone(PLUS_TWO))

    assert purged == 2
    assert sessions.get("a" * 64) is None
    assert sessions.get("b" * 64) is None
    assert sessions.get("c" * 64) is not None
    assert sessions.purge_expired(T0) == 0


def test_times_come_back_in_utc_whatever_the_connection_zone(db: Database) -> None:
    # A PostgreSQL server or role may use another zone; SQLite keeps no zone at all.
    far_away = Database(db.dsn)

    @event.listens_for(far_away.engine, "connect")
    def _set_zone(dbapi_connection: Any, _record: Any) -> None:
        if far_away.dialect == "postgresql":
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'Asia/Kathmandu'")
            dbapi_connection.commit()

    try:
        users = SqlUserStore(far_away, clock=lambda: T0.astimezone(PLUS_TWO))
        ada = _add_user(users, "ada")
        stored = users.get(ada.id)
    finally:
        far_away.close()

    assert stored is not None
    assert stored.created_at == T0
    assert stored.created_at.tzinfo is UTC
