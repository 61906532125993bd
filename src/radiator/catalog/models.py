"""Teams and the services they own: the catalog every other domain refers to."""

from __future__ import annotations

import re
from datetime import datetime
from enum import IntEnum
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Link",
    "Service",
    "ServiceCreate",
    "ServiceUpdate",
    "Team",
    "TeamCreate",
    "TeamUpdate",
    "Tier",
]

_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_SLUG_RE = re.compile(_SLUG_PATTERN)
# The pattern is published in the OpenAPI schema; the validator gives the friendlier message.
_SLUG_SCHEMA: dict[str, Any] = {"pattern": _SLUG_PATTERN}


def _check_slug(value: str) -> str:
    if not _SLUG_RE.match(value):
        raise ValueError(
            "must be 1-63 characters of lower-case letters, digits and '-', "
            "starting with a letter or digit"
        )
    return value


class Tier(IntEnum):
    """How critical a service is: 1 is customer-facing and revenue-critical, 4 is internal."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100, examples=["Runbook"])
    url: AnyHttpUrl


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Team(BaseModel):
    name: str
    display_name: str
    description: str
    members: list[str] = Field(description="Usernames of the team's members.")
    created_at: datetime


class TeamCreate(_Strict):
    name: str = Field(examples=["payments"], json_schema_extra=_SLUG_SCHEMA)
    display_name: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    members: list[str] = Field(default_factory=list, max_length=500)

    _name = field_validator("name")(_check_slug)


class TeamUpdate(_Strict):
    display_name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    members: list[str] | None = Field(None, max_length=500)


class Service(BaseModel):
    name: str
    display_name: str
    team: str | None = Field(description="Name of the owning team.")
    tier: Tier
    description: str
    links: list[Link]
    created_at: datetime
    updated_at: datetime


class ServiceCreate(_Strict):
    name: str = Field(examples=["checkout"], json_schema_extra=_SLUG_SCHEMA)
    display_name: str = Field("", max_length=200)
    team: str | None = Field(None, examples=["payments"])
    tier: Tier = Tier.MEDIUM
    description: str = Field("", max_length=4000)
    links: list[Link] = Field(default_factory=list, max_length=50)

    _name = field_validator("name")(_check_slug)


class ServiceUpdate(_Strict):
    display_name: str | None = Field(None, max_length=200)
    team: str | None = None
    tier: Tier | None = None
    description: str | None = Field(None, max_length=4000)
    links: list[Link] | None = Field(None, max_length=50)
