"""Alert rules, lifecycle, notifications and on-call (not built yet; see the open issues)."""

from __future__ import annotations

__all__: list[str] = []
