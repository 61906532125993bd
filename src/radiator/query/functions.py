"""Functions: range-vector functions over cell windows, and instant-vector functions."""

from __future__ import annotations

import math
import warnings

import numpy as np

from radiator.query.aggregate import groups
from radiator.query.ast import Grouping
from radiator.query.values import NAME, FloatArray, SeriesSet
from radiator.query.windows import Cells, WindowIndex

__all__ = [
    "CELL_COLUMNS",
    "DELTA_KINDS",
    "RANGE_FUNCTIONS",
    "apply_instant_function",
    "histogram_quantile",
    "is_delta",
    "range_function",
]

# Points of these kinds are increments (deltas), so a window's sum is its increase.
DELTA_KINDS = frozenset({"counter", "histogram"})

RANGE_FUNCTIONS = frozenset(
    {
        "rate",
        "increase",
        "delta",
        "avg_over_time",
        "sum_over_time",
        "min_over_time",
        "max_over_time",
        "count_over_time",
        "quantile_over_time",
    }
)

# The cell columns each range function reads (rollup reads fetch only these).
CELL_COLUMNS: dict[str, frozenset[str]] = {
    "rate": frozenset({"sum", "first", "last"}),
    "increase": frozenset({"sum", "first", "last"}),
    "delta": frozenset({"first", "last"}),
    "avg_over_time": frozenset({"sum", "count"}),
    "sum_over_time": frozenset({"sum"}),
    "count_over_time": frozenset({"count"}),
    "min_over_time": frozenset({"min"}),
    "max_over_time": frozenset({"max"}),
    "quantile_over_time": frozenset({"last"}),
}


def is_delta(kind: str, name: str) -> bool:
    """Whether points of this series are increments: counters, histogram buckets, and a
    timer's per-interval ``.count`` and ``.sum``."""
    return kind in DELTA_KINDS or (kind == "timer" and name.endswith((".count", ".sum")))


def range_function(
    func: str,
    cells: Cells,
    index: WindowIndex,
    range_us: int,
    kinds: list[str],
    names: list[str],
) -> FloatArray:
    """``func`` over every (series, step) window; NaN where a window holds no point.

    Counter and histogram series hold deltas: ``rate`` and ``increase`` sum them. Other
    series are levels: ``rate`` and ``increase`` take last minus first (per second for rate).
    ``quantile_over_time`` is handled by the evaluator (it needs values or sketches).
    """
    seconds = range_us / 1_000_000
    deltas = np.array([is_delta(k, n) for k, n in zip(kinds, names, strict=True)], dtype=bool)
    deltas = deltas[:, None]
    if func in ("rate", "increase", "delta"):
        # Counters hold deltas and sum them; levels take last minus first. Each is worked
        # out only when some series needs it (a dashboard's rates are mostly counters).
        summed = None
        if func != "delta" and deltas.any():
            summed = index.prefix_sum(cells.sum)
            if deltas.all():
                return summed / seconds if func == "rate" else summed
        with np.errstate(invalid="ignore"):  # infinite levels: inf - inf is NaN
            change = index.last(cells.last) - index.first(cells.first)
        out = change if summed is None else np.where(deltas, summed, change)
        return out / seconds if func == "rate" else out
    if func == "sum_over_time":
        return index.prefix_sum(cells.sum)
    if func == "count_over_time":
        return index.prefix_sum(cells.count)
    if func == "avg_over_time":
        with np.errstate(invalid="ignore", divide="ignore"):
            return index.prefix_sum(cells.sum) / index.prefix_sum(cells.count)
    if func == "min_over_time":
        return index.extreme(cells.min, largest=False)
    if func == "max_over_time":
        return index.extreme(cells.max, largest=True)
    raise ValueError(f"not a range function: {func}")


def _round(values: FloatArray, to: FloatArray | None) -> FloatArray:
    if to is None:
        return np.floor(values + 0.5)
    with np.errstate(all="ignore"):
        return np.floor(values / to + 0.5) * to


def apply_instant_function(func: str, vector: SeriesSet, scalars: list[FloatArray]) -> SeriesSet:
    """``abs``, ``clamp_min``, ``clamp_max``, ``round``, ``sort``, ``sort_desc``."""
    rows = vector.values
    if func == "abs":
        out = np.abs(rows)
    elif func == "clamp_min":
        out = np.where(np.isnan(rows), np.nan, np.maximum(rows, scalars[0]))
    elif func == "clamp_max":
        out = np.where(np.isnan(rows), np.nan, np.minimum(rows, scalars[0]))
    elif func == "round":
        out = _round(rows, scalars[0] if scalars else None)
    elif func in ("sort", "sort_desc"):
        last = rows[:, -1] if rows.shape[1] else np.zeros(len(rows))
        key = np.where(np.isnan(last), np.inf, last if func == "sort" else -last)
        order = np.argsort(key, kind="stable")
        return SeriesSet(
            [vector.labels[i] for i in order], rows[order], [vector.kind(i) for i in order]
        )
    else:
        raise ValueError(f"not an instant function: {func}")
    return SeriesSet(vector.labels, out, vector.kinds).without_name()


def _bound(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def histogram_quantile(phi: FloatArray, buckets: SeriesSet) -> SeriesSet:
    """Estimate the φ-quantile per group of ``le`` buckets, as Prometheus does: find the
    bucket holding rank φ·count and interpolate linearly inside it; a rank in the ``+Inf``
    bucket gives the largest finite bound."""
    labels, rows = [], []
    for group, members in groups(buckets, Grouping("without", ("le",))):
        bounds = np.array([_bound(buckets.labels[i].get("le", "")) for i in members])
        valid = ~np.isnan(bounds)
        if not valid.any() or not np.isinf(bounds[valid]).any():
            continue
        order = np.argsort(bounds[valid])
        upper = bounds[valid][order]
        counts = buckets.values[np.array(members)[valid][order]]
        rows.append(_bucket_quantile(phi, upper, counts))
        labels.append({k: v for k, v in group.items() if k != NAME})
    return SeriesSet.stack(labels, rows, buckets.values.shape[1]).dropping_empty()


def _bucket_quantile(phi: FloatArray, upper: FloatArray, counts: FloatArray) -> FloatArray:
    present = ~np.all(np.isnan(counts), axis=0)
    cumulative = np.maximum.accumulate(np.nan_to_num(counts, nan=0.0), axis=0)
    total = cumulative[-1]
    rank = phi * total
    index = np.argmax(cumulative >= rank[None, :], axis=0)
    steps = np.arange(counts.shape[1])
    upper_bound = upper[index]
    lower_bound = np.where(index > 0, upper[np.maximum(index - 1, 0)], 0.0)
    lower_count = np.where(index > 0, cumulative[np.maximum(index - 1, 0), steps], 0.0)
    in_bucket = cumulative[index, steps] - lower_count
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        first_negative = (index == 0) & (upper_bound <= 0)
        estimate = lower_bound + (upper_bound - lower_bound) * (rank - lower_count) / in_bucket
    finite = upper[np.isfinite(upper)]
    top = finite[-1] if len(finite) else np.nan
    out = np.where(np.isinf(upper_bound), top, estimate)
    out = np.where(first_negative, upper_bound, out)
    out = np.where(phi < 0, -np.inf, np.where(phi > 1, np.inf, out))
    return np.where(present & (total > 0), out, np.nan)
