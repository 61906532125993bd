"""Catalog use cases: create, read, update and delete teams and services, audited."""

from __future__ import annotations

from radiator.audit import AuditLog, Outcome
from radiator.catalog.models import (
    Service,
    ServiceCreate,
    ServiceUpdate,
    Team,
    TeamCreate,
    TeamUpdate,
)
from radiator.catalog.store import CatalogStore
from radiator.core.caller import SYSTEM, Caller
from radiator.errors import ConflictError, InvalidInputError, NotFoundError

__all__ = ["CatalogService"]


class CatalogService:
    def __init__(self, store: CatalogStore, audit: AuditLog) -> None:
        self._store = store
        self._audit = audit

    # -- teams -----------------------------------------------------------------------------

    def create_team(self, data: TeamCreate, caller: Caller = SYSTEM) -> Team:
        if self._store.get_team(data.name) is not None:
            raise ConflictError(f"team {data.name!r} already exists", field="name")
        team = self._store.add_team(
            name=data.name,
            display_name=data.display_name or data.name.replace("-", " ").title(),
            description=data.description,
            members=sorted(set(data.members)),
        )
        self._record(caller, "team.create", f"team:{team.name}")
        return team

    def get_team(self, name: str) -> Team:
        team = self._store.get_team(name)
        if team is None:
            raise NotFoundError(f"no team named {name!r}")
        return team

    def list_teams(self) -> list[Team]:
        return self._store.list_teams()

    def update_team(self, name: str, data: TeamUpdate, caller: Caller = SYSTEM) -> Team:
        self.get_team(name)
        # An explicit null means "leave unchanged" (null members would otherwise clear them).
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "members" in changes:
            changes["members"] = sorted(set(changes["members"]))
        team = self._store.update_team(name, **changes) if changes else self.get_team(name)
        self._record(caller, "team.update", f"team:{name}", fields=sorted(changes))
        return team

    def delete_team(self, name: str, caller: Caller = SYSTEM) -> None:
        self.get_team(name)
        owned = self._store.list_services(team=name)
        if owned:
            names = ", ".join(s.name for s in owned)
            raise ConflictError(f"team {name!r} still owns services: {names}")
        self._store.delete_team(name)
        self._record(caller, "team.delete", f"team:{name}")

    # -- services --------------------------------------------------------------------------

    def create_service(self, data: ServiceCreate, caller: Caller = SYSTEM) -> Service:
        if self._store.get_service(data.name) is not None:
            raise ConflictError(f"service {data.name!r} already exists", field="name")
        self._check_team(data.team)
        service = self._store.add_service(
            name=data.name,
            display_name=data.display_name or data.name,
            team=data.team,
            tier=data.tier,
            description=data.description,
            links=data.links,
        )
        self._record(caller, "service.create", f"service:{service.name}")
        return service

    def get_service(self, name: str) -> Service:
        service = self._store.get_service(name)
        if service is None:
            raise NotFoundError(f"no service named {name!r}")
        return service

    def list_services(self, team: str | None = None) -> list[Service]:
        return self._store.list_services(team=team)

    def update_service(self, name: str, data: ServiceUpdate, caller: Caller = SYSTEM) -> Service:
        self.get_service(name)
        # An explicit null means "leave unchanged", except for team, where it means unowned.
        changes = {
            key: value
            for key, value in data.model_dump(exclude_unset=True).items()
            if value is not None or key == "team"
        }
        if "team" in changes:
            self._check_team(changes["team"])
        if "links" in changes:
            changes["links"] = data.links or []
        if not changes:
            return self.get_service(name)
        service = self._store.update_service(name, **changes)
        self._record(caller, "service.update", f"service:{name}", fields=sorted(changes))
        return service

    def delete_service(self, name: str, caller: Caller = SYSTEM) -> None:
        self.get_service(name)
        self._store.delete_service(name)
        self._record(caller, "service.delete", f"service:{name}")

    # -- helpers ---------------------------------------------------------------------------

    def _check_team(self, team: str | None) -> None:
        if team is not None and self._store.get_team(team) is None:
            raise InvalidInputError(f"no team named {team!r}", field="team")

    def _record(self, caller: Caller, action: str, target: str, **detail: object) -> None:
        self._audit.record(
            action,
            actor=caller.name,
            outcome=Outcome.SUCCESS,
            target=target,
            ip=caller.ip,
            request_id=caller.request_id,
            **detail,
        )
