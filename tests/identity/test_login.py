"""Password logins, the failed-login limit, and UI sessions (expiry and sliding renewal)."""

from __future__ import annotations

import pytest

from radiator.audit import AuditLog, Outcome
from radiator.core.caller import Caller
from radiator.errors import AuthenticationError, RateLimitedError
from radiator.identity import ROLE_SCOPES, IdentityService, Role, UserCreate, UserUpdate
from radiator.identity.secrets import hash_secret
from radiator.runtime import Runtime
from radiator.storage.state import SqlSessionStore

from .support import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    PASSWORD,
    SESSION_TTL,
    FakeClock,
    last_record,
    table_rows,
)

BROWSER = Caller("anonymous", ip="192.0.2.7", request_id="req-login")


@pytest.fixture
def ada(identity: IdentityService) -> str:
    identity.create_user(UserCreate(username="ada", password=PASSWORD, role=Role.EDITOR))
    return "ada"


def _fail(identity: IdentityService, username: str, times: int, caller: Caller = BROWSER) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            identity.login(username, "wrong password!", caller)


# -- login -----------------------------------------------------------------------------------


def test_right_password_opens_a_session(
    identity: IdentityService, audit: AuditLog, ada: str, clock: FakeClock
) -> None:
    opened = identity.login(ada, PASSWORD, BROWSER)

    assert opened.principal.username == "ada"
    assert opened.principal.via == "session"
    assert opened.principal.scopes == ROLE_SCOPES[Role.EDITOR]
    assert opened.session.id_hash == hash_secret(opened.cookie_value)
    assert opened.session.expires_at == clock.now + SESSION_TTL
    found = identity.session_principal(opened.cookie_value)
    assert found is not None
    assert found[0] == opened.principal
    record = last_record(audit, "auth.login")
    assert (record.actor, record.target, record.outcome) == ("anonymous", "ada", Outcome.ALLOWED)
    assert (record.ip, record.request_id) == ("192.0.2.7", "req-login")


def test_session_cookie_is_stored_only_as_a_hash(
    identity: IdentityService, runtime: Runtime, ada: str
) -> None:
    opened = identity.login(ada, PASSWORD, BROWSER)

    [row] = table_rows(runtime.db, "sessions")

    assert row["id_hash"] == hash_secret(opened.cookie_value)
    assert opened.cookie_value not in [str(value) for value in row.values()]


def test_wrong_password_is_rejected_and_audited(
    identity: IdentityService, audit: AuditLog, ada: str
) -> None:
    with pytest.raises(AuthenticationError):
        identity.login(ada, "not the password", BROWSER)

    record = last_record(audit, "auth.login")
    assert (record.target, record.outcome) == ("ada", Outcome.DENIED)
    assert record.detail == {"reason": "bad_credentials"}


def test_unknown_user_is_rejected_like_a_wrong_password(
    identity: IdentityService, audit: AuditLog, ada: str
) -> None:
    with pytest.raises(AuthenticationError) as wrong:
        identity.login(ada, "not the password", BROWSER)
    with pytest.raises(AuthenticationError) as unknown:
        identity.login("nobody", PASSWORD, BROWSER)

    assert unknown.value.message == wrong.value.message
    assert last_record(audit, "auth.login").detail == {"reason": "bad_credentials"}


def test_disabled_user_cannot_log_in(identity: IdentityService, audit: AuditLog, ada: str) -> None:
    identity.update_user(ada, UserUpdate(disabled=True))

    with pytest.raises(AuthenticationError):
        identity.login(ada, PASSWORD, BROWSER)

    record = last_record(audit, "auth.login")
    assert (record.outcome, record.detail) == (Outcome.DENIED, {"reason": "disabled"})


def test_disabling_a_user_ends_their_sessions(
    identity: IdentityService, runtime: Runtime, ada: str
) -> None:
    first = identity.login(ada, PASSWORD, BROWSER)
    second = identity.login(ada, PASSWORD, BROWSER)

    identity.update_user(ada, UserUpdate(disabled=True))

    assert identity.session_principal(first.cookie_value) is None
    assert identity.session_principal(second.cookie_value) is None
    assert table_rows(runtime.db, "sessions") == []


def test_changing_the_password_ends_sessions(identity: IdentityService, ada: str) -> None:
    opened = identity.login(ada, PASSWORD, BROWSER)

    identity.update_user(ada, UserUpdate(password="another long passphrase"))

    assert identity.session_principal(opened.cookie_value) is None


# -- failed-login limit ----------------------------------------------------------------------


def test_login_is_rate_limited_after_max_failures(
    identity: IdentityService, audit: AuditLog, ada: str
) -> None:
    _fail(identity, ada, MAX_FAILURES)

    with pytest.raises(RateLimitedError) as caught:
        identity.login(ada, PASSWORD, BROWSER)

    assert 0 < caught.value.retry_after <= FAILURE_WINDOW.total_seconds()
    record = last_record(audit, "auth.login")
    assert (record.outcome, record.detail) == (Outcome.DENIED, {"reason": "rate_limited"})


def test_runtime_limits_logins_after_the_configured_failures(runtime: Runtime) -> None:
    identity = runtime.identity
    identity.create_user(UserCreate(username="ada", password=PASSWORD))
    _fail(identity, "ada", runtime.settings.login_max_failures)

    with pytest.raises(RateLimitedError) as caught:
        identity.login("ada", PASSWORD, BROWSER)

    assert caught.value.retry_after > 0


def test_rate_limit_lifts_after_the_window(
    identity: IdentityService, ada: str, clock: FakeClock
) -> None:
    _fail(identity, ada, MAX_FAILURES)
    with pytest.raises(RateLimitedError) as caught:
        identity.login(ada, PASSWORD, BROWSER)

    clock.advance(seconds=caught.value.retry_after)

    assert identity.login(ada, PASSWORD, BROWSER).principal.username == "ada"


def test_successful_login_clears_earlier_failures(identity: IdentityService, ada: str) -> None:
    _fail(identity, ada, MAX_FAILURES - 1)
    identity.login(ada, PASSWORD, BROWSER)

    _fail(identity, ada, MAX_FAILURES - 1)

    assert identity.login(ada, PASSWORD, BROWSER).principal.username == "ada"


def test_rate_limit_is_kept_per_address(identity: IdentityService, ada: str) -> None:
    _fail(identity, ada, MAX_FAILURES)

    elsewhere = Caller("anonymous", ip="198.51.100.1")

    assert identity.login(ada, PASSWORD, elsewhere).principal.username == "ada"


# -- sessions --------------------------------------------------------------------------------


def test_session_expires_after_its_ttl(
    identity: IdentityService, runtime: Runtime, ada: str, clock: FakeClock
) -> None:
    opened = identity.login(ada, PASSWORD, BROWSER)

    clock.advance(seconds=SESSION_TTL.total_seconds() - 1)
    assert identity.session_principal(opened.cookie_value) is not None
    clock.advance(hours=12)

    assert identity.session_principal(opened.cookie_value) is None
    assert table_rows(runtime.db, "sessions") == []


def test_active_session_slides_its_expiry(
    identity: IdentityService, runtime: Runtime, ada: str, clock: FakeClock
) -> None:
    opened = identity.login(ada, PASSWORD, BROWSER)

    clock.advance(hours=7)  # past half the TTL: renewed
    renewed = identity.session_principal(opened.cookie_value)
    assert renewed is not None
    assert renewed[1].expires_at == clock.now + SESSION_TTL
    stored = SqlSessionStore(runtime.db).get(opened.session.id_hash)
    assert stored is not None
    assert stored.expires_at == clock.now + SESSION_TTL
    clock.advance(hours=11)  # beyond the original expiry, within the renewed one

    assert identity.session_principal(opened.cookie_value) is not None


def test_fresh_session_is_not_renewed(
    identity: IdentityService, ada: str, clock: FakeClock
) -> None:
    opened = identity.login(ada, PASSWORD, BROWSER)

    clock.advance(hours=1)
    found = identity.session_principal(opened.cookie_value)

    assert found is not None
    assert found[1].expires_at == opened.session.expires_at


def test_unknown_cookie_has_no_session(identity: IdentityService) -> None:
    assert identity.session_principal("not-a-session") is None


def test_logout_ends_the_session(identity: IdentityService, audit: AuditLog, ada: str) -> None:
    opened = identity.login(ada, PASSWORD, BROWSER)

    identity.logout(opened.cookie_value, Caller("ada"))

    assert identity.session_principal(opened.cookie_value) is None
    assert last_record(audit, "auth.logout").actor == "ada"


def test_purge_removes_only_expired_sessions(
    identity: IdentityService, ada: str, clock: FakeClock
) -> None:
    old = identity.login(ada, PASSWORD, BROWSER)
    clock.advance(hours=6)
    recent = identity.login(ada, PASSWORD, BROWSER)
    clock.advance(hours=7)

    assert identity.purge_expired_sessions() == 1
    assert identity.session_principal(old.cookie_value) is None
    assert identity.session_principal(recent.cookie_value) is not None


def test_login_link_opens_a_session_without_a_password(
    identity: IdentityService, audit: AuditLog, ada: str
) -> None:
    opened = identity.login_as(ada, BROWSER)

    assert identity.session_principal(opened.cookie_value) is not None
    assert last_record(audit, "auth.login").detail == {"method": "link"}
