"""Vectorised window statistics for the batch forms, and the ring buffer for streaming ones.

Batch and streaming forms must agree, so both use the same definitions:

- a *trailing* window at ``t`` holds the up to ``w`` values before ``t`` (not ``t`` itself);
  a *recent* window holds the up to ``k`` values ending at ``t`` (``t`` included);
- the median of ``n`` values is the element of rank ``n // 2`` (the upper median when ``n`` is
  even), which is what ``scipy.ndimage.median_filter`` computes and is cheap to stream;
- standard deviations use ``ddof=1``.

Inputs here hold no NaN: detectors drop missing values first.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from radiator.detect.base import FloatArray

__all__ = [
    "Compact",
    "Ring",
    "expand",
    "inclusive_mean",
    "inclusive_median",
    "rank_median",
    "shift",
    "trailing_mean_std",
    "window_sums",
]


def rank_median(values: FloatArray) -> float:
    """The element of rank ``n // 2``; NaN for no values."""
    n = len(values)
    if n == 0:
        return float("nan")
    return float(np.partition(values, n // 2)[n // 2])


def shift(x: FloatArray, by: int = 1) -> FloatArray:
    """``x`` delayed by ``by`` places, NaN in front: turns inclusive windows into trailing."""
    out = np.full(len(x), np.nan)
    if by < len(x):
        out[by:] = x[: len(x) - by]
    return out


def inclusive_median(x: FloatArray, w: int) -> FloatArray:
    """Rank-``n//2`` median of ``x[t-w+1 : t+1]`` for every ``t`` (shorter at the start)."""
    n = len(x)
    out = np.empty(n)
    if n == 0:
        return out
    if n >= w:
        out[:] = ndimage.median_filter(x, size=w, origin=(w - 1) // 2, mode="nearest")
    for t in range(min(w - 1, n)):
        out[t] = rank_median(x[: t + 1])
    return out


def window_sums(c: FloatArray, n: int, w: int, end_offset: int) -> tuple[FloatArray, FloatArray]:
    """Sums of windows of up to ``w`` values ending ``end_offset`` places after each index,
    from a cumulative sum ``c`` with a leading 0; and how many values each holds."""
    sums = np.empty(n)
    count = np.empty(n)
    head = min(n, max(0, w - end_offset))
    # Short windows at the start, then full windows by plain slicing (no gather).
    ends = np.arange(head) + end_offset
    sums[:head] = c[ends]
    count[:head] = ends
    if head < n:
        sums[head:] = (
            c[head + end_offset : n + end_offset] - c[head + end_offset - w : n - w + end_offset]
        )
        count[head:] = w
    return sums, count


def inclusive_mean(x: FloatArray, k: int) -> FloatArray:
    """Mean of ``x[t-k+1 : t+1]`` for every ``t`` (shorter at the start)."""
    n = len(x)
    if n == 0:
        return np.empty(0)
    center = float(x[0])
    c = np.concatenate(([0.0], np.cumsum(x - center)))
    sums, count = window_sums(c, n, k, 1)
    return sums / count + center


def trailing_mean_std(x: FloatArray, w: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean, standard deviation (ddof=1) and count of the ``w`` values before each ``t``.

    Sums run over values minus a fixed centre so the variance does not cancel badly.
    """
    n = len(x)
    if n == 0:
        empty = np.empty(0)
        return empty, empty, empty
    center = float(np.mean(x))
    d = x - center
    s1, count = window_sums(np.concatenate(([0.0], np.cumsum(d))), n, w, 0)
    s2, _ = window_sums(np.concatenate(([0.0], np.cumsum(d * d))), n, w, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / count
        var = (s2 - s1 * mean) / (count - 1)
    std = np.sqrt(np.maximum(var, 0.0))
    return mean + center, std, count


class Ring:
    """A fixed-size buffer of the last ``size`` floats, oldest first when read."""

    __slots__ = ("_buf", "_next", "count")

    def __init__(self, size: int) -> None:
        self._buf = np.empty(size)
        self._next = 0
        self.count = 0

    def push(self, value: float) -> None:
        self._buf[self._next] = value
        self._next = (self._next + 1) % len(self._buf)
        self.count = min(self.count + 1, len(self._buf))

    def values(self) -> FloatArray:
        """The stored values, oldest first (a copy)."""
        if self.count < len(self._buf):
            return self._buf[: self.count].copy()
        return np.concatenate((self._buf[self._next :], self._buf[: self._next]))

    @property
    def size(self) -> int:
        return len(self._buf)

    def raw(self) -> FloatArray:
        """The stored values in storage order (a view): enough for medians and means."""
        return self._buf[: self.count]

    def ago(self, lag: int) -> float:
        """The value pushed ``lag`` pushes ago (1 = the last one); NaN if not held."""
        if lag < 1 or lag > self.count:
            return float("nan")
        return float(self._buf[(self._next - lag) % len(self._buf)])


def expand(mask: np.ndarray, compact: FloatArray, fill: float = np.nan) -> FloatArray:
    """Put values computed on ``x[mask]`` back at their places; ``fill`` elsewhere."""
    out = np.full(len(mask), fill)
    out[mask] = compact
    return out


class Compact:
    """A series without its missing values, and the way back to the original positions.

    Most series have no missing values; then nothing is copied.
    """

    def __init__(self, x: FloatArray) -> None:
        self.mask = np.isfinite(x)
        self.whole = bool(self.mask.all())
        self.values = x if self.whole else x[self.mask]
        self._positions: np.ndarray | None = None

    def expand(self, compact: FloatArray, fill: float = np.nan) -> FloatArray:
        """Values computed on ``self.values`` at the original positions, ``fill`` elsewhere."""
        return compact if self.whole else expand(self.mask, compact, fill)

    def at(self, index: int) -> int | None:
        """Where original point ``index`` is in ``self.values`` (None when it is missing)."""
        if not self.mask[index]:
            return None
        if self.whole:
            return index
        if self._positions is None:
            self._positions = np.cumsum(self.mask) - 1
        return int(self._positions[index])
