"""Hypothesis-driven A/B experiments and their statistics (not built yet; see the open issues)."""

from __future__ import annotations

__all__: list[str] = []
