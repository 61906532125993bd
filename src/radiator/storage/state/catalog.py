"""SQL implementation of the catalog store."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from radiator.catalog.models import Link, Service, Team, Tier
from radiator.core.clock import Clock, system_clock
from radiator.errors import ConflictError, InvalidInputError, NotFoundError
from radiator.storage.state.db import Database
from radiator.storage.state.tables import ServiceRow, TeamMemberRow, TeamRow

__all__ = ["SqlCatalogStore"]


def _team(row: TeamRow) -> Team:
    return Team(
        name=row.name,
        display_name=row.display_name,
        description=row.description,
        members=[m.username for m in row.members],
        created_at=row.created_at,
    )


def _service(row: ServiceRow) -> Service:
    return Service(
        name=row.name,
        display_name=row.display_name,
        team=row.team.name if row.team else None,
        tier=Tier(row.tier),
        description=row.description,
        links=[Link.model_validate(link) for link in row.links],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _member_rows(members: Iterable[object]) -> list[TeamMemberRow]:
    # Sorted as the relationship loads them; a repeated name would break the primary key.
    return [TeamMemberRow(username=name) for name in sorted({str(m) for m in members})]


def _links(links: list[Link]) -> list[dict[str, str]]:
    return [link.model_dump(mode="json") for link in links]


class SqlCatalogStore:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    # -- teams -----------------------------------------------------------------------------

    def add_team(
        self, *, name: str, display_name: str, description: str, members: list[str]
    ) -> Team:
        row = TeamRow(
            name=name,
            display_name=display_name,
            description=description,
            created_at=self._clock(),
            members=_member_rows(members),
        )
        try:
            with self._db.sessions() as session, session.begin():
                session.add(row)
                session.flush()
                return _team(row)
        except IntegrityError as exc:
            raise ConflictError(f"team {name!r} already exists", field="name") from exc

    def get_team(self, name: str) -> Team | None:
        with self._db.begin() as session:
            row = self._team_row(session, name)
            return _team(row) if row else None

    def list_teams(self) -> list[Team]:
        with self._db.begin() as session:
            return [_team(r) for r in session.scalars(select(TeamRow).order_by(TeamRow.name))]

    def update_team(self, name: str, **changes: object) -> Team:
        with self._db.begin() as session:
            row = self._existing_team(session, name)
            for key, value in changes.items():
                if key == "members":
                    row.members = _member_rows(value if isinstance(value, list) else [])
                else:
                    setattr(row, key, value)
            session.flush()
            return _team(row)

    def delete_team(self, name: str) -> None:
        with self._db.begin() as session:
            session.delete(self._existing_team(session, name))

    # -- services --------------------------------------------------------------------------

    def add_service(
        self,
        *,
        name: str,
        display_name: str,
        team: str | None,
        tier: Tier,
        description: str,
        links: list[Link],
    ) -> Service:
        now = self._clock()
        try:
            with self._db.sessions() as session, session.begin():
                row = ServiceRow(
                    name=name,
                    display_name=display_name,
                    team=self._require_team(session, team) if team else None,
                    tier=int(tier),
                    description=description,
                    links=_links(links),
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                return _service(row)
        except IntegrityError as exc:
            raise ConflictError(f"service {name!r} already exists", field="name") from exc

    def get_service(self, name: str) -> Service | None:
        with self._db.begin() as session:
            row = session.scalars(select(ServiceRow).where(ServiceRow.name == name)).first()
            return _service(row) if row else None

    def list_services(self, team: str | None = None) -> list[Service]:
        query = select(ServiceRow).order_by(ServiceRow.name)
        if team is not None:
            query = query.join(ServiceRow.team).where(TeamRow.name == team)
        with self._db.begin() as session:
            return [_service(r) for r in session.scalars(query)]

    def update_service(self, name: str, **changes: object) -> Service:
        with self._db.begin() as session:
            row = session.scalars(select(ServiceRow).where(ServiceRow.name == name)).first()
            if row is None:
                raise NotFoundError(f"no service named {name!r}")
            for key, value in changes.items():
                if key == "team":
                    row.team = self._require_team(session, str(value)) if value else None
                elif key == "links":
                    row.links = _links(value if isinstance(value, list) else [])
                elif key == "tier":
                    row.tier = int(str(value))
                else:
                    setattr(row, key, value)
            row.updated_at = self._clock()
            session.flush()
            return _service(row)

    def delete_service(self, name: str) -> None:
        with self._db.begin() as session:
            row = session.scalars(select(ServiceRow).where(ServiceRow.name == name)).first()
            if row is None:
                raise NotFoundError(f"no service named {name!r}")
            session.delete(row)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _team_row(session: DbSession, name: str) -> TeamRow | None:
        return session.scalars(select(TeamRow).where(TeamRow.name == name)).first()

    def _existing_team(self, session: DbSession, name: str) -> TeamRow:
        """The team being updated or deleted; its absence is NotFound, not bad input."""
        row = self._team_row(session, name)
        if row is None:
            raise NotFoundError(f"no team named {name!r}")
        return row

    def _require_team(self, session: DbSession, name: str) -> TeamRow:
        row = self._team_row(session, name)
        if row is None:
            raise InvalidInputError(f"no team named {name!r}", field="team")
        return row
