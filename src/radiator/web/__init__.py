"""HTTP API and web UI: thin adapters over the domain services."""

from __future__ import annotations

from radiator.web.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
