"""Logging in and out with a password, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from radiator.identity import Principal, Role, Scope, UserRead
from radiator.web.deps import SESSION_COOKIE, RuntimeDep, authenticated, caller_of
from radiator.web.errors import problem_responses

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=63)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    user: UserRead
    via: str = Field(description="'session' or 'token'")
    scopes: list[Scope]
    csrf_token: str | None = Field(
        None, description="Send as X-CSRF-Token on state-changing requests made with the cookie."
    )


def set_session_cookie(response: Response, runtime: RuntimeDep, value: str) -> None:
    """A browser-session cookie: the server enforces the sliding ``session_ttl_hours``, so the
    cookie itself carries no expiry that would cut a session still in use."""
    settings = runtime.settings
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        secure=settings.session_cookie_secure,
        samesite="lax",
        path="/",
    )


@router.post(
    "/login",
    summary="Log in with a password; sets the session cookie",
    responses=problem_responses(
        401, 429, descriptions={401: "Wrong credentials", 429: "Too many failed logins"}
    ),
)
def login(body: LoginRequest, request: Request, response: Response, runtime: RuntimeDep) -> Me:
    new = runtime.identity.login(body.username, body.password, caller_of(request, body.username))
    set_session_cookie(response, runtime, new.cookie_value)
    user = runtime.identity.get_user(new.principal.username)
    return Me(
        user=UserRead.of(user),
        via="session",
        scopes=sorted(new.principal.scopes),
        csrf_token=new.session.csrf_token,
    )


@router.post("/logout", status_code=204, summary="End the current session")
async def logout(request: Request, response: Response, runtime: RuntimeDep) -> None:
    principal, _ = await authenticated(request, runtime)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        runtime.identity.logout(cookie, caller_of(request, principal.actor))
    response.delete_cookie(SESSION_COOKIE, path="/")


async def _me(request: Request, runtime: RuntimeDep) -> tuple[Principal, str | None]:
    principal, session = await authenticated(request, runtime)
    return principal, session.csrf_token if session else None


@router.get("/me", summary="The authenticated user, scopes and CSRF token")
def me(found: Annotated[tuple[Principal, str | None], Depends(_me)], runtime: RuntimeDep) -> Me:
    principal, csrf = found
    user = runtime.identity.get_user(principal.username)
    return Me(
        user=UserRead.of(user), via=principal.via, scopes=sorted(principal.scopes), csrf_token=csrf
    )


__all__ = ["Role", "router", "set_session_cookie"]
