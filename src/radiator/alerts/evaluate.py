"""Pure evaluation of rule conditions: query outcomes in, per-label-set activity out.

Every condition is evaluated over a grid of times (one time for an instant query), so the
live evaluation reads the last column and a backtest reads them all.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from radiator.alerts.models import (
    AbsenceCondition,
    BurnRateCondition,
    DetectorCondition,
    Op,
    ThresholdCondition,
)
from radiator.detect import make_detector
from radiator.query.service import QueryOutcome

__all__ = [
    "Matrix",
    "SeriesStates",
    "absence_states",
    "burn_rate_states",
    "compare",
    "detector_states",
    "labels_key",
    "matrix_of",
    "threshold_states",
    "window_text",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_OPS: dict[Op, Callable[[FloatArray, float], BoolArray]] = {
    Op.GT: operator.gt,
    Op.GE: operator.ge,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
}


@dataclass(slots=True)
class Matrix:
    """A query outcome as arrays: ``values[i]`` is series ``labels[i]`` at ``times``."""

    times: FloatArray
    labels: list[dict[str, str]]
    values: FloatArray  # shape (series, times); NaN where the series had no value


@dataclass(slots=True)
class SeriesStates:
    """One label set's values and whether the condition held, at each time."""

    labels: dict[str, str]
    values: FloatArray
    active: BoolArray
    scores: FloatArray | None = None


def labels_key(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _clean(labels: Mapping[str, str]) -> dict[str, str]:
    # The metric name is not an alert label: ``rate(x[5m])`` has none anyway.
    return {k: v for k, v in labels.items() if k != "__name__"}


def matrix_of(outcome: QueryOutcome) -> Matrix:
    """The outcome of a vector, matrix or scalar query as a ``Matrix``."""
    times = np.asarray(outcome.times, dtype=np.float64)
    if outcome.type == "scalar":
        value = np.nan if outcome.value is None else float(outcome.value)
        return Matrix(times, [{}], np.full((1, len(times)), value))
    labels = [_clean(s.labels) for s in outcome.series]
    values = np.full((len(labels), len(times)), np.nan)
    for row, series in enumerate(outcome.series):
        if series.times is None and len(series.values) == len(times):
            values[row] = [np.nan if v is None else v for v in series.values]
    return Matrix(times, labels, values)


def compare(op: Op, values: FloatArray, threshold: float) -> BoolArray:
    """``values op threshold`` where NaN (no value) is never true."""
    with np.errstate(invalid="ignore"):
        result: BoolArray = _OPS[op](values, threshold) & ~np.isnan(values)
    return result


def threshold_states(condition: ThresholdCondition, matrix: Matrix) -> list[SeriesStates]:
    active = compare(condition.op, matrix.values, condition.value)  # all series at once
    return [
        SeriesStates(labels, row, flags)
        for labels, row, flags in zip(matrix.labels, matrix.values, active, strict=True)
    ]


def detector_states(condition: DetectorCondition, matrix: Matrix) -> list[SeriesStates]:
    """Score each series with the rule's detector; active where the score reaches
    ``min_score`` (a detector sees only the series up to each point)."""
    detector = make_detector(condition.detector, **condition.params)
    states = []
    for labels, row in zip(matrix.labels, matrix.values, strict=True):
        scores = np.asarray(detector.score(row, matrix.times).scores, dtype=np.float64)
        active = (scores >= condition.min_score) & ~np.isnan(row)
        states.append(SeriesStates(labels, row, active, scores))
    return states


def absence_states(condition: AbsenceCondition, matrix: Matrix) -> list[SeriesStates]:
    """One label-less state: active at a time when no series had a value in the window
    ending there (and the window lies wholly inside the evaluated range)."""
    times = matrix.times
    present = (
        (~np.isnan(matrix.values)).any(axis=0)
        if len(matrix.labels)
        else np.zeros(len(times), dtype=bool)
    )
    seen_times = times[present]
    # The latest time with data at or before each step.
    last_seen = np.full(len(times), -np.inf)
    if len(seen_times):
        index = np.searchsorted(seen_times, times, side="right") - 1
        last_seen = np.where(index >= 0, seen_times[np.clip(index, 0, None)], -np.inf)
    start = times[0] if len(times) else 0.0
    covered = times - condition.window_seconds >= start - 1e-9
    active = (times - last_seen >= condition.window_seconds) & covered
    count: FloatArray = np.asarray(present, dtype=np.float64)
    return [SeriesStates({}, count, active)]


def window_text(seconds: float) -> str:
    """A query duration for ``$window``: whole minutes as ``5m``, else seconds."""
    whole = round(seconds)
    if whole % 3600 == 0:
        return f"{whole // 3600}h"
    return f"{whole // 60}m" if whole % 60 == 0 else f"{whole}s"


def _ratios(
    condition: BurnRateCondition, main: Matrix, total: Matrix | None
) -> dict[tuple[tuple[str, str], ...], tuple[dict[str, str], FloatArray]]:
    """Error ratio per label set for one window."""
    found = {labels_key(ls): (ls, row) for ls, row in zip(main.labels, main.values, strict=True)}
    if total is None:
        return found
    totals = {labels_key(ls): row for ls, row in zip(total.labels, total.values, strict=True)}
    lone = next(iter(totals.values())) if len(totals) == 1 else None
    ratios = {}
    for key, (labels, row) in found.items():
        denominator = totals.get(key, lone)
        if denominator is None:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(denominator > 0, row / denominator, np.nan)
        ratios[key] = (labels, 1.0 - share if condition.query_counts == "good" else share)
    return ratios


def burn_rate_states(
    condition: BurnRateCondition,
    windows: Mapping[float, tuple[Matrix, Matrix | None]],
) -> list[SeriesStates]:
    """Active where, for some window pair, both windows burn faster than its factor.

    ``windows`` maps each window length (seconds) to its query outcome (and the total
    query's) evaluated over the same times. The value is the fastest long-window burn rate.
    """
    budget = 1.0 - condition.objective / 100.0
    burns = {w: _ratios(condition, main, total) for w, (main, total) in windows.items()}
    keys = set().union(*(set(b) for b in burns.values())) if burns else set()
    size = len(next(iter(windows.values()))[0].times) if windows else 0
    states = []
    for key in sorted(keys):
        labels: dict[str, str] = {}
        active = np.zeros(size, dtype=bool)
        value = np.full(size, np.nan)
        for pair in condition.windows:
            long = burns.get(pair.long_seconds, {}).get(key)
            short = burns.get(pair.short_seconds, {}).get(key)
            if long is None or short is None:
                continue
            labels = long[0]
            long_burn, short_burn = long[1] / budget, short[1] / budget
            active |= compare(Op.GT, long_burn, pair.factor) & compare(
                Op.GT, short_burn, pair.factor
            )
            value = np.asarray(np.fmax(value, long_burn), dtype=np.float64)
        states.append(SeriesStates(labels or dict(key), value, active))
    return states
