"""Fixtures for the HTTP-layer tests."""

from __future__ import annotations

import pytest

from radiator.identity import Role, UserCreate
from radiator.runtime import Runtime

from .support import PASSWORD, UserFactory


@pytest.fixture
def make_user(runtime: Runtime) -> UserFactory:
    """``make_user(username, role)`` creates a user whose password is ``PASSWORD``."""

    def make(username: str, role: Role) -> str:
        runtime.identity.create_user(UserCreate(username=username, password=PASSWORD, role=role))
        return username

    return make
