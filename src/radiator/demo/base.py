"""The demo framework: the context every demo domain works in, and the domain protocol.

A *demo domain* seeds past data for one part of Radiator and keeps feeding it live. Adding
a domain's demo data is one new module plus one line in ``radiator.demo.registry``::

    # src/radiator/demo/flags.py
    class FlagsDemo:
        name = "flags"
        def seed(self, ctx, start, end, progress): ...  # history in [start, end)
        def tick(self, ctx, now): ...  # live data for (ctx.fed_until, now]

    # src/radiator/demo/registry.py
    DEMO_DOMAINS = [OrganisationDemo(), TelemetryDemo(), FlagsDemo()]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random
from typing import TYPE_CHECKING, Protocol, TypeVar, cast, runtime_checkable

import pyarrow as pa

from radiator.core.schema import SCHEMAS, events_batch, logs_batch, spans_batch
from radiator.core.telemetry import Signal
from radiator.core.types import Event, LogRecord, MetricKind, Span, utc
from radiator.runtime import Runtime

if TYPE_CHECKING:
    from radiator.demo.organisation import DemoOrg

__all__ = [
    "STEP",
    "DemoContext",
    "DemoDomain",
    "PointBatch",
    "PointSeries",
    "Progress",
    "from_us",
    "new_span_id",
    "new_trace_id",
    "poisson",
    "to_us",
]

Progress = Callable[[int, int], None]
"""``progress(done, total)``: how far a domain's seeding has got."""

STEP = timedelta(seconds=10)
"""The resolution of seeded history: one sample per series every ``STEP``."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware (or naive UTC) datetime."""
    return (utc(moment) - _EPOCH) // timedelta(microseconds=1)


def from_us(micros: int) -> datetime:
    """The aware UTC datetime ``micros`` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def new_trace_id(rng: Random) -> str:
    """A W3C trace id (32 hex digits) drawn from ``rng``, so it is reproducible."""
    return f"{rng.getrandbits(128):032x}"


def new_span_id(rng: Random) -> str:
    """A W3C span id (16 hex digits) drawn from ``rng``."""
    return f"{rng.getrandbits(64):016x}"


def poisson(rng: Random, lam: float) -> int:
    """A Poisson-distributed count with mean ``lam`` (normal approximation above 30)."""
    if lam <= 0:
        return 0
    if lam >= 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


@dataclass(frozen=True, slots=True)
class PointSeries:
    """One metric series (name, kind and tags sorted by key), prepared once and reused."""

    name: str
    kind: MetricKind
    keys: tuple[str, ...]
    values: tuple[str, ...]

    @classmethod
    def of(cls, name: str, tags: Mapping[str, str], kind: MetricKind) -> PointSeries:
        keys = tuple(sorted(tags))
        return cls(name, kind, keys, tuple(tags[key] for key in keys))


class PointBatch:
    """Metric points gathered column by column, appended as one Arrow table.

    Building columns directly is several times faster than creating a ``Point`` per row
    and calling ``points_batch``, which matters for hundreds of thousands of seeded points.
    """

    def __init__(self) -> None:
        self._times: list[int] = []
        self._names: list[str] = []
        self._values: list[float] = []
        self._kinds: list[str] = []
        self._offsets: list[int] = [0]
        self._keys: list[str] = []
        self._items: list[str] = []

    def __len__(self) -> int:
        return len(self._times)

    def add(self, series: PointSeries, time_us: int, value: float) -> None:
        self._times.append(time_us)
        self._names.append(series.name)
        self._values.append(value)
        self._kinds.append(series.kind.value)
        self._keys.extend(series.keys)
        self._items.extend(series.values)
        self._offsets.append(len(self._keys))

    def to_table(self) -> pa.Table:
        schema = SCHEMAS[Signal.POINTS]
        tags = pa.MapArray.from_arrays(
            pa.array(self._offsets, pa.int32()),
            pa.array(self._keys, pa.string()),
            pa.array(self._items, pa.string()),
        )
        columns = [
            pa.array(self._times, schema.field("time").type),
            pa.array(self._names, pa.string()),
            tags,
            pa.array(self._values, pa.float64()),
            pa.array(self._kinds, pa.string()),
        ]
        return pa.Table.from_arrays(columns, schema=schema)


@dataclass(eq=False)
class DemoContext:
    """Everything a demo domain works with while seeding and ticking.

    Attributes:
        runtime: the Radiator being filled; domains write through its services and stores.
        random: the root random generator; prefer ``rng(name)`` for a stream of one's own.
        org: the demo organisation (teams, users, services and their traffic profiles).
        seed: the seed every random stream derives from.
        fed_until: the end of the data fed so far (end of the history, then each tick's
            ``now``); a tick covers ``(fed_until, now]``. None before seeding.
        passwords: passwords of the demo users created, by username; never persisted.
    """

    runtime: Runtime
    random: Random
    org: DemoOrg
    seed: int
    fed_until: datetime | None = None
    passwords: dict[str, str] = field(default_factory=dict, repr=False)
    _streams: dict[str, Random] = field(default_factory=dict, repr=False)
    _states: dict[type, object] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, runtime: Runtime, org: DemoOrg, seed: int) -> DemoContext:
        # Reproducible demo data, not secrets: passwords come from ``secrets``.
        return cls(runtime=runtime, random=Random(seed), org=org, seed=seed)  # noqa: S311

    def rng(self, name: str) -> Random:
        """A random stream of ``name``'s own, derived from ``seed`` alone.

        Each domain drawing from its own stream keeps its data the same for a seed whatever
        other domains are registered or how much randomness they use.
        """
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = Random(f"{self.seed}/{name}")  # noqa: S311
        return stream

    def state(self, kind: type[_T], factory: Callable[[], _T]) -> _T:
        """The domain state of type ``kind`` kept between seed and ticks; made on first use."""
        if kind not in self._states:
            self._states[kind] = factory()
        return cast(_T, self._states[kind])

    def set_state(self, value: object) -> None:
        """Keep ``value`` as the state of its type, replacing any earlier one."""
        self._states[type(value)] = value

    # Appends always go in batches: the telemetry store is built for them, and a row at a
    # time would make seeding hours of history take minutes.

    def append_points(self, batch: PointBatch) -> int:
        if not len(batch):
            return 0
        return self.runtime.telemetry.append(Signal.POINTS, batch.to_table())

    def append_events(self, events: Iterable[Event]) -> int:
        return self._append(Signal.EVENTS, events_batch(events))

    def append_logs(self, records: Iterable[LogRecord]) -> int:
        return self._append(Signal.LOGS, logs_batch(records))

    def append_spans(self, spans: Iterable[Span]) -> int:
        return self._append(Signal.SPANS, spans_batch(spans))

    def _append(self, signal: Signal, table: pa.Table) -> int:
        if table.num_rows == 0:
            return 0
        return self.runtime.telemetry.append(signal, table)


@runtime_checkable
class DemoDomain(Protocol):
    """One domain's demo data: seeded history plus a live feed.

    Contract:
    - ``name`` is a short unique slug; it labels the CLI's progress bar.
    - ``seed`` fills ``[start, end)`` with history and calls ``progress(done, total)`` as it
      goes, at least once and last with ``done == total``. It writes in batches, draws
      randomness only from ``ctx.rng(name)`` (so a seed gives the same data every time),
      and raises ``ConflictError`` rather than create a state-store object twice.
    - ``tick`` appends data for ``(ctx.fed_until, now]`` with times no later than ``now``.
      It runs every few seconds on a background thread, so it must be cheap. The framework
      advances ``ctx.fed_until`` after every domain has ticked.
    - Domains run in registry order; state kept between calls lives in ``ctx.state``,
      never on the domain object, which is shared by every demo in the process.
    """

    name: str

    def seed(
        self, ctx: DemoContext, start: datetime, end: datetime, progress: Progress
    ) -> None: ...

    def tick(self, ctx: DemoContext, now: datetime) -> None: ...
