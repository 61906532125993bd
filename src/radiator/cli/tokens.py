"""`radiator token ...`: API tokens from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from radiator.cli.common import console, fail, open_runtime, settings_or_exit
from radiator.core.caller import Caller
from radiator.errors import RadiatorError
from radiator.identity import ApiTokenCreate, Scope

app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
_CLI = Caller("cli")


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", "-u", help="Owner of the token.")],
    name: Annotated[str, typer.Option("--name", "-n", help="What the token is for.")],
    scope: Annotated[
        list[Scope],
        typer.Option("--scope", "-s", help="Scope to grant; repeat for several."),
    ],
    expires_in_days: Annotated[
        int | None, typer.Option(help="Days until the token expires; omit for no expiry.")
    ] = None,
) -> None:
    """Create a token. The secret is printed once and never stored."""
    try:
        data = ApiTokenCreate(name=name, scopes=scope, expires_in_days=expires_in_days)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    with open_runtime(settings_or_exit()) as runtime:
        try:
            created = runtime.identity.create_token(user, data, _CLI)
        except RadiatorError as exc:
            fail(exc.message)
    scopes = ", ".join(str(s) for s in created.token.scopes)
    console.print(f"token [bold]{created.token.id}[/] ({created.token.name}) for {user}: {scopes}")
    console.print("secret (shown once, store it now):")
    # Plain print so the secret can be captured by scripts: `radiator token create ... | tail -1`.
    print(created.secret)


@app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
) -> None:
    """List tokens (never their secrets)."""
    with open_runtime(settings_or_exit()) as runtime:
        try:
            tokens = runtime.identity.list_tokens(user)
        except RadiatorError as exc:
            fail(exc.message)
    table = Table("id", "name", "owner", "prefix", "scopes", "last used", "expires", "state")
    for token in tokens:
        table.add_row(
            str(token.id),
            token.name,
            token.username,
            token.prefix + "…",
            ",".join(str(s) for s in token.scopes),
            token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never",
            token.expires_at.strftime("%Y-%m-%d") if token.expires_at else "never",
            "revoked" if token.revoked_at else "active",
        )
    console.print(table)


@app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="Id shown by `radiator token list`.")],
) -> None:
    """Revoke a token; requests using it are refused from now on."""
    with open_runtime(settings_or_exit()) as runtime:
        try:
            token = runtime.identity.revoke_token(token_id, _CLI)
        except RadiatorError as exc:
            fail(exc.message)
    console.print(f"revoked token {token.id} ({token.name}) of {token.username}")
