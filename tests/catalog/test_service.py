"""Catalog use cases: teams and services, every change audited with who made it."""

from __future__ import annotations

import pytest

from radiator.audit import AuditQuery, AuditRecord, Outcome
from radiator.catalog import (
    CatalogService,
    Link,
    ServiceCreate,
    ServiceUpdate,
    TeamCreate,
    TeamUpdate,
    Tier,
)
from radiator.core.caller import Caller
from radiator.errors import ConflictError, InvalidInputError, NotFoundError
from radiator.runtime import Runtime

ADA = Caller("ada", ip="192.0.2.1", request_id="req-7")
RUNBOOK = Link.model_validate({"title": "Runbook", "url": "https://runbooks.example/checkout"})


@pytest.fixture
def catalog(runtime: Runtime) -> CatalogService:
    return runtime.catalog


def _audit(runtime: Runtime, prefix: str) -> list[AuditRecord]:
    return runtime.audit.search(AuditQuery(action=prefix))


def _payments(catalog: CatalogService) -> None:
    catalog.create_team(TeamCreate(name="payments", members=["grace", "ada", "ada"]), ADA)


# -- teams -----------------------------------------------------------------------------------


def test_created_team_gets_a_display_name_and_unique_sorted_members(
    catalog: CatalogService,
) -> None:
    catalog.create_team(TeamCreate(name="site-reliability", members=["b", "a", "b"]), ADA)

    team = catalog.get_team("site-reliability")

    assert team.display_name == "Site Reliability"
    assert team.members == ["a", "b"]


def test_team_changes_are_audited_with_the_actor(catalog: CatalogService, runtime: Runtime) -> None:
    _payments(catalog)
    catalog.update_team("payments", TeamUpdate(description="Money"), ADA)
    catalog.delete_team("payments", Caller("grace"))

    records = _audit(runtime, "team.")

    assert [(r.action, r.actor, r.target, r.outcome) for r in records] == [
        ("team.delete", "grace", "team:payments", Outcome.SUCCESS),
        ("team.update", "ada", "team:payments", Outcome.SUCCESS),
        ("team.create", "ada", "team:payments", Outcome.SUCCESS),
    ]
    assert records[1].detail == {"fields": ["description"]}
    assert (records[2].ip, records[2].request_id) == ("192.0.2.1", "req-7")


def test_duplicate_team_is_a_conflict(catalog: CatalogService) -> None:
    _payments(catalog)

    with pytest.raises(ConflictError):
        _payments(catalog)


def test_unknown_team_is_not_found(catalog: CatalogService) -> None:
    with pytest.raises(NotFoundError):
        catalog.get_team("nobody")
    with pytest.raises(NotFoundError):
        catalog.update_team("nobody", TeamUpdate(description="x"))
    with pytest.raises(NotFoundError):
        catalog.delete_team("nobody")


def test_team_update_replaces_members(catalog: CatalogService) -> None:
    _payments(catalog)

    updated = catalog.update_team("payments", TeamUpdate(members=["linus", "linus"]), ADA)

    assert updated.members == ["linus"]
    assert catalog.get_team("payments").members == ["linus"]


def test_null_fields_in_a_team_update_leave_it_unchanged(catalog: CatalogService) -> None:
    _payments(catalog)
    before = catalog.get_team("payments")
    nulls = TeamUpdate.model_validate({"display_name": None, "description": None, "members": None})

    assert catalog.update_team("payments", nulls, ADA) == before


def test_deleting_a_team_that_owns_services_names_them(
    catalog: CatalogService, runtime: Runtime
) -> None:
    _payments(catalog)
    catalog.create_service(ServiceCreate(name="ledger", team="payments"), ADA)
    catalog.create_service(ServiceCreate(name="checkout", team="payments"), ADA)

    with pytest.raises(ConflictError) as caught:
        catalog.delete_team("payments", ADA)

    assert "checkout" in caught.value.message
    assert "ledger" in caught.value.message
    assert catalog.get_team("payments").name == "payments"
    assert _audit(runtime, "team.delete") == []


def test_team_can_be_deleted_once_its_services_moved(catalog: CatalogService) -> None:
    _payments(catalog)
    catalog.create_service(ServiceCreate(name="checkout", team="payments"), ADA)
    catalog.update_service("checkout", ServiceUpdate(team=None), ADA)

    catalog.delete_team("payments", ADA)

    assert catalog.list_teams() == []
    assert catalog.get_service("checkout").team is None


# -- services --------------------------------------------------------------------------------


def test_created_service_has_defaults(catalog: CatalogService) -> None:
    service = catalog.create_service(ServiceCreate(name="checkout"), ADA)

    assert service.display_name == "checkout"
    assert service.tier is Tier.MEDIUM
    assert service.team is None
    assert service.links == []


def test_service_changes_are_audited_with_the_actor(
    catalog: CatalogService, runtime: Runtime
) -> None:
    _payments(catalog)
    catalog.create_service(ServiceCreate(name="checkout", team="payments"), ADA)
    catalog.update_service("checkout", ServiceUpdate(tier=Tier.CRITICAL, links=[RUNBOOK]), ADA)
    catalog.delete_service("checkout", Caller("grace"))

    records = _audit(runtime, "service.")

    assert [(r.action, r.actor, r.target) for r in records] == [
        ("service.delete", "grace", "service:checkout"),
        ("service.update", "ada", "service:checkout"),
        ("service.create", "ada", "service:checkout"),
    ]
    assert records[1].detail == {"fields": ["links", "tier"]}


def test_service_update_changes_team_tier_and_links(catalog: CatalogService) -> None:
    _payments(catalog)
    catalog.create_team(TeamCreate(name="search"), ADA)
    catalog.create_service(ServiceCreate(name="checkout", team="payments"), ADA)

    updated = catalog.update_service(
        "checkout", ServiceUpdate(team="search", tier=Tier.HIGH, links=[RUNBOOK]), ADA
    )

    assert (updated.team, updated.tier, updated.links) == ("search", Tier.HIGH, [RUNBOOK])
    assert [s.name for s in catalog.list_services(team="search")] == ["checkout"]
    assert catalog.list_services(team="payments") == []


def test_null_fields_in_a_service_update_leave_it_unchanged(catalog: CatalogService) -> None:
    _payments(catalog)
    catalog.create_service(
        ServiceCreate(name="checkout", team="payments", tier=Tier.HIGH, links=[RUNBOOK]), ADA
    )
    before = catalog.get_service("checkout")
    nulls = ServiceUpdate.model_validate(
        {"display_name": None, "tier": None, "description": None, "links": None}
    )

    assert catalog.update_service("checkout", nulls, ADA) == before


def test_service_of_an_unknown_team_is_invalid_input(catalog: CatalogService) -> None:
    with pytest.raises(InvalidInputError) as caught:
        catalog.create_service(ServiceCreate(name="checkout", team="nobody"), ADA)
    assert caught.value.field == "team"

    catalog.create_service(ServiceCreate(name="checkout"), ADA)
    with pytest.raises(InvalidInputError):
        catalog.update_service("checkout", ServiceUpdate(team="nobody"), ADA)


def test_duplicate_service_is_a_conflict(catalog: CatalogService) -> None:
    catalog.create_service(ServiceCreate(name="checkout"), ADA)

    with pytest.raises(ConflictError):
        catalog.create_service(ServiceCreate(name="checkout"), ADA)


def test_unknown_service_is_not_found(catalog: CatalogService) -> None:
    with pytest.raises(NotFoundError):
        catalog.get_service("nothing")
    with pytest.raises(NotFoundError):
        catalog.update_service("nothing", ServiceUpdate(tier=Tier.LOW))
    with pytest.raises(NotFoundError):
        catalog.delete_service("nothing")


def test_deleted_service_is_gone(catalog: CatalogService) -> None:
    catalog.create_service(ServiceCreate(name="checkout"), ADA)

    catalog.delete_service("checkout", ADA)

    assert catalog.list_services() == []
