"""HTTP routers, one per domain; each is a thin adapter over one service."""

from __future__ import annotations

__all__: list[str] = []
