"""SQL implementation of the on-call store: schedules, escalation policies, pages, links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from radiator.core.clock import Clock, system_clock
from radiator.errors import ConflictError, NotFoundError
from radiator.oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Override,
    Page,
    PageStatus,
    Participant,
    Schedule,
)
from radiator.storage.state.db import Database
from radiator.storage.state.tables import (
    EscalationPolicyRow,
    OncallAckTokenRow,
    OncallContactRow,
    OncallPageRow,
    OncallScheduleRow,
    PolicyServiceRow,
)

__all__ = ["SqlOncallStore"]

_OPEN = (str(PageStatus.TRIGGERED), str(PageStatus.ACKNOWLEDGED))


def _schedule(row: OncallScheduleRow) -> Schedule:
    return Schedule(
        id=row.id,
        name=row.name,
        description=row.description,
        time_zone=row.time_zone,
        handoff_time=row.handoff_time[:5],
        rotation=row.rotation,
        start_date=row.start_date,
        participants=[Participant.model_validate(p) for p in row.participants],
        overrides=[Override.model_validate(o) for o in row.overrides],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _schedule_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Model values as column values: JSON lists, the hand-off time as text."""
    columns = dict(values)
    for key, model in (("participants", Participant), ("overrides", Override)):
        if key in columns:
            columns[key] = [model.model_validate(v).model_dump(mode="json") for v in columns[key]]
    if "rotation" in columns:
        columns["rotation"] = str(columns["rotation"])
    return columns


def _policy(row: EscalationPolicyRow) -> EscalationPolicy:
    return EscalationPolicy(
        id=row.id,
        name=row.name,
        description=row.description,
        steps=[EscalationStep.model_validate(s) for s in row.steps],
        repeat=row.repeat,
        services=[s.service for s in row.services],
        channels=list(row.channels),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _page(row: OncallPageRow) -> Page:
    return Page(
        id=row.id,
        service=row.service,
        summary=row.summary,
        details=row.details,
        dedup_key=row.dedup_key,
        policy=row.policy,
        status=PageStatus(row.status),
        step=row.step,
        round=row.round,
        target_user=row.target_user,
        triggered_at=row.triggered_at,
        escalate_at=row.escalate_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
    )


class SqlOncallStore:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    # -- schedules -------------------------------------------------------------------------

    def add_schedule(self, values: dict[str, object]) -> Schedule:
        now = self._clock()
        row = OncallScheduleRow(**_schedule_columns(values), created_at=now, updated_at=now)
        try:
            with self._db.sessions() as session, session.begin():
                session.add(row)
                session.flush()
                return _schedule(row)
        except IntegrityError as exc:
            raise ConflictError(
                f"schedule {values['name']!r} already exists", field="name"
            ) from exc

    def get_schedule(self, name: str) -> Schedule | None:
        with self._db.begin() as session:
            row = self._schedule_row(session, name)
            return _schedule(row) if row else None

    def list_schedules(self) -> list[Schedule]:
        with self._db.begin() as session:
            rows = session.scalars(select(OncallScheduleRow).order_by(OncallScheduleRow.name))
            return [_schedule(r) for r in rows]

    def update_schedule(self, name: str, changes: dict[str, object]) -> Schedule:
        with self._db.begin() as session:
            row = self._schedule_row(session, name)
            if row is None:
                raise NotFoundError(f"no schedule named {name!r}")
            for key, value in _schedule_columns(changes).items():
                setattr(row, key, value)
            row.updated_at = self._clock()
            session.flush()
            return _schedule(row)

    def delete_schedule(self, name: str) -> None:
        with self._db.begin() as session:
            row = self._schedule_row(session, name)
            if row is None:
                raise NotFoundError(f"no schedule named {name!r}")
            session.delete(row)

    # -- escalation policies ---------------------------------------------------------------

    def add_policy(self, values: dict[str, object]) -> EscalationPolicy:
        now = self._clock()
        columns = dict(values)
        services = columns.pop("services", [])
        names = sorted({str(s) for s in services}) if isinstance(services, list) else []
        row = EscalationPolicyRow(**columns, created_at=now, updated_at=now)
        row.services = [PolicyServiceRow(service=s) for s in names]
        try:
            with self._db.sessions() as session, session.begin():
                session.add(row)
                session.flush()
                return _policy(row)
        except IntegrityError as exc:
            raise ConflictError(
                f"escalation policy {values['name']!r} or one of its services is taken",
                field="name",
            ) from exc

    def get_policy(self, name: str) -> EscalationPolicy | None:
        with self._db.begin() as session:
            row = self._policy_row(session, name)
            return _policy(row) if row else None

    def list_policies(self) -> list[EscalationPolicy]:
        with self._db.begin() as session:
            rows = session.scalars(select(EscalationPolicyRow).order_by(EscalationPolicyRow.name))
            return [_policy(r) for r in rows]

    def update_policy(self, name: str, changes: dict[str, object]) -> EscalationPolicy:
        try:
            with self._db.sessions() as session, session.begin():
                row = self._policy_row(session, name)
                if row is None:
                    raise NotFoundError(f"no escalation policy named {name!r}")
                for key, value in changes.items():
                    if key == "services":
                        self._set_services(session, row, value)
                    else:
                        setattr(row, key, value)
                row.updated_at = self._clock()
                session.flush()
                return _policy(row)
        except IntegrityError as exc:
            raise ConflictError("a service pages through another policy", field="services") from exc

    def delete_policy(self, name: str) -> None:
        with self._db.begin() as session:
            row = self._policy_row(session, name)
            if row is None:
                raise NotFoundError(f"no escalation policy named {name!r}")
            session.delete(row)

    def policy_for_service(self, service: str) -> EscalationPolicy | None:
        query = (
            select(EscalationPolicyRow)
            .join(PolicyServiceRow, PolicyServiceRow.policy_id == EscalationPolicyRow.id)
            .where(PolicyServiceRow.service == service)
        )
        with self._db.begin() as session:
            row = session.scalars(query).first()
            return _policy(row) if row else None

    # -- pages -----------------------------------------------------------------------------

    def add_page(self, values: dict[str, object]) -> Page:
        columns = {**values, "status": str(values["status"])}
        row = OncallPageRow(**columns)
        with self._db.begin() as session:
            session.add(row)
            session.flush()
            return _page(row)

    def get_page(self, page_id: int) -> Page | None:
        with self._db.begin() as session:
            row = session.get(OncallPageRow, page_id)
            return _page(row) if row else None

    def update_page(self, page_id: int, changes: dict[str, object]) -> Page:
        with self._db.begin() as session:
            row = session.get(OncallPageRow, page_id)
            if row is None:
                raise NotFoundError(f"no page with id {page_id}")
            for key, value in changes.items():
                setattr(row, key, str(value) if key == "status" else value)
            session.flush()
            return _page(row)

    def open_page(self, service: str, dedup_key: str) -> Page | None:
        query = (
            select(OncallPageRow)
            .where(OncallPageRow.service == service, OncallPageRow.dedup_key == dedup_key)
            .where(OncallPageRow.status.in_(_OPEN))
            .order_by(OncallPageRow.id.desc())
        )
        with self._db.begin() as session:
            row = session.scalars(query).first()
            return _page(row) if row else None

    def list_pages(
        self,
        *,
        status: PageStatus | None = None,
        service: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Page]:
        query = select(OncallPageRow).order_by(OncallPageRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(OncallPageRow.status == str(status))
        if service is not None:
            query = query.where(OncallPageRow.service == service)
        if since is not None:
            query = query.where(OncallPageRow.triggered_at >= since)
        with self._db.begin() as session:
            return [_page(r) for r in session.scalars(query)]

    def due_pages(self, now: datetime) -> list[Page]:
        query = (
            select(OncallPageRow)
            .where(OncallPageRow.status == str(PageStatus.TRIGGERED))
            .where(OncallPageRow.escalate_at.is_not(None), OncallPageRow.escalate_at <= now)
            .order_by(OncallPageRow.id)
        )
        with self._db.begin() as session:
            return [_page(r) for r in session.scalars(query)]

    def add_ack_token(self, token_hash: str, page_id: int, user: str | None) -> None:
        with self._db.begin() as session:
            session.add(
                OncallAckTokenRow(
                    token_hash=token_hash, page_id=page_id, username=user, created_at=self._clock()
                )
            )

    def ack_token(self, token_hash: str) -> tuple[int, str | None] | None:
        with self._db.begin() as session:
            row = session.get(OncallAckTokenRow, token_hash)
            return (row.page_id, row.username) if row else None

    # -- contact channels ------------------------------------------------------------------

    def contacts(self, user: str) -> list[str]:
        query = (
            select(OncallContactRow.channel)
            .where(OncallContactRow.username == user)
            .order_by(OncallContactRow.position)
        )
        with self._db.begin() as session:
            return list(session.scalars(query))

    def set_contacts(self, user: str, channels: list[str]) -> list[str]:
        with self._db.begin() as session:
            session.execute(delete(OncallContactRow).where(OncallContactRow.username == user))
            session.add_all(
                OncallContactRow(username=user, channel=channel, position=index)
                for index, channel in enumerate(dict.fromkeys(channels))
            )
        return self.contacts(user)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _schedule_row(session: DbSession, name: str) -> OncallScheduleRow | None:
        query = select(OncallScheduleRow).where(OncallScheduleRow.name == name)
        return session.scalars(query).first()

    @staticmethod
    def _policy_row(session: DbSession, name: str) -> EscalationPolicyRow | None:
        query = select(EscalationPolicyRow).where(EscalationPolicyRow.name == name)
        return session.scalars(query).first()

    @staticmethod
    def _set_services(session: DbSession, row: EscalationPolicyRow, services: object) -> None:
        wanted = sorted({str(s) for s in services}) if isinstance(services, list) else []
        row.services = [s for s in row.services if s.service in wanted]
        # Flush the removals first so a service can move rows without a key clash.
        session.flush()
        have = {s.service for s in row.services}
        row.services.extend(PolicyServiceRow(service=s) for s in wanted if s not in have)
