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
    out = np.full(rows.shape[1], np.nan)
    for step in range(rows.shape[1]):
        column = rows[:, step]
        column = column[~np.isnan(column)]
        q = phi[step]
        if not len(column) or np.isnan(q):
            continue
        if q < 0 or q > 1:
            out[step] = -np.inf if q < 0 else np.inf
        else:
            out[step] = np.quantile(column, q)
    return out


def _top(rows: FloatArray, k: FloatArray, largest: bool) -> FloatArray:
    """``rows`` with every value outside the k largest (smallest) of its step set to NaN."""
    filled = np.where(np.isnan(rows), -np.inf if largest else np.inf, rows)
    order = np.argsort(-filled if largest else filled, axis=0, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(rows.shape[0])[:, None], axis=0)
    limit = np.nan_to_num(k, nan=0.0)
    keep = ranks < np.floor(limit)[None, :]
    return np.where(keep & ~np.isnan(rows), rows, np.nan)


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
