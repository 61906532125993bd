"""Dashboards: panels of queries on a 12-column grid, variables, and kiosk links."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "GRID_COLUMNS",
    "Dashboard",
    "DashboardCreate",
    "DashboardSource",
    "KioskLink",
    "KioskLinkCreate",
    "LogsQuery",
    "Panel",
    "PanelQuery",
    "PanelType",
    "Threshold",
    "Variable",
]

GRID_COLUMNS = 12
SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")

PanelType = Literal["timeseries", "stat", "bar", "table", "heatmap", "logs"]
DashboardSource = Literal["ui", "file", "builtin"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PanelQuery(_Strict):
    id: str = Field("A", min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_]+$")
    expr: str = Field(min_length=1, max_length=8192)
    legend: str = Field("", max_length=200, description="Series name; {{tag}} inserts a tag")


class LogsQuery(_Strict):
    """What a log-stream panel shows: the newest records matching these filters."""

    service: str = Field("", max_length=200, description="A service, or $variable")
    level: str = Field("", max_length=10)
    text: str = Field("", max_length=500)
    limit: int = Field(50, ge=1, le=500)


class Threshold(_Strict):
    """From ``value`` upwards the panel shows ``state`` (stat panels and chart lines)."""

    value: float
    state: Literal["green", "amber", "red"]


class Panel(_Strict):
    id: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1, max_length=200)
    type: PanelType = "timeseries"
    queries: list[PanelQuery] = Field(default_factory=list, max_length=10)
    logs: LogsQuery | None = None
    x: int = Field(0, ge=0, lt=GRID_COLUMNS)
    y: int = Field(0, ge=0, le=1000)
    w: int = Field(6, ge=1, le=GRID_COLUMNS)
    h: int = Field(4, ge=1, le=24)
    unit: str = Field("", max_length=20)
    thresholds: list[Threshold] = Field(default_factory=list, max_length=10)
    description: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _fits(self) -> Panel:
        if self.x + self.w > GRID_COLUMNS:
            raise ValueError(f"x + w must be at most {GRID_COLUMNS} (the grid's width)")
        if self.type == "logs" and self.logs is None:
            self.logs = LogsQuery()
        if self.type != "logs" and not self.queries:
            raise ValueError(f"a {self.type} panel needs at least one query")
        if len({q.id for q in self.queries}) != len(self.queries):
            raise ValueError("query ids must be distinct within a panel")
        return self


class Variable(_Strict):
    """``$name`` in panel queries, chosen from the values of ``tag`` (of ``metric``)."""

    name: str = Field(min_length=1, max_length=32)
    label: str = Field("", max_length=100)
    tag: str = Field(min_length=1, max_length=100)
    metric: str | None = Field(None, max_length=256)
    default: str = Field("", max_length=200, description='"" means all values')

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _VARIABLE.match(value):
            raise ValueError("must be a letter or _ followed by letters, digits or _")
        return value


class DashboardCreate(_Strict):
    """What a person (or a YAML file) writes; the rest is bookkeeping."""

    slug: str = Field(min_length=1, max_length=63, pattern=SLUG)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    variables: list[Variable] = Field(default_factory=list, max_length=10)
    panels: list[Panel] = Field(default_factory=list, max_length=50)
    time_from: str = Field("now-6h", max_length=40, description="Default range start")
    refresh_seconds: int | None = Field(60, ge=5, le=86400)

    @model_validator(mode="after")
    def _distinct(self) -> DashboardCreate:
        if len({p.id for p in self.panels}) != len(self.panels):
            raise ValueError("panel ids must be distinct")
        if len({v.name for v in self.variables}) != len(self.variables):
            raise ValueError("variable names must be distinct")
        return self


class Dashboard(DashboardCreate):
    model_config = ConfigDict(extra="forbid")

    source: DashboardSource = "ui"
    source_path: str = ""
    version: int = 1
    updated_at: datetime | None = None
    updated_by: str = ""

    def definition(self) -> DashboardCreate:
        return DashboardCreate.model_validate(
            self.model_dump(include=set(DashboardCreate.model_fields))
        )


class KioskLinkCreate(_Strict):
    name: str = Field(min_length=1, max_length=100)
    dashboards: list[str] = Field(min_length=1, max_length=20)
    rotate_seconds: int = Field(60, ge=10, le=3600)


class KioskLink(BaseModel):
    id: int
    name: str
    dashboards: list[str]
    rotate_seconds: int
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
