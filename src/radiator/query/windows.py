"""Window reductions over cells, vectorised across every series and step at once.

A *cell* is what the store returns for one series: a raw point (count 1) or a rollup bucket
(count, sum, min, max, first, last). Each cell has an end time ``e``: the point's time, or
the bucket's end. The window of step ``t`` with range ``r`` holds the cells with
``t - r < e ≤ t``. All series' cells sit in one array sorted by (series, e), keyed
``series * span + (e - base)``, so one ``searchsorted`` finds every window's bounds and
prefix sums give counts and sums per window without a Python loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from radiator.query.values import FloatArray

__all__ = ["Cells", "SketchEntries", "WindowIndex", "decode_sketch_keys"]

IntArray = npt.NDArray[np.int64]
Ranks = npt.NDArray[np.integer[Any]]

_GAMMA = 1.02
_OFFSET = 1_000_000
# Key spans up to this are ranked with a presence table (32 MB at most), not a sort.
_DIRECT_RANK_SPAN = 1 << 22
# Sketch windows sort their entries as rows once they hold at most this many entries per
# entry in all (a window of 5 one-minute cells holds each entry about 5 times)...
_ROWS_PER_ENTRY = 8
# ... in batches of this many row cells (a few MB), so memory stays flat.
_ROW_CELLS = 1 << 18
# Sketch entries are worked through in runs of whole series about this long.
_RUN_ENTRIES = 1 << 17


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
    """Quantile-sketch entries sorted by (series, end); keys within a cell in any order."""

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
        step = int(times[1] - times[0]) if len(times) > 1 else 0
        if step > 0 and bool((np.diff(times) == step).all()):
            starts = np.searchsorted(series_of, np.arange(series, dtype=np.int64))
            self.hi: IntArray = _counted_bounds(series_of, ends, starts, times, step)
            self.lo: IntArray = _counted_bounds(series_of, ends, starts, times - range_us, step)
        else:
            keys = series_of * span + (ends - base)
            rows = np.arange(series, dtype=np.int64)[:, None] * span
            self.hi = np.searchsorted(keys, rows + (times - base), side="right")
            self.lo = np.searchsorted(keys, rows + (times - range_us - base), side="right")
        self.lengths: IntArray = self.hi - self.lo
        self._series_of, self._ends, self._times, self._range_us = series_of, ends, times, range_us

    def _check(self, values: FloatArray) -> None:
        # A column the read did not fetch (see select.load_cells) is empty: using it must
        # fail rather than give zeros or NaN.
        if len(values) != len(self._ends):
            raise ValueError(f"{len(values)} values for {len(self._ends)} cells")

    def prefix_sum(self, values: FloatArray) -> FloatArray:
        """Sum of ``values`` over each window; NaN where the window is empty.

        A NaN or infinite value affects only the windows holding it (as summing each
        window would): it is left out of the running sum and counted apart.
        """
        self._check(values)
        finite = np.isfinite(values)
        clean = values if finite.all() else np.where(finite, values, 0.0)
        cumulative = np.concatenate(([0.0], np.cumsum(clean)))
        out = cumulative[self.hi] - cumulative[self.lo]
        if clean is not values:
            rising, falling = self._count(values == np.inf), self._count(values == -np.inf)
            out = np.where(rising > 0, np.inf, np.where(falling > 0, -np.inf, out))
            undefined = (self._count(np.isnan(values)) > 0) | ((rising > 0) & (falling > 0))
            out = np.where(undefined, np.nan, out)
        return np.where(self.lengths > 0, out, np.nan)

    def _count(self, flags: npt.NDArray[np.bool_]) -> IntArray:
        """How many of the cells in each window are flagged."""
        cumulative = _prefix_sums(flags)
        return cumulative[self.hi] - cumulative[self.lo]

    def first(self, values: FloatArray) -> FloatArray:
        self._check(values)
        safe = np.minimum(self.lo, max(len(values) - 1, 0))
        picked = values[safe] if len(values) else np.zeros(self.lo.shape)
        return np.where(self.lengths > 0, picked, np.nan)

    def last(self, values: FloatArray) -> FloatArray:
        self._check(values)
        safe = np.maximum(self.hi - 1, 0)
        picked = values[safe] if len(values) else np.zeros(self.hi.shape)
        return np.where(self.lengths > 0, picked, np.nan)

    def extreme(self, values: FloatArray, largest: bool) -> FloatArray:
        """Window minimum (or maximum) with a sparse table: O(n log n), no loop per window."""
        self._check(values)
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
        self._check(values)
        lengths = self.lengths.ravel()
        total = int(lengths.sum())
        if not total:
            return np.full(self.lo.shape, np.nan)
        widest = int(lengths.max())
        if lengths.size * widest <= 2 * total + 4096:
            # Windows of similar length: one row each, padded with NaN (sorted last), and
            # every row sorted in one call.
            column = np.arange(widest)
            rows = values[np.minimum(self.lo.ravel()[:, None] + column, len(values) - 1)]
            rows = np.sort(np.where(column < lengths[:, None], rows, np.nan), axis=1)
            starts = np.arange(lengths.size) * widest
            ordered = rows.ravel()
        else:
            window_of, positions = self._expand()
            picked = values[positions]
            ordered = picked[np.lexsort((picked, window_of))]
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        rank = np.clip(phi, 0.0, 1.0) * (lengths - 1)
        below = np.floor(rank).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(lengths - 1, 0))
        has = lengths > 0
        low = np.where(has, ordered[np.minimum(starts + below, len(ordered) - 1)], np.nan)
        high = np.where(has, ordered[np.minimum(starts + above, len(ordered) - 1)], np.nan)
        with np.errstate(invalid="ignore"):  # infinite values: inf - inf is NaN
            out: FloatArray = (low + (high - low) * (rank - below)).reshape(self.lo.shape)
        return out

    def sketch_quantile(self, keys: IntArray, counts: FloatArray, phi: float) -> FloatArray:
        """φ-quantile of each window from merged sketch entries (this index is over them).

        All windows of a run of series are answered together, without building any
        window's merged sketch (see ``_select``); steps floored to the same cell share a
        window and are answered once. Counts must be whole, as stored, so every sum is
        exact. A NaN φ gives NaN, as in Prometheus.
        """
        out = np.full(self.lo.shape, np.nan)
        if not len(keys) or not out.size or np.isnan(phi):
            return out
        lo, hi, kept, back = _distinct_windows(self.lo.ravel(), self.hi.ravel())
        values = np.full(len(lo), np.nan)
        window_series = kept // self.lo.shape[1]
        for a, b, first, last in _series_runs(self._series_of, window_series):
            part = slice(first, last)
            values[part] = _run_quantile(keys[a:b], counts[a:b], lo[part] - a, hi[part] - a, phi)
        out[...] = values[back].reshape(self.lo.shape)
        return out

    def _expand(self) -> tuple[IntArray, IntArray]:
        """Window number and cell position of every (window, cell) membership."""
        lengths = self.lengths.ravel()
        total = int(lengths.sum())
        window_of = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        positions = np.arange(total, dtype=np.int64) - starts + np.repeat(self.lo.ravel(), lengths)
        return window_of, positions


def _counted_bounds(
    series_of: IntArray, ends: IntArray, starts: IntArray, times: IntArray, step: int
) -> IntArray:
    """Per (series, step) the position after the last cell with end <= ``times[j]``, for
    evenly spaced ``times``: each cell is counted at the first step it is at or before,
    and running counts give the bounds, with no search."""
    series, steps = len(starts), len(times)
    # The steps before a cell: those with times[j] < end.
    before = np.clip(-((int(times[0]) - ends) // step), 0, steps)
    counts = np.bincount(series_of * (steps + 1) + before, minlength=series * (steps + 1))
    running = np.cumsum(counts.reshape(series, steps + 1)[:, :steps], axis=1)
    return running + starts[:, None]


def _distinct_windows(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Windows with consecutive repeats dropped: their bounds, their positions in the
    input, and where each input window went."""
    fresh = np.ones(len(lo), dtype=bool)
    fresh[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    kept = np.flatnonzero(fresh)
    return lo[kept], hi[kept], kept, np.cumsum(fresh) - 1


def _series_runs(
    series_of: IntArray, window_series: IntArray
) -> Iterator[tuple[int, int, int, int]]:
    """Runs of whole series of about ``_RUN_ENTRIES`` entries each: a run's entries
    ``[a, b)`` and its windows ``[first, last)`` (``window_series`` is non-decreasing)."""
    series = int(window_series[-1]) + 1
    starts = np.searchsorted(series_of, np.arange(series + 1))
    starts[-1] = len(series_of)
    marks = np.arange(0, len(series_of), _RUN_ENTRIES)
    cuts = np.unique(np.append(np.searchsorted(starts, marks, side="right") - 1, [0, series]))
    windows = np.searchsorted(window_series, cuts)
    for run in range(len(cuts) - 1):
        a, b = int(starts[cuts[run]]), int(starts[cuts[run + 1]])
        if a < b and windows[run] < windows[run + 1]:
            yield a, b, int(windows[run]), int(windows[run + 1])


def _run_quantile(
    keys: IntArray, counts: FloatArray, lo: IntArray, hi: IntArray, phi: float
) -> FloatArray:
    """φ-quantile of windows ``[lo, hi)`` of sketch entries; NaN where a window is empty."""
    weights = _whole_counts(counts)
    cumulative = _prefix_sums(weights)
    totals = cumulative[hi] - cumulative[lo]
    live = np.flatnonzero(totals > 0)
    out = np.full(len(lo), np.nan)
    if not len(live):
        return out
    # DDSketch: the key holding rank φ·(n-1) among the window's n values, i.e. the first
    # key whose cumulative count exceeds φ·(n-1); with whole counts, exceeding its floor
    # is the same test.
    limit = np.floor(np.clip(phi, 0.0, 1.0) * (totals[live] - 1)).astype(np.int64)
    distinct, ranks = _key_ranks(keys)
    out[live] = decode_sketch_keys(distinct[_select(ranks, weights, lo[live], hi[live], limit)])
    return out


def _prefix_sums(values: npt.NDArray[Any]) -> IntArray:
    """Sums of the first 0, 1, ..., n values."""
    # np.empty, not np.zeros: a large zeroed array is fresh pages, each faulted in on write.
    out = np.empty(len(values) + 1, dtype=np.int64)
    out[0] = 0
    np.cumsum(values, out=out[1:])
    return out


def _whole_counts(counts: FloatArray) -> IntArray:
    weights = counts.astype(np.int64)
    if not np.array_equal(weights, counts) or int(weights.min()) < 0:
        raise ValueError("sketch counts must be whole numbers, not negative")
    return weights


def _key_ranks(keys: IntArray) -> tuple[IntArray, Ranks]:
    """Sorted distinct keys and each key's rank among them."""
    low, high = int(keys.min()), int(keys.max())
    if high - low >= _DIRECT_RANK_SPAN:
        distinct, ranks = np.unique(keys, return_inverse=True)
        return distinct, ranks.astype(np.int32)
    # Sketch keys sit within a few million of each other: a presence table ranks them in
    # linear time, where np.unique would sort every entry.
    offsets = np.subtract(keys, low, dtype=np.int32, casting="unsafe")
    present = np.zeros(high - low + 1, dtype=bool)
    present[offsets] = True
    table = np.cumsum(present, dtype=np.int32) - 1
    return np.flatnonzero(present) + low, table[offsets]


def _select(
    ranks: Ranks,
    weights: IntArray,
    lo: IntArray,
    hi: IntArray,
    limit: IntArray,
    rows_per_entry: int = _ROWS_PER_ENTRY,
) -> IntArray:
    """Per window ``[lo, hi)`` of the entries, the smallest rank whose cumulative weight
    exceeds ``limit`` (the window's whole weight must exceed it).

    Short windows sort their entries, one row each (``_sorted_rows``): work grows with the
    windows' total length, about 5 x entries for 5-cell windows. While the windows hold
    more than ``rows_per_entry`` x entries in all, they first narrow the rank down a bit at
    a time in a wavelet matrix (``_descend``: work grows with entries x levels), which
    shortens them.
    """
    found = np.zeros(len(lo), dtype=np.int64)
    if not len(lo):
        return found
    rank_bits = max(int(ranks.max()).bit_length(), 1)
    if rank_bits + int(weights.max()).bit_length() > 62:
        raise OverflowError("sketch counts too large to pack with their key ranks")
    passed = np.zeros(len(lo), dtype=np.int64)
    level = rank_bits
    if _too_long(lo, hi, rows_per_entry * len(ranks)):
        packed = (weights << rank_bits) | ranks
        while level and _too_long(lo, hi, rows_per_entry * len(packed)):
            level -= 1
            packed, lo, hi, one, passed = _descend(packed, lo, hi, limit, passed, level, rank_bits)
            found = (found << 1) | one
        ranks, weights = packed & ((1 << level) - 1), packed >> rank_bits
    if level:
        low = _sorted_rows(ranks, weights, lo, hi, limit - passed, level)
        found = (found << level) | low
    return found


def _too_long(lo: IntArray, hi: IntArray, cells: int) -> bool:
    return int((hi - lo).sum()) > cells


def _descend(
    packed: IntArray,
    lo: IntArray,
    hi: IntArray,
    limit: IntArray,
    passed: IntArray,
    level: int,
    rank_bits: int,
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """One wavelet-matrix level over ``packed`` entries (weight << rank_bits | rank).

    The entries are split stably by rank bit ``level``, zeros first. A window keeps to its
    zeros when their weight, with what it has passed, exceeds its limit; otherwise it moves
    to its ones, the zeros' weight passed. Returns the split entries, the windows' new
    bounds, the bit each window took and what each has passed.
    """
    zero = (packed & (1 << level)) == 0
    zeros_before = _prefix_sums(zero)
    zeros = int(zeros_before[-1])
    split = np.empty_like(packed)
    np.compress(zero, packed, out=split[:zeros])
    np.compress(~zero, packed, out=split[zeros:])
    weight_before = _prefix_sums(split[:zeros] >> rank_bits)
    lo_zeros, hi_zeros = zeros_before[lo], zeros_before[hi]
    with_zeros = passed + weight_before[hi_zeros] - weight_before[lo_zeros]
    one = with_zeros <= limit
    return (
        split,
        np.where(one, zeros + lo - lo_zeros, lo_zeros),
        np.where(one, zeros + hi - hi_zeros, hi_zeros),
        one.astype(np.int64),
        np.where(one, with_zeros, passed),
    )


def _sorted_rows(
    ranks: Ranks,
    weights: IntArray,
    lo: IntArray,
    hi: IntArray,
    limit: IntArray,
    bits: int,
) -> IntArray:
    """Per window, the smallest rank (below ``1 << bits``) among its entries whose cumulative
    weight exceeds ``limit``: each window's entries become one row, sorted."""
    weight_bits = max(int(weights.max()).bit_length(), 1)
    # A row value sorts by rank, then weight; the padding sorts last and weighs nothing.
    padding = 1 << (bits + weight_bits)
    dtype = np.int16 if padding < 2**15 else np.int32 if padding < 2**31 else np.int64
    lengths = hi - lo
    width = int(lengths.max())
    values = np.full(len(ranks) + width, padding, dtype=dtype)
    entries = values[: len(ranks)]
    entries[:] = ranks
    np.left_shift(entries, weight_bits, out=entries)
    np.bitwise_or(entries, weights, out=entries, casting="unsafe")
    rows_from = sliding_window_view(values, width)  # row i: entries i .. i + width - 1
    columns = np.arange(width)
    out = np.empty(len(lo), dtype=np.int64)
    step = max(_ROW_CELLS // width, 1)
    for start in range(0, len(lo), step):
        part = slice(start, start + step)
        rows = rows_from[lo[part]]
        np.putmask(rows, columns >= lengths[part, None], padding)  # entries past the window
        rows.sort(axis=1)
        # Column by column (contiguous), the running weight is one vector add per column.
        running = np.zeros(len(rows), dtype=np.int64)
        taken = np.zeros(len(rows), dtype=np.int64)
        for column in np.ascontiguousarray((rows & ((1 << weight_bits) - 1)).T):
            running += column
            taken += running <= limit[part]
        out[part] = rows[np.arange(len(rows)), taken] >> weight_bits
    return out


def decode_sketch_keys(keys: IntArray) -> FloatArray:
    """The value a sketch key stands for (the middle of its log bucket)."""
    magnitude = np.abs(keys) - _OFFSET
    value = 2.0 * np.power(_GAMMA, magnitude.astype(np.float64)) / (1.0 + _GAMMA)
    return np.where(keys == 0, 0.0, np.sign(keys) * value)
