"""Adaptive limits from the metric's own extremes (block maxima, in the manner of EVT).

A fixed limit such as 3.5σ assumes Gaussian tails. Latencies, heavy-tailed and bursty
metrics cross it many times a day while behaving normally, and a detector that pages for
that is switched off. So each detector's ratio (statistic / limit, 1 at the limit) is also
compared with the extremes the same detector has seen recently:

- the stream is cut into blocks of ``BLOCK`` points and the largest ratio of each block is
  kept for the last ``BLOCKS`` blocks (bounded memory);
- the median and the 90th percentile of the logarithms of those block maxima fix a Gumbel
  distribution (location and scale from two quantiles; in logs, because heavy tails give
  Fréchet-distributed maxima, whose logarithms are Gumbel), whose level exceeded once in
  ``RARITY`` blocks (once in 5,000 points) is where the extremes stop being usual;
- the effective limit is ``max(1, that level)``: never below the detector's own limit, so
  Gaussian data keep the textbook behaviour, while heavier tails widen it.

Upward and downward deviations are tracked separately (a latency's upper tail is heavy,
its lower tail is not). Medians and upper percentiles of twenty blocks ignore a few
anomalies, so one incident does not blind the detector to the next.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from radiator.detect.base import FloatArray
from radiator.detect.rolling import Ring

__all__ = ["BLOCK", "BLOCKS", "SignedTails", "TailState", "signed_ratio", "tail_limits"]

BLOCK = 50
BLOCKS = 20
MIN_BLOCKS = 4
RARITY = 100.0
# Gumbel quantile positions: -ln(-ln p) for p = 0.5, 0.9 and 1 - 1/RARITY.
_G50 = -math.log(-math.log(0.5))
_G90 = -math.log(-math.log(0.9))
_GR = -math.log(-math.log(1.0 - 1.0 / RARITY))
_SLOPE = (_GR - _G50) / (_G90 - _G50)
_FLOOR = 1e-3


def _extrapolate(q50: FloatArray, q90: FloatArray) -> FloatArray:
    """Gumbel return level fitted to the logs of the block maxima (so Fréchet-tailed
    maxima, as heavy tails give, are extrapolated correctly); never below 1."""
    lo = np.log(np.maximum(q50, _FLOOR))
    hi = np.log(np.maximum(q90, _FLOOR))
    level: FloatArray = np.maximum(1.0, np.exp(lo + _SLOPE * np.maximum(hi - lo, 0.0)))
    return level


def _level(sorted_maxima: FloatArray) -> float:
    """The return level of sorted block maxima (at least ``MIN_BLOCKS`` of them)."""
    k = len(sorted_maxima)
    q50, q90 = sorted_maxima[k // 2 : k // 2 + 1], sorted_maxima[(9 * k) // 10 :][:1]
    return float(_extrapolate(q50, q90)[0])


def _levels(maxima: FloatArray) -> FloatArray:
    """For every block, the level from the (up to ``BLOCKS``) blocks before it."""
    out = np.ones(len(maxima))
    for b in range(MIN_BLOCKS, min(BLOCKS, len(maxima))):
        out[b] = _level(np.sort(maxima[:b]))
    if len(maxima) > BLOCKS:
        windows = np.sort(sliding_window_view(maxima, BLOCKS)[:-1], axis=1)
        out[BLOCKS:] = _extrapolate(windows[:, BLOCKS // 2], windows[:, (9 * BLOCKS) // 10])
    return out


def tail_limits(ratio: FloatArray) -> FloatArray:
    """The limit (≥ 1) in force at each point for a one-sided ratio series (NaN = 0)."""
    r = np.nan_to_num(ratio, nan=0.0, posinf=0.0)
    n = len(r)
    full = n // BLOCK
    maxima = r[: full * BLOCK].reshape(full, BLOCK).max(axis=1) if full else np.empty(0)
    per_block = _levels(np.append(maxima, 0.0))  # the trailing partial block too
    return np.repeat(per_block, BLOCK)[:n]


class TailState:
    """Streaming twin of :func:`tail_limits` for one side."""

    __slots__ = ("_current", "_in_block", "_limit", "_maxima")

    def __init__(self) -> None:
        self._maxima = Ring(BLOCKS)
        self._current = 0.0
        self._in_block = 0
        self._limit = 1.0

    @property
    def limit(self) -> float:
        return self._limit

    def push(self, ratio: float) -> None:
        if math.isfinite(ratio):
            self._current = max(self._current, ratio)
        self._in_block += 1
        if self._in_block == BLOCK:
            self._maxima.push(self._current)
            self._current, self._in_block = 0.0, 0
            if self._maxima.count >= MIN_BLOCKS:
                self._limit = _level(np.sort(self._maxima.values()))


def signed_ratio(z: FloatArray, sigmas: float, adaptive: bool) -> tuple[FloatArray, FloatArray]:
    """``|z| / limit`` and the limit (in σ) at every point, each side adapted on its own."""
    if not adaptive:
        return np.abs(z) / sigmas, np.full(len(z), sigmas)
    with np.errstate(invalid="ignore"):
        up = tail_limits(np.maximum(z, 0.0) / sigmas)
        down = tail_limits(np.maximum(-z, 0.0) / sigmas)
    limit = sigmas * np.where(z < 0, down, up)
    return np.abs(z) / limit, limit


class SignedTails:
    """Streaming twin of :func:`signed_ratio`."""

    def __init__(self, sigmas: float, adaptive: bool) -> None:
        self._sigmas = sigmas
        self._adaptive = adaptive
        self._up = TailState()
        self._down = TailState()

    def limit(self, z: float) -> float:
        if not self._adaptive:
            return self._sigmas
        return self._sigmas * (self._down.limit if z < 0 else self._up.limit)

    def push(self, z: float) -> None:
        if self._adaptive:
            finite = math.isfinite(z)
            self._up.push(max(z, 0.0) / self._sigmas if finite else math.nan)
            self._down.push(max(-z, 0.0) / self._sigmas if finite else math.nan)
