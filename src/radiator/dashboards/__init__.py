"""Dashboards: panels of queries, variables, as-code YAML, and kiosk links for TVs."""

from __future__ import annotations

from radiator.dashboards.builtin import BUILTIN_DASHBOARDS
from radiator.dashboards.models import (
    Dashboard,
    DashboardCreate,
    KioskLink,
    KioskLinkCreate,
    LogsQuery,
    Panel,
    PanelQuery,
    Threshold,
    Variable,
)
from radiator.dashboards.service import DashboardService, PanelRequest, SyncReport, substitute
from radiator.dashboards.store import DashboardStore
from radiator.dashboards.yamlio import dump_yaml, load_yaml

__all__ = [
    "BUILTIN_DASHBOARDS",
    "Dashboard",
    "DashboardCreate",
    "DashboardService",
    "DashboardStore",
    "KioskLink",
    "KioskLinkCreate",
    "LogsQuery",
    "Panel",
    "PanelQuery",
    "PanelRequest",
    "SyncReport",
    "Threshold",
    "Variable",
    "dump_yaml",
    "load_yaml",
    "substitute",
]
