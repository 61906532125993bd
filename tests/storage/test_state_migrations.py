"""The state schema: Alembic migrations apply on every backend and match the SQLAlchemy models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from radiator.storage.state import Database
from radiator.storage.state.tables import Base


@pytest.fixture
def db(state_dsn: str) -> Iterator[Database]:
    database = Database(state_dsn)
    yield database
    database.close()


def _schema_diffs(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_brings_an_empty_database_to_head(db: Database) -> None:
    assert db.current_revision() is None

    db.upgrade()

    assert db.current_revision() == db.head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrated_schema_matches_the_models(db: Database) -> None:
    db.upgrade()

    assert _schema_diffs(db) == []


def test_upgrade_is_idempotent(db: Database) -> None:
    db.upgrade()
    revision = db.current_revision()

    db.upgrade()
    again = Database(db.dsn)
    try:
        again.upgrade()
    finally:
        again.close()

    assert db.current_revision() == revision == db.head_revision()
    assert _schema_diffs(db) == []


def test_database_answers_ping_once_migrated(db: Database) -> None:
    db.upgrade()

    db.ping()
