"""Incidents, timelines and blameless post-mortems (not built yet; see the open issues)."""

from __future__ import annotations

__all__: list[str] = []
