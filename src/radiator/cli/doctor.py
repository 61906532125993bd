"""`radiator doctor`: check configuration, stores and ports; say what is wrong and how to fix it."""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass

import httpx
from rich.markup import escape

from radiator.cli.common import console
from radiator.config import Settings, load_settings
from radiator.errors import ConfigError
from radiator.storage.state import Database
from radiator.storage.telemetry import open_telemetry_store

__all__ = ["Check", "run_checks"]


@dataclass(slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check("python", ok, sys.version.split()[0], "" if ok else "install Python 3.11 or newer")


def _data_dir(settings: Settings) -> Check:
    path = settings.data_dir.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return Check(
            "data directory",
            False,
            f"{path}: {exc.strerror}",
            "set data_dir (RADIATOR_DATA_DIR) to a writable directory",
        )
    return Check("data directory", True, str(path))


def _state(settings: Settings) -> Check:
    db = Database(settings.resolved_state_dsn)
    try:
        db.ping()
        current, head = db.current_revision(), db.head_revision()
    except Exception as exc:
        return Check(
            "state store",
            False,
            f"{db.dialect}: {exc}",
            "check state_dsn (RADIATOR_STATE_DSN) and that the database is running",
        )
    finally:
        db.close()
    if current != head:
        return Check(
            "state store",
            False,
            f"{db.dialect}: schema at {current}, code needs {head}",
            "run `radiator db upgrade`",
        )
    return Check("state store", True, f"{db.dialect}, schema {current}")


def _telemetry(settings: Settings) -> Check:
    path = settings.resolved_telemetry_path
    try:
        store = open_telemetry_store(settings.telemetry_backend, path)
        store.create_schema()
        healthy = store.healthy()
        store.close()
    except Exception as exc:
        busy = "lock" in str(exc).lower()
        fix = (
            "another process holds the file: is `radiator serve` already running? "
            "(the running server's /readyz reports on it)"
            if busy
            else "check telemetry_path (RADIATOR_TELEMETRY_PATH) and free disk space"
        )
        return Check("telemetry store", False, f"{settings.telemetry_backend} {path}: {exc}", fix)
    return Check("telemetry store", healthy, f"{settings.telemetry_backend} {path}")


def _port(settings: Settings) -> Check:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((settings.host, settings.port))
        except OSError:
            pass
        else:
            return Check("http port", True, f"{settings.host}:{settings.port} is free")
    try:
        answer = httpx.get(f"http://{settings.host}:{settings.port}/healthz", timeout=2)
        if answer.status_code == 200 and answer.json().get("status") == "ok":
            return Check("http port", True, f"{settings.host}:{settings.port}: Radiator is running")
    except (httpx.HTTPError, ValueError):
        pass
    return Check(
        "http port",
        False,
        f"{settings.host}:{settings.port} is used by another program",
        "stop that program or set port (RADIATOR_PORT)",
    )


def _statsd_port(settings: Settings) -> Check:
    if settings.statsd_port == 0:
        return Check("statsd port", True, "StatsD is off (statsd_port = 0)")
    where = f"{settings.statsd_host}:{settings.statsd_port}/udp"
    family = socket.AF_INET6 if ":" in settings.statsd_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((settings.statsd_host, settings.statsd_port))
        except OSError as exc:
            return Check(
                "statsd port",
                False,
                f"{where}: {exc.strerror} (a running Radiator holds it too)",
                "stop the other program, or set statsd_port (RADIATOR_STATSD_PORT; 0 = off)",
            )
    return Check("statsd port", True, f"{where} is free")


def run_checks() -> list[Check]:
    """Every check, in order; later checks are skipped when the configuration is invalid."""
    checks = [_python()]
    try:
        settings = load_settings()
    except ConfigError as exc:
        checks.append(
            Check(
                "configuration",
                False,
                exc.message,
                "fix radiator.toml or the RADIATOR_* variable named above",
            )
        )
        return checks
    source = os.environ.get("RADIATOR_CONFIG", "radiator.toml")
    found = "found" if os.path.exists(source) else "not found, defaults used"
    checks.append(Check("configuration", True, f"{source} ({found})"))
    checks.append(_data_dir(settings))
    checks.append(_state(settings))
    checks.append(_telemetry(settings))
    checks.append(_port(settings))
    checks.append(_statsd_port(settings))
    return checks


def print_checks(checks: list[Check]) -> bool:
    """Print one line per check, plus how to fix each problem; True when all passed."""
    width = max(len(check.name) for check in checks)
    for check in checks:
        mark = "[green]ok     [/]" if check.ok else "[bold red]PROBLEM[/]"
        console.print(f"{mark} {check.name:<{width}}  {escape(check.detail)}", soft_wrap=True)
        if check.fix:
            console.print(
                f"        {'':<{width}}  [yellow]fix:[/] {escape(check.fix)}", soft_wrap=True
            )
    return all(check.ok for check in checks)
