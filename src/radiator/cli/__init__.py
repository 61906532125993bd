"""The `radiator` command line: thin Typer commands over the services."""

from __future__ import annotations

__all__: list[str] = []
