"""Teams and services: the catalog every other domain refers to."""

from __future__ import annotations

from fastapi import APIRouter, Response

from radiator.catalog import Service, ServiceCreate, ServiceUpdate, Team, TeamCreate, TeamUpdate
from radiator.web.deps import CallerDep, Reader, RuntimeDep, Writer
from radiator.web.errors import problem_responses

_MISSING = problem_responses(404)
_CONFLICT = problem_responses(409)
_MISSING_OR_CONFLICT = problem_responses(404, 409)

router = APIRouter(tags=["catalog"])


@router.get("/teams", summary="List teams")
def list_teams(_: Reader, runtime: RuntimeDep) -> list[Team]:
    return runtime.catalog.list_teams()


@router.post("/teams", status_code=201, summary="Create a team", responses=_CONFLICT)
def create_team(_: Writer, caller: CallerDep, body: TeamCreate, runtime: RuntimeDep) -> Team:
    return runtime.catalog.create_team(body, caller)


@router.get("/teams/{name}", summary="One team", responses=_MISSING)
def get_team(_: Reader, name: str, runtime: RuntimeDep) -> Team:
    return runtime.catalog.get_team(name)


@router.patch("/teams/{name}", summary="Change a team", responses=_MISSING)
def update_team(
    _: Writer, caller: CallerDep, name: str, body: TeamUpdate, runtime: RuntimeDep
) -> Team:
    return runtime.catalog.update_team(name, body, caller)


@router.delete(
    "/teams/{name}",
    status_code=204,
    summary="Delete a team that owns no services",
    responses=_MISSING_OR_CONFLICT,
)
def delete_team(_: Writer, caller: CallerDep, name: str, runtime: RuntimeDep) -> Response:
    runtime.catalog.delete_team(name, caller)
    return Response(status_code=204)


@router.get("/services", summary="List services, optionally of one team")
def list_services(_: Reader, runtime: RuntimeDep, team: str | None = None) -> list[Service]:
    return runtime.catalog.list_services(team)


@router.post("/services", status_code=201, summary="Register a service", responses=_CONFLICT)
def create_service(
    _: Writer, caller: CallerDep, body: ServiceCreate, runtime: RuntimeDep
) -> Service:
    return runtime.catalog.create_service(body, caller)


@router.get("/services/{name}", summary="One service", responses=_MISSING)
def get_service(_: Reader, name: str, runtime: RuntimeDep) -> Service:
    return runtime.catalog.get_service(name)


@router.patch("/services/{name}", summary="Change a service", responses=_MISSING)
def update_service(
    _: Writer, caller: CallerDep, name: str, body: ServiceUpdate, runtime: RuntimeDep
) -> Service:
    return runtime.catalog.update_service(name, body, caller)


@router.delete("/services/{name}", status_code=204, summary="Remove a service", responses=_MISSING)
def delete_service(_: Writer, caller: CallerDep, name: str, runtime: RuntimeDep) -> Response:
    runtime.catalog.delete_service(name, caller)
    return Response(status_code=204)
