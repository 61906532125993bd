"""Retention of the DuckDB telemetry store: archive, then delete, whole days past their time.

Each table has a retention in days (settings ``retention_<table>_days``; 0 keeps it for
good). A UTC day is due once all of it is older than that: with retention ``n`` days, at
time ``now`` every day before ``(now - n days).date()``. Due days are archived to Parquet
and deleted, one transaction per day (``archive.archive_day``). With ``archive_enabled``
off, due days are deleted unarchived only when ``retention_delete_unarchived`` says so.

A restored day is held live for the table's retention counted from its restore, then
archived again. Rollup tables are covered as soon as they exist in the store, and a day of
raw points (or of 1-minute rollups) waits until the rollup built from it is complete.
Archiving or restoring a day of logs first drops that day from the log text index
(``duckdb_logindex.rewriting``), so searches read its hours directly until it is re-indexed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta

import duckdb

from radiator.config import Settings
from radiator.core.clock import Clock, system_clock
from radiator.core.telemetry import Resolution, TelemetryStore
from radiator.errors import ConfigError, InvalidInputError, NotFoundError, RadiatorError
from radiator.storage.telemetry import archive
from radiator.storage.telemetry import duckdb_logindex as logindex
from radiator.storage.telemetry import duckdb_metrics as metrics
from radiator.storage.telemetry.archive import ArchivedPartition
from radiator.storage.telemetry.duckdb import DuckDBTelemetryStore

__all__ = ["TIME_COLUMNS", "Retention", "RetentionReport", "RetentionRule", "retention_rules"]

_log = logging.getLogger(__name__)
# One archive change at a time per process (the job, the CLI and the API may all ask), so
# two runs never pick the same part file name. DuckDB lets one process open a store file.
_CHANGES = threading.Lock()
_DAY_US = 86_400_000_000
_EPOCH_DAY = date(1970, 1, 1)

# table -> (time column, the setting holding its retention in days)
_POLICY: dict[str, tuple[str, str]] = {
    "points": ("time", "retention_points_days"),
    "rollup_1m": ("time", "retention_rollup_1m_days"),
    "rollup_1h": ("time", "retention_rollup_1h_days"),
    "logs": ("time", "retention_logs_days"),
    "spans": ("start", "retention_spans_days"),
    "events": ("time", "retention_events_days"),
}
TIME_COLUMNS: dict[str, str] = {table: column for table, (column, _) in _POLICY.items()}
"""The time column of every table retention knows, archived or not."""
# Rollups are computed from the table below them (points -> 1m -> 1h; ``rollup_state``
# holds how far each is complete), so a day of a source table is archived only once the
# rollup built from it is complete past that day.
_FEEDS = {"points": "1m", "rollup_1m": "1h"}


@dataclasses.dataclass(frozen=True, slots=True)
class RetentionRule:
    """How long ``table`` stays live: ``days`` (0 keeps it), judged on ``time_column``."""

    table: str
    time_column: str
    days: int

    def cutoff(self, now: datetime) -> date:
        """The first day that is not due: days before it are wholly older than ``days``."""
        return (now - timedelta(days=self.days)).date()


def retention_rules(settings: Settings) -> list[RetentionRule]:
    """Every table's rule from ``settings`` (tables a store lacks are skipped later)."""
    return [
        RetentionRule(table, column, int(getattr(settings, setting)))
        for table, (column, setting) in _POLICY.items()
    ]


@dataclasses.dataclass(slots=True)
class RetentionReport:
    """What one enforcement did: days archived, days deleted unarchived, failures."""

    archived: list[ArchivedPartition] = dataclasses.field(default_factory=list)
    deleted: list[tuple[str, date, int]] = dataclasses.field(default_factory=list)
    held: list[str] = dataclasses.field(default_factory=list)
    waiting: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows removed from the live tables (archived or not)."""
        return sum(p.rows for p in self.archived) + sum(n for _, _, n in self.deleted)


class Retention:
    """Enforces retention on a DuckDB telemetry store and manages its archive.

    ``clock`` decides what "now" is, so tests can move time.
    """

    def __init__(
        self, store: TelemetryStore, settings: Settings, *, clock: Clock = system_clock
    ) -> None:
        if not isinstance(store, DuckDBTelemetryStore):
            raise ConfigError("retention and the archive need the DuckDB telemetry store")
        self.store = store
        self.settings = settings
        self.clock = clock
        if store.archive_dir is None:
            # Reads must see what is archived here, so the store learns where it is.
            store.archive_dir = settings.resolved_archive_dir
        self.root = store.archive_dir

    def rules(self) -> list[RetentionRule]:
        """The rules of the tables this store has."""
        with self.store._cursor() as cursor:
            return [
                r for r in retention_rules(self.settings) if archive.table_exists(cursor, r.table)
            ]

    def due_days(self, rule: RetentionRule, now: datetime) -> list[date]:
        """Days to archive now: past retention, not held restored, and rolled up already."""
        limit = self.rolled_up_until(rule.table)
        return [d for d in self.past_retention(rule, now) if limit is None or d < limit]

    def rolled_up_until(self, table: str) -> date | None:
        """The first day of ``table`` its rollup has not completed; None: no rollup reads it."""
        resolution = _FEEDS.get(table)
        with self.store._cursor() as cursor:
            if resolution is None or not archive.table_exists(cursor, "rollup_state"):
                return None
            row = cursor.execute(
                "SELECT watermark FROM rollup_state WHERE resolution = $r", {"r": resolution}
            ).fetchone()
            late = metrics.late_from(cursor, Resolution(resolution))
        if row is None:
            return None
        limit = int(row[0]) if late is None else min(int(row[0]), late)
        return _EPOCH_DAY + timedelta(days=limit // _DAY_US)

    def past_retention(self, rule: RetentionRule, now: datetime) -> list[date]:
        """Days of ``rule.table`` with live rows past retention, restored days held back."""
        if rule.days <= 0:
            return []
        column = rule.time_column
        with self.store._cursor() as cursor:
            rows = cursor.execute(
                f'SELECT DISTINCT epoch_us("{column}") // {_DAY_US} FROM {rule.table} '  # noqa: S608
                f'WHERE "{column}" < $cutoff ORDER BY 1',
                {"cutoff": archive.day_range(rule.cutoff(now)).start},
            ).fetchall()
            held = {
                p.day
                for p in archive.list_partitions(cursor, rule.table)
                if p.restored and p.restored_at and p.restored_at > now - timedelta(days=rule.days)
            }
        days = [_EPOCH_DAY + timedelta(days=int(r[0])) for r in rows]
        return [d for d in days if d not in held]

    def enforce(self) -> RetentionReport:
        """Archive (or, when allowed, just delete) every due day of every table.

        A failing day is recorded in ``errors`` and ends that table's run; its rows stay.
        """
        with _CHANGES:
            return self._enforce(self.clock())

    def _enforce(self, now: datetime) -> RetentionReport:
        report = RetentionReport()
        archiving = self.settings.archive_enabled
        for rule in self.rules():
            past = self.past_retention(rule, now)
            limit = self.rolled_up_until(rule.table)
            days = [d for d in past if limit is None or d < limit]
            if len(days) < len(past):
                report.waiting.append(rule.table)
            if days and not archiving and not self.settings.retention_delete_unarchived:
                report.held.append(rule.table)
                continue
            for day in days:
                try:
                    self._enforce_day(rule, day, now, report, archiving=archiving)
                except RadiatorError as exc:
                    report.errors.append(f"{rule.table} {day}: {exc.message}")
                    _log.error("retention of %s on %s failed: %s", rule.table, day, exc.message)
                    break
        return report

    def _enforce_day(
        self,
        rule: RetentionRule,
        day: date,
        now: datetime,
        report: RetentionReport,
        *,
        archiving: bool,
    ) -> None:
        with (
            self.store._archived.changing(),
            self.store._cursor() as cursor,
            self._rewriting(cursor, rule.table, day),
        ):
            if archiving:
                part = archive.archive_day(
                    cursor, self.root, rule.table, rule.time_column, day, now
                )
                if part is not None:
                    report.archived.append(part)
                    _log.info("archived %s on %s (%d rows in total)", rule.table, day, part.rows)
                return
            bounds = archive.day_range(day)
            row = cursor.execute(
                f'DELETE FROM {rule.table} WHERE "{rule.time_column}" >= $start '  # noqa: S608
                f'AND "{rule.time_column}" < $end',
                {"start": bounds.start, "end": bounds.end},
            ).fetchone()
        report.deleted.append((rule.table, day, int(row[0]) if row else 0))

    def partitions(self, table: str | None = None) -> list[ArchivedPartition]:
        """The archive's manifest, by table then day."""
        with self.store._cursor() as cursor:
            return archive.list_partitions(cursor, table)

    def restore(self, table: str, first: date, last: date) -> list[tuple[ArchivedPartition, int]]:
        """Copy the archived days ``first``..``last`` of ``table`` back into the live table.

        Returns each partition in the span with the rows it brought back (0 when it was
        already restored).

        Raises:
            InvalidInputError: an unknown table, or ``last`` before ``first``.
            NotFoundError: nothing of ``table`` is archived in that span.
        """
        if table not in TIME_COLUMNS:
            accepted = ", ".join(TIME_COLUMNS)
            raise InvalidInputError(f"unknown table {table!r}; one of {accepted}", field="table")
        if last < first:
            raise InvalidInputError("--to is before --from", field="to")
        now = self.clock()
        done: list[tuple[ArchivedPartition, int]] = []
        with _CHANGES, self.store._archived.changing(), self.store._cursor() as cursor:
            parts = archive.list_partitions(cursor, table, first, last)
            if not parts:
                raise NotFoundError(f"nothing of {table} is archived from {first} to {last}")
            for part in parts:
                with self._rewriting(cursor, table, part.day):
                    done.append((part, archive.restore_day(cursor, self.root, part, now)))
        return done

    def _rewriting(
        self, cursor: duckdb.DuckDBPyConnection, table: str, day: date
    ) -> AbstractContextManager[None]:
        """Rows of ``day`` are deleted or put back: log hours leave the log text index, and
        recent points in memory stop answering for the day."""
        start = (day - _EPOCH_DAY).days * _DAY_US
        if table == "points":
            self.store.forget_recent_through(archive.day_range(day).end)
        if table != "logs":
            return contextlib.nullcontext()
        return logindex.rewriting(self.store._log_index, cursor, start, start + _DAY_US)
