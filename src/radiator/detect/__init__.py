"""Anomaly detectors: pure functions on arrays (not built yet; see the open issues)."""

from __future__ import annotations

__all__: list[str] = []
