"""Contract suite for the SQL catalog store (teams and services) on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from radiator.catalog import Link, Service, Team, Tier
from radiator.errors import ConflictError, InvalidInputError, NotFoundError
from radiator.storage.state import Database, SqlCatalogStore

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RUNBOOK = Link.model_validate({"title": "Runbook", "url": "https://runbooks.example/checkout"})
DASHBOARD = Link.model_validate({"title": "Dashboard", "url": "https://grafana.example/d/1"})


class StepClock:
    """Advances one second per reading, so updates get a later time than creation."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def db(state_dsn: str) -> Iterator[Database]:
    database = Database(state_dsn)
    database.upgrade()
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> SqlCatalogStore:
    return SqlCatalogStore(db, clock=StepClock())


def _team(store: SqlCatalogStore, name: str, members: list[str] | None = None) -> Team:
    return store.add_team(
        name=name, display_name=name.title(), description=f"The {name} team", members=members or []
    )


def _service(
    store: SqlCatalogStore,
    name: str,
    team: str | None = None,
    tier: Tier = Tier.MEDIUM,
    links: list[Link] | None = None,
) -> Service:
    return store.add_service(
        name=name,
        display_name=name.title(),
        team=team,
        tier=tier,
        description=f"The {name} service",
        links=links or [],
    )


# -- teams -----------------------------------------------------------------------------------


def test_added_team_keeps_its_members(store: SqlCatalogStore) -> None:
    added = _team(store, "payments", ["grace", "ada"])

    found = store.get_team("payments")

    assert found == added
    assert found is not None
    assert found.members == ["ada", "grace"]
    assert found.display_name == "Payments"
    assert found.description == "The payments team"
    assert found.created_at.utcoffset() == timedelta(0)


def test_repeated_members_are_stored_once(store: SqlCatalogStore) -> None:
    assert _team(store, "payments", ["ada", "ada"]).members == ["ada"]

    updated = store.update_team("payments", members=["grace", "ada", "grace"])

    assert updated.members == ["ada", "grace"]


def test_unknown_team_is_none(store: SqlCatalogStore) -> None:
    assert store.get_team("nobody") is None


def test_duplicate_team_is_a_conflict(store: SqlCatalogStore) -> None:
    _team(store, "payments")

    with pytest.raises(ConflictError):
        _team(store, "payments")

    assert len(store.list_teams()) == 1


def test_teams_are_listed_by_name(store: SqlCatalogStore) -> None:
    for name in ("search", "payments", "identity"):
        _team(store, name)

    assert [t.name for t in store.list_teams()] == ["identity", "payments", "search"]


def test_team_update_replaces_members_and_fields(store: SqlCatalogStore) -> None:
    _team(store, "payments", ["ada", "grace"])

    updated = store.update_team("payments", members=["linus"], description="Money in, money out")

    assert updated.members == ["linus"]
    assert updated.description == "Money in, money out"
    assert updated.display_name == "Payments"
    assert store.get_team("payments") == updated


def test_updating_or_deleting_an_unknown_team_is_not_found(store: SqlCatalogStore) -> None:
    with pytest.raises(NotFoundError):
        store.update_team("nobody", description="x")
    with pytest.raises(NotFoundError):
        store.delete_team("nobody")


def test_deleted_team_is_gone_with_its_members(store: SqlCatalogStore) -> None:
    _team(store, "payments", ["ada"])
    _team(store, "search")

    store.delete_team("payments")

    assert store.get_team("payments") is None
    assert [t.name for t in store.list_teams()] == ["search"]
    # The name is free again, and the old members are not resurrected.
    assert _team(store, "payments").members == []


# -- services --------------------------------------------------------------------------------


def test_added_service_keeps_team_tier_and_links(store: SqlCatalogStore) -> None:
    _team(store, "payments")

    added = _service(store, "checkout", "payments", Tier.CRITICAL, [RUNBOOK, DASHBOARD])
    found = store.get_service("checkout")

    assert found == added
    assert found is not None
    assert found.team == "payments"
    assert found.tier is Tier.CRITICAL
    assert found.links == [RUNBOOK, DASHBOARD]
    assert found.description == "The checkout service"
    assert found.created_at == found.updated_at
    assert found.created_at.utcoffset() == timedelta(0)


def test_service_without_team_is_unowned(store: SqlCatalogStore) -> None:
    assert _service(store, "cron").team is None


def test_unknown_service_is_none(store: SqlCatalogStore) -> None:
    assert store.get_service("nothing") is None


def test_duplicate_service_is_a_conflict(store: SqlCatalogStore) -> None:
    _service(store, "checkout")

    with pytest.raises(ConflictError):
        _service(store, "checkout")


def test_service_of_an_unknown_team_is_invalid_input(store: SqlCatalogStore) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _service(store, "checkout", "nobody")

    assert caught.value.field == "team"
    assert store.get_service("checkout") is None


def test_services_are_listed_by_name_and_by_team(store: SqlCatalogStore) -> None:
    _team(store, "payments")
    _team(store, "search")
    _service(store, "ledger", "payments")
    _service(store, "checkout", "payments")
    _service(store, "indexer", "search")
    _service(store, "cron")

    assert [s.name for s in store.list_services()] == ["checkout", "cron", "indexer", "ledger"]
    assert [s.name for s in store.list_services(team="payments")] == ["checkout", "ledger"]
    assert [s.name for s in store.list_services(team="search")] == ["indexer"]
    assert store.list_services(team="nobody") == []


def test_service_update_moves_team_and_changes_tier_and_links(store: SqlCatalogStore) -> None:
    _team(store, "payments")
    _team(store, "search")
    created = _service(store, "checkout", "payments", Tier.LOW, [RUNBOOK])

    updated = store.update_service("checkout", team="search", tier=Tier.HIGH, links=[DASHBOARD])

    assert updated.team == "search"
    assert updated.tier is Tier.HIGH
    assert updated.links == [DASHBOARD]
    assert updated.created_at == created.created_at
    assert updated.updated_at > created.updated_at
    assert store.get_service("checkout") == updated
    assert store.list_services(team="payments") == []


def test_service_update_can_clear_team_and_links(store: SqlCatalogStore) -> None:
    _team(store, "payments")
    _service(store, "checkout", "payments", links=[RUNBOOK])

    updated = store.update_service("checkout", team=None, links=[])

    assert updated.team is None
    assert updated.links == []


def test_service_update_to_an_unknown_team_is_invalid_input(store: SqlCatalogStore) -> None:
    _team(store, "payments")
    _service(store, "checkout", "payments")

    with pytest.raises(InvalidInputError):
        store.update_service("checkout", team="nobody")

    found = store.get_service("checkout")
    assert found is not None
    assert found.team == "payments"


def test_updating_or_deleting_an_unknown_service_is_not_found(store: SqlCatalogStore) -> None:
    with pytest.raises(NotFoundError):
        store.update_service("nothing", tier=Tier.LOW)
    with pytest.raises(NotFoundError):
        store.delete_service("nothing")


def test_deleted_service_is_gone(store: SqlCatalogStore) -> None:
    _team(store, "payments")
    _service(store, "checkout", "payments")
    _service(store, "ledger", "payments")

    store.delete_service("checkout")

    assert store.get_service("checkout") is None
    assert [s.name for s in store.list_services(team="payments")] == ["ledger"]
