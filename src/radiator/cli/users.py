"""`radiator user ...`: manage users from the command line."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from radiator.cli.common import console, fail, open_runtime, settings_or_exit
from radiator.core.caller import Caller
from radiator.errors import RadiatorError
from radiator.identity import Role, UserCreate

app = typer.Typer(help="Create and list users.", no_args_is_help=True)
_CLI = Caller("cli")


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -")],
    admin: Annotated[bool, typer.Option("--admin", help="Give the user the admin role.")] = False,
    role: Annotated[Role, typer.Option(help="Role when --admin is not given.")] = Role.VIEWER,
    password: Annotated[
        str | None,
        typer.Option(help="Password (12+ characters). Omit to generate one and print it once."),
    ] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the UI.")] = "",
    email: Annotated[str, typer.Option(help="E-mail address for notifications.")] = "",
) -> None:
    """Create a user. With --admin the user can manage users, tokens and settings."""
    generated = password is None
    secret = password or secrets.token_urlsafe(15)
    try:
        data = UserCreate(
            username=username,
            password=secret,
            role=Role.ADMIN if admin else role,
            display_name=display_name,
            email=email,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    with open_runtime(settings_or_exit()) as runtime:
        try:
            user = runtime.identity.create_user(data, _CLI)
        except RadiatorError as exc:
            fail(exc.message)
    console.print(f"created user [bold]{user.username}[/] with role [bold]{user.role}[/]")
    if generated:
        console.print(f"password (shown once): [bold green]{secret}[/]")


@app.command("list")
def list_users() -> None:
    """List users and their roles."""
    with open_runtime(settings_or_exit()) as runtime:
        users = runtime.identity.list_users()
    table = Table("username", "role", "display name", "disabled", "created")
    for user in users:
        table.add_row(
            user.username,
            str(user.role),
            user.display_name,
            "yes" if user.disabled else "",
            user.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)
