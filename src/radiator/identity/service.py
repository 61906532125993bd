"""Identity use cases: users, password logins, sessions, API tokens and authorisation.

Every authentication and authorisation decision goes to the audit log, allowed or denied.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta

from radiator.audit import AuditLog, Outcome
from radiator.core.caller import SYSTEM, Caller
from radiator.core.clock import Clock, system_clock
from radiator.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
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
    UserUpdate,
)
from radiator.identity.passwords import hash_password, verify_password
from radiator.identity.ratelimit import LoginLimiter
from radiator.identity.secrets import TOKEN_PREFIX, hash_secret, new_secret, new_token_secret
from radiator.identity.store import SessionStore, TokenStore, UserStore

__all__ = ["IdentityService", "NewSession"]

_PREFIX_LEN = len(TOKEN_PREFIX) + 6


_INGEST_AUDIT_WINDOW = timedelta(minutes=1)


class _UseCoalescer:
    """Allowed ingest decisions arrive many times a second from agents and browsers; one
    audit record per actor and endpoint per window, counting the uses in between, keeps the
    log readable and ingest off the state database. Denials are never coalesced."""

    def __init__(self, window: timedelta, clock: Clock) -> None:
        self._window = window
        self._clock = clock
        self._seen: dict[tuple[str, str], tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def note(self, actor: str, action: str) -> int | None:
        """None when this use falls in the current window; otherwise the uses not yet
        recorded since the previous record (the caller writes a record now)."""
        now = self._clock()
        key = (actor, action)
        with self._lock:
            previous = self._seen.get(key)
            if previous is not None and now - previous[0] < self._window:
                self._seen[key] = (previous[0], previous[1] + 1)
                return None
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = (now, 0)
            return previous[1] if previous is not None else 0


class NewSession:
    """A session just created: the cookie value is only known here."""

    def __init__(self, cookie_value: str, session: Session, principal: Principal) -> None:
        self.cookie_value = cookie_value
        self.session = session
        self.principal = principal


class IdentityService:
    def __init__(
        self,
        users: UserStore,
        tokens: TokenStore,
        sessions: SessionStore,
        audit: AuditLog,
        limiter: LoginLimiter,
        *,
        session_ttl: timedelta,
        clock: Clock = system_clock,
    ) -> None:
        self._users = users
        self._tokens = tokens
        self._sessions = sessions
        self._audit = audit
        self._limiter = limiter
        self._ttl = session_ttl
        self._clock = clock
        self._ingest_uses = _UseCoalescer(_INGEST_AUDIT_WINDOW, clock)

    # -- users -----------------------------------------------------------------------------

    def create_user(self, data: UserCreate, caller: Caller = SYSTEM) -> User:
        """Create a user; the password is stored as an argon2 hash.

        Raises:
            ConflictError: the username is taken.
        """
        if self._users.by_username(data.username) is not None:
            raise ConflictError(f"user {data.username!r} already exists", field="username")
        user = self._users.add(
            username=data.username,
            password_hash=hash_password(data.password),
            role=data.role,
            display_name=data.display_name or data.username,
            email=data.email,
        )
        self._change(caller, "user.create", f"user:{user.username}", role=str(user.role))
        return user

    def update_user(self, username: str, data: UserUpdate, caller: Caller = SYSTEM) -> User:
        user = self.get_user(username)
        # An explicit null means "leave unchanged": none of these columns may be empty.
        changes: dict[str, object] = data.model_dump(
            exclude_unset=True, exclude_none=True, exclude={"password"}
        )
        if data.password is not None:
            changes["password_hash"] = hash_password(data.password)
        if not changes:
            return user
        updated = self._users.update(user.id, **changes)
        if data.disabled or data.password is not None:
            self._sessions.delete_for_user(user.id)
        fields = sorted(k if k != "password_hash" else "password" for k in changes)
        self._change(caller, "user.update", f"user:{username}", fields=fields)
        return updated

    def get_user(self, username: str) -> User:
        user = self._users.by_username(username)
        if user is None:
            raise NotFoundError(f"no user named {username!r}")
        return user

    def list_users(self) -> list[User]:
        return self._users.list()

    def has_users(self) -> bool:
        return self._users.count() > 0

    def ensure_first_admin(self, username: str = "admin") -> tuple[User, str] | None:
        """Create an admin with a random password when there are no users at all.

        Returns the user and the password (to be shown once), or None when users exist.
        """
        if self.has_users():
            return None
        password = secrets.token_urlsafe(15)
        user = self.create_user(UserCreate(username=username, password=password, role=Role.ADMIN))
        return user, password

    # -- password login and sessions -------------------------------------------------------

    def login(self, username: str, password: str, caller: Caller) -> NewSession:
        """Check a password and open a UI session.

        Raises:
            RateLimitedError: too many recent failures for this user or address.
            AuthenticationError: wrong username or password, or the user is disabled.
        """
        wait = self._limiter.retry_after(username, caller.ip)
        if wait > 0:
            self._decision(caller, "auth.login", Outcome.DENIED, username, reason="rate_limited")
            raise RateLimitedError("too many failed logins; try again later", retry_after=wait)
        user = self._users.by_username(username)
        valid = verify_password(user.password_hash if user else None, password)
        if user is None or not valid or user.disabled:
            self._limiter.fail(username, caller.ip)
            reason = "disabled" if user is not None and valid else "bad_credentials"
            self._decision(caller, "auth.login", Outcome.DENIED, username, reason=reason)
            raise AuthenticationError("wrong username or password")
        self._limiter.succeed(username, caller.ip)
        cookie_value = new_secret()
        now = self._clock()
        session = Session(
            id_hash=hash_secret(cookie_value),
            user_id=user.id,
            csrf_token=new_secret(),
            created_at=now,
            expires_at=now + self._ttl,
        )
        self._sessions.add(session)
        self._decision(caller, "auth.login", Outcome.ALLOWED, username)
        return NewSession(cookie_value, session, self._principal(user, "session"))

    def login_as(self, username: str, caller: Caller) -> NewSession:
        """Open a session without a password (the demo's one-click login link)."""
        user = self.get_user(username)
        cookie_value = new_secret()
        now = self._clock()
        session = Session(
            id_hash=hash_secret(cookie_value),
            user_id=user.id,
            csrf_token=new_secret(),
            created_at=now,
            expires_at=now + self._ttl,
        )
        self._sessions.add(session)
        self._decision(caller, "auth.login", Outcome.ALLOWED, username, method="link")
        return NewSession(cookie_value, session, self._principal(user, "session"))

    def session_principal(self, cookie_value: str) -> tuple[Principal, Session] | None:
        """The principal of a live session, sliding its expiry; None when absent or expired."""
        id_hash = hash_secret(cookie_value)
        session = self._sessions.get(id_hash)
        now = self._clock()
        if session is None:
            return None
        if session.expires_at <= now:
            self._sessions.delete(id_hash)
            return None
        user = self._users.get(session.user_id)
        if user is None or user.disabled:
            self._sessions.delete(id_hash)
            return None
        if session.expires_at - now < self._ttl / 2:
            self._sessions.extend(id_hash, now + self._ttl)
            # Hand back the renewed expiry, so the caller can renew the cookie with it.
            session = session.model_copy(update={"expires_at": now + self._ttl})
        return self._principal(user, "session"), session

    def purge_expired_sessions(self) -> int:
        """Delete sessions past their expiry; returns how many went."""
        return self._sessions.purge_expired(self._clock())

    def logout(self, cookie_value: str, caller: Caller) -> None:
        self._sessions.delete(hash_secret(cookie_value))
        self._decision(caller, "auth.logout", Outcome.SUCCESS, caller.name)

    # -- API tokens ------------------------------------------------------------------------

    def create_token(self, owner: str, data: ApiTokenCreate, caller: Caller) -> ApiTokenCreated:
        """Create a token for ``owner``; scopes must be within the owner's role.

        Raises:
            InvalidInputError: a requested scope exceeds what the owner's role allows.
        """
        user = self.get_user(owner)
        allowed = ROLE_SCOPES[user.role]
        extra = sorted(str(s) for s in set(data.scopes) - allowed)
        if extra:
            raise InvalidInputError(
                f"role {user.role} of {owner!r} does not allow scopes {', '.join(extra)}",
                field="scopes",
            )
        secret = new_token_secret()
        expires = (
            self._clock() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
        )
        token = self._tokens.add(
            name=data.name,
            prefix=secret[:_PREFIX_LEN],
            secret_hash=hash_secret(secret),
            scopes=sorted(set(data.scopes)),
            user_id=user.id,
            expires_at=expires,
        )
        self._change(
            caller, "token.create", f"token:{token.prefix}", owner=owner, scopes=data.scopes
        )
        return ApiTokenCreated(token=token, secret=secret)

    def list_tokens(self, owner: str | None = None) -> list[ApiToken]:
        user_id = self.get_user(owner).id if owner else None
        return self._tokens.list(user_id)

    def get_token(self, token_id: int) -> ApiToken:
        token = self._tokens.get(token_id)
        if token is None:
            raise NotFoundError(f"no token with id {token_id}")
        return token

    def revoke_token(self, token_id: int, caller: Caller) -> ApiToken:
        token = self.get_token(token_id)
        if token.revoked_at is not None:
            return token
        revoked = self._tokens.revoke(token_id, self._clock())
        self._change(caller, "token.revoke", f"token:{token.prefix}", owner=token.username)
        return revoked

    def token_principal(self, secret: str, caller: Caller) -> Principal:
        """Authenticate an API token.

        Raises:
            AuthenticationError: unknown, revoked or expired token, or its owner is disabled.
        """
        token = self._tokens.by_hash(hash_secret(secret))
        now = self._clock()
        reason = ""
        user: User | None = None
        if token is None:
            reason = "unknown_token"
        elif token.revoked_at is not None:
            reason = "revoked"
        elif token.expires_at is not None and token.expires_at <= now:
            reason = "expired"
        else:
            user = self._users.get(token.user_id)
            if user is None or user.disabled:
                reason = "owner_disabled"
        if reason or token is None or user is None:
            target = f"token:{token.prefix}" if token else f"token:{secret[:_PREFIX_LEN]}"
            self._decision(caller, "auth.token", Outcome.DENIED, target, reason=reason)
            raise AuthenticationError("invalid API token")
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            self._tokens.touch(token.id, now)
        scopes = frozenset(token.scopes) & ROLE_SCOPES[user.role]
        return Principal(user.id, user.username, user.role, scopes, "token", token.prefix)

    # -- authorisation ---------------------------------------------------------------------

    def authorize(self, principal: Principal, scope: Scope, caller: Caller, action: str) -> None:
        """Record and enforce that ``principal`` holds ``scope`` for ``action``.

        Raises:
            PermissionDeniedError: the scope is missing.
        """
        allowed = principal.has(scope)
        outcome = Outcome.ALLOWED if allowed else Outcome.DENIED
        detail: dict[str, object] = {"scope": str(scope)}
        if allowed and scope is Scope.INGEST:
            repeats = self._ingest_uses.note(principal.actor, action)
            if repeats is None:
                return
            detail["uses_since_previous_record"] = repeats
        self._audit.record(
            "authz." + principal.via,
            actor=principal.actor,
            outcome=outcome,
            target=action,
            ip=caller.ip,
            request_id=caller.request_id,
            **detail,
        )
        if not allowed:
            raise PermissionDeniedError(f"this action needs the '{scope}' scope", scope=str(scope))

    def record_denied(
        self, caller: Caller, action: str, reason: str, *, via: str = "anonymous"
    ) -> None:
        """Record a refused request: without credentials (``via`` anonymous) or with a session
        whose CSRF token was missing (``via`` session)."""
        self._decision(caller, f"authz.{via}", Outcome.DENIED, action, reason=reason)

    def record_allowed(self, principal: Principal, caller: Caller, action: str) -> None:
        """Record an action open to any valid credentials (who am I, log out)."""
        self._decision(caller, f"authz.{principal.via}", Outcome.ALLOWED, action)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _principal(user: User, via: str) -> Principal:
        return Principal(user.id, user.username, user.role, ROLE_SCOPES[user.role], via)

    def _decision(
        self, caller: Caller, action: str, outcome: Outcome, target: str, **detail: object
    ) -> None:
        self._audit.record(
            action,
            actor=caller.name,
            outcome=outcome,
            target=target,
            ip=caller.ip,
            request_id=caller.request_id,
            **detail,
        )

    def _change(self, caller: Caller, action: str, target: str, **detail: object) -> None:
        self._decision(caller, action, Outcome.SUCCESS, target, **detail)
