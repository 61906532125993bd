"""Aggregation operators over series sets: sum, avg, min, max, count, stddev, stdvar,
topk, bottomk and quantile, each ``by`` or ``without`` tags."""

from __future__ import annotations

import warnings

import numpy as np

from radiator.query.ast import Grouping
from radiator.query.values import NAME, FloatArray, LabelSet, SeriesSet, label_key

__all__ = ["aggregate", "group_labels", "groups"]


def group_labels(labels: LabelSet, grouping: Grouping | None) -> LabelSet:
    """The labels a series contributes to its group (the metric name is always dropped)."""
    if grouping is None:
        return {}
    if grouping.kind == "by":
        return {k: labels[k] for k in grouping.labels if k in labels}
    dropped = {*grouping.labels, NAME}
    return {k: v for k, v in labels.items() if k not in dropped}


def groups(values: SeriesSet, grouping: Grouping | None) -> list[tuple[LabelSet, list[int]]]:
    """Group label sets with the indexes of their member series, in first-seen order."""
    found: dict[tuple[tuple[str, str], ...], tuple[LabelSet, list[int]]] = {}
    for index, labels in enumerate(values.labels):
        key_labels = group_labels(labels, grouping)
        entry = found.setdefault(label_key(key_labels), (key_labels, []))
        entry[1].append(index)
    return list(found.values())


def _reduce(op: str, rows: FloatArray) -> FloatArray:
    present = ~np.isnan(rows)
    counts = present.sum(axis=0)
    empty = counts == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if op == "sum":
            out = np.nansum(rows, axis=0)
        elif op == "avg":
            out = np.nansum(rows, axis=0) / np.maximum(counts, 1)
        elif op == "min":
            out = np.nanmin(rows, axis=0) if rows.size else np.full(rows.shape[1], np.nan)
        elif op == "max":
            out = np.nanmax(rows, axis=0) if rows.size else np.full(rows.shape[1], np.nan)
        elif op == "count":
            out = counts.astype(np.float64)
        else:  # stddev, stdvar: population, as Prometheus
            mean = np.nansum(rows, axis=0) / np.maximum(counts, 1)
            var = np.nansum((rows - mean) ** 2, axis=0) / np.maximum(counts, 1)
            out = np.sqrt(var) if op == "stddev" else var
    return np.where(empty, np.nan, out)


def _quantile(rows: FloatArray, phi: FloatArray) -> FloatArray:
    """φ-quantile across the series of each step (linear interpolation, as Prometheus and
    ``np.quantile``), all steps at once; φ outside [0, 1] gives -Inf / +Inf."""
    steps = rows.shape[1]
    present = (~np.isnan(rows)).sum(axis=0)
    if not rows.shape[0]:
        return np.full(steps, np.nan)
    ordered = np.sort(rows, axis=0)  # NaNs sort last
    top = np.maximum(present - 1, 0)
    with np.errstate(invalid="ignore"):
        rank = np.clip(np.nan_to_num(phi), 0.0, 1.0) * top
    below = np.floor(rank).astype(np.int64)
    above = np.minimum(below + 1, top)
    columns = np.arange(steps)
    low, high = ordered[below, columns], ordered[above, columns]
    t = rank - below
    with np.errstate(invalid="ignore"):
        # The same interpolation as np.quantile's, so results match it to the last bit.
        out = np.where(t >= 0.5, high - (high - low) * (1 - t), low + (high - low) * t)
    out = np.where(phi < 0, -np.inf, np.where(phi > 1, np.inf, out))
    return np.where((present == 0) | np.isnan(phi), np.nan, out)


def _top(rows: FloatArray, k: FloatArray, largest: bool) -> FloatArray:
    """``rows`` with every value outside the k largest (smallest) of its step set to NaN.

    Missing values (NaN) never take a place; ties go to the earlier series.
    """
    present = ~np.isnan(rows)
    keys = np.where(present, -rows if largest else rows, np.inf)  # the k smallest are kept
    limit = np.floor(np.nan_to_num(k, nan=0.0))
    count = rows.shape[0]
    if len(limit) and (limit == limit[0]).all() and 0 < limit[0] < count:
        # One k for every step: the k-th smallest key by partition, then ties in series
        # order, with no sort. A missing value's key (inf) may equal the threshold, but is
        # never counted among the ties.
        kept = int(limit[0])
        threshold = np.partition(keys, kept - 1, axis=0)[kept - 1]
        below = keys < threshold
        tied = (keys == threshold) & present
        room = kept - below.sum(axis=0)
        keep = below | (tied & (np.cumsum(tied, axis=0) <= room))
    else:
        order = np.lexsort((keys, ~present), axis=0)
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(count)[:, None], axis=0)
        keep = ranks < limit[None, :]
    return np.where(keep & present, rows, np.nan)


def aggregate(
    op: str, values: SeriesSet, grouping: Grouping | None, param: FloatArray | None
) -> SeriesSet:
    """Apply aggregation ``op`` per group; ``param`` is k (topk/bottomk) or φ (quantile)."""
    steps = values.values.shape[1]
    if op in ("topk", "bottomk"):
        assert param is not None
        out = np.array(values.values, copy=True)
        for _, members in groups(values, grouping):
            out[members] = _top(values.values[members], param, op == "topk")
        return SeriesSet(values.labels, out, values.kinds).dropping_empty()
    labels: list[LabelSet] = []
    rows: list[FloatArray] = []
    for group, members in groups(values, grouping):
        member_rows = values.values[members]
        if op == "quantile":
            assert param is not None
            rows.append(_quantile(member_rows, param))
        else:
            rows.append(_reduce(op, member_rows))
        labels.append(group)
    return SeriesSet.stack(labels, rows, steps).dropping_empty()
