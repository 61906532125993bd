"""The service catalog: teams, the services they own, tiers and links."""

from __future__ import annotations

from radiator.catalog.models import (
    Link,
    Service,
    ServiceCreate,
    ServiceUpdate,
    Team,
    TeamCreate,
    TeamUpdate,
    Tier,
)
from radiator.catalog.service import CatalogService
from radiator.catalog.store import CatalogStore

__all__ = [
    "CatalogService",
    "CatalogStore",
    "Link",
    "Service",
    "ServiceCreate",
    "ServiceUpdate",
    "Team",
    "TeamCreate",
    "TeamUpdate",
    "Tier",
]
