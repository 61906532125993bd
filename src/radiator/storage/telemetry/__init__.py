"""The telemetry store: backends behind ``radiator.core.telemetry.TelemetryStore``.

The edge picks one by name with ``open_telemetry_store``; domain code sees only the Protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from radiator.core.telemetry import TelemetryStore
from radiator.errors import ConfigError
from radiator.storage.telemetry.duckdb import DuckDBTelemetryStore

__all__ = ["BACKENDS", "DuckDBTelemetryStore", "open_telemetry_store"]

_FACTORIES: dict[str, Callable[[str, Path | None], TelemetryStore]] = {
    "duckdb": DuckDBTelemetryStore,
}

BACKENDS: tuple[str, ...] = tuple(sorted(_FACTORIES))
"""The accepted values of the ``backend`` argument."""


def open_telemetry_store(
    backend: str, path: str, archive_dir: Path | None = None
) -> TelemetryStore:
    """Open the telemetry store ``backend`` at ``path`` with its schema created.

    Args:
        backend: one of ``BACKENDS`` (case-insensitive).
        path: where the backend keeps its data; ``":memory:"`` for a throwaway store.
        archive_dir: the Parquet archive whose days reads include (docs/retention.md).

    Returns:
        A ready store; the caller owns it and must ``close`` it.

    Raises:
        ConfigError: ``backend`` is not one of ``BACKENDS``.
        StorageError: the store cannot be opened or its schema created.
    """
    factory = _FACTORIES.get(backend.strip().lower())
    if factory is None:
        accepted = ", ".join(BACKENDS)
        raise ConfigError(
            f"unknown telemetry backend {backend!r}; accepted values: {accepted}",
            backend=backend,
            accepted=list(BACKENDS),
        )
    store = factory(path, archive_dir)
    try:
        store.create_schema()
    except BaseException:
        store.close()
        raise
    return store
