"""Notify fixtures: real servers (see ``servers``) and the service on the test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_settings
from radiator.audit import AuditLog
from radiator.config import Settings
from radiator.notify import NotifyService
from radiator.runtime import Runtime
from radiator.storage.delivery import default_transports
from radiator.storage.state import SqlAuditStore, SqlNotifyStore

from .servers import receiver, smtp_server

__all__ = ["receiver", "smtp_server"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shared test settings, without waits between delivery attempts."""
    return make_settings(tmp_path, notify_backoff_seconds=0.0)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def notify(runtime: Runtime, sleeps: list[float]) -> NotifyService:
    """The notify service on the test database with real transports; sleeps are recorded."""
    return NotifyService(
        SqlNotifyStore(runtime.db),
        default_transports(),
        AuditLog(SqlAuditStore(runtime.db)),
        max_attempts=4,
        backoff_seconds=0.5,
        sleep=sleeps.append,
    )
