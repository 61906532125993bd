"""Helpers for the SDK tests."""

from __future__ import annotations

from typing import Any

from radiator.sdk import MockTransport


def points_by_name(transport: MockTransport) -> dict[str, list[dict[str, Any]]]:
    """Every point sent so far, grouped by metric name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for point in transport.items("points"):
        found.setdefault(str(point["name"]), []).append(point)
    return found
