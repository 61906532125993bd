"""The SQL log metric store on every state backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from radiator.core.types import LogLevel
from radiator.errors import ConflictError, NotFoundError
from radiator.query.logmetrics import LogMetricRule, LogMetricSource
from radiator.storage.state import Database, SqlLogMetricStore

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(state_dsn: str) -> Iterator[SqlLogMetricStore]:
    database = Database(state_dsn)
    database.upgrade()
    yield SqlLogMetricStore(database)
    database.close()


def _rule(name: str, **changes: object) -> LogMetricRule:
    values: dict[str, object] = {
        "name": name,
        "metric": f"logs.{name}",
        "description": "SQL failures",
        "owner": "checkout",
        "services": ["checkout", "search"],
        "levels": [LogLevel.ERROR, LogLevel.FATAL],
        "attributes": {"db": "orders", "http.status": "500"},
        "pattern": r"failed after \d+ ms",
        "group_by": ["service", "db"],
        "source": LogMetricSource.FILE,
        "source_file": "/etc/radiator/rules/sql.yaml",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(changes)
    return LogMetricRule.model_validate(values)


def test_rule_round_trips_every_field(store: SqlLogMetricStore) -> None:
    rule = _rule("sql_failures")
    assert store.add_rule(rule) == rule
    assert store.get_rule("sql_failures") == rule
    assert store.list_rules() == [rule]


def test_names_are_unique(store: SqlLogMetricStore) -> None:
    store.add_rule(_rule("a"))
    with pytest.raises(ConflictError):
        store.add_rule(_rule("a", text="other"))


def test_replace_changes_the_rule_and_unknown_names_are_not_found(
    store: SqlLogMetricStore,
) -> None:
    store.add_rule(_rule("a"))
    changed = _rule("a", pattern=None, text="timeout", group_by=[], updated_at=T0 + timedelta(1))
    assert store.replace_rule(changed) == changed
    assert store.get_rule("a") == changed
    with pytest.raises(NotFoundError):
        store.replace_rule(_rule("missing"))
    with pytest.raises(NotFoundError):
        store.delete_rule("missing")


def test_watermarks_persist_and_go_with_their_rule(store: SqlLogMetricStore) -> None:
    store.add_rule(_rule("a"))
    assert store.watermark("a") is None
    store.set_watermark("a", T0)
    store.set_watermark("a", T0 + timedelta(seconds=10))
    store.set_watermark("@records", T0)
    assert store.watermark("a") == T0 + timedelta(seconds=10)

    store.delete_rule("a")

    assert store.get_rule("a") is None
    assert store.watermark("a") is None
    assert store.watermark("@records") == T0
