"""Seasonal detector: find the period with an FFT, then test what the season does not explain.

The period is the strongest peak of the autocorrelation (computed with an FFT, after
removing a linear trend) between 4 points and half the data seen, kept only when it is
clearly periodic (autocorrelation ≥ 0.25 and ≥ 4/√pairs, which white noise does not
reach, and at least 0.25 above the trough before it).
It is re-estimated as history doubles (at 128, 256, … up to ``learn`` points) and then
fixed, so memory stays bounded and batch and streaming forms see the same periods; daily
and weekly cycles are found this way whatever the sampling step (a weekly cycle wins once
two weeks have been seen, since it explains weekdays and weekends both).

The seasonal offset at ``t`` is the median, over the last ``seasons`` cycles, of the value
at the same phase less the mean of the cycle that ended there; the deseasoned value
``x − offset`` keeps the level (a level shift stays one step, not an echo a cycle later)
and goes through the robust median/MAD test. With no period found the deseasoned value is
the value itself, so the detector degrades to ``mad``.
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
    score_of,
    sigma_reason,
)
from radiator.detect.robust import MadDetector, MadState
from radiator.detect.rolling import Ring, expand, window_sums
from radiator.detect.tails import SignedTails, signed_ratio
from radiator.detect.zscore import _StepTracker
from radiator.errors import InvalidInputError

__all__ = ["Deseasoner", "SeasonalDetector", "find_period", "segments"]

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
    # White noise gives autocorrelations of about 1/sqrt(pairs); ask for four times that.
    peaks = peaks[acf[peaks] >= np.maximum(_MIN_STRENGTH, 4.0 / np.sqrt(n - peaks))]
    if len(peaks) == 0:
        return None
    # Multiples of the period correlate about as well as the period: take the first peak
    # nearly as strong as the strongest.
    strong = peaks[acf[peaks] >= 0.9 * float(np.max(acf[peaks]))]
    return _refine(acf, int(strong[0]), n // 2)


def _refine(acf: FloatArray, rough: int, top: int) -> int:
    """Sharpen a broad peak: the period whose multiples all correlate best."""
    best, best_score = rough, -np.inf
    for period in range(
        max(_MIN_PERIOD, rough - max(2, rough // 20)), rough + max(2, rough // 20) + 1
    ):
        multiples = np.arange(period, top, period)
        if len(multiples) == 0:
            continue
        score = float(np.mean(acf[multiples]))
        if score > best_score:
            best, best_score = period, score
    return best


def segments(periods: FloatArray) -> list[tuple[int, int]]:
    """``[lo, hi)`` ranges over which the period stays the same."""
    if len(periods) == 0:
        return []
    bounds = np.flatnonzero(np.diff(periods)) + 1
    starts, ends = np.r_[0, bounds].tolist(), np.r_[bounds, len(periods)].tolist()
    return list(zip(starts, ends, strict=True))


def _checkpoints(learn: int) -> list[int]:
    points, c = [], _FIRST_CHECKPOINT
    while c <= learn:
        points.append(c)
        c *= 2
    return points


def _trailing_level(x: FloatArray, period: int) -> FloatArray:
    """Mean of the finite values among ``x[t-period+1 : t+1]`` (NaN if none)."""
    finite = np.isfinite(x)
    center = float(np.mean(x[finite])) if finite.any() else 0.0
    c1 = np.concatenate(([0.0], np.cumsum(np.where(finite, x - center, 0.0))))
    cn = np.concatenate(([0.0], np.cumsum(finite, dtype=np.float64)))
    sums, _ = window_sums(c1, len(x), period, 1)
    count, _ = window_sums(cn, len(x), period, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        level: FloatArray = np.where(count > 0, sums / count + center, np.nan)
    return level


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

    def _profile(self, x: FloatArray, periods: FloatArray) -> FloatArray:
        """The seasonal offset at every point: the median over the last ``seasons`` cycles of
        the value at the same phase less the mean of the cycle that ended there."""
        out = np.full(len(x), np.nan)
        for lo, hi in segments(periods):
            period = int(periods[lo])
            if period == 0:
                continue
            # Offsets are needed from `seasons` cycles back, each with a cycle before it.
            base = max(0, lo - (self.seasons + 1) * period + 1)
            part = x[base:hi]
            offsets = part - _trailing_level(part, period)
            lags = np.full((hi - lo, self.seasons), np.nan)
            for j in range(1, self.seasons + 1):
                start = max(lo, j * period)  # the first point with a value j cycles back
                if start < hi:
                    src = start - j * period - base
                    lags[start - lo :, j - 1] = offsets[src : src + hi - start]
            ordered = np.sort(lags, axis=1)  # NaN sort last
            count = np.sum(np.isfinite(lags), axis=1)
            pick = np.take_along_axis(ordered, (count // 2)[:, None], axis=1)[:, 0]
            out[lo:hi] = np.where(count > 0, pick, np.nan)
        return out

    def residual(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``x`` less its seasonal offset (``x`` itself where there is none yet), the offset
        and the period in force, at every point. The level stays in: a level shift is still
        a level shift after deseasoning."""
        periods = self.periods(x)
        profile = self._profile(x, periods)
        return np.where(np.isfinite(profile), x - profile, x), profile, periods

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        residual, profile, periods = self.residual(x)
        z, ratio, limit, med = (np.full(len(x), np.nan) for _ in range(4))
        # The statistics start again whenever the period changes.
        for lo, hi in segments(periods):
            part = residual[lo:hi]
            mask = np.isfinite(part)
            zc, mc = self._inner().z(part[mask])
            rc, lc = signed_ratio(zc, self.sigmas, self.adaptive)
            z[lo:hi], ratio[lo:hi], limit[lo:hi] = (
                expand(mask, zc),
                expand(mask, rc),
                expand(mask, lc),
            )
            med[lo:hi] = expand(mask, mc)
        seasonal = np.isfinite(profile)
        expected = med + np.where(seasonal, profile, 0.0)
        periods = np.where(seasonal, periods, 0)
        return ratio_to_score(ratio), lambda i: self._reason(
            float(z[i]), float(x[i]), float(expected[i]), (int(periods[i]), float(limit[i])), step
        )

    def _reason(
        self,
        z: float,
        x: float,
        expected: float,
        period_limit: tuple[int, float],
        step: float | None,
    ) -> str:
        period, limit = period_limit
        if not math.isfinite(z):
            return "missing value or not enough history"
        if period == 0:
            what = f"its {describe_span(self.window, step)} median ({self.fmt(expected)})"
            return sigma_reason(self, z, what, limit, self.sigmas)
        cycle = describe_span(period, step).replace("-", " ")
        what = f"what is usual at this point of its {cycle} cycle ({self.fmt(expected)})"
        text = sigma_reason(self, z, what, limit, self.sigmas)
        return text.replace(f"{self.label} ", f"{self.label} {self.fmt(x)} is ", 1)

    def _stream(self) -> _SeasonalStream:
        return _SeasonalStream(self)


class Deseasoner:
    """Streaming twin of :meth:`SeasonalDetector.residual`: one value in, its residual out.

    Each held value is kept with its offset from the mean of the cycle ending there (kept
    up to date with a running sum), so a point costs O(seasons), not O(period).
    """

    def __init__(self, d: SeasonalDetector) -> None:
        self._d = d
        self.period = d.period
        self._checkpoints = [] if d.period else _checkpoints(d.learn)
        self._learned: list[float] = []
        longest = d.period if d.period else d.learn // 2
        self._history = Ring((d.seasons + 1) * longest + 1)
        self._offsets = Ring((d.seasons + 1) * longest + 1)
        self._sum = 0.0
        self._count = 0
        self._n = 0

    def _relearn(self) -> bool:
        """Re-estimate at a checkpoint; True when the period changed."""
        if not self._checkpoints or self._n != self._checkpoints[0]:
            return False
        self._checkpoints.pop(0)
        found = find_period(np.array(self._learned), max_period=self._d.learn // 2) or 0
        if not self._checkpoints:
            self._learned = []  # no more estimates: free the learning buffer
        changed, self.period = found != self.period, found
        if changed and found:
            self._rebuild()
        return changed

    def _rebuild(self) -> None:
        """Offsets of the held values for a new period, and the running sums."""
        held = self._history.values()
        offsets = held - _trailing_level(held, self.period)
        self._offsets = Ring(self._offsets.size)
        for value in offsets.tolist():
            self._offsets.push(value)
        window = held[-self.period :]
        window = window[np.isfinite(window)]
        self._sum, self._count = float(np.sum(window)), len(window)

    def _push(self, value: float) -> None:
        if self.period:
            leaving = self._history.ago(self.period)
            if math.isfinite(leaving):
                self._sum -= leaving
                self._count -= 1
            if math.isfinite(value):
                self._sum += value
                self._count += 1
        self._history.push(value)
        level = self._sum / self._count if self._count else math.nan
        self._offsets.push(value - level if self.period else math.nan)

    def update(self, value: float) -> tuple[float, float, bool]:
        """The deseasoned value, the seasonal offset (NaN if none) and whether the period
        changed."""
        changed = self._relearn()
        offset = math.nan
        if self.period:
            lags = [self._offsets.ago(j * self.period) for j in range(1, self._d.seasons + 1)]
            offset = _median_of_lags(np.array(lags))
        self._push(value)
        if self._checkpoints:
            self._learned.append(value)
        self._n += 1
        return (value - offset if math.isfinite(offset) else value), offset, changed


class _SeasonalStream:
    def __init__(self, d: SeasonalDetector) -> None:
        self._d = d
        self._season = Deseasoner(d)
        self._inner = d._inner()
        self._restart()
        self._step = _StepTracker()

    def _restart(self) -> None:
        self._mad = MadState(self._d.window)
        self._tails = SignedTails(self._d.sigmas, self._d.adaptive)

    def update(self, value: float, time: float | None = None) -> PointScore:
        d, step = self._d, self._step.update(time)
        residual, profile, changed = self._season.update(value)
        if changed:
            self._restart()
        z, limit, expected = math.nan, d.sigmas, math.nan
        period = self._season.period if math.isfinite(profile) else 0
        if math.isfinite(residual):
            if self._mad.count >= self._inner.min_points:
                med, scale = self._mad.stats()
                z, expected = (residual - med) / scale, med + (profile if period else 0.0)
            self._mad.push(residual)
            limit = self._tails.limit(z)
            self._tails.push(z)
        score = score_of(z / limit)
        return PointScore(score, lambda: d._reason(z, value, expected, (period, limit), step))
