"""Resolve selectors to series and read their cells from the store at the right resolution."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from radiator.core.telemetry import ORDERED_BY_SERIES, MetricSeries, Resolution, StepWindows
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
    "step_windows",
    "to_time_range",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MetricSource(Protocol):
    """What evaluation needs from the telemetry store (``TelemetryStore`` provides it)."""

    def find_series(
        self, name: str | None, equal: tuple[tuple[str, str], ...], time_range: TimeRange
    ) -> list[MetricSeries]: ...

    def fetch_cells(
        self,
        sids: Sequence[int],
        time_range: TimeRange,
        resolution: Resolution,
        windows: StepWindows | None = None,
        columns: tuple[str, ...] | None = None,
    ) -> pa.Table: ...

    def fetch_sketches(
        self,
        sids: Sequence[int],
        time_range: TimeRange,
        resolution: Resolution,
        windows: StepWindows | None = None,
    ) -> pa.Table: ...

    def count_points(self, sids: Sequence[int], time_range: TimeRange) -> int: ...

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


def step_windows(times: IntArray, range_us: int) -> StepWindows | None:
    """The windows of evenly spaced steps when they leave gaps (the step is longer than
    the window), so reads can skip cells no window looks at; None otherwise."""
    if len(times) < 2:
        return None
    step = int(times[1] - times[0])
    if step <= range_us or not (np.diff(times) == step).all():
        return None
    return StepWindows(int(times[0]), step, range_us)


def _fetch(
    fetch: Callable[..., pa.Table],
    selection: Selection,
    start_us: int,
    end_us: int,
    resolution: Resolution,
    windows: StepWindows | None,
    needs: frozenset[str] | None = None,
) -> tuple[dict[str, npt.NDArray[Any]], IntArray, IntArray]:
    """Columns of the rows whose end time lies in (start_us, end_us], ordered by series and
    end, with each row's series index and end.

    A rollup bucket ends ``resolution`` after its start; a raw point at its own time.
    """
    size = resolution.seconds * 1_000_000
    sids = [s.sid for s in selection.series]
    time_range = to_time_range(start_us - size + 1, end_us - size + 1)
    options: dict[str, Any] = {}
    if windows is not None:
        options["windows"] = windows
    if needs is not None:
        options["columns"] = tuple(sorted(needs))
    table = fetch(sids, time_range, resolution, **options)
    series_of = table.column("series").to_numpy().astype(np.int64, copy=False)
    ends = table.column("time").to_numpy().astype(np.int64, copy=False) + size
    columns = {
        name: table.column(name).to_numpy(zero_copy_only=False)
        for name in table.column_names
        if name not in ("sid", "series", "time")
    }
    if ORDERED_BY_SERIES.items() <= (table.schema.metadata or {}).items():
        return columns, series_of, ends
    order, series_of, ends = _series_order(series_of, ends)
    if len(order):
        columns = {name: values[order] for name, values in columns.items()}
    return columns, series_of, ends


def _series_order(series_of: IntArray, ends: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """The permutation putting rows in (series, end) order, with the reordered series and
    ends; ``order`` is empty when the rows are in that order already.

    The store returns rows in storage order, which is time order within a series almost
    always; a stable sort by series alone (a radix sort when the series fit 16 bits) is
    then enough, and is checked before it is trusted.
    """
    if len(ends) < 2 or _in_order(series_of, ends):
        return np.empty(0, dtype=np.int64), series_of, ends
    if int(series_of.max()) < 2**16:
        order: IntArray = np.argsort(series_of.astype(np.uint16), kind="stable")
        counts = np.bincount(series_of, minlength=int(series_of.max()) + 1)
        by_series = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        by_end = ends[order]
        if _in_order(by_series, by_end):
            return order, by_series, by_end
        # A few runs out of time order within series (a parallel scan's row groups, or
        # rollup days rewritten after newer ones): a stable sort of the combined key
        # merges the runs.
        base = int(by_end.min())
        span = int(by_end.max()) - base + 1
        if span * (int(by_series[-1]) + 1) < 2**62:
            within = np.argsort(by_series * span + (by_end - base), kind="stable")
            return order[within], by_series, by_end[within]
    order = np.lexsort((ends, series_of))
    return order, series_of[order], ends[order]


def _in_order(series_of: IntArray, ends: IntArray) -> bool:
    """Whether rows are ordered by series, then end (ends fall only where series rise)."""
    falls = np.flatnonzero(np.diff(ends) < 0)
    rises = series_of[falls + 1] > series_of[falls]
    return bool(rises.all()) and bool((np.diff(series_of) >= 0).all())


def _floats(columns: dict[str, npt.NDArray[Any]], name: str) -> FloatArray:
    if name not in columns:
        return np.empty(0)
    values: FloatArray = columns[name].astype(np.float64, copy=False)
    return values


def load_cells(
    source: MetricSource,
    selection: Selection,
    start_us: int,
    end_us: int,
    resolution: Resolution,
    windows: StepWindows | None = None,
    needs: frozenset[str] | None = None,
) -> Cells:
    """Cells of the selection whose end time lies in (start_us, end_us] (and in one of
    ``windows``, when given: the others may be left out).

    From rollups, only the columns in ``needs`` (all when None) are read; the others are
    empty arrays, so using one by mistake fails instead of giving a wrong answer.
    """
    columns, series_of, ends = _fetch(
        source.fetch_cells, selection, start_us, end_us, resolution, windows, needs
    )
    if "value" in columns:  # raw points: every point is a cell of count 1
        value = _floats(columns, "value")
        return Cells(
            series=len(selection.series),
            series_of=series_of,
            ends=ends,
            count=np.ones(len(value)),
            sum=value,
            min=value,
            max=value,
            first=value,
            last=value,
        )
    return Cells(
        series=len(selection.series),
        series_of=series_of,
        ends=ends,
        count=_floats(columns, "count"),
        sum=_floats(columns, "sum"),
        min=_floats(columns, "min"),
        max=_floats(columns, "max"),
        first=_floats(columns, "first"),
        last=_floats(columns, "last"),
    )


def load_sketches(
    source: MetricSource,
    selection: Selection,
    start_us: int,
    end_us: int,
    resolution: Resolution,
    windows: StepWindows | None = None,
) -> SketchEntries:
    """Quantile-sketch entries of the cells ``load_cells`` would return."""
    columns, series_of, ends = _fetch(
        source.fetch_sketches, selection, start_us, end_us, resolution, windows
    )
    return SketchEntries(
        series_of=series_of,
        ends=ends,
        keys=columns["key"].astype(np.int64),
        counts=_floats(columns, "count"),
    )
