"""Identity fixtures: an IdentityService built by hand on the runtime's database, fake clock."""

from __future__ import annotations

import pytest

from radiator.audit import AuditLog
from radiator.identity import IdentityService, LoginLimiter
from radiator.runtime import Runtime
from radiator.storage.state import SqlAuditStore, SqlSessionStore, SqlTokenStore, SqlUserStore

from .support import FAILURE_WINDOW, MAX_FAILURES, SESSION_TTL, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit(runtime: Runtime, clock: FakeClock) -> AuditLog:
    return AuditLog(SqlAuditStore(runtime.db), clock=clock)


@pytest.fixture
def limiter(clock: FakeClock) -> LoginLimiter:
    return LoginLimiter(MAX_FAILURES, FAILURE_WINDOW, clock=clock)


@pytest.fixture
def identity(
    runtime: Runtime, audit: AuditLog, limiter: LoginLimiter, clock: FakeClock
) -> IdentityService:
    """The identity service on the SQL stores, every part reading ``clock``."""
    return IdentityService(
        SqlUserStore(runtime.db, clock=clock),
        SqlTokenStore(runtime.db, clock=clock),
        SqlSessionStore(runtime.db),
        audit,
        limiter,
        session_ttl=SESSION_TTL,
        clock=clock,
    )
