"""Chat commands that act on Radiator and leave a trace (not built yet; see the open issues)."""

from __future__ import annotations

__all__: list[str] = []
