"""Feature flags and their evaluation (not built yet; see the open issues)."""

from __future__ import annotations

__all__: list[str] = []
