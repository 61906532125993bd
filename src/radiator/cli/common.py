"""Helpers every CLI command shares: loading settings, opening the runtime, printing errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from radiator.config import Settings, load_settings
from radiator.errors import ConfigError, RadiatorError
from radiator.runtime import Runtime

__all__ = ["console", "err_console", "fail", "open_runtime", "settings_or_exit"]

console = Console()
err_console = Console(stderr=True)


def fail(message: str, hint: str = "", code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    if hint:
        err_console.print(f"[yellow]hint:[/] {escape(hint)}", soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    """Load settings; on a bad value print which setting and what it accepts, exit 2."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        fail(exc.message, "fix the setting in radiator.toml or the RADIATOR_* variable", code=2)


@contextmanager
def open_runtime(settings: Settings, *, migrate: bool = True) -> Iterator[Runtime]:
    try:
        runtime = Runtime(settings, migrate=migrate)
    except RadiatorError as exc:
        fail(exc.message, "run `radiator doctor` to see what is wrong")
    except Exception as exc:
        fail(f"cannot open the stores: {exc}", "run `radiator doctor` to see what is wrong")
    try:
        yield runtime
    except RadiatorError as exc:
        fail(exc.message)
    finally:
        runtime.close()
