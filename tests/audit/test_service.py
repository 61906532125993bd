"""The audit log service: records carry the clock's time and read back newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from radiator.audit import AuditLog, AuditQuery, Outcome
from radiator.runtime import Runtime
from radiator.storage.state import SqlAuditStore

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_recorded_entry_is_stamped_and_stored(runtime: Runtime) -> None:
    log = AuditLog(SqlAuditStore(runtime.db), clock=lambda: T0)

    entry = log.record(
        "user.create",
        actor="root",
        outcome=Outcome.SUCCESS,
        target="user:ada",
        ip="10.0.0.1",
        request_id="req-1",
        role="viewer",
    )

    assert entry.time == T0
    assert entry.detail == {"role": "viewer"}
    [stored] = log.search(AuditQuery())
    assert stored == entry.model_copy(update={"id": stored.id})


def test_search_returns_newest_first(runtime: Runtime) -> None:
    times = iter([T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)])
    log = AuditLog(SqlAuditStore(runtime.db), clock=lambda: next(times))
    for target in ("a", "b", "c"):
        log.record("team.create", actor="ada", outcome=Outcome.SUCCESS, target=target)

    assert [r.target for r in log.search(AuditQuery())] == ["c", "b", "a"]
    assert [r.target for r in log.search(AuditQuery(limit=1))] == ["c"]


def test_query_times_are_made_utc() -> None:
    naive = datetime(2024, 5, 1, 12, 0)  # naive on purpose: taken to be UTC
    local = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))

    query = AuditQuery(since=naive, until=local)

    assert query.since == T0
    assert query.until == T0
    assert query.until is not None
    assert query.until.utcoffset() == timedelta(0)
