"""SQL implementation of the alert store: rules, alerts and notes, silences, maintenance."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from radiator.alerts.models import (
    Alert,
    AlertNote,
    AlertRule,
    AlertState,
    MaintenanceWindow,
    Silence,
)
from radiator.errors import ConflictError, NotFoundError
from radiator.storage.state.db import Database
from radiator.storage.state.tables import (
    AlertNoteRow,
    AlertRow,
    AlertRuleRow,
    MaintenanceWindowRow,
    SilenceRow,
)

__all__ = ["SqlAlertStore"]

# Rule fields in their own columns; the rest of the definition is the JSON ``spec``.
_RULE_COLUMNS = (
    "name",
    "owner",
    "severity",
    "enabled",
    "source",
    "source_file",
    "broken_error",
    "broken_since",
    "created_at",
    "updated_at",
)
_SPEC_FIELDS = (
    "description",
    "query",
    "condition",
    "for_seconds",
    "labels",
    "runbook_url",
    "group_by",
    "inhibits",
    "inhibit_equal",
)
_ALERT_FIELDS = (
    "rule",
    "fingerprint",
    "labels",
    "severity",
    "owner",
    "state",
    "value",
    "summary",
    "started_at",
    "fired_at",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "resolved_by",
    "last_seen_at",
    "suppressed_by",
    "page_id",
    "group_key",
)


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _rule(row: AlertRuleRow) -> AlertRule:
    values: dict[str, Any] = {key: getattr(row, key) for key in _RULE_COLUMNS}
    values.update(row.spec)
    values["id"] = row.id
    values["broken"] = bool(row.broken_error)
    return AlertRule.model_validate(values)


def _fill_rule(row: AlertRuleRow, values: dict[str, Any]) -> None:
    spec = dict(row.spec or {})
    for key, value in values.items():
        if key in _SPEC_FIELDS:
            spec[key] = _plain(value)
        elif key in _RULE_COLUMNS:
            setattr(row, key, str(value) if key in ("severity", "source") else value)
    row.spec = spec


def _alert(row: AlertRow, notes: Sequence[AlertNoteRow] = ()) -> Alert:
    values: dict[str, Any] = {key: getattr(row, key) for key in _ALERT_FIELDS}
    values["id"] = row.id
    values["notes"] = [
        AlertNote(author=n.author, text=n.text, created_at=n.created_at) for n in notes
    ]
    return Alert.model_validate(values)


def _fill_alert(row: AlertRow, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key in _ALERT_FIELDS:
            setattr(row, key, str(value) if key in ("severity", "state") else value)


def _silence(row: SilenceRow) -> Silence:
    return Silence.model_validate(
        {
            "id": row.id,
            "matchers": row.matchers,
            "starts_at": row.starts_at,
            "ends_at": row.ends_at,
            "comment": row.comment,
            "created_by": row.created_by,
            "created_at": row.created_at,
        }
    )


def _window(row: MaintenanceWindowRow) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=row.id,
        service=row.service,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class SqlAlertStore:
    """``AlertStore`` on the state database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- rules ---------------------------------------------------------------------------

    def list_rules(self, *, enabled_only: bool = False) -> list[AlertRule]:
        query = select(AlertRuleRow).order_by(AlertRuleRow.name)
        if enabled_only:
            query = query.where(AlertRuleRow.enabled.is_(True))
        with self._db.begin() as session:
            return [_rule(row) for row in session.scalars(query)]

    def rules_stamp(self) -> tuple[int, int, datetime | None]:
        query = select(
            func.count(AlertRuleRow.id),
            func.max(AlertRuleRow.id),
            func.max(AlertRuleRow.updated_at),
        )
        with self._db.begin() as session:
            count, top, latest = session.execute(query).one()
            return int(count), int(top or 0), latest

    def get_rule(self, name: str) -> AlertRule | None:
        with self._db.begin() as session:
            row = self._rule_row(session, name)
            return _rule(row) if row else None

    def add_rule(self, values: dict[str, Any]) -> AlertRule:
        try:
            with self._db.sessions() as session, session.begin():
                row = AlertRuleRow(spec={}, broken_error="")
                _fill_rule(row, values)
                session.add(row)
                session.flush()
                return _rule(row)
        except IntegrityError as exc:
            raise ConflictError(
                f"alert rule {values.get('name')!r} already exists", field="name"
            ) from exc

    def update_rule(self, name: str, changes: dict[str, Any]) -> AlertRule:
        with self._db.begin() as session:
            row = self._rule_row(session, name)
            if row is None:
                raise NotFoundError(f"no alert rule named {name!r}")
            _fill_rule(row, changes)
            session.flush()
            return _rule(row)

    def delete_rule(self, name: str) -> None:
        with self._db.begin() as session:
            if self._rule_row(session, name) is None:
                raise NotFoundError(f"no alert rule named {name!r}")
            session.execute(delete(AlertRuleRow).where(AlertRuleRow.name == name))

    @staticmethod
    def _rule_row(session: DbSession, name: str) -> AlertRuleRow | None:
        return session.scalars(select(AlertRuleRow).where(AlertRuleRow.name == name)).first()

    # -- alerts --------------------------------------------------------------------------

    def open_alerts(self) -> list[Alert]:
        query = select(AlertRow).where(AlertRow.state != str(AlertState.RESOLVED))
        with self._db.begin() as session:
            return [_alert(row) for row in session.scalars(query.order_by(AlertRow.id))]

    def list_alerts(
        self,
        *,
        states: Sequence[AlertState] = (),
        rule: str | None = None,
        owner: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        query = select(AlertRow).order_by(AlertRow.started_at.desc(), AlertRow.id.desc())
        if states:
            query = query.where(AlertRow.state.in_([str(s) for s in states]))
        if rule is not None:
            query = query.where(AlertRow.rule == rule)
        if owner is not None:
            query = query.where(AlertRow.owner == owner)
        if since is not None:
            query = query.where(AlertRow.started_at >= since)
        with self._db.begin() as session:
            rows = list(session.scalars(query.limit(limit)))
            notes = self._notes(session, [row.id for row in rows])
            return [_alert(row, notes.get(row.id, ())) for row in rows]

    @staticmethod
    def _notes(session: DbSession, ids: Sequence[int]) -> dict[int, list[AlertNoteRow]]:
        found: dict[int, list[AlertNoteRow]] = defaultdict(list)
        for start in range(0, len(ids), 500):
            query = (
                select(AlertNoteRow)
                .where(AlertNoteRow.alert_id.in_(ids[start : start + 500]))
                .order_by(AlertNoteRow.id)
            )
            for note in session.scalars(query):
                found[note.alert_id].append(note)
        return found

    def get_alert(self, alert_id: int) -> Alert | None:
        with self._db.begin() as session:
            row = session.get(AlertRow, alert_id)
            if row is None:
                return None
            return _alert(row, self._notes(session, [alert_id]).get(alert_id, ()))

    def add_alerts(self, values: Sequence[dict[str, Any]]) -> list[Alert]:
        with self._db.begin() as session:
            rows = []
            for item in values:
                row = AlertRow(acknowledged_by="", resolved_by="", suppressed_by="")
                _fill_alert(row, item)
                rows.append(row)
            session.add_all(rows)
            session.flush()
            return [_alert(row) for row in rows]

    def update_alerts(self, changes: Sequence[tuple[int, dict[str, Any]]]) -> list[Alert]:
        with self._db.begin() as session:
            updated = []
            for alert_id, values in changes:
                row = session.get(AlertRow, alert_id)
                if row is None:
                    raise NotFoundError(f"no alert with id {alert_id}")
                _fill_alert(row, values)
                updated.append(row)
            session.flush()
            notes = self._notes(session, [row.id for row in updated])
            return [_alert(row, notes.get(row.id, ())) for row in updated]

    def delete_alerts(self, alert_ids: Sequence[int]) -> None:
        with self._db.begin() as session:
            session.execute(delete(AlertRow).where(AlertRow.id.in_(list(alert_ids))))

    def add_note(self, alert_id: int, author: str, text: str, at: datetime) -> AlertNote:
        with self._db.begin() as session:
            if session.get(AlertRow, alert_id) is None:
                raise NotFoundError(f"no alert with id {alert_id}")
            session.add(AlertNoteRow(alert_id=alert_id, author=author, text=text, created_at=at))
        return AlertNote(author=author, text=text, created_at=at)

    # -- silences and maintenance windows ------------------------------------------------

    def add_silence(self, values: dict[str, Any]) -> Silence:
        with self._db.begin() as session:
            row = SilenceRow(**{**values, "matchers": _plain(values["matchers"])})
            session.add(row)
            session.flush()
            return _silence(row)

    def get_silence(self, silence_id: int) -> Silence | None:
        with self._db.begin() as session:
            row = session.get(SilenceRow, silence_id)
            return _silence(row) if row else None

    def list_silences(self, *, active_at: datetime | None = None) -> list[Silence]:
        query = select(SilenceRow).order_by(SilenceRow.id.desc())
        if active_at is not None:
            query = query.where(SilenceRow.starts_at <= active_at, SilenceRow.ends_at > active_at)
        with self._db.begin() as session:
            return [_silence(row) for row in session.scalars(query.limit(1000))]

    def update_silence(self, silence_id: int, changes: dict[str, Any]) -> Silence:
        with self._db.begin() as session:
            row = session.get(SilenceRow, silence_id)
            if row is None:
                raise NotFoundError(f"no silence with id {silence_id}")
            for key, value in changes.items():
                setattr(row, key, _plain(value))
            session.flush()
            return _silence(row)

    def add_window(self, values: dict[str, Any]) -> MaintenanceWindow:
        with self._db.begin() as session:
            row = MaintenanceWindowRow(**values)
            session.add(row)
            session.flush()
            return _window(row)

    def get_window(self, window_id: int) -> MaintenanceWindow | None:
        with self._db.begin() as session:
            row = session.get(MaintenanceWindowRow, window_id)
            return _window(row) if row else None

    def list_windows(self, *, active_at: datetime | None = None) -> list[MaintenanceWindow]:
        query = select(MaintenanceWindowRow).order_by(MaintenanceWindowRow.starts_at.desc())
        if active_at is not None:
            query = query.where(
                MaintenanceWindowRow.starts_at <= active_at,
                MaintenanceWindowRow.ends_at > active_at,
            )
        with self._db.begin() as session:
            return [_window(row) for row in session.scalars(query.limit(1000))]

    def delete_window(self, window_id: int) -> None:
        with self._db.begin() as session:
            if session.get(MaintenanceWindowRow, window_id) is None:
                raise NotFoundError(f"no maintenance window with id {window_id}")
            session.execute(
                delete(MaintenanceWindowRow).where(MaintenanceWindowRow.id == window_id)
            )
