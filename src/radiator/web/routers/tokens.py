"""API tokens: create (the secret is shown once), list and revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from radiator.errors import PermissionDeniedError
from radiator.identity import ApiToken, ApiTokenCreate, ApiTokenCreated, Scope
from radiator.web.deps import MAX_ID, CallerDep, RuntimeDep, SelfService
from radiator.web.errors import problem_responses

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", summary="List your tokens (admins: everyone's with all=true)")
def list_tokens(
    principal: SelfService, runtime: RuntimeDep, all_users: bool = Query(False, alias="all")
) -> list[ApiToken]:
    if all_users:
        if not principal.has(Scope.ADMIN):
            raise PermissionDeniedError("listing everyone's tokens needs the 'admin' scope")
        return runtime.identity.list_tokens()
    return runtime.identity.list_tokens(principal.username)


@router.post("", status_code=201, summary="Create a token for yourself; the secret is shown once")
def create_token(
    principal: SelfService, caller: CallerDep, body: ApiTokenCreate, runtime: RuntimeDep
) -> ApiTokenCreated:
    return runtime.identity.create_token(principal.username, body, caller)


@router.delete(
    "/{token_id}",
    summary="Revoke a token (yours, or any as admin)",
    responses=problem_responses(404),
)
def revoke_token(
    principal: SelfService,
    caller: CallerDep,
    token_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    runtime: RuntimeDep,
) -> ApiToken:
    token = runtime.identity.get_token(token_id)
    if token.username != principal.username and not principal.has(Scope.ADMIN):
        raise PermissionDeniedError("revoking another user's token needs the 'admin' scope")
    return runtime.identity.revoke_token(token_id, caller)
