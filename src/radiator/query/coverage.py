"""Telemetry coverage: which of the five telemetry levels each service reports, since when.

The DevOps Handbook asks for telemetry at the business, application, infrastructure, client
software and deployment pipeline levels. A series counts for a level by its
``telemetry.level`` tag when it has one, else by its metric name:

- client: ``browser.*``, ``client.*``, ``mobile.*`` (what /rum.js sends);
- infrastructure: ``system.*``, ``process.*``, ``host.*``, ``container.*``, ``k8s.*``,
  ``node.*``, ``jvm.*``, ``runtime.*`` (what ``radiator agent`` sends);
- application: ``http.*``, ``rpc.*``, ``db.*``, ``app.*``, ``messaging.*``, and every span and
  log record;
- deployment pipeline: events of kind deploy, build or test_run;
- business: any other metric tagged with the service (``checkout.completed``,
  ``signups``); Radiator's own ``radiator.*`` metrics count for no service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from radiator.core.telemetry import CoverageRow

__all__ = ["LEVELS", "CoverageCell", "Level", "ServiceCoverage", "coverage_matrix", "level_of"]

Level = Literal["business", "application", "infrastructure", "client", "pipeline"]
LEVELS: tuple[Level, ...] = ("business", "application", "infrastructure", "client", "pipeline")
LEVEL_TITLES = {
    "business": "Business",
    "application": "Application",
    "infrastructure": "Infrastructure",
    "client": "Client software",
    "pipeline": "Deployment pipeline",
}
_PREFIXES: dict[Level, tuple[str, ...]] = {
    "client": ("browser.", "client.", "mobile."),
    "infrastructure": (
        "system.", "process.", "host.", "container.", "k8s.", "node.", "jvm.", "runtime.",
    ),
    "application": ("http.", "rpc.", "db.", "app.", "messaging."),
}  # fmt: skip
_PIPELINE_EVENTS = frozenset({"deploy", "build", "test_run"})
# How recently a level must have been seen to count as reporting: deploys and builds are
# occasional, the other levels are continuous.
REPORTING: dict[Level, timedelta] = {
    "business": timedelta(minutes=15),
    "application": timedelta(minutes=15),
    "infrastructure": timedelta(minutes=15),
    "client": timedelta(hours=1),
    "pipeline": timedelta(days=7),
}


def level_of(row: CoverageRow) -> Level | None:
    """The telemetry level a coverage row counts for, or None (Radiator's own, other events)."""
    if row.level in LEVELS:
        return row.level
    if row.source in ("spans", "logs"):
        return "application"
    if row.source == "event":
        return "pipeline" if row.name in _PIPELINE_EVENTS else None
    if row.name.startswith("radiator."):
        return None
    for level, prefixes in _PREFIXES.items():
        if row.name.startswith(prefixes):
            return level
    return "business"


@dataclass(slots=True)
class CoverageCell:
    """One service at one level: since when it reports, when last, and from what."""

    level: Level
    first: datetime | None = None
    last: datetime | None = None
    sources: set[str] = field(default_factory=set)

    def add(self, row: CoverageRow) -> None:
        self.first = row.first if self.first is None else min(self.first, row.first)
        self.last = row.last if self.last is None else max(self.last, row.last)
        self.sources.add(row.name if row.source in ("metric", "event") else row.source)

    def state(self, now: datetime) -> Literal["reporting", "stale", "missing"]:
        if self.last is None:
            return "missing"
        return "reporting" if now - self.last <= REPORTING[self.level] else "stale"


@dataclass(slots=True)
class ServiceCoverage:
    service: str
    cells: dict[Level, CoverageCell]

    def gaps(self, now: datetime) -> list[Level]:
        return [level for level in LEVELS if self.cells[level].state(now) != "reporting"]


def coverage_matrix(services: Iterable[str], rows: Iterable[CoverageRow]) -> list[ServiceCoverage]:
    """Services (the catalog's, plus any seen in telemetry) by level."""
    matrix: dict[str, ServiceCoverage] = {
        name: ServiceCoverage(name, {level: CoverageCell(level) for level in LEVELS})
        for name in services
    }
    for row in rows:
        level = level_of(row)
        if level is None or not row.service:
            continue
        entry = matrix.setdefault(
            row.service, ServiceCoverage(row.service, {lv: CoverageCell(lv) for lv in LEVELS})
        )
        entry.cells[level].add(row)
    return [matrix[name] for name in sorted(matrix)]
