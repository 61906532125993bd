"""Evaluate a parsed query over a grid of steps, reading cells from the telemetry store.

Every node evaluates for all steps at once: a selector reads its series' cells once for the
whole grid (from 1-minute or 1-hour rollups when step, window, offset and start are whole
buckets, else raw points) and windows are reduced with prefix sums (see ``windows``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from radiator.core.telemetry import Resolution, query_deadline
from radiator.errors import InvalidInputError, RadiatorError
from radiator.query.aggregate import aggregate
from radiator.query.ast import (
    Aggregation,
    BinaryExpr,
    Call,
    Expr,
    Grouping,
    MatrixSelector,
    NumberLiteral,
    Percentile,
    StringLiteral,
    UnaryExpr,
    VectorSelector,
)
from radiator.query.binary import QueryEvaluationError, apply_binary
from radiator.query.cache import ReadCache
from radiator.query.functions import (
    CELL_COLUMNS,
    RANGE_FUNCTIONS,
    apply_instant_function,
    histogram_quantile,
    range_function,
)
from radiator.query.select import (
    MetricSource,
    Selection,
    choose_resolution,
    load_cells,
    load_sketches,
    select_series,
    step_windows,
    to_time_range,
)
from radiator.query.values import NAME, FloatArray, Grid, SeriesSet, Value
from radiator.query.windows import Cells, WindowIndex

__all__ = [
    "LOOKBACK",
    "Evaluator",
    "Limits",
    "QueryLimitError",
    "QueryTimeoutError",
    "RawMatrix",
]

LOOKBACK = timedelta(minutes=5)
_LOOKBACK_US = 300_000_000
_MINUTE_US = 60_000_000
# Exact quantile_over_time sorts every point of every window; past this many (window, point)
# pairs it reads the 1-minute sketches instead (about 1 % relative error).
_EXACT_QUANTILE_MAX = 2_000_000


_ALL_COLUMNS = frozenset().union(*CELL_COLUMNS.values())


class QueryLimitError(InvalidInputError):
    """A query would read or return more than the configured bounds allow."""

    code = "query_too_large"


class QueryTimeoutError(RadiatorError):
    """A query ran longer than ``query_timeout_seconds`` and was cancelled."""

    code = "query_timeout"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one query: series per selector, steps, cells read, and wall time; and how
    many queries of one request run at once."""

    max_series: int = 10_000
    max_steps: int = 11_000
    max_cells: int = 20_000_000
    timeout_seconds: float = 30.0
    # Queries of one request evaluated at once (they share reads; numpy and DuckDB work
    # outside the GIL, so panels overlap on several cores).
    parallel: int = 4


@dataclass(slots=True)
class RawMatrix:
    """An instant query's range vector: every point of each series in its window."""

    labels: list[dict[str, str]]
    times: list[np.ndarray]
    values: list[FloatArray]


@dataclass
class Evaluator:
    """Evaluates expressions for every step of ``grid``; ``warnings`` collects notes."""

    source: MetricSource
    grid: Grid
    limits: Limits = field(default_factory=Limits)
    instant: bool = False
    clock: Callable[[], float] = time.monotonic
    warnings: list[str] = field(default_factory=list)
    cells_read: int = 0
    # Reads shared by the queries of one request (a dashboard's panels often select the
    # same series over the same window): selections and cells, keyed by what they depend on.
    cache: ReadCache = field(default_factory=ReadCache)

    def __post_init__(self) -> None:
        if self.grid.size > self.limits.max_steps:
            raise QueryLimitError(
                f"the query would return {self.grid.size} points per series, more than the "
                f"limit of {self.limits.max_steps}; use a larger step or a shorter range",
                field="step",
            )
        self._deadline = self.clock() + self.limits.timeout_seconds

    def evaluate(self, expr: Expr) -> Value | RawMatrix:
        """Evaluate ``expr``; store reads past the deadline are interrupted."""
        token = query_deadline.set(self._deadline)
        try:
            return self._evaluate(expr)
        finally:
            query_deadline.reset(token)

    def _evaluate(self, expr: Expr) -> Value | RawMatrix:
        if isinstance(expr, MatrixSelector):
            if not self.instant:
                raise QueryEvaluationError(
                    "a range vector cannot be graphed; wrap it in a function such as "
                    "rate(...) or avg_over_time(...)"
                )
            return self._raw_matrix(expr)
        return self._eval(expr)

    def _check_time(self) -> None:
        if self.clock() > self._deadline:
            raise QueryTimeoutError(
                f"the query took longer than {self.limits.timeout_seconds:g} s and was "
                "cancelled (setting query_timeout_seconds); narrow the range or the selectors"
            )

    def _eval(self, expr: Expr) -> Value:
        self._check_time()
        if isinstance(expr, NumberLiteral):
            return np.full(self.grid.size, expr.value, dtype=np.float64)
        if isinstance(expr, StringLiteral):
            return expr.value
        if isinstance(expr, VectorSelector):
            return self._instant_selector(expr)
        if isinstance(expr, Call):
            return self._call(expr)
        if isinstance(expr, Aggregation):
            return self._aggregation(expr)
        if isinstance(expr, Percentile):
            return self._percentile(expr)
        if isinstance(expr, BinaryExpr):
            return apply_binary(expr, self._numeric(expr.lhs), self._numeric(expr.rhs))
        if isinstance(expr, UnaryExpr):
            inner = self._numeric(expr.expr)
            if isinstance(inner, SeriesSet):
                return SeriesSet(inner.labels, -inner.values, inner.kinds).without_name()
            return -inner
        raise QueryEvaluationError(f"cannot evaluate {type(expr).__name__} here")

    def _numeric(self, expr: Expr) -> FloatArray | SeriesSet:
        value = self._eval(expr)
        if isinstance(value, str):
            raise QueryEvaluationError("a string cannot be used here")
        return value

    def _scalar(self, expr: Expr) -> FloatArray:
        value = self._numeric(expr)
        if isinstance(value, SeriesSet):
            raise QueryEvaluationError("expected a scalar")
        return value

    def _vector(self, expr: Expr) -> SeriesSet:
        value = self._numeric(expr)
        if not isinstance(value, SeriesSet):
            raise QueryEvaluationError("expected an instant vector")
        return value

    # -- selectors -------------------------------------------------------------------

    def _offset_us(self, selector: VectorSelector) -> int:
        return (selector.offset // timedelta(microseconds=1)) if selector.offset else 0

    def _select(self, selector: VectorSelector, range_us: int) -> tuple[Selection, int]:
        key = ("select", selector, range_us, self.grid)
        found: tuple[Selection, int] = self.cache.get(
            key, lambda _: self._select_uncached(selector, range_us)
        )
        return found

    def _select_uncached(self, selector: VectorSelector, range_us: int) -> tuple[Selection, int]:
        offset = self._offset_us(selector)
        start = self.grid.start_us - offset - range_us
        selection = select_series(self.source, selector, start, self.grid.end_us - offset + 1)
        if len(selection.series) > self.limits.max_series:
            raise QueryLimitError(
                f"the selector matches {len(selection.series)} series, more than the limit "
                f"of {self.limits.max_series}; add tag matchers to narrow it",
                field="expr",
            )
        return selection, offset

    def _resolution(self, range_us: int, offset_us: int) -> Resolution:
        if self.instant:
            return Resolution.RAW
        return choose_resolution(self.grid.step_us, range_us, offset_us, self.grid.start_us)

    def _cells(
        self, selection: Selection, range_us: int, offset_us: int, needs: frozenset[str]
    ) -> tuple[Cells, WindowIndex, Resolution]:
        """Cells with at least the rollup columns ``needs`` (a read of rollups fetches only
        the columns asked for; one that lacks some is read again with all of them)."""
        sids = tuple(s.sid for s in selection.series)
        key = ("cells", sids, range_us, offset_us, self.grid, self.instant)

        def read(previous: tuple[Any, ...] | None) -> tuple[Any, ...]:
            columns = needs | (previous[3] if previous else frozenset())
            cells, index, resolution = self._cells_uncached(selection, range_us, offset_us, columns)
            if resolution is Resolution.RAW:  # a raw point's value serves every column
                columns = _ALL_COLUMNS
            return cells, index, resolution, columns

        found = self.cache.get(key, read, lambda cached: needs <= cached[3])
        return found[0], found[1], found[2]

    def _cells_uncached(
        self, selection: Selection, range_us: int, offset_us: int, columns: frozenset[str]
    ) -> tuple[Cells, WindowIndex, Resolution]:
        resolution = self._resolution(range_us, offset_us)
        times = self.grid.times - offset_us
        cells = load_cells(
            self.source,
            selection,
            int(times[0]) - range_us,
            int(times[-1]),
            resolution,
            step_windows(times, range_us),
            columns,
        )
        self.cells_read += len(cells.ends)
        if self.cells_read > self.limits.max_cells:
            raise QueryLimitError(
                f"the query would read more than {self.limits.max_cells} points; use a larger "
                "step, a shorter range or narrower selectors",
                field="expr",
            )
        self._check_time()
        index = WindowIndex(cells.series_of, cells.ends, cells.series, times, range_us)
        return cells, index, resolution

    def _instant_selector(self, selector: VectorSelector) -> SeriesSet:
        selection, offset = self._select(selector, _LOOKBACK_US)
        if not selection.series:
            return SeriesSet.empty(self.grid.size)
        cells, index, _ = self._cells(selection, _LOOKBACK_US, offset, frozenset({"last"}))
        values = index.last(cells.last)
        return SeriesSet(selection.labels, values, selection.kinds).dropping_empty()

    def _raw_matrix(self, expr: MatrixSelector) -> RawMatrix:
        range_us = expr.range // timedelta(microseconds=1)
        selection, offset = self._select(expr.selector, range_us)
        result = RawMatrix([], [], [])
        if not selection.series:
            return result
        cells, _, _ = self._cells(selection, range_us, offset, frozenset({"last"}))
        for i, labels in enumerate(selection.labels):
            mask = cells.series_of == i
            if mask.any():
                result.labels.append(labels)
                result.times.append(cells.ends[mask])  # stored times, as Prometheus
                result.values.append(cells.last[mask])
        return result

    # -- functions ---------------------------------------------------------------------

    def _call(self, call: Call) -> Value:
        if call.func in RANGE_FUNCTIONS:
            return self._range_call(call)
        if call.func == "histogram_quantile":
            return histogram_quantile(self._scalar(call.args[0]), self._vector(call.args[1]))
        vector = self._vector(call.args[0])
        scalars = [self._scalar(arg) for arg in call.args[1:]]
        return apply_instant_function(call.func, vector, scalars)

    def _range_call(self, call: Call) -> SeriesSet:
        matrix = call.args[-1]
        if not isinstance(matrix, MatrixSelector):
            raise QueryEvaluationError(f"{call.func} expects a range selector such as x[5m]")
        range_us = matrix.range // timedelta(microseconds=1)
        selection, offset = self._select(matrix.selector, range_us)
        if not selection.series:
            return SeriesSet.empty(self.grid.size)
        phi = float(self._scalar(call.args[0])[0]) if call.func == "quantile_over_time" else 0.0

        def evaluate(_: object) -> FloatArray:
            if call.func == "quantile_over_time":
                values = self._quantile_over_time(selection, offset, range_us, phi)
            else:
                cells, index, _ = self._cells(selection, range_us, offset, CELL_COLUMNS[call.func])
                names = [s.name for s in selection.series]
                values = range_function(call.func, cells, index, range_us, selection.kinds, names)
            values.flags.writeable = False  # shared by the queries of a request
            return values

        # Panels of a dashboard often apply the same function to the same series (a rate
        # summed one way in one panel, another way in the next): computed once per request.
        sids = tuple(s.sid for s in selection.series)
        key = ("range", call.func, phi, sids, range_us, offset, self.grid, self.instant)
        values = self.cache.get(key, evaluate)
        result = SeriesSet(selection.labels, values, selection.kinds)
        return result.without_name().dropping_empty()

    def _quantile_over_time(
        self, selection: Selection, offset: int, range_us: int, phi: float
    ) -> FloatArray:
        times = self.grid.times - offset
        resolution = self._resolution(range_us, offset)
        if resolution is Resolution.RAW:
            if not self._sketch_instead(selection, range_us, offset):
                cells, index, _ = self._cells(selection, range_us, offset, frozenset({"last"}))
                return _out_of_range(phi, index) if _odd(phi) else index.quantile(cells.last, phi)
            # Too many points for exact windows: the 1-minute sketches, each window ending at
            # the minute boundary at or before its step (docs/query.md).
            resolution = Resolution.MINUTE
            times = (times // _MINUTE_US) * _MINUTE_US
        entries = load_sketches(
            self.source,
            selection,
            int(times[0]) - range_us,
            int(times[-1]),
            resolution,
            step_windows(times, range_us),
        )
        series = len(selection.series)
        index = WindowIndex(entries.series_of, entries.ends, series, times, range_us)
        return (
            _out_of_range(phi, index)
            if _odd(phi)
            else index.sketch_quantile(entries.keys, entries.counts, phi)
        )

    def _sketch_instead(self, selection: Selection, range_us: int, offset: int) -> bool:
        """Whether exact windows would hold more than ``_EXACT_QUANTILE_MAX`` (window, point)
        pairs: counted when the cells were read already, else estimated from the number of
        points in the range (each lies in about range / step windows), so the sketches can
        be read without reading the points first."""
        whole_minutes = range_us >= _MINUTE_US and range_us % _MINUTE_US == 0
        if self.instant or not whole_minutes:
            return False
        sids = tuple(s.sid for s in selection.series)
        cached = self.cache.peek(("cells", sids, range_us, offset, self.grid, self.instant))
        if cached is not None:
            return int(cached[1].lengths.sum()) > _EXACT_QUANTILE_MAX
        start = self.grid.start_us - offset - range_us
        points = self.cache.get(
            ("count", sids, start, self.grid.end_us - offset),
            lambda _: self.source.count_points(
                sids, to_time_range(start, self.grid.end_us - offset + 1)
            ),
        )
        return int(points) * max(1.0, range_us / self.grid.step_us) > _EXACT_QUANTILE_MAX

    # -- aggregations ----------------------------------------------------------------------

    def _aggregation(self, node: Aggregation) -> SeriesSet:
        param = self._scalar(node.param) if node.param is not None else None
        return aggregate(node.op, self._vector(node.expr), node.grouping, param)

    def _percentile(self, node: Percentile) -> Value:
        phi = NumberLiteral(node.quantile)
        if isinstance(node.expr, VectorSelector):
            rewritten = self._percentile_of_selector(node, node.expr)
            if rewritten is not None:
                return self._eval(rewritten)
        return self._eval(Aggregation("quantile", node.expr, phi, node.grouping))

    def _percentile_of_selector(self, node: Percentile, selector: VectorSelector) -> Expr | None:
        """The histogram or timer reading of ``pNN(selector)``, or None for the plain one."""
        selection, _ = self._select(selector, _LOOKBACK_US)
        if any("le" in s.tags and s.kind == "histogram" for s in selection.series):
            window = timedelta(microseconds=max(self.grid.step_us, _MINUTE_US))
            increase = Call("increase", (MatrixSelector(selector, window),))
            grouping = _with_le(node.grouping)
            summed = Aggregation("sum", increase, grouping=grouping)
            return Call("histogram_quantile", (NumberLiteral(node.quantile), summed))
        if selection.series:
            return None
        name = selector.name or next(
            (m.value for m in selector.matchers if m.name == NAME and m.op == "="), None
        )
        if name is None:
            return None
        stat = VectorSelector(f"{name}.p{node.percent}", _no_name(selector), selector.offset)
        if self._select(stat, _LOOKBACK_US)[0].series:
            return Aggregation("max", stat, grouping=node.grouping)
        count = VectorSelector(f"{name}.count", _no_name(selector), selector.offset)
        if self._select(count, _LOOKBACK_US)[0].series:
            raise QueryEvaluationError(
                f"timer {name} does not store p{node.percent}; a timer's percentiles are "
                "computed before storage (see the .pNN series it has)"
            )
        return None


def _no_name(selector: VectorSelector) -> tuple:  # type: ignore[type-arg]
    return tuple(m for m in selector.matchers if m.name != NAME)


def _with_le(grouping: Grouping | None) -> Grouping:
    if grouping is None:
        return Grouping("by", ("le",))
    if grouping.kind == "by":
        return Grouping("by", (*grouping.labels, "le"))
    return Grouping("without", tuple(label for label in grouping.labels if label != "le"))


def _odd(phi: float) -> bool:
    return math.isnan(phi) or phi < 0 or phi > 1


def _out_of_range(phi: float, index: WindowIndex) -> FloatArray:
    """``quantile_over_time`` of a φ outside [0, 1]: -Inf / +Inf where a window holds
    points (as Prometheus); NaN for a NaN φ."""
    if math.isnan(phi):
        return np.full(index.lengths.shape, np.nan)
    return np.where(index.lengths > 0, -np.inf if phi < 0 else np.inf, np.nan)
