"""SQL implementation of the notify store: channels and the delivery log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from radiator.core.clock import Clock, system_clock
from radiator.errors import ConflictError, NotFoundError
from radiator.notify.models import Attempt, ChannelType, Delivery, DeliveryStatus
from radiator.storage.state.db import Database
from radiator.storage.state.tables import DeliveryRow, NotifyChannelRow

__all__ = ["SqlNotifyStore"]


def _channel(row: NotifyChannelRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "type": ChannelType(row.type),
        "settings": dict(row.settings),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        channel=row.channel,
        channel_type=ChannelType(row.channel_type),
        title=row.title,
        recipient=row.recipient,
        status=DeliveryStatus(row.status),
        attempts=[Attempt.model_validate(a) for a in row.attempts],
        page_id=row.page_id,
        created_at=row.created_at,
    )


class SqlNotifyStore:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    def add_channel(self, name: str, type: ChannelType, settings: dict[str, Any]) -> dict[str, Any]:
        now = self._clock()
        row = NotifyChannelRow(
            name=name, type=str(type), settings=settings, created_at=now, updated_at=now
        )
        try:
            with self._db.sessions() as session, session.begin():
                session.add(row)
                session.flush()
                return _channel(row)
        except IntegrityError as exc:
            raise ConflictError(f"channel {name!r} already exists", field="name") from exc

    def get_channel(self, name: str) -> dict[str, Any] | None:
        with self._db.begin() as session:
            row = session.scalars(
                select(NotifyChannelRow).where(NotifyChannelRow.name == name)
            ).first()
            return _channel(row) if row else None

    def list_channels(self) -> list[dict[str, Any]]:
        with self._db.begin() as session:
            rows = session.scalars(select(NotifyChannelRow).order_by(NotifyChannelRow.name))
            return [_channel(r) for r in rows]

    def update_channel(self, name: str, settings: dict[str, Any]) -> dict[str, Any]:
        with self._db.begin() as session:
            row = session.scalars(
                select(NotifyChannelRow).where(NotifyChannelRow.name == name)
            ).first()
            if row is None:
                raise NotFoundError(f"no notification channel named {name!r}")
            row.settings = settings
            row.updated_at = self._clock()
            session.flush()
            return _channel(row)

    def delete_channel(self, name: str) -> None:
        with self._db.begin() as session:
            row = session.scalars(
                select(NotifyChannelRow).where(NotifyChannelRow.name == name)
            ).first()
            if row is None:
                raise NotFoundError(f"no notification channel named {name!r}")
            session.delete(row)

    def add_delivery(
        self,
        *,
        channel: str,
        channel_type: ChannelType,
        title: str,
        recipient: str,
        status: DeliveryStatus,
        attempts: list[Attempt],
        page_id: int | None,
    ) -> Delivery:
        row = DeliveryRow(
            channel=channel,
            channel_type=str(channel_type),
            title=title[:500],
            recipient=recipient[:320],
            status=str(status),
            attempts=[a.model_dump(mode="json") for a in attempts],
            page_id=page_id,
            created_at=self._clock(),
        )
        with self._db.begin() as session:
            session.add(row)
            session.flush()
            return _delivery(row)

    def get_delivery(self, delivery_id: int) -> Delivery | None:
        with self._db.begin() as session:
            row = session.get(DeliveryRow, delivery_id)
            return _delivery(row) if row else None

    def list_deliveries(
        self, *, channel: str | None = None, page_id: int | None = None, limit: int = 100
    ) -> list[Delivery]:
        query = select(DeliveryRow).order_by(DeliveryRow.id.desc()).limit(limit)
        if channel is not None:
            query = query.where(DeliveryRow.channel == channel)
        if page_id is not None:
            query = query.where(DeliveryRow.page_id == page_id)
        with self._db.begin() as session:
            return [_delivery(r) for r in session.scalars(query)]
