"""Persistence: the state database (``storage.state``) and the telemetry store
(``storage.telemetry``)."""

from __future__ import annotations

__all__: list[str] = []
