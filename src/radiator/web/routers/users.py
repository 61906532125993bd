"""User administration (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter

from radiator.identity import UserCreate, UserRead, UserUpdate
from radiator.web.deps import Admin, CallerDep, RuntimeDep
from radiator.web.errors import problem_responses

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", summary="List users")
def list_users(_: Admin, runtime: RuntimeDep) -> list[UserRead]:
    return [UserRead.of(u) for u in runtime.identity.list_users()]


@router.post("", status_code=201, summary="Create a user", responses=problem_responses(409))
def create_user(_: Admin, caller: CallerDep, body: UserCreate, runtime: RuntimeDep) -> UserRead:
    return UserRead.of(runtime.identity.create_user(body, caller))


@router.get("/{username}", summary="One user", responses=problem_responses(404))
def get_user(_: Admin, username: str, runtime: RuntimeDep) -> UserRead:
    return UserRead.of(runtime.identity.get_user(username))


@router.patch(
    "/{username}",
    summary="Change role, name, e-mail, password or disable",
    responses=problem_responses(404),
)
def update_user(
    _: Admin, caller: CallerDep, username: str, body: UserUpdate, runtime: RuntimeDep
) -> UserRead:
    return UserRead.of(runtime.identity.update_user(username, body, caller))
