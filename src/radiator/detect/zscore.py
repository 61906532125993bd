"""Mean and standard deviation tests: a trailing-window z-score and an EWMA control chart.

Both can smooth before testing: ``zscore`` compares the mean of the last ``smooth`` points
with the window before them, ``ewma`` compares an exponentially smoothed value with an
exponentially weighted mean and variance. Smoothing trades a little delay for seeing
smaller sustained changes through the noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

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
from radiator.detect.rolling import Compact, Ring, inclusive_mean, shift, trailing_mean_std
from radiator.detect.tails import SignedTails, signed_ratio

__all__ = ["EwmaDetector", "ZScoreDetector"]

_TINY = 1e-9


def _floor(scale: FloatArray, center: FloatArray) -> FloatArray:
    """A zero spread (a constant window) still gives finite z-scores."""
    return np.maximum(scale, _TINY * np.maximum(1.0, np.abs(center)))


@dataclass(frozen=True, kw_only=True)
class ZScoreDetector(BaseDetector):
    """``(mean of last smooth points − window mean) / (window σ / √smooth) ≥ sigmas``."""

    window: int = 60
    sigmas: float = 3.0
    smooth: int = 1
    adaptive: bool = True
    name = "zscore"

    def __post_init__(self) -> None:
        check_window(self.window, "window")
        check_positive(self.sigmas, "sigmas")
        check_window(self.smooth, "smooth", minimum=1, maximum=self.window)

    @property
    def min_points(self) -> int:
        return max(3, self.window // 2)

    def _z(self, xc: FloatArray) -> tuple[FloatArray, FloatArray]:
        mean, std, count = (shift(a, self.smooth - 1) for a in trailing_mean_std(xc, self.window))
        recent = inclusive_mean(xc, self.smooth)
        with np.errstate(invalid="ignore"):
            z = (recent - mean) / (_floor(std, mean) / math.sqrt(self.smooth))
        z[~(count >= self.min_points)] = np.nan
        return z, mean

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        c = Compact(x)
        z, mean = self._z(c.values)
        ratio, limit = signed_ratio(z, self.sigmas, self.adaptive)

        def explain(i: int) -> str:
            j = c.at(i)
            if j is None:
                return self._reason(math.nan, math.nan, math.nan, step)
            return self._reason(float(z[j]), float(mean[j]), float(limit[j]), step)

        return c.expand(ratio_to_score(ratio), 0.0), explain

    def _reason(self, z: float, mean: float, limit: float, step: float | None) -> str:
        if not np.isfinite(z):
            return "missing value or not enough history"
        what = f"its {describe_span(self.window, step)} mean ({self.fmt(mean)})"
        text = sigma_reason(self, z, what, limit, self.sigmas)
        if self.smooth > 1:
            text = text.replace(self.label, f"{self.label} ({self.smooth}-point average)", 1)
        return text

    def _stream(self) -> _ZScoreStream:
        return _ZScoreStream(self)


class _ZScoreStream:
    def __init__(self, d: ZScoreDetector) -> None:
        self._d = d
        self._ring = Ring(d.window + d.smooth - 1)
        self._step = _StepTracker()
        self._tails = SignedTails(d.sigmas, d.adaptive)

    def update(self, value: float, time: float | None = None) -> PointScore:
        step = self._step.update(time)
        if not math.isfinite(value):
            return PointScore(0.0, lambda: self._d._reason(math.nan, math.nan, math.nan, step))
        d, prev = self._d, self._ring.values()
        split = max(0, len(prev) - (d.smooth - 1))
        ref, recent = prev[max(0, split - d.window) : split], prev[split:]
        z = mean = math.nan
        if len(ref) >= d.min_points:
            mean = float(np.mean(ref))
            std = _floor(np.array([np.std(ref, ddof=1)]), np.array([mean]))[0]
            avg = (float(np.sum(recent)) + value) / (len(recent) + 1)
            z = (avg - mean) / (std / math.sqrt(d.smooth))
        self._ring.push(value)
        limit = self._tails.limit(z)
        self._tails.push(z)
        score = score_of(z / limit)
        return PointScore(score, lambda: d._reason(z, mean, limit, step))


class _StepTracker:
    """The median of recent time steps, for reasons (``"1-hour mean"``)."""

    def __init__(self) -> None:
        self._last: float | None = None
        self._steps = Ring(16)
        self._median: float | None = None

    def update(self, time: float | None) -> float | None:
        if time is not None and math.isfinite(time):
            if self._last is not None and time > self._last:
                step = time - self._last
                full = self._steps.count == 16
                # Regular sampling replaces a step by an equal one: the median stays.
                if not (full and self._steps.ago(16) == step):
                    self._steps.push(step)
                    self._median = float(np.median(self._steps.raw()))
                else:
                    self._steps.push(step)
            self._last = time
        return self._median


@dataclass(frozen=True, kw_only=True)
class EwmaDetector(BaseDetector):
    """EWMA chart: smoothed value vs the exponentially weighted mean and σ before it.

    ``span`` sets the baseline's memory (alpha = 2 / (span + 1)); ``smooth`` the span of the
    smoothing applied to the tested value (1 = none). The smoothed value's σ is scaled by
    √(λ / (2 − λ)), the textbook EWMA control-chart limit.
    """

    span: int = 60
    smooth: int = 3
    sigmas: float = 3.0
    adaptive: bool = True
    name = "ewma"

    def __post_init__(self) -> None:
        check_window(self.span, "span", minimum=2)
        check_window(self.smooth, "smooth", minimum=1, maximum=self.span)
        check_positive(self.sigmas, "sigmas")

    @property
    def _alpha(self) -> float:
        return 2.0 / (self.span + 1)

    @property
    def _lam(self) -> float:
        return 2.0 / (self.smooth + 1)

    @property
    def _factor(self) -> float:
        return math.sqrt(self._lam / (2.0 - self._lam))

    def _z(self, xc: FloatArray) -> tuple[FloatArray, FloatArray]:
        n, a, lam = len(xc), self._alpha, self._lam
        if n == 0:
            return np.empty(0), np.empty(0)
        x0 = float(xc[0])
        mean = lfilter([a], [1.0, a - 1.0], xc, zi=[(1.0 - a) * x0])[0]
        err = np.concatenate(([0.0], xc[1:] - mean[:-1]))
        var = lfilter([(1.0 - a) * a], [1.0, a - 1.0], err * err)
        smooth = lfilter([lam], [1.0, lam - 1.0], xc, zi=[(1.0 - lam) * x0])[0]
        prev_mean, prev_sd = shift(mean), np.sqrt(shift(var))
        with np.errstate(invalid="ignore"):
            z = (smooth - prev_mean) / (_floor(prev_sd, prev_mean) * self._factor)
        z[: max(3, self.span // 2)] = np.nan
        return z, prev_mean

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        c = Compact(x)
        z, mean = self._z(c.values)
        ratio, limit = signed_ratio(z, self.sigmas, self.adaptive)

        def explain(i: int) -> str:
            j = c.at(i)
            if j is None:
                return self._reason(math.nan, math.nan, math.nan, step)
            return self._reason(float(z[j]), float(mean[j]), float(limit[j]), step)

        return c.expand(ratio_to_score(ratio), 0.0), explain

    def _reason(self, z: float, mean: float, limit: float, step: float | None) -> str:
        if not np.isfinite(z):
            return "missing value or not enough history"
        span = describe_span(self.span, step)
        what = f"its {span} moving average ({self.fmt(mean)})"
        return sigma_reason(self, z, what, limit, self.sigmas)

    def _stream(self) -> _EwmaStream:
        return _EwmaStream(self)


class _EwmaStream:
    def __init__(self, d: EwmaDetector) -> None:
        self._d = d
        self._n = 0
        self._mean = self._var = self._smooth = 0.0
        self._step = _StepTracker()
        self._tails = SignedTails(d.sigmas, d.adaptive)

    def update(self, value: float, time: float | None = None) -> PointScore:
        d, step = self._d, self._step.update(time)
        if not math.isfinite(value):
            return PointScore(0.0, lambda: d._reason(math.nan, math.nan, math.nan, step))
        a, lam = d._alpha, d._lam
        if self._n == 0:
            self._mean = self._smooth = value
        prev_mean, prev_var = self._mean, self._var
        self._smooth = (1.0 - lam) * self._smooth + lam * value
        err = value - prev_mean if self._n else 0.0
        self._mean = (1.0 - a) * prev_mean + a * value
        self._var = (1.0 - a) * prev_var + (1.0 - a) * a * err * err
        self._n += 1
        z = mean = math.nan
        if self._n > max(3, d.span // 2):
            sd = _floor(np.array([math.sqrt(prev_var)]), np.array([prev_mean]))[0]
            z, mean = (self._smooth - prev_mean) / (sd * d._factor), prev_mean
        limit = self._tails.limit(z)
        self._tails.push(z)
        score = score_of(z / limit)
        return PointScore(score, lambda: d._reason(z, mean, limit, step))
