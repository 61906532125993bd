"""Chaos experiments and game days (not built yet; see the open issues)."""

from __future__ import annotations

__all__: list[str] = []
