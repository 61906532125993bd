"""Encoding queued items as native ingest request bodies (see ``radiator.ingest.native``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_BATCH_BYTES", "MAX_BATCH_ITEMS", "Batch", "encode_batches"]

SIGNALS = ("points", "events", "logs", "spans")
MAX_BATCH_ITEMS = 2000
MAX_BATCH_BYTES = 1024 * 1024


@dataclass(slots=True)
class Batch:
    """One request body and how many items it holds."""

    body: bytes
    items: int


def _dumps(item: dict[str, Any]) -> str:
    try:
        return json.dumps(item, separators=(",", ":"), allow_nan=False, default=str)
    except (ValueError, TypeError, RecursionError):
        # NaN or unserialisable attributes: keep the item, with its attributes as text.
        attrs = item.get("attributes") or {}
        safe = {**item, "attributes": {str(k): repr(v) for k, v in attrs.items()}}
        return json.dumps(safe, separators=(",", ":"), allow_nan=False, default=str)


def encode_batches(items: list[tuple[str, dict[str, Any]]]) -> list[Batch]:
    """Items (signal, native-format dict) as request bodies of at most ``MAX_BATCH_ITEMS``
    items and about ``MAX_BATCH_BYTES`` each."""
    batches: list[Batch] = []
    groups: dict[str, list[str]] = {signal: [] for signal in SIGNALS}
    size = count = 0

    def close_batch() -> None:
        nonlocal size, count
        parts = [f'"{s}":[{",".join(groups[s])}]' for s in SIGNALS if groups[s]]
        batches.append(Batch(("{" + ",".join(parts) + "}").encode(), count))
        for signal in SIGNALS:
            groups[signal] = []
        size = count = 0

    for signal, item in items:
        text = _dumps(item)
        if count and (count >= MAX_BATCH_ITEMS or size + len(text) > MAX_BATCH_BYTES):
            close_batch()
        groups[signal].append(text)
        size += len(text) + 1
        count += 1
    if count:
        close_batch()
    return batches
