"""Contract suite for the SQL audit store on every backend: append, filter, page, newest first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from radiator.audit import AuditQuery, AuditRecord, Outcome
from radiator.storage.state import Database, SqlAuditStore

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _record(
    minute: int,
    action: str,
    actor: str = "ada",
    outcome: Outcome = Outcome.SUCCESS,
    target: str = "",
) -> AuditRecord:
    return AuditRecord(
        time=T0 + minute * MINUTE,
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        ip="10.0.0.1",
        request_id=f"req-{minute}",
        detail={"minute": minute, "scopes": ["read"]},
    )


# One record per minute, in the order they were appended (ids ascend with it).
LOG = [
    _record(0, "auth.login", outcome=Outcome.ALLOWED, target="ada"),
    _record(1, "auth.login", actor="mallory", outcome=Outcome.DENIED, target="root"),
    _record(2, "authz.token", outcome=Outcome.ALLOWED, target="GET /api/v1/services"),
    _record(3, "user.create", target="user:grace"),
    _record(4, "auth.logout", target="ada"),
    _record(5, "service.create", actor="grace", target="service:checkout"),
    _record(6, "authz.session", actor="grace", outcome=Outcome.DENIED, target="DELETE /x"),
]


@pytest.fixture
def db(state_dsn: str) -> Iterator[Database]:
    database = Database(state_dsn)
    database.upgrade()
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> SqlAuditStore:
    audit = SqlAuditStore(db)
    audit.append(LOG[:3])
    audit.append(LOG[3:])
    return audit


def _minutes(records: list[AuditRecord]) -> list[int]:
    return [int(r.detail["minute"]) for r in records]


def test_appended_records_come_back_whole_and_newest_first(store: SqlAuditStore) -> None:
    found = store.query(AuditQuery())

    assert _minutes(found) == [6, 5, 4, 3, 2, 1, 0]
    ids = [r.id for r in found if r.id is not None]
    assert len(ids) == len(found)
    assert ids == sorted(ids, reverse=True)
    for record in found:
        assert record.time.utcoffset() == timedelta(0)
        assert record == LOG[record.detail["minute"]].model_copy(update={"id": record.id})


def test_empty_append_stores_nothing(db: Database) -> None:
    store = SqlAuditStore(db)

    store.append([])

    assert store.query(AuditQuery()) == []


def test_query_by_actor(store: SqlAuditStore) -> None:
    assert _minutes(store.query(AuditQuery(actor="grace"))) == [6, 5]
    assert store.query(AuditQuery(actor="nobody")) == []


def test_query_by_exact_action(store: SqlAuditStore) -> None:
    assert _minutes(store.query(AuditQuery(action="auth.login"))) == [1, 0]
    assert store.query(AuditQuery(action="auth")) == []


def test_action_prefix_matches_only_that_namespace(store: SqlAuditStore) -> None:
    # 'auth.' must not pick up 'authz.*'.
    assert _minutes(store.query(AuditQuery(action="auth."))) == [4, 1, 0]
    assert _minutes(store.query(AuditQuery(action="authz."))) == [6, 2]


def test_action_prefix_treats_like_wildcards_literally(store: SqlAuditStore) -> None:
    assert store.query(AuditQuery(action="a_th.")) == []
    assert store.query(AuditQuery(action="%.")) == []


def test_query_by_outcome(store: SqlAuditStore) -> None:
    assert _minutes(store.query(AuditQuery(outcome=Outcome.DENIED))) == [6, 1]
    assert _minutes(store.query(AuditQuery(outcome=Outcome.ALLOWED))) == [2, 0]


def test_query_by_target(store: SqlAuditStore) -> None:
    assert _minutes(store.query(AuditQuery(target="ada"))) == [4, 0]


def test_query_by_time_is_half_open(store: SqlAuditStore) -> None:
    query = AuditQuery(since=T0 + 2 * MINUTE, until=T0 + 5 * MINUTE)

    assert _minutes(store.query(query)) == [4, 3, 2]


def test_time_filters_compare_instants_not_wall_clocks(store: SqlAuditStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    query = AuditQuery(since=(T0 + 5 * MINUTE).astimezone(plus_two))

    assert _minutes(store.query(query)) == [6, 5]


def test_filters_combine(store: SqlAuditStore) -> None:
    query = AuditQuery(action="auth.", actor="ada", outcome=Outcome.ALLOWED)

    assert _minutes(store.query(query)) == [0]


def test_paging_with_before_id_walks_back_without_gaps(store: SqlAuditStore) -> None:
    pages: list[list[int]] = []
    before: int | None = None
    while True:
        page = store.query(AuditQuery(limit=3, before_id=before))
        if not page:
            break
        pages.append(_minutes(page))
        before = page[-1].id

    assert pages == [[6, 5, 4], [3, 2, 1], [0]]


def test_paging_keeps_the_filters(store: SqlAuditStore) -> None:
    first = store.query(AuditQuery(action="auth.", limit=2))
    rest = store.query(AuditQuery(action="auth.", limit=2, before_id=first[-1].id))

    assert _minutes(first) == [4, 1]
    assert _minutes(rest) == [0]
