"""Users, roles, API tokens, sessions and the principal a request acts as."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ROLE_SCOPES",
    "ApiToken",
    "ApiTokenCreate",
    "ApiTokenCreated",
    "Principal",
    "Role",
    "Scope",
    "Session",
    "User",
    "UserCreate",
    "UserRead",
    "UserUpdate",
]

_USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,62}$"
_USERNAME_RE = re.compile(_USERNAME_PATTERN)


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"


class Scope(StrEnum):
    INGEST = "ingest"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: frozenset({Scope.READ}),
    Role.EDITOR: frozenset({Scope.READ, Scope.WRITE, Scope.INGEST}),
    Role.ADMIN: frozenset(Scope),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class User(BaseModel):
    """A stored user, password hash included; never serialised to clients."""

    id: int
    username: str
    display_name: str
    email: str
    role: Role
    password_hash: str
    disabled: bool
    created_at: datetime


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    email: str
    role: Role
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserRead:
        return cls.model_validate(user.model_dump(exclude={"password_hash"}))


def _check_username(value: str) -> str:
    if not _USERNAME_RE.match(value):
        raise ValueError(
            "must be 2-63 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


class UserCreate(_Strict):
    username: str = Field(examples=["ada"], json_schema_extra={"pattern": _USERNAME_PATTERN})
    password: str = Field(min_length=12, max_length=1024)
    role: Role = Role.VIEWER
    display_name: str = Field("", max_length=200)
    email: str = Field("", max_length=320)

    _username = field_validator("username")(_check_username)


class UserUpdate(_Strict):
    role: Role | None = None
    display_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)
    disabled: bool | None = None
    password: str | None = Field(None, min_length=12, max_length=1024)


class ApiToken(BaseModel):
    """A stored API token; only a hash of the secret is kept."""

    id: int
    name: str
    prefix: str = Field(description="First characters of the secret, to recognise it.")
    scopes: list[Scope]
    user_id: int
    username: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiTokenCreate(_Strict):
    name: str = Field(min_length=1, max_length=100, examples=["ci-pipeline"])
    scopes: list[Scope] = Field(min_length=1, examples=[["ingest"]])
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class ApiTokenCreated(BaseModel):
    """Returned once at creation: the only time the secret is shown."""

    token: ApiToken
    secret: str


class Session(BaseModel):
    id_hash: str
    user_id: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """The identity a request acts as and the scopes it holds."""

    user_id: int
    username: str
    role: Role
    scopes: frozenset[Scope]
    via: str  # "session" or "token"
    token_prefix: str = ""

    @property
    def actor(self) -> str:
        """How this principal appears in the audit log."""
        if self.via == "token":
            return f"{self.username} (token:{self.token_prefix})"
        return self.username

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes
