"""Time as a dependency, so services can be tested without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "system_clock"]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)
