"""The client SDK (built by the ingestion issue). It imports only ``radiator.core``, so it
installs and runs in applications without the server's dependencies."""

from __future__ import annotations

__all__: list[str] = []
