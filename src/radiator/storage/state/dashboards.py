"""SQL implementation of the dashboard store."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from radiator.dashboards.models import Dashboard, DashboardCreate, KioskLink
from radiator.errors import ConflictError, NotFoundError
from radiator.storage.state.db import Database
from radiator.storage.state.tables import DashboardRow, KioskLinkRow

__all__ = ["SqlDashboardStore"]

_DEFINITION = set(DashboardCreate.model_fields)


def _dashboard(row: DashboardRow) -> Dashboard:
    return Dashboard.model_validate(
        {
            **row.document,
            "source": row.source,
            "source_path": row.source_path,
            "version": row.version,
            "updated_at": row.updated_at,
            "updated_by": row.updated_by,
        }
    )


def _kiosk(row: KioskLinkRow) -> KioskLink:
    return KioskLink(
        id=row.id,
        name=row.name,
        dashboards=list(row.dashboards),
        rotate_seconds=row.rotate_seconds,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class SqlDashboardStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, slug: str) -> Dashboard | None:
        with self._db.begin() as session:
            row = session.scalar(select(DashboardRow).where(DashboardRow.slug == slug))
            return _dashboard(row) if row else None

    def list_dashboards(self) -> list[Dashboard]:
        with self._db.begin() as session:
            rows = session.scalars(
                select(DashboardRow).order_by(DashboardRow.title, DashboardRow.slug)
            )
            return [_dashboard(row) for row in rows]

    def save(self, dashboard: Dashboard, expected_version: int | None = None) -> Dashboard:
        document = dashboard.model_dump(mode="json", include=_DEFINITION)
        with self._db.begin() as session:
            row = session.scalar(
                select(DashboardRow).where(DashboardRow.slug == dashboard.slug).with_for_update()
            )
            stored = row.version if row is not None else None
            if expected_version is not None and stored != expected_version:
                raise ConflictError(
                    f"dashboard {dashboard.slug!r} was changed meanwhile (now version {stored}, "
                    f"edited from version {expected_version}); reload it and edit again",
                    field="version",
                )
            if row is None:
                row = DashboardRow(slug=dashboard.slug, version=0)
                session.add(row)
            row.title = dashboard.title
            row.source = dashboard.source
            row.source_path = dashboard.source_path
            row.document = document
            row.version = row.version + 1
            row.updated_at = dashboard.updated_at or datetime.now(UTC)
            row.updated_by = dashboard.updated_by
            session.flush()
            return _dashboard(row)

    def delete(self, slug: str) -> None:
        with self._db.begin() as session:
            row = session.scalar(select(DashboardRow).where(DashboardRow.slug == slug))
            if row is None:
                raise NotFoundError(f"no dashboard {slug!r}")
            session.delete(row)

    def add_kiosk_link(
        self,
        *,
        name: str,
        dashboards: list[str],
        rotate_seconds: int,
        secret_hash: str,
        created_by: str,
        now: datetime,
    ) -> KioskLink:
        with self._db.begin() as session:
            row = KioskLinkRow(
                name=name,
                dashboards=list(dashboards),
                rotate_seconds=rotate_seconds,
                secret_hash=secret_hash,
                created_by=created_by,
                created_at=now,
            )
            session.add(row)
            session.flush()
            return _kiosk(row)

    def kiosk_by_hash(self, secret_hash: str) -> KioskLink | None:
        with self._db.begin() as session:
            row = session.scalar(
                select(KioskLinkRow).where(KioskLinkRow.secret_hash == secret_hash)
            )
            return _kiosk(row) if row else None

    def list_kiosk_links(self) -> list[KioskLink]:
        with self._db.begin() as session:
            return [
                _kiosk(r) for r in session.scalars(select(KioskLinkRow).order_by(KioskLinkRow.id))
            ]

    def revoke_kiosk_link(self, link_id: int, now: datetime) -> KioskLink:
        with self._db.begin() as session:
            row = session.get(KioskLinkRow, link_id)
            if row is None:
                raise NotFoundError(f"no kiosk link {link_id}")
            if row.revoked_at is None:
                row.revoked_at = now
            session.flush()
            return _kiosk(row)
