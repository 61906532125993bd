"""Resolve selectors to series and read their cells from the store at the right resolution."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import numpy as np

from radiator.core.telemetry import MetricSeries, Resolution
from radiator.core.types import TimeRange
from radiator.query.ast import LabelMatcher, VectorSelector
from radiator.query.values import NAME, FloatArray, LabelSet
from radiator.query.windows import Cells, IntArray, SketchEntries

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "MetricSource",
    "Selection",
    "choose_resolution",
    "load_cells",
    "load_sketches",
    "select_series",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MetricSource(Protocol):
    """What evaluation needs from the telemetry store (``TelemetryStore`` provides it)."""

    def find_series(
        self, name: str | None, equal: tuple[tuple[str, str], ...], time_range: TimeRange
    ) -> list[MetricSeries]: ...

    def fetch_cells(
        self, sids: Sequence[int], time_range: TimeRange, resolution: Resolution
    ) -> pa.Table: ...

    def fetch_sketches(
        self, sids: Sequence[int], time_range: TimeRange, resolution: Resolution
    ) -> pa.Table: ...

    def metric_names(self, prefix: str = "", limit: int = 1000) -> list[str]: ...

    def tag_names(self, name: str | None, time_range: TimeRange) -> list[str]: ...

    def tag_values(
        self, tag: str, name: str | None, prefix: str, time_range: TimeRange, limit: int
    ) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Selection:
    """The series a selector matched, ordered by store id (the order cells come in)."""

    series: list[MetricSeries]

    @property
    def labels(self) -> list[LabelSet]:
        return [{NAME: s.name, **s.tags} for s in self.series]

    @property
    def kinds(self) -> list[str]:
        return [s.kind for s in self.series]


def to_time_range(start_us: int, end_us: int) -> TimeRange:
    return TimeRange(
        _EPOCH + timedelta(microseconds=start_us), _EPOCH + timedelta(microseconds=end_us)
    )


def _matches(matcher: LabelMatcher, value: str) -> bool:
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    found = re.fullmatch(matcher.value, value) is not None
    return found if matcher.op == "=~" else not found


def select_series(
    source: MetricSource, selector: VectorSelector, start_us: int, end_us: int
) -> Selection:
    """Series matching every matcher with points in [start_us, end_us); a missing tag is ``""``.

    Equality matchers are pushed to the store; the others are applied here with Python's
    regular expressions, the same engine the parser validated them with.
    """
    name = selector.name
    for matcher in selector.matchers:
        if matcher.name == NAME and matcher.op == "=":
            name = matcher.value
    equal = tuple((m.name, m.value) for m in selector.matchers if m.op == "=" and m.name != NAME)
    found = source.find_series(name, equal, to_time_range(start_us, end_us))
    rest = [m for m in selector.matchers if m.op != "=" or m.name == NAME]
    kept = [
        s
        for s in found
        if all(_matches(m, s.name if m.name == NAME else s.tags.get(m.name, "")) for m in rest)
    ]
    kept.sort(key=lambda s: s.sid)
    return Selection(kept)


def choose_resolution(step_us: int, range_us: int, offset_us: int, start_us: int) -> Resolution:
    """The coarsest rollup whose bucket divides the step, the window, the offset and the
    start, so windows cover whole buckets; raw points otherwise."""
    for resolution in (Resolution.HOUR, Resolution.MINUTE):
        size = resolution.seconds * 1_000_000
        if range_us >= size and all(
            v % size == 0 for v in (step_us, range_us, offset_us, start_us)
        ):
            return resolution
    return Resolution.RAW


def _fetch(
    fetch: Callable[[Sequence[int], TimeRange, Resolution], pa.Table],
    selection: Selection,
    start_us: int,
    end_us: int,
    resolution: Resolution,
) -> tuple[pa.Table, IntArray, IntArray]:
    """Rows whose end time lies in (start_us, end_us], with each row's series index and end.

    A rollup bucket ends ``resolution`` after its start; a raw point at its own time.
    """
    size = resolution.seconds * 1_000_000
    sids = [s.sid for s in selection.series]
    table = fetch(sids, to_time_range(start_us - size + 1, end_us - size + 1), resolution)
    ordered = np.array(sids, dtype=np.uint64)
    series_of = np.searchsorted(ordered, table.column("sid").to_numpy().astype(np.uint64))
    series_of = series_of.astype(np.int64)
    ends = table.column("time").to_numpy().astype(np.int64) + size
    if len(ends) > 1:
        # Windows need rows by series, then time; the store returns them in any order.
        order = np.lexsort((ends, series_of))
        if not np.array_equal(order, np.arange(len(order))):
            table, series_of, ends = table.take(order), series_of[order], ends[order]
    return table, series_of, ends


def _floats(table: pa.Table, name: str) -> FloatArray:
    values: FloatArray = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
    return values


def load_cells(
    source: MetricSource,
    selection: Selection,
    start_us: int,
    end_us: int,
    resolution: Resolution,
) -> Cells:
    """Cells of the selection whose end time lies in (start_us, end_us]."""
    table, series_of, ends = _fetch(source.fetch_cells, selection, start_us, end_us, resolution)
    return Cells(
        series=len(selection.series),
        series_of=series_of,
        ends=ends,
        count=_floats(table, "count"),
        sum=_floats(table, "sum"),
        min=_floats(table, "min"),
        max=_floats(table, "max"),
        first=_floats(table, "first"),
        last=_floats(table, "last"),
    )


def load_sketches(
    source: MetricSource,
    selection: Selection,
    start_us: int,
    end_us: int,
    resolution: Resolution,
) -> SketchEntries:
    """Quantile-sketch entries of the cells ``load_cells`` would return."""
    table, series_of, ends = _fetch(source.fetch_sketches, selection, start_us, end_us, resolution)
    return SketchEntries(
        series_of=series_of,
        ends=ends,
        keys=table.column("key").to_numpy().astype(np.int64),
        counts=_floats(table, "count"),
    )
