"""FastAPI dependencies: the runtime, the caller, and authentication with scope checks.

Credentials are an ``Authorization: Bearer <token>`` header or the UI session cookie.
Endpoints for existing agents (``require(..., agent_auth=True)``, e.g. the InfluxDB write
API) also take the token as ``Authorization: Token <token>``, as the password of HTTP Basic
authentication, or as the ``p`` query parameter (with ``u``), the way those agents send it.
Requests that change state with a session cookie must carry the session's CSRF token in the
``X-CSRF-Token`` header (or a ``csrf_token`` form field for plain HTML forms).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from radiator.core.caller import Caller
from radiator.errors import AuthenticationError, PermissionDeniedError
from radiator.identity import Principal, Scope, Session
from radiator.runtime import Runtime
from radiator.web.middleware import route_template

__all__ = [
    "MAX_ID",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "Admin",
    "AgentIngester",
    "CallerDep",
    "Ingester",
    "Reader",
    "RuntimeDep",
    "SelfService",
    "Writer",
    "authenticate",
    "authenticated",
    "caller_of",
    "require",
    "same_secret",
]

SESSION_COOKIE = "radiator_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Largest row id the state stores hold (signed 64-bit); bigger ids in a URL are a 422, not
# an overflow inside the database driver.
MAX_ID = 2**63 - 1


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def caller_of(request: Request, name: str = "anonymous") -> Caller:
    ip = request.client.host if request.client else ""
    return Caller(name, ip, str(getattr(request.state, "request_id", "")))


def same_secret(presented: str, expected: str) -> bool:
    """Constant-time comparison of two secrets that may hold any text: client input can be
    non-ASCII, which ``hmac.compare_digest`` refuses for ``str``."""
    return hmac.compare_digest(presented.encode(), expected.encode())


def _action(request: Request) -> str:
    return f"{request.method} {route_template(request.scope)}"


async def _csrf_ok(request: Request, session: Session) -> bool:
    presented = request.headers.get("x-csrf-token", "")
    if not presented and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        presented = str(form.get("csrf_token", ""))
    return same_secret(presented, session.csrf_token)


def _basic_password(credentials: str) -> str:
    """The password of HTTP Basic credentials (``base64(user:password)``); "" if malformed."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


async def authenticate(
    request: Request, runtime: Runtime, *, agent_auth: bool = False
) -> tuple[Principal, Session | None]:
    """Identify the request's principal, or raise ``AuthenticationError`` (audited).

    With ``agent_auth`` an API token is also taken from ``Authorization: Token <token>``,
    from HTTP Basic (the password is the token) and from the ``p`` query parameter.
    """
    anonymous = caller_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        scheme, secret = scheme.lower(), secret.strip()
        if agent_auth and scheme == "basic":
            secret = _basic_password(secret)
        elif scheme != "bearer" and not (agent_auth and scheme == "token"):
            secret = ""
        if not secret:
            runtime.identity.record_denied(anonymous, _action(request), "malformed_authorization")
            raise AuthenticationError(
                "the Authorization header must be 'Bearer <token>'"
                + (", 'Token <token>' or Basic with the token as password" if agent_auth else "")
            )
        return runtime.identity.token_principal(secret, anonymous), None
    password = request.query_params.get("p", "") if agent_auth else ""
    if password:
        return runtime.identity.token_principal(password, anonymous), None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = runtime.identity.session_principal(cookie)
        if found is not None:
            principal, session = found
            if request.method not in SAFE_METHODS and not await _csrf_ok(request, session):
                runtime.identity.record_denied(
                    caller_of(request, principal.actor),
                    _action(request),
                    "csrf_token_missing",
                    via="session",
                )
                raise PermissionDeniedError(
                    "missing or wrong CSRF token: send the X-CSRF-Token header "
                    "with the value from GET /api/v1/auth/me"
                )
            return principal, session
    runtime.identity.record_denied(anonymous, _action(request), "no_credentials")
    raise AuthenticationError(
        "authentication required: send 'Authorization: Bearer <token>' or log in"
    )


async def authenticated(request: Request, runtime: Runtime) -> tuple[Principal, Session | None]:
    """``authenticate`` for actions open to any valid credentials (who am I, log out); the
    allowed decision is recorded the way a scope check records it."""
    principal, session = await authenticate(request, runtime)
    runtime.identity.record_allowed(
        principal, caller_of(request, principal.actor), _action(request)
    )
    return principal, session


def require(scope: Scope, *, agent_auth: bool = False) -> Callable[..., object]:
    """A dependency that authenticates and checks ``scope``, recording the decision.
    ``agent_auth`` accepts the agents' credential forms too (see ``authenticate``)."""

    async def dependency(request: Request, runtime: RuntimeDep) -> Principal:
        principal, _ = await authenticate(request, runtime, agent_auth=agent_auth)
        caller = caller_of(request, principal.actor)
        runtime.identity.authorize(principal, scope, caller, _action(request))
        request.state.principal = principal
        return principal

    return dependency


async def _self_service(request: Request, runtime: RuntimeDep) -> Principal:
    """Managing one's own tokens: any session user, or a token holding the admin scope
    (so a leaked narrow token cannot mint broader ones)."""
    principal, _ = await authenticate(request, runtime)
    needed = Scope.READ if principal.via == "session" else Scope.ADMIN
    runtime.identity.authorize(
        principal, needed, caller_of(request, principal.actor), _action(request)
    )
    request.state.principal = principal
    return principal


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Writer = Annotated[Principal, Depends(require(Scope.WRITE))]
Ingester = Annotated[Principal, Depends(require(Scope.INGEST))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
AgentIngester = Annotated[Principal, Depends(require(Scope.INGEST, agent_auth=True))]
SelfService = Annotated[Principal, Depends(_self_service)]


def _caller(request: Request) -> Caller:
    principal: Principal | None = getattr(request.state, "principal", None)
    return caller_of(request, principal.actor if principal else "anonymous")


CallerDep = Annotated[Caller, Depends(_caller)]
