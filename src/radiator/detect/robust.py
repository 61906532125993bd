"""Robust median/MAD test, for skewed or heavy-tailed data (latencies, counts).

The centre is the median of the trailing window; the spread is 1.4826 × the median of
the points' absolute deviations from the median that was current when each arrived (the
MAD of a stationary series, computable in one pass), falling back to 1.2533 × their mean
when more than half are zero (quantised counts). The modified z-score limit 3.5 is the
one Iglewicz and Hoaglin recommend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from radiator.detect.base import (
    BaseDetector,
    FloatArray,
    PointScore,
    Shared,
    check_positive,
    check_window,
    describe_span,
    ratio_to_score,
    score_of,
    sigma_reason,
)
from radiator.detect.rolling import (
    Compact,
    Ring,
    inclusive_mean,
    inclusive_median,
    rank_median,
    shift,
)
from radiator.detect.tails import SignedTails, signed_ratio
from radiator.detect.zscore import _StepTracker

__all__ = ["MadDetector", "MadState", "shared_median_scale", "trailing_median_scale"]

MAD_TO_SIGMA = 1.4826
MEAN_AD_TO_SIGMA = 1.2533
_TINY = 1e-9


def _scale(mad: FloatArray, mean_ad: FloatArray, center: FloatArray) -> FloatArray:
    scale = np.where(mad > 0, MAD_TO_SIGMA * mad, MEAN_AD_TO_SIGMA * mean_ad)
    return np.maximum(scale, _TINY * np.maximum(1.0, np.abs(center)))


def trailing_median_scale(x: FloatArray, w: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Median, robust σ and count of the ``w`` values before each point (no NaN in ``x``)."""
    n = len(x)
    med = shift(inclusive_median(x, w))
    dev = np.abs(x - med)[1:]  # the first point has no median before it
    mad = np.full(n, np.nan)
    mean_ad = np.full(n, np.nan)
    if n > 2:
        mad[2:] = inclusive_median(dev, w)[:-1]
        mean_ad[2:] = inclusive_mean(dev, w)[:-1]
    count = np.minimum(np.arange(n), w).astype(np.float64)
    return med, _scale(mad, mean_ad, med), count


def shared_median_scale(
    x: FloatArray, w: int, shared: Shared | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`trailing_median_scale`, computed once per ``shared`` dict."""
    if shared is None:
        return trailing_median_scale(x, w)
    key = ("median_scale", w)
    if key not in shared:
        shared[key] = trailing_median_scale(x, w)
    med, scale, count = shared[key]
    return med, scale, count


class MadState:
    """Streaming twin of :func:`trailing_median_scale` in O(window) memory."""

    def __init__(self, window: int) -> None:
        self._x = Ring(window)
        self._dev = Ring(window)

    @property
    def count(self) -> int:
        return self._x.count

    def stats(self) -> tuple[float, float]:
        """Median and robust σ of the window (NaN before two points have arrived)."""
        if self._dev.count == 0:
            return math.nan, math.nan
        med, dev = rank_median(self._x.raw()), self._dev.raw()
        scale = _scale(np.array([rank_median(dev)]), np.array([np.mean(dev)]), np.array([med]))
        return med, float(scale[0])

    def push(self, value: float) -> None:
        if self._x.count:
            self._dev.push(abs(value - rank_median(self._x.raw())))
        self._x.push(value)


@dataclass(frozen=True, kw_only=True)
class MadDetector(BaseDetector):
    """``|x − median| / robust σ ≥ sigmas`` over a trailing window."""

    window: int = 60
    sigmas: float = 3.5
    adaptive: bool = True
    name = "mad"

    def __post_init__(self) -> None:
        check_window(self.window, "window")
        check_positive(self.sigmas, "sigmas")

    @property
    def min_points(self) -> int:
        return max(3, self.window // 2)

    def z(self, xc: FloatArray, shared: Shared | None = None) -> tuple[FloatArray, FloatArray]:
        """Signed robust z-score and the median it was measured from (no NaN in ``xc``)."""
        med, scale, count = shared_median_scale(xc, self.window, shared)
        with np.errstate(invalid="ignore"):
            z = (xc - med) / scale
        z[~(count >= self.min_points)] = np.nan
        return z, med

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        return self._score_shared(x, step, {})

    def _score_shared(
        self, x: FloatArray, step: float | None, shared: Shared
    ) -> tuple[FloatArray, Callable[[int], str]]:
        c = Compact(x)
        z, med = self.z(c.values, shared)
        ratio, limit = signed_ratio(z, self.sigmas, self.adaptive)

        def explain(i: int) -> str:
            j = c.at(i)
            if j is None:
                return self._reason(math.nan, math.nan, math.nan, step)
            return self._reason(float(z[j]), float(med[j]), float(limit[j]), step)

        return c.expand(ratio_to_score(ratio), 0.0), explain

    def _reason(self, z: float, med: float, limit: float, step: float | None) -> str:
        if not math.isfinite(z):
            return "missing value or not enough history"
        what = f"its {describe_span(self.window, step)} median ({self.fmt(med)})"
        return sigma_reason(self, z, what, limit, self.sigmas)

    def _stream(self) -> _MadStream:
        return _MadStream(self)


class _MadStream:
    def __init__(self, d: MadDetector) -> None:
        self._d = d
        self._state = MadState(d.window)
        self._step = _StepTracker()
        self._tails = SignedTails(d.sigmas, d.adaptive)

    def update(self, value: float, time: float | None = None) -> PointScore:
        d, step = self._d, self._step.update(time)
        if not math.isfinite(value):
            return PointScore(0.0, lambda: d._reason(math.nan, math.nan, math.nan, step))
        z = med = math.nan
        if self._state.count >= d.min_points:
            med, scale = self._state.stats()
            z = (value - med) / scale
        self._state.push(value)
        limit = self._tails.limit(z)
        self._tails.push(z)
        score = score_of(z / limit)
        return PointScore(score, lambda: d._reason(z, med, limit, step))
