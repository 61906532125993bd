"""On-call fixtures: people, a service owned by a team, channels to real servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_settings
from notify.servers import Receiver, receiver, smtp_server
from radiator.catalog import ServiceCreate, TeamCreate
from radiator.config import Settings
from radiator.identity import Role, UserCreate
from radiator.notify import ChannelCreate
from radiator.runtime import Runtime

__all__ = ["receiver", "smtp_server"]

PEOPLE = {"ana": "development", "ben": "operations", "cai": "development", "dee": "operations"}
HOOK_SECRET = "oncall-test-secret-0123456789"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shared test settings, without waits between delivery attempts."""
    return make_settings(tmp_path, notify_backoff_seconds=0.0)


@pytest.fixture
def people(runtime: Runtime) -> dict[str, str]:
    """Four users, with e-mail addresses; the values are their disciplines."""
    for name in PEOPLE:
        runtime.identity.create_user(
            UserCreate(
                username=name,
                password="a long enough password",
                role=Role.EDITOR,
                display_name=name.title(),
                email=f"{name}@example.com",
            )
        )
    return PEOPLE


@pytest.fixture
def checkout(runtime: Runtime) -> str:
    runtime.catalog.create_team(TeamCreate(name="payments", members=["ana", "ben"]))
    runtime.catalog.create_service(ServiceCreate(name="checkout", team="payments"))
    return "checkout"


@pytest.fixture
def hook(runtime: Runtime, receiver: Receiver) -> str:
    runtime.notify.create_channel(
        ChannelCreate(
            name="ops-hook",
            type="webhook",
            settings={"url": receiver.url, "secret": HOOK_SECRET},
        )
    )
    return "ops-hook"
