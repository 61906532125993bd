"""What the catalog needs from persistence."""

from __future__ import annotations

from typing import Protocol

from radiator.catalog.models import Link, Service, Team, Tier

__all__ = ["CatalogStore"]


class CatalogStore(Protocol):
    """Teams and services by name.

    ``add_*`` raise ``ConflictError`` when the name is taken; ``update_*`` and ``delete_*``
    raise ``NotFoundError`` when it is not. ``list_*`` return items ordered by name.
    """

    def add_team(
        self, *, name: str, display_name: str, description: str, members: list[str]
    ) -> Team: ...

    def get_team(self, name: str) -> Team | None: ...

    def list_teams(self) -> list[Team]: ...

    def update_team(self, name: str, **changes: object) -> Team: ...

    def delete_team(self, name: str) -> None: ...

    def add_service(
        self,
        *,
        name: str,
        display_name: str,
        team: str | None,
        tier: Tier,
        description: str,
        links: list[Link],
    ) -> Service: ...

    def get_service(self, name: str) -> Service | None: ...

    def list_services(self, team: str | None = None) -> list[Service]: ...

    def update_service(self, name: str, **changes: object) -> Service: ...

    def delete_service(self, name: str) -> None: ...
