"""Change-point detection for level shifts: a robust two-window test.

At each point the median of the last ``recent`` points is compared with the median of the
``window`` points before them, in units of that reference window's robust σ and the
standard error of a difference of two medians (1.2533 σ √(1/recent + 1/window)). One spike
barely moves a median of ten, so this answers "has the level moved?" rather than "is this
point odd?", and it sees shifts too small for a point test. It is the streaming form of the
sliding-window change-point search (compare ``ruptures.Window``), with a robust cost.
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
)
from radiator.detect.robust import MadState, shared_median_scale
from radiator.detect.rolling import Compact, Ring, inclusive_median, rank_median, shift
from radiator.detect.tails import SignedTails, signed_ratio
from radiator.detect.zscore import _StepTracker
from radiator.errors import InvalidInputError

__all__ = ["ChangePointDetector"]

_MEDIAN_SE = 1.2533


@dataclass(frozen=True, kw_only=True)
class ChangePointDetector(BaseDetector):
    """``|median(recent) − median(reference)| / standard error ≥ sigmas``."""

    recent: int = 10
    window: int = 60
    sigmas: float = 4.0
    adaptive: bool = True
    name = "changepoint"

    def __post_init__(self) -> None:
        check_window(self.window, "window")
        check_window(self.recent, "recent", minimum=1, maximum=self.window)
        check_positive(self.sigmas, "sigmas")
        if self.recent > self.window:
            raise InvalidInputError("recent must not exceed window", field="recent")

    @property
    def min_points(self) -> int:
        return max(3, self.window // 2)

    @property
    def _se(self) -> float:
        return _MEDIAN_SE * math.sqrt(1.0 / self.recent + 1.0 / self.window)

    def _z(self, xc: FloatArray, shared: Shared) -> tuple[FloatArray, FloatArray, FloatArray]:
        stats = shared_median_scale(xc, self.window, shared)
        med, scale, count = (shift(a, self.recent - 1) for a in stats)
        now = inclusive_median(xc, self.recent)
        with np.errstate(invalid="ignore"):
            z = (now - med) / (scale * self._se)
        z[~(count >= self.min_points)] = np.nan
        return z, now, med

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        return self._score_shared(x, step, {})

    def _score_shared(
        self, x: FloatArray, step: float | None, shared: Shared
    ) -> tuple[FloatArray, Callable[[int], str]]:
        c = Compact(x)
        z, now, med = self._z(c.values, shared)
        ratio, limit = signed_ratio(z, self.sigmas, self.adaptive)

        def explain(i: int) -> str:
            j = c.at(i)
            if j is None:
                return self._reason(math.nan, math.nan, math.nan, math.nan, step)
            return self._reason(float(z[j]), float(now[j]), float(med[j]), float(limit[j]), step)

        return c.expand(ratio_to_score(ratio), 0.0), explain

    def _reason(self, z: float, now: float, ref: float, limit: float, step: float | None) -> str:
        if not math.isfinite(z):
            return "missing value or not enough history"
        side = "up" if z >= 0 else "down"
        span = describe_span(self.window, step)
        return (
            f"{self.label} level shifted {side}: median of the last {self.recent} points "
            f"({self.fmt(now)}) is {abs(z):.1f}σ {'above' if z >= 0 else 'below'} "
            f"the {span} median before ({self.fmt(ref)})"
        ) + (
            f" (limit widened to {limit:.1f}σ by its usual extremes)"
            if limit > self.sigmas * 1.005
            else ""
        )

    def _stream(self) -> _ChangePointStream:
        return _ChangePointStream(self)


class _ChangePointStream:
    def __init__(self, d: ChangePointDetector) -> None:
        self._d = d
        self._ref = MadState(d.window)
        self._recent = Ring(d.recent)
        self._step = _StepTracker()
        self._tails = SignedTails(d.sigmas, d.adaptive)

    def update(self, value: float, time: float | None = None) -> PointScore:
        d, step = self._d, self._step.update(time)
        if not math.isfinite(value):
            return PointScore(0.0, lambda: d._reason(math.nan, math.nan, math.nan, math.nan, step))
        if self._recent.count == d.recent:
            # The oldest recent point leaves the recent window for the reference one.
            self._ref.push(self._recent.ago(d.recent))
        self._recent.push(value)
        z = now = med = math.nan
        if self._ref.count >= d.min_points:
            med, scale = self._ref.stats()
            now = rank_median(self._recent.raw())
            z = (now - med) / (scale * d._se)
        limit = self._tails.limit(z)
        self._tails.push(z)
        score = score_of(z / limit)
        return PointScore(score, lambda: d._reason(z, now, med, limit, step))
