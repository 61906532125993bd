"""SQL implementation of the log metric store: rules and materialisation watermarks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from radiator.errors import ConflictError, NotFoundError
from radiator.query.logmetrics import LogMetricRule, LogMetricSource
from radiator.storage.state.db import Database
from radiator.storage.state.tables import LogMetricRuleRow, LogMetricWatermarkRow

__all__ = ["SqlLogMetricStore"]

# Rule fields kept in the JSON ``spec`` column: what the rule counts, not who owns it.
_SPEC_FIELDS = ("services", "levels", "attributes", "text", "pattern", "group_by")


def _rule(row: LogMetricRuleRow) -> LogMetricRule:
    return LogMetricRule.model_validate(
        {
            **{key: row.spec.get(key) for key in _SPEC_FIELDS if row.spec.get(key) is not None},
            "name": row.name,
            "metric": row.metric,
            "description": row.description,
            "owner": row.owner,
            "source": LogMetricSource(row.source),
            "source_file": row.source_file,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def _spec(rule: LogMetricRule) -> dict[str, Any]:
    dumped = rule.model_dump(mode="json", include=set(_SPEC_FIELDS))
    return {key: dumped[key] for key in _SPEC_FIELDS}


def _fill(row: LogMetricRuleRow, rule: LogMetricRule) -> LogMetricRuleRow:
    row.metric = rule.metric
    row.description = rule.description
    row.owner = rule.owner
    row.source = str(rule.source)
    row.source_file = rule.source_file
    row.spec = _spec(rule)
    row.created_at = rule.created_at
    row.updated_at = rule.updated_at
    return row


class SqlLogMetricStore:
    """``LogMetricStore`` on the state database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list_rules(self) -> list[LogMetricRule]:
        with self._db.begin() as session:
            rows = session.scalars(select(LogMetricRuleRow).order_by(LogMetricRuleRow.name))
            return [_rule(row) for row in rows]

    def get_rule(self, name: str) -> LogMetricRule | None:
        with self._db.begin() as session:
            row = self._row(session, name)
            return _rule(row) if row else None

    def add_rule(self, rule: LogMetricRule) -> LogMetricRule:
        try:
            with self._db.sessions() as session, session.begin():
                row = _fill(LogMetricRuleRow(name=rule.name), rule)
                session.add(row)
                session.flush()
                return _rule(row)
        except IntegrityError as exc:
            raise ConflictError(
                f"log metric rule {rule.name!r} already exists", field="name"
            ) from exc

    def replace_rule(self, rule: LogMetricRule) -> LogMetricRule:
        with self._db.begin() as session:
            row = self._row(session, rule.name)
            if row is None:
                raise NotFoundError(f"no log metric rule named {rule.name!r}")
            _fill(row, rule)
            session.flush()
            return _rule(row)

    def delete_rule(self, name: str) -> None:
        with self._db.begin() as session:
            row = self._row(session, name)
            if row is None:
                raise NotFoundError(f"no log metric rule named {name!r}")
            session.delete(row)
            session.execute(delete(LogMetricWatermarkRow).where(LogMetricWatermarkRow.key == name))

    def watermark(self, key: str) -> datetime | None:
        with self._db.begin() as session:
            row = session.get(LogMetricWatermarkRow, key)
            return row.watermark if row else None

    def set_watermark(self, key: str, when: datetime) -> None:
        with self._db.begin() as session:
            row = session.get(LogMetricWatermarkRow, key)
            if row is None:
                session.add(LogMetricWatermarkRow(key=key, watermark=when))
            else:
                row.watermark = when

    @staticmethod
    def _row(session: DbSession, name: str) -> LogMetricRuleRow | None:
        return session.scalars(
            select(LogMetricRuleRow).where(LogMetricRuleRow.name == name)
        ).first()
