"""The SQL on-call and notify stores on every state backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from radiator.errors import ConflictError, NotFoundError
from radiator.notify import Attempt, ChannelType, DeliveryStatus
from radiator.oncall import PageStatus, ScheduleCreate
from radiator.storage.state import Database, SqlNotifyStore, SqlOncallStore

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def db(state_dsn: str) -> Iterator[Database]:
    database = Database(state_dsn)
    database.upgrade()
    yield database
    database.close()


def _schedule_values(name: str) -> dict[str, object]:
    return ScheduleCreate.model_validate(
        {
            "name": name,
            "time_zone": "America/New_York",
            "handoff_time": "08:30",
            "start_date": "2026-03-02",
            "participants": [{"user": "ana", "discipline": "operations"}],
            "overrides": [
                {
                    "user": None,
                    "start": T0.isoformat(),
                    "end": (T0 + timedelta(hours=1)).isoformat(),
                }
            ],
        }
    ).model_dump()


def test_schedules_round_trip_with_participants_and_overrides(db: Database) -> None:
    store = SqlOncallStore(db)
    created = store.add_schedule(_schedule_values("primary"))

    found = store.get_schedule("primary")

    assert found == created
    assert found is not None
    assert found.handoff_time == "08:30"
    assert found.start_date == date(2026, 3, 2)
    assert found.participants[0].discipline == "operations"
    assert found.overrides[0].user is None
    assert found.overrides[0].start == T0
    with pytest.raises(ConflictError):
        store.add_schedule(_schedule_values("primary"))
    updated = store.update_schedule("primary", {"rotation": "daily", "participants": []})
    assert (updated.rotation, updated.participants) == ("daily", [])
    store.delete_schedule("primary")
    assert store.list_schedules() == []


def test_a_service_belongs_to_one_policy_and_can_move(db: Database) -> None:
    store = SqlOncallStore(db)
    steps = [{"target_type": "user", "target": "ana", "wait_minutes": 5}]
    base = {"description": "", "steps": steps, "repeat": 0, "channels": []}
    store.add_policy({**base, "name": "one", "services": ["api", "web"]})
    store.add_policy({**base, "name": "two", "services": []})
    with pytest.raises(ConflictError):
        store.update_policy("two", {"services": ["api"]})

    store.update_policy("one", {"services": ["web"]})
    store.update_policy("two", {"services": ["api", "db"]})

    assert store.policy_for_service("api").name == "two"  # type: ignore[union-attr]
    assert store.get_policy("two").services == ["api", "db"]  # type: ignore[union-attr]
    assert store.policy_for_service("nothing") is None
    store.delete_policy("two")
    assert store.policy_for_service("api") is None


def test_pages_due_open_and_tokens(db: Database) -> None:
    store = SqlOncallStore(db)
    values = {
        "service": "api",
        "summary": "s",
        "details": "",
        "dedup_key": "k",
        "policy": "one",
        "status": PageStatus.TRIGGERED,
        "step": 0,
        "round": 0,
        "target_user": "ana",
        "triggered_at": T0,
        "escalate_at": T0 + timedelta(minutes=5),
    }
    page = store.add_page(values)
    store.add_ack_token("ab" * 32, page.id, "ana")

    assert store.due_pages(T0) == []
    assert [p.id for p in store.due_pages(T0 + timedelta(minutes=5))] == [page.id]
    assert store.open_page("api", "k") == page
    assert store.ack_token("ab" * 32) == (page.id, "ana")
    assert store.ack_token("cd" * 32) is None
    store.update_page(page.id, {"status": PageStatus.RESOLVED, "escalate_at": None})
    assert store.open_page("api", "k") is None
    assert [p.status for p in store.list_pages(status=PageStatus.RESOLVED)] == ["resolved"]
    with pytest.raises(NotFoundError):
        store.update_page(page.id + 100, {"step": 1})


def test_channels_and_delivery_log(db: Database) -> None:
    store = SqlNotifyStore(db)
    store.add_channel("hook", ChannelType.WEBHOOK, {"url": "https://x.example", "secret": "s" * 16})
    with pytest.raises(ConflictError):
        store.add_channel("hook", ChannelType.SLACK, {"url": "https://x.example"})
    attempts = [
        Attempt(time=T0, ok=False, status_code=500, error="HTTP 500"),
        Attempt(time=T0 + timedelta(seconds=1), ok=True, status_code=200),
    ]

    delivery = store.add_delivery(
        channel="hook",
        channel_type=ChannelType.WEBHOOK,
        title="t",
        recipient="ana",
        status=DeliveryStatus.DELIVERED,
        attempts=attempts,
        page_id=7,
    )

    assert store.get_delivery(delivery.id) == delivery
    assert delivery.attempts == attempts
    assert store.list_deliveries(page_id=7) == [delivery]
    assert store.list_deliveries(channel="other") == []
    store.delete_channel("hook")
    assert store.get_channel("hook") is None
