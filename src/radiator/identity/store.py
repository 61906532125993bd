"""What the identity domain needs from persistence."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from radiator.identity.models import ApiToken, Role, Scope, Session, User

__all__ = ["SessionStore", "TokenStore", "UserStore"]


class UserStore(Protocol):
    """Users by id and username. ``add`` raises ``ConflictError`` on a taken username."""

    def add(
        self, *, username: str, password_hash: str, role: Role, display_name: str, email: str
    ) -> User: ...

    def get(self, user_id: int) -> User | None: ...

    def by_username(self, username: str) -> User | None: ...

    def list(self) -> list[User]: ...

    def update(self, user_id: int, **changes: object) -> User: ...

    def count(self) -> int: ...


class TokenStore(Protocol):
    """API tokens, found by the hash of their secret."""

    def add(
        self,
        *,
        name: str,
        prefix: str,
        secret_hash: str,
        scopes: list[Scope],
        user_id: int,
        expires_at: datetime | None,
    ) -> ApiToken: ...

    def by_hash(self, secret_hash: str) -> ApiToken | None: ...

    def get(self, token_id: int) -> ApiToken | None: ...

    def list(self, user_id: int | None = None) -> list[ApiToken]: ...

    def revoke(self, token_id: int, when: datetime) -> ApiToken: ...

    def touch(self, token_id: int, when: datetime) -> None: ...


class SessionStore(Protocol):
    """UI sessions keyed by the hash of the cookie value."""

    def add(self, session: Session) -> None: ...

    def get(self, id_hash: str) -> Session | None: ...

    def extend(self, id_hash: str, expires_at: datetime) -> None: ...

    def delete(self, id_hash: str) -> None: ...

    def delete_for_user(self, user_id: int) -> None: ...

    def purge_expired(self, now: datetime) -> int: ...
