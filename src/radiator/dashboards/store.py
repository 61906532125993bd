"""What dashboards need from persistence."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from radiator.dashboards.models import Dashboard, KioskLink

__all__ = ["DashboardStore"]


class DashboardStore(Protocol):
    """Dashboards by slug and kiosk links by id or secret hash.

    ``save`` inserts or replaces a dashboard and returns it with ``version`` one higher than
    the stored one (1 when new); with ``expected_version`` set it raises ``ConflictError``
    when the stored version differs. ``list_dashboards`` is ordered by title.
    """

    def get(self, slug: str) -> Dashboard | None: ...

    def list_dashboards(self) -> list[Dashboard]: ...

    def save(self, dashboard: Dashboard, expected_version: int | None = None) -> Dashboard: ...

    def delete(self, slug: str) -> None: ...

    def add_kiosk_link(
        self,
        *,
        name: str,
        dashboards: list[str],
        rotate_seconds: int,
        secret_hash: str,
        created_by: str,
        now: datetime,
    ) -> KioskLink: ...

    def kiosk_by_hash(self, secret_hash: str) -> KioskLink | None: ...

    def list_kiosk_links(self) -> list[KioskLink]: ...

    def revoke_kiosk_link(self, link_id: int, now: datetime) -> KioskLink: ...
