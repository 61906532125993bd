"""The telemetry store contract: what every backend (DuckDB today, ClickHouse later) provides.

Domain code depends on this Protocol only; ``radiator.storage.telemetry`` picks a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from radiator.core.types import Labels, TimeRange

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "Aggregation",
    "BucketQuery",
    "Series",
    "Signal",
    "TelemetryStore",
]


class Signal(StrEnum):
    """The four kinds of telemetry, one table each."""

    POINTS = "points"
    EVENTS = "events"
    LOGS = "logs"
    SPANS = "spans"


class Aggregation(StrEnum):
    AVG = "avg"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    COUNT = "count"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class BucketQuery:
    """Points of one metric, filtered by exact tag values, aggregated into fixed time buckets.

    ``group_by`` None keeps every series apart; an empty tuple merges them all into one.
    """

    name: str
    range: TimeRange
    step: timedelta
    aggregation: Aggregation = Aggregation.AVG
    tags: Labels = field(default_factory=dict)
    group_by: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.step <= timedelta(0):
            raise ValueError("step must be positive")


@dataclass(frozen=True, slots=True)
class Series:
    """One result series: bucket start times and their values, oldest first."""

    tags: Labels
    times: list[datetime]
    values: list[float]


@runtime_checkable
class TelemetryStore(Protocol):
    """Columnar store for points, events, logs and spans.

    Contract:
    - ``create_schema`` is idempotent and is called once before any other method.
    - ``append`` takes an Arrow table whose schema is ``radiator.core.schema.SCHEMAS[signal]``
      (columns may come in any order; missing nullable columns are filled with nulls) and
      returns the number of rows stored. It stores the whole batch or nothing: a batch that
      does not fit the schema raises ``InvalidInputError`` naming the column, a backend
      failure raises ``StorageError``.
    - ``append_many`` stores several batches and, when given, raises the ingest checkpoint
      (the last write-ahead-log sequence number stored) in one transaction, so replaying the
      log after a crash neither loses nor duplicates rows. ``checkpoint`` returns it (0 when
      nothing was ever checkpointed).
    - ``query_buckets`` returns series ordered by their tags; buckets without data are omitted.
      Series lacking a ``group_by`` tag are grouped under the empty value.
    - ``count`` returns how many rows of a signal fall in a range (all rows when None); spans
      are counted by their start time.
    - ``close`` releases the backend; the store is unusable afterwards. Callers own the store.
    """

    def create_schema(self) -> None: ...

    def append(self, signal: Signal, batch: pa.Table) -> int: ...

    def append_many(
        self, batches: Sequence[tuple[Signal, pa.Table]], checkpoint: int | None = None
    ) -> int: ...

    def checkpoint(self) -> int: ...

    def query_buckets(self, query: BucketQuery) -> list[Series]: ...

    def count(self, signal: Signal, time_range: TimeRange | None = None) -> int: ...

    def metric_names(self, prefix: str = "", limit: int = 1000) -> list[str]: ...

    def healthy(self) -> bool: ...

    def close(self) -> None: ...
