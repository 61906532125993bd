"""The web UI: server-rendered pages and their static files."""

from __future__ import annotations

__all__: list[str] = []
