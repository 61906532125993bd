"""Shared fixtures: settings, stores, app, client and a real PostgreSQL.

PostgreSQL: the DSN in RADIATOR_TEST_POSTGRES_DSN, else the server at 127.0.0.1:5432
(database ``test``); when neither answers, a throwaway server is started from the
``pgserver`` package. Tests that need it never skip: no PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from radiator.config import Settings
from radiator.core.caller import SYSTEM
from radiator.identity import ApiTokenCreate, Role, Scope, UserCreate
from radiator.runtime import Runtime
from radiator.web import create_app

DEFAULT_PG = "postgresql://root@127.0.0.1:5432/test"
ADMIN_PASSWORD = "correct horse battery staple"


def _reachable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A libpq URL of a live PostgreSQL server (found or started)."""
    dsn = os.environ.get("RADIATOR_TEST_POSTGRES_DSN", DEFAULT_PG)
    if _reachable(dsn):
        yield dsn
        return
    try:
        with warnings.catch_warnings():
            # platformdirs warns about XDG_RUNTIME_DIR on import in minimal containers.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"no PostgreSQL at {dsn} and the pgserver package is missing: {exc}")
    with tempfile.TemporaryDirectory(prefix="radiator-pg-") as directory:
        server = pgserver.get_server(Path(directory), cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


@pytest.fixture
def postgres_dsn(postgres_url: str) -> Iterator[str]:
    """A SQLAlchemy URL whose connections use a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def state_dsn(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every state-store backend in turn: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "telemetry_path": ":memory:",
        "session_cookie_secure": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def app(settings: Settings, runtime: Runtime) -> FastAPI:
    return create_app(settings, runtime=runtime, run_jobs=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin(runtime: Runtime) -> str:
    """Creates user ``admin`` (role admin) and returns the username."""
    runtime.identity.create_user(
        UserCreate(username="admin", password=ADMIN_PASSWORD, role=Role.ADMIN)
    )
    return "admin"


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture
def token_for(runtime: Runtime) -> TokenFactory:
    """``token_for(username, *scopes)`` creates a token and returns its Bearer headers."""

    def make(username: str, *scopes: Scope) -> dict[str, str]:
        data = ApiTokenCreate(name=f"test-{uuid.uuid4().hex[:6]}", scopes=list(scopes))
        created = runtime.identity.create_token(username, data, SYSTEM)
        return {"Authorization": f"Bearer {created.secret}"}

    return make


@pytest.fixture
def admin_headers(token_for: TokenFactory, admin: str) -> dict[str, str]:
    """Bearer headers of a token with every scope, owned by ``admin``."""
    return token_for(admin, *Scope)
