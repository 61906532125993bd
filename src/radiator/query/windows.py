"""Window reductions over cells, vectorised across every series and step at once.

A *cell* is what the store returns for one series: a raw point (count 1) or a rollup bucket
(count, sum, min, max, first, last). Each cell has an end time ``e``: the point's time, or
the bucket's end. The window of step ``t`` with range ``r`` holds the cells with
``t - r < e ≤ t``. All series' cells sit in one array sorted by (series, e), keyed
``series * span + (e - base)``, so one ``searchsorted`` finds every window's bounds and
prefix sums give counts and sums per window without a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from radiator.query.values import FloatArray

__all__ = ["Cells", "SketchEntries", "WindowIndex", "decode_sketch_keys"]

IntArray = npt.NDArray[np.int64]

_GAMMA = 1.02
_OFFSET = 1_000_000


@dataclass(slots=True)
class Cells:
    """Cells of ``series`` series sorted by (series, end); ``series_of[i]`` in 0..series-1."""

    series: int
    series_of: IntArray
    ends: IntArray
    count: FloatArray
    sum: FloatArray
    min: FloatArray
    max: FloatArray
    first: FloatArray
    last: FloatArray


@dataclass(slots=True)
class SketchEntries:
    """Quantile-sketch entries sorted by (series, end, key)."""

    series_of: IntArray
    ends: IntArray
    keys: IntArray
    counts: FloatArray


class WindowIndex:
    """Bounds ``[lo, hi)`` of every (series, step) window in a sorted cell array."""

    def __init__(
        self, series_of: IntArray, ends: IntArray, series: int, times: IntArray, range_us: int
    ) -> None:
        # Keys are offsets from the earliest instant involved (not from the epoch), so the
        # span is the query's range and many series fit in 64 bits.
        base = int(times.min()) - range_us
        top = int(times.max())
        if len(ends):
            base, top = min(base, int(ends.min())), max(top, int(ends.max()))
        span = top - base + 1
        if series * span >= 2**62:
            raise OverflowError("too many series over too long a range for one window index")
        keys = series_of * span + (ends - base)
        rows = np.arange(series, dtype=np.int64)[:, None] * span
        self.hi: IntArray = np.searchsorted(keys, rows + (times - base), side="right")
        self.lo: IntArray = np.searchsorted(keys, rows + (times - range_us - base), side="right")
        self.lengths: IntArray = self.hi - self.lo
        self._series_of, self._ends, self._times, self._range_us = series_of, ends, times, range_us

    def prefix_sum(self, values: FloatArray) -> FloatArray:
        """Sum of ``values`` over each window; NaN where the window is empty."""
        cumulative = np.concatenate(([0.0], np.cumsum(values)))
        out = cumulative[self.hi] - cumulative[self.lo]
        return np.where(self.lengths > 0, out, np.nan)

    def first(self, values: FloatArray) -> FloatArray:
        safe = np.minimum(self.lo, max(len(values) - 1, 0))
        picked = values[safe] if len(values) else np.zeros(self.lo.shape)
        return np.where(self.lengths > 0, picked, np.nan)

    def last(self, values: FloatArray) -> FloatArray:
        safe = np.maximum(self.hi - 1, 0)
        picked = values[safe] if len(values) else np.zeros(self.hi.shape)
        return np.where(self.lengths > 0, picked, np.nan)

    def extreme(self, values: FloatArray, largest: bool) -> FloatArray:
        """Window minimum (or maximum) with a sparse table: O(n log n), no loop per window."""
        if not len(values):
            return np.full(self.lo.shape, np.nan)
        pick = np.fmax if largest else np.fmin
        levels = [values]
        width = 1
        while width * 2 <= len(values):
            previous = levels[-1]
            levels.append(pick(previous[:-width], previous[width:]))
            width *= 2
        lengths = np.maximum(self.lengths, 1)
        level = np.floor(np.log2(lengths)).astype(np.int64)
        out = np.full(self.lo.shape, np.nan)
        for k, table in enumerate(levels):
            mask = (level == k) & (self.lengths > 0)
            if not mask.any():
                continue
            lo, hi = self.lo[mask], self.hi[mask]
            out[mask] = pick(table[lo], table[hi - (1 << k)])
        return out

    def quantile(self, values: FloatArray, phi: float) -> FloatArray:
        """Exact φ-quantile of each window's values (linear interpolation, as Prometheus)."""
        window_of, positions = self._expand()
        if not len(positions):
            return np.full(self.lo.shape, np.nan)
        picked = values[positions]
        order = np.lexsort((picked, window_of))
        ordered = picked[order]
        lengths = self.lengths.ravel()
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        rank = np.clip(phi, 0.0, 1.0) * (lengths - 1)
        below = np.floor(rank).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(lengths - 1, 0))
        has = lengths > 0
        low = np.where(has, ordered[np.minimum(starts + below, len(ordered) - 1)], np.nan)
        high = np.where(has, ordered[np.minimum(starts + above, len(ordered) - 1)], np.nan)
        out: FloatArray = (low + (high - low) * (rank - below)).reshape(self.lo.shape)
        return out

    def sketch_quantile(self, keys: IntArray, counts: FloatArray, phi: float) -> FloatArray:
        """φ-quantile of each window from merged sketch entries (this index is over them).

        Per series, the entries become a (cell x key) count matrix with prefix sums over
        cells, so a window's merged sketch is one row difference: the work grows with
        steps x distinct keys, not with the entries each window holds.
        """
        out = np.full(self.lo.shape, np.nan)
        if not len(keys):
            return out
        bounds = np.searchsorted(self._series_of, np.arange(self.lo.shape[0] + 1))
        for series in range(self.lo.shape[0]):
            a, b = int(bounds[series]), int(bounds[series + 1])
            if a == b:
                continue
            out[series] = _series_sketch_quantile(
                self._ends[a:b], keys[a:b], counts[a:b], self._times, self._range_us, phi
            )
        return out

    def _expand(self) -> tuple[IntArray, IntArray]:
        """Window number and cell position of every (window, cell) membership."""
        lengths = self.lengths.ravel()
        total = int(lengths.sum())
        window_of = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        positions = np.arange(total, dtype=np.int64) - starts + np.repeat(self.lo.ravel(), lengths)
        return window_of, positions


def _series_sketch_quantile(
    ends: IntArray,
    keys: IntArray,
    counts: FloatArray,
    times: IntArray,
    range_us: int,
    phi: float,
) -> FloatArray:
    cells, cell_of = np.unique(ends, return_inverse=True)
    distinct, key_of = np.unique(keys, return_inverse=True)
    width = len(distinct)
    flat = np.bincount(
        (cell_of + 1) * width + key_of, weights=counts, minlength=(len(cells) + 1) * width
    )
    matrix = np.cumsum(flat.reshape(len(cells) + 1, width), axis=0)
    hi = np.searchsorted(cells, times, side="right")
    lo = np.searchsorted(cells, times - range_us, side="right")
    window = matrix[hi] - matrix[lo]  # steps x keys: each window's merged sketch
    cumulative = np.cumsum(window, axis=1)
    totals = cumulative[:, -1]
    # DDSketch: the key holding rank φ·(n-1) among the window's n values.
    target = np.clip(phi, 0.0, 1.0) * (totals - 1)
    found = np.argmax(cumulative > target[:, None], axis=1)
    return np.where(totals > 0, decode_sketch_keys(distinct[found]), np.nan)


def decode_sketch_keys(keys: IntArray) -> FloatArray:
    """The value a sketch key stands for (the middle of its log bucket)."""
    magnitude = np.abs(keys) - _OFFSET
    value = 2.0 * np.power(_GAMMA, magnitude.astype(np.float64)) / (1.0 + _GAMMA)
    return np.where(keys == 0, 0.0, np.sign(keys) * value)
