"""SQL implementations of the identity stores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from radiator.core.clock import Clock, system_clock
from radiator.errors import ConflictError, NotFoundError
from radiator.identity.models import ApiToken, Role, Scope, Session, User
from radiator.storage.state.db import Database
from radiator.storage.state.tables import ApiTokenRow, SessionRow, UserRow

__all__ = ["SqlSessionStore", "SqlTokenStore", "SqlUserStore"]


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        role=Role(row.role),
        password_hash=row.password_hash,
        disabled=row.disabled,
        created_at=row.created_at,
    )


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=[Scope(s) for s in row.scopes],
        user_id=row.user_id,
        username=row.user.username,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class SqlUserStore:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    def add(
        self, *, username: str, password_hash: str, role: Role, display_name: str, email: str
    ) -> User:
        row = UserRow(
            username=username,
            password_hash=password_hash,
            role=str(role),
            display_name=display_name,
            email=email,
            disabled=False,
            created_at=self._clock(),
        )
        try:
            with self._db.sessions() as session, session.begin():
                session.add(row)
        except IntegrityError as exc:
            raise ConflictError(f"user {username!r} already exists", field="username") from exc
        return _user(row)

    def get(self, user_id: int) -> User | None:
        with self._db.begin() as session:
            row = session.get(UserRow, user_id)
            return _user(row) if row else None

    def by_username(self, username: str) -> User | None:
        with self._db.begin() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            return _user(row) if row else None

    def list(self) -> list[User]:
        with self._db.begin() as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def update(self, user_id: int, **changes: object) -> User:
        with self._db.begin() as session:
            row = session.get(UserRow, user_id)
            if row is None:
                raise NotFoundError(f"no user with id {user_id}")
            for key, value in changes.items():
                setattr(row, key, str(value) if key == "role" else value)
            session.flush()
            return _user(row)

    def count(self) -> int:
        with self._db.begin() as session:
            return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)


class SqlTokenStore:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    def add(
        self,
        *,
        name: str,
        prefix: str,
        secret_hash: str,
        scopes: list[Scope],
        user_id: int,
        expires_at: datetime | None,
    ) -> ApiToken:
        with self._db.begin() as session:
            row = ApiTokenRow(
                name=name,
                prefix=prefix,
                secret_hash=secret_hash,
                scopes=[str(s) for s in scopes],
                user_id=user_id,
                created_at=self._clock(),
                expires_at=expires_at,
            )
            session.add(row)
            session.flush()
            session.refresh(row)
            return _token(row)

    def by_hash(self, secret_hash: str) -> ApiToken | None:
        with self._db.begin() as session:
            query = select(ApiTokenRow).where(ApiTokenRow.secret_hash == secret_hash)
            row = session.scalars(query).first()
            return _token(row) if row else None

    def get(self, token_id: int) -> ApiToken | None:
        with self._db.begin() as session:
            row = session.get(ApiTokenRow, token_id)
            return _token(row) if row else None

    def list(self, user_id: int | None = None) -> list[ApiToken]:
        query = select(ApiTokenRow).order_by(ApiTokenRow.id)
        if user_id is not None:
            query = query.where(ApiTokenRow.user_id == user_id)
        with self._db.begin() as session:
            return [_token(r) for r in session.scalars(query)]

    def revoke(self, token_id: int, when: datetime) -> ApiToken:
        with self._db.begin() as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError(f"no token with id {token_id}")
            row.revoked_at = when
            session.flush()
            return _token(row)

    def touch(self, token_id: int, when: datetime) -> None:
        with self._db.begin() as session:
            session.execute(
                update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=when)
            )


class SqlSessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, session: Session) -> None:
        with self._db.begin() as db_session:
            db_session.add(SessionRow(**session.model_dump()))

    def get(self, id_hash: str) -> Session | None:
        with self._db.begin() as db_session:
            row = db_session.get(SessionRow, id_hash)
            if row is None:
                return None
            return Session(
                id_hash=row.id_hash,
                user_id=row.user_id,
                csrf_token=row.csrf_token,
                created_at=row.created_at,
                expires_at=row.expires_at,
            )

    def extend(self, id_hash: str, expires_at: datetime) -> None:
        with self._db.begin() as db_session:
            db_session.execute(
                update(SessionRow)
                .where(SessionRow.id_hash == id_hash)
                .values(expires_at=expires_at)
            )

    def delete(self, id_hash: str) -> None:
        with self._db.begin() as db_session:
            db_session.execute(delete(SessionRow).where(SessionRow.id_hash == id_hash))

    def delete_for_user(self, user_id: int) -> None:
        with self._db.begin() as db_session:
            db_session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))

    def purge_expired(self, now: datetime) -> int:
        with self._db.begin() as db_session:
            result = db_session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            return int(getattr(result, "rowcount", 0) or 0)
