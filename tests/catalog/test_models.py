"""Catalog input models: names are slugs, links are http(s) URLs, tiers run from 1 to 4."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from radiator.catalog import Link, ServiceCreate, TeamCreate, Tier


@pytest.mark.parametrize("name", ["", "Payments", "-payments", "pay ments", "p" * 64, "pay_ments"])
def test_names_that_are_not_slugs_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        TeamCreate(name=name)
    with pytest.raises(ValidationError):
        ServiceCreate(name=name)


def test_links_must_be_http_urls() -> None:
    with pytest.raises(ValidationError):
        Link.model_validate({"title": "Runbook", "url": "javascript:alert(1)"})


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        ServiceCreate.model_validate({"name": "checkout", "owner": "payments"})


def test_tier_one_is_the_most_critical() -> None:
    assert ServiceCreate.model_validate({"name": "checkout", "tier": 1}).tier is Tier.CRITICAL
    with pytest.raises(ValidationError):
        ServiceCreate.model_validate({"name": "checkout", "tier": 5})
