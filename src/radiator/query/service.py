"""Query use cases: range and instant queries (several per request), and discovery."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from radiator.core.clock import system_clock
from radiator.core.types import TimeRange
from radiator.errors import InvalidInputError, RadiatorError
from radiator.query.ast import VectorSelector
from radiator.query.cache import ReadCache
from radiator.query.engine import Evaluator, Limits, RawMatrix
from radiator.query.parser import QueryParseError, parse
from radiator.query.select import MetricSource, select_series
from radiator.query.values import Grid, SeriesSet, Value

__all__ = [
    "NICE_STEPS",
    "QueryOutcome",
    "QueryService",
    "RangeSpec",
    "SeriesOut",
    "auto_step",
    "parse_duration",
    "parse_time",
]

NICE_STEPS: tuple[int, ...] = (
    1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400,
)  # fmt: skip
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_RELATIVE = re.compile(r"^now(?:\s*-\s*(\S+))?$")


def parse_duration(text: str | float, field: str) -> float:
    """Seconds from a number or a duration text such as ``30s``, ``5m``, ``1.5h``."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        stripped = text.strip()
        parts = _DURATION_PART.findall(stripped)
        if _NUMBER.match(stripped):
            seconds = float(stripped)
        elif parts and "".join(n + u for n, u in parts) == stripped:
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
        else:
            raise InvalidInputError(
                f"{field} must be seconds or a duration such as 30s, 5m, 1h30m; got {text!r}",
                field=field,
            )
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidInputError(f"{field} must be a positive duration", field=field)
    return seconds


def parse_time(value: str | float | datetime | None, now: datetime, field: str) -> datetime:
    """An aware UTC time from RFC 3339 text, epoch seconds, or ``now`` / ``now-6h``."""
    if value is None:
        return now
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > 1e11:
            raise InvalidInputError(f"{field} is not a valid epoch time", field=field)
        return _EPOCH + timedelta(seconds=float(value))
    text = value.strip()
    relative = _RELATIVE.match(text)
    if relative:
        ago = relative.group(1)
        return now - timedelta(seconds=parse_duration(ago, field)) if ago else now
    try:
        return _EPOCH + timedelta(seconds=float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{field} must be RFC 3339 (2026-11-24T10:00:00Z), epoch seconds or now-6h; "
            f"got {value!r}",
            field=field,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def auto_step(range_seconds: float, width: int) -> int:
    """The smallest nice step that draws the range in at most ``width`` points."""
    wanted = range_seconds / max(width, 1)
    return next((s for s in NICE_STEPS if s >= wanted), NICE_STEPS[-1])


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """When and how densely to evaluate: ``step`` None means chosen from ``width``."""

    start: datetime
    end: datetime
    step_seconds: float | None = None
    width: int = 1000
    instant: bool = False
    align: bool = True

    def grid(self) -> Grid:
        end_us = _us(self.end)
        if self.instant:
            return Grid(end_us, end_us, 1)
        if self.end < self.start:
            raise InvalidInputError("end must not be before start", field="end")
        span = (self.end - self.start).total_seconds()
        step = self.step_seconds or auto_step(span, self.width)
        step_us = max(round(step * 1_000_000), 1)
        # Align to the step so that panels share buckets and rollups can serve whole ones.
        if not self.align:  # the Prometheus API evaluates at exactly start + k * step
            return Grid(_us(self.start), max(end_us, _us(self.start)), step_us)
        start_us = (_us(self.start) // step_us) * step_us
        # The last step is the first boundary at or after ``end``, so the newest point shows.
        last_us = -(-end_us // step_us) * step_us
        return Grid(start_us, max(last_us, start_us), step_us)


@dataclass(frozen=True, slots=True)
class SeriesOut:
    labels: dict[str, str]
    values: list[float | None]
    times: list[float] | None = None  # only for an instant query's range vector


@dataclass(slots=True)
class QueryOutcome:
    """One query's result: ``type`` is matrix, vector, scalar or string (or error)."""

    id: str
    expr: str
    type: str
    times: list[float] = field(default_factory=list)
    series: list[SeriesOut] = field(default_factory=list)
    value: float | None = None
    error: RadiatorError | None = None
    warnings: list[str] = field(default_factory=list)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values.tolist()]


class QueryService:
    """Runs metric queries against a ``MetricSource`` (the telemetry store)."""

    def __init__(
        self,
        source: MetricSource,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        self._source = source
        self._limits = limits or Limits()
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def run(
        self,
        expr: str,
        spec: RangeSpec,
        query_id: str = "A",
        cache: ReadCache | None = None,
    ) -> QueryOutcome:
        """Evaluate one expression; raises ``QueryParseError`` and evaluation errors.

        ``cache`` shares store reads between queries of one request (``run_many``).
        """
        tree = parse(expr)
        grid = spec.grid()
        evaluator = Evaluator(
            self._source,
            grid,
            self._limits,
            instant=spec.instant,
            cache=cache if cache is not None else ReadCache(),
        )
        value = evaluator.evaluate(tree)
        outcome = _outcome(query_id, expr, value, grid, spec.instant)
        outcome.warnings.extend(evaluator.warnings)
        return outcome

    def run_many(self, queries: Sequence[tuple[str, str]], spec: RangeSpec) -> list[QueryOutcome]:
        """Evaluate ``(id, expr)`` pairs, up to ``Limits.parallel`` at a time, sharing their
        store reads; a failing one carries its error, the rest still run. Outcomes come in
        the order of ``queries``."""
        cache = ReadCache()

        def run_one(query: tuple[str, str]) -> QueryOutcome:
            query_id, expr = query
            try:
                return self.run(expr, spec, query_id, cache)
            except (QueryParseError, InvalidInputError, RadiatorError) as exc:
                return QueryOutcome(query_id, expr, "error", error=exc)

        workers = max(1, min(self._limits.parallel, len(queries)))
        if workers == 1:
            return [run_one(query) for query in queries]
        with ThreadPoolExecutor(workers, thread_name_prefix="radiator-query") as pool:
            return list(pool.map(run_one, queries))

    def series(self, selectors: Sequence[str], time_range: TimeRange) -> list[dict[str, str]]:
        """Label sets (with ``__name__``) of the series any of ``selectors`` matches."""
        found: dict[int, dict[str, str]] = {}
        start_us, end_us = _us(time_range.start), _us(time_range.end)
        for text in selectors:
            tree = parse(text)
            if not isinstance(tree, VectorSelector):
                raise InvalidInputError(
                    f'{text!r} is not a series selector such as http.requests{{service="a"}}',
                    field="match[]",
                )
            selection = select_series(self._source, tree, start_us, end_us)
            for series, labels in zip(selection.series, selection.labels, strict=True):
                found[series.sid] = labels
        return sorted(found.values(), key=lambda ls: sorted(ls.items()))

    def metric_names(self, prefix: str, limit: int) -> list[str]:
        return self._source.metric_names(prefix, limit)

    def tag_names(self, metric: str | None, time_range: TimeRange) -> list[str]:
        return self._source.tag_names(metric, time_range)

    def tag_values(
        self, tag: str, metric: str | None, prefix: str, time_range: TimeRange, limit: int
    ) -> list[str]:
        return self._source.tag_values(tag, metric, prefix, time_range, limit)


def _outcome(
    query_id: str, expr: str, value: Value | RawMatrix, grid: Grid, instant: bool
) -> QueryOutcome:
    times = (grid.times / 1_000_000).tolist()
    if isinstance(value, RawMatrix):
        series = [
            SeriesOut(labels, _floats(vals), (ts / 1_000_000).tolist())
            for labels, ts, vals in zip(value.labels, value.times, value.values, strict=True)
        ]
        return QueryOutcome(query_id, expr, "matrix", times=times, series=series)
    if isinstance(value, str):
        return QueryOutcome(query_id, expr, "string", times=times, series=[])
    if isinstance(value, SeriesSet):
        series = [
            SeriesOut(labels, _floats(row))
            for labels, row in zip(value.labels, value.values, strict=True)
        ]
        return QueryOutcome(query_id, expr, "vector" if instant else "matrix", times, series)
    scalar = _floats(value)
    if instant:
        return QueryOutcome(query_id, expr, "scalar", times, value=scalar[0])
    return QueryOutcome(query_id, expr, "matrix", times, [SeriesOut({}, scalar)])
