"""Seasonal detector: find the period with an FFT, then test what the season does not explain.

The period is the strongest peak of the autocorrelation (computed with an FFT, after
removing a linear trend) between 4 points and half the data seen, kept only when it is
clearly periodic (autocorrelation ≥ 0.25 and at least 0.25 above the trough before it).
It is re-estimated as history doubles (at 128, 256, … up to ``learn`` points) and then
fixed, so memory stays bounded and batch and streaming forms see the same periods; daily
and weekly cycles are found this way whatever the sampling step (a weekly cycle wins once
two weeks have been seen, since it explains weekdays and weekends both).

The expected value at ``t`` is the median of the values one, two, … ``seasons`` periods
earlier; the residual ``x − expected`` then goes through the robust median/MAD test. With
no period found the residual is the value itself, so the detector degrades to ``mad``.
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
    check_positive,
    check_window,
    describe_span,
    ratio_to_score,
    sigma_reason,
)
from radiator.detect.robust import MadDetector, MadState
from radiator.detect.rolling import Ring, expand
from radiator.detect.tails import SignedTails, signed_ratio
from radiator.detect.zscore import _StepTracker
from radiator.errors import InvalidInputError

__all__ = ["SeasonalDetector", "find_period"]

_FIRST_CHECKPOINT = 128
_MIN_PERIOD = 4
_MIN_STRENGTH = 0.25


def find_period(x: FloatArray, *, max_period: int | None = None) -> int | None:
    """The dominant period of ``x`` in points, or None when it has none worth using."""
    n = len(x)
    finite = np.isfinite(x)
    if n < 2 * _MIN_PERIOD + 2 or finite.sum() < n // 2:
        return None
    t = np.arange(n, dtype=np.float64)
    y = np.where(finite, x, 0.0)
    slope, intercept = np.polyfit(t[finite], y[finite], 1)
    y = np.where(finite, y - (slope * t + intercept), 0.0)
    spectrum = np.fft.rfft(y, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    if acf[0] <= 0:
        return None
    # Unbiased: each lag's sum over the n - k pairs it has, so long periods are not penalised.
    acf = acf / acf[0] * n / (n - np.arange(n))
    top = min(n // 2, max_period or n)
    lags = np.arange(_MIN_PERIOD, top)
    if len(lags) < 2:
        return None
    inner = acf[lags]
    peaks = lags[(inner > acf[lags - 1]) & (inner >= acf[lags + 1])]
    peaks = peaks[acf[peaks] - np.minimum.accumulate(acf)[peaks] >= _MIN_STRENGTH]
    if len(peaks) == 0 or float(np.max(acf[peaks])) < _MIN_STRENGTH:
        return None
    # Multiples of the period correlate about as well as the period: take the first peak
    # nearly as strong as the strongest.
    strong = peaks[acf[peaks] >= 0.9 * float(np.max(acf[peaks]))]
    return _refine(acf, int(strong[0]), n // 2)


def _refine(acf: FloatArray, rough: int, top: int) -> int:
    """Sharpen a broad peak: the period whose multiples all correlate best."""
    best, best_score = rough, -np.inf
    for period in range(max(_MIN_PERIOD, rough - max(2, rough // 20)), rough + max(2, rough // 20) + 1):
        multiples = np.arange(period, top, period)
        if len(multiples) == 0:
            continue
        score = float(np.mean(acf[multiples]))
        if score > best_score:
            best, best_score = period, score
    return best


def _checkpoints(learn: int) -> list[int]:
    points, c = [], _FIRST_CHECKPOINT
    while c <= learn:
        points.append(c)
        c *= 2
    return points


def _median_of_lags(values: FloatArray) -> float:
    """Rank median of the finite values (NaN if none); the same rule in batch and stream."""
    finite = np.sort(values[np.isfinite(values)])
    return float(finite[len(finite) // 2]) if len(finite) else math.nan


@dataclass(frozen=True, kw_only=True)
class SeasonalDetector(BaseDetector):
    """Robust z-score of the residual after removing the seasonal expectation."""

    period: int = 0
    seasons: int = 3
    window: int = 60
    sigmas: float = 3.5
    learn: int = 8192
    adaptive: bool = True
    name = "seasonal"

    def __post_init__(self) -> None:
        if self.period != 0:
            check_window(self.period, "period", minimum=2, maximum=self.learn)
        check_window(self.seasons, "seasons", minimum=1, maximum=12)
        check_window(self.window, "window")
        check_positive(self.sigmas, "sigmas")
        if not _FIRST_CHECKPOINT <= self.learn <= 1_000_000:
            raise InvalidInputError("learn must be between 128 and 1000000 points", field="learn")

    def _inner(self) -> MadDetector:
        return MadDetector(window=self.window, sigmas=self.sigmas, label=self.label)

    def periods(self, x: FloatArray) -> FloatArray:
        """The period in force at every point (0 = none yet)."""
        out = np.zeros(len(x))
        if self.period:
            out[:] = self.period
            return out
        for c in _checkpoints(self.learn):
            if c > len(x):
                break
            out[c:] = find_period(x[:c], max_period=self.learn // 2) or 0
        return out

    def _expected(self, x: FloatArray, periods: FloatArray) -> FloatArray:
        n, idx = len(x), np.arange(len(x))
        lags = np.full((self.seasons, n), np.nan)
        for j in range(1, self.seasons + 1):
            src = idx - j * periods.astype(np.int64)
            ok = (periods > 0) & (src >= 0)
            lags[j - 1, ok] = x[src[ok]]
        ordered = np.sort(lags, axis=0)  # NaN sort last
        count = np.sum(np.isfinite(lags), axis=0)
        pick = np.take_along_axis(ordered, (count // 2)[None, :], axis=0)[0]
        return np.where(count > 0, pick, np.nan)

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        periods = self.periods(x)
        expected = self._expected(x, periods)
        residual = np.where(np.isfinite(expected), x - expected, x)
        z, ratio, limit = (np.full(len(x), np.nan) for _ in range(3))
        # The residual's statistics start again whenever the period changes.
        bounds = np.flatnonzero(np.diff(periods)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(x)]):
            part = residual[lo:hi]
            mask = np.isfinite(part)
            zc, _ = self._inner().z(part[mask])
            rc, lc = signed_ratio(zc, self.sigmas, self.adaptive)
            z[lo:hi], ratio[lo:hi], limit[lo:hi] = expand(mask, zc), expand(mask, rc), expand(mask, lc)
        return ratio_to_score(ratio), lambda i: self._reason(
            float(z[i]), float(x[i]), float(expected[i]), (int(periods[i]), float(limit[i])), step
        )

    def _reason(
        self, z: float, x: float, expected: float, period_limit: tuple[int, float], step: float | None
    ) -> str:
        period, limit = period_limit
        if not math.isfinite(z):
            return "missing value or not enough history"
        if not math.isfinite(expected) or period == 0:
            what = f"its {describe_span(self.window, step)} median"
            return sigma_reason(self, z, what, limit, self.sigmas)
        cycle = describe_span(period, step).replace("-", " ")
        what = f"what is usual at this point of its {cycle} cycle ({self.fmt(expected)})"
        text = sigma_reason(self, z, what, limit, self.sigmas)
        return text.replace(f"{self.label} ", f"{self.label} {self.fmt(x)} is ", 1)

    def _stream(self) -> _SeasonalStream:
        return _SeasonalStream(self)


class _SeasonalStream:
    def __init__(self, d: SeasonalDetector) -> None:
        self._d = d
        self._period = d.period
        self._checkpoints = [] if d.period else _checkpoints(d.learn)
        self._learned: list[float] = []
        longest = d.period if d.period else d.learn // 2
        self._history = Ring(d.seasons * longest + 1)
        self._mad = MadState(d.window)
        self._inner = d._inner()
        self._n = 0
        self._step = _StepTracker()
        self._tails = SignedTails(d.sigmas, d.adaptive)

    def _relearn(self) -> None:
        if self._checkpoints and self._n == self._checkpoints[0]:
            self._checkpoints.pop(0)
            found = find_period(np.array(self._learned), max_period=self._d.learn // 2) or 0
            if found != self._period:
                self._period = found
                self._mad = MadState(self._d.window)
                self._tails = SignedTails(self._d.sigmas, self._d.adaptive)
            if not self._checkpoints:
                self._learned = []  # no more estimates: free the learning buffer

    def update(self, value: float, time: float | None = None) -> PointScore:
        d, step = self._d, self._step.update(time)
        self._relearn()
        period, expected = self._period, math.nan
        if period:
            lags = [self._history.ago(j * period) for j in range(1, d.seasons + 1)]
            expected = _median_of_lags(np.array(lags))
        self._history.push(value)
        if self._checkpoints:
            self._learned.append(value)
        self._n += 1
        residual = value - expected if math.isfinite(expected) else value
        z, limit = math.nan, d.sigmas
        if math.isfinite(residual):
            if self._mad.count >= self._inner.min_points:
                med, scale = self._mad.stats()
                z = (residual - med) / scale
            self._mad.push(residual)
            limit = self._tails.limit(z)
            self._tails.push(z)
        score = float(ratio_to_score(np.array([z / limit]))[0])
        return PointScore(score, d._reason(z, value, expected, (period, limit), step))
