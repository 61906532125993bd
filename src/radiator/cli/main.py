"""The `radiator` command: serve, demo, agent, db, users, tokens, doctor, config and version."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import socket
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from radiator import __version__
from radiator.cli import agent, archive, configdocs, doctor, logmetrics, oncall, tokens, users
from radiator.cli import alerts as alerts_cli
from radiator.cli import detect as detect_cli
from radiator.cli import query as query_cli
from radiator.cli.common import console, fail, open_runtime, settings_or_exit
from radiator.config import Settings
from radiator.core.caller import Caller
from radiator.identity import ApiTokenCreate, Scope
from radiator.runtime import Runtime
from radiator.web import create_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="radiator",
    help="Radiator: telemetry, information radiators and learning loops, self-hosted.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Manage the state database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users.app, name="user")
app.add_typer(tokens.app, name="token")
app.add_typer(logmetrics.app, name="log-metrics")
app.add_typer(configdocs.app, name="config")
app.add_typer(oncall.app, name="oncall")
app.add_typer(alerts_cli.app, name="alert")
app.add_typer(oncall.channel_app, name="channel")
app.add_typer(archive.app, name="archive")
app.add_typer(detect_cli.app, name="detect")
app.command("agent")(agent.agent)
app.command("query")(query_cli.query)

_DEMO_MARKER = ".radiator-demo"


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML settings file (default ./radiator.toml).",
            envvar="RADIATOR_CONFIG",
        ),
    ] = None,
) -> None:
    if config is not None:
        if not config.exists():
            fail(f"config file {config} does not exist")
        os.environ["RADIATOR_CONFIG"] = str(config)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _run_server(settings: Settings, runtime: Runtime, app_factory_extra: dict[str, object]) -> None:
    if settings.telemetry_recent_hours > 0:
        runtime.telemetry.keep_recent(
            settings.telemetry_recent_hours, settings.telemetry_recent_max_mb * 1_000_000
        )
    web_app = create_app(settings, runtime=runtime, **app_factory_extra)  # type: ignore[arg-type]
    uvicorn.run(
        web_app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
        server_header=False,
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (setting host).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (setting port).")] = None,
) -> None:
    """Run the API, the UI and the background jobs in one process."""
    settings = settings_or_exit(host=host, port=port)
    if not _port_free(settings.host, settings.port):
        fail(
            f"port {settings.port} on {settings.host} is in use",
            "stop the other program or choose another with --port / RADIATOR_PORT",
        )
    with open_runtime(settings) as runtime:
        first = runtime.identity.ensure_first_admin()
        if first is not None:
            user, password = first
            console.print("[bold]First start: created an admin user (shown once).[/]")
            console.print(
                f"  username: [bold]{user.username}[/]  password: [bold green]{password}[/]"
            )
        console.print(f"Radiator {__version__} on [link]{settings.resolved_public_url}[/link]")
        _run_server(settings, runtime, {})


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply state-database migrations (SQLite or PostgreSQL)."""
    from radiator.storage.state import Database

    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_state_dsn)
    try:
        before = db.current_revision()
        db.upgrade(revision)
        after = db.current_revision()
    except Exception as exc:
        fail(f"migration failed: {exc}", "check state_dsn and that the database is reachable")
    finally:
        db.close()
    if before == after:
        console.print(f"{db.dialect}: already at {after}")
    else:
        console.print(f"{db.dialect}: upgraded {before or 'empty'} → {after}")


@app.command("doctor")
def doctor_command() -> None:
    """Check configuration, both stores and the port; print what is wrong and how to fix it."""
    if not doctor.print_checks(doctor.run_checks()):
        raise typer.Exit(1)
    console.print("[green]All checks passed.[/]")


@app.command()
def version() -> None:
    """Print the versions of Radiator, Python and the main libraries."""
    import duckdb
    import fastapi
    import sqlalchemy

    console.print(f"radiator {__version__}")
    console.print(f"python {platform.python_version()} ({sys.platform})")
    console.print(
        f"fastapi {fastapi.__version__}, sqlalchemy {sqlalchemy.__version__}, "
        f"duckdb {duckdb.__version__}"
    )


def _fresh_demo_dir(path: Path) -> None:
    if path.exists() and any(path.iterdir()):
        if not (path / _DEMO_MARKER).exists():
            fail(
                f"{path} exists and was not made by `radiator demo`; not deleting it",
                "pass another --data-dir",
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / _DEMO_MARKER).write_text("made by `radiator demo`; deleted at its next start\n")


@app.command()
def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo keeps its stores (recreated).")
    ] = Path("radiator-demo"),
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="HTTP port; a free one is chosen if it is taken.")
    ] = 8080,
    history_hours: Annotated[
        float, typer.Option(help="Hours of past telemetry to generate.")
    ] = 6.0,
    seed: Annotated[int, typer.Option(help="Random seed of the generated organisation.")] = 7,
) -> None:
    """Start Radiator on a fresh embedded store with a generated organisation and live data."""
    from radiator.demo import build_demo, schedule_demo

    if not _port_free(host, port):
        new_port = _free_port(host)
        console.print(f"port {port} is taken; using {new_port}")
        port = new_port
    _fresh_demo_dir(data_dir)
    settings = settings_or_exit(
        data_dir=data_dir, host=host, port=port, state_dsn="", telemetry_path=""
    )
    with open_runtime(settings) as runtime:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def on_progress(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = progress.add_task(f"generating {name}", total=total)
                progress.update(tasks[name], completed=done, total=total)

            state = build_demo(
                runtime, history=timedelta(hours=history_hours), seed=seed, on_progress=on_progress
            )
        token = runtime.identity.create_token(
            state.admin_username,
            ApiTokenCreate(name="demo", scopes=list(Scope)),
            Caller("demo"),
        )
        key = secrets.token_urlsafe(24)
        url = settings.resolved_public_url
        console.print()
        console.print(
            f"[bold green]Radiator demo is running:[/] [link]{url}/demo-login?key={key}[/link]"
        )
        console.print(
            f"  log in by hand as [bold]{state.admin_username}[/] / "
            f"[bold]{state.admin_password}[/] at {url}/login"
        )
        console.print(
            f"  API: curl -H 'Authorization: Bearer {token.secret}' {url}/api/v1/services"
        )
        console.print(f"  data in {data_dir.resolve()}; Ctrl-C stops the demo")
        extra: dict[str, object] = {
            "configure_jobs": lambda scheduler, rt: schedule_demo(
                scheduler, rt, state, settings.demo_tick_seconds
            ),
            "demo_login": {"key": key, "username": state.admin_username},
        }
        _run_server(settings, runtime, extra)


def main() -> None:
    app()
