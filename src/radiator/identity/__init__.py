"""Users, roles, sessions, API tokens and authorisation decisions."""

from __future__ import annotations

from radiator.identity.models import (
    ROLE_SCOPES,
    ApiToken,
    ApiTokenCreate,
    ApiTokenCreated,
    Principal,
    Role,
    Scope,
    Session,
    User,
    UserCreate,
    UserRead,
    UserUpdate,
)
from radiator.identity.ratelimit import LoginLimiter
from radiator.identity.service import IdentityService, NewSession
from radiator.identity.store import SessionStore, TokenStore, UserStore

__all__ = [
    "ROLE_SCOPES",
    "ApiToken",
    "ApiTokenCreate",
    "ApiTokenCreated",
    "IdentityService",
    "LoginLimiter",
    "NewSession",
    "Principal",
    "Role",
    "Scope",
    "Session",
    "SessionStore",
    "TokenStore",
    "User",
    "UserCreate",
    "UserRead",
    "UserStore",
    "UserUpdate",
]
