"""The state database: SQLAlchemy tables, Alembic migrations and the SQL stores."""

from __future__ import annotations

from radiator.storage.state.alerts import SqlAlertStore
from radiator.storage.state.audit import SqlAuditStore
from radiator.storage.state.catalog import SqlCatalogStore
from radiator.storage.state.dashboards import SqlDashboardStore
from radiator.storage.state.db import Database
from radiator.storage.state.identity import SqlSessionStore, SqlTokenStore, SqlUserStore
from radiator.storage.state.logmetrics import SqlLogMetricStore
from radiator.storage.state.notify import SqlNotifyStore
from radiator.storage.state.oncall import SqlOncallStore

__all__ = [
    "Database",
    "SqlAlertStore",
    "SqlAuditStore",
    "SqlCatalogStore",
    "SqlDashboardStore",
    "SqlLogMetricStore",
    "SqlNotifyStore",
    "SqlOncallStore",
    "SqlSessionStore",
    "SqlTokenStore",
    "SqlUserStore",
]
