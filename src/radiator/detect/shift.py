"""Distribution shift: two-sample Kolmogorov–Smirnov test, recent window vs reference.

At each point the last ``recent`` values are compared with the ``reference`` values before
them. The KS statistic D is the largest gap between the two empirical distribution
functions (ties handled), the p-value the asymptotic Kolmogorov distribution with Stephens'
small-sample correction. The score reaches 0.5 when p falls to ``alpha``; because the test
runs at every point on overlapping windows, ``alpha`` is far below the usual 0.05.
It sees changes of shape or spread that leave the mean alone (a variance change, a
bimodal latency) but needs ``recent`` points to do so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.stats import kstwobign

from radiator.detect.base import (
    BaseDetector,
    FloatArray,
    PointScore,
    check_window,
    ratio_to_score,
    score_of,
)
from radiator.detect.rolling import Ring, expand, rank_median
from radiator.detect.tails import TailState, tail_limits
from radiator.errors import InvalidInputError

__all__ = ["KsDetector", "ks_statistic"]

_CHUNK = 16384


def ks_statistic(rows: FloatArray, reference: int) -> FloatArray:
    """D between the first ``reference`` columns and the rest, for every row of ``rows``."""
    m = rows.shape[1] - reference
    order = np.argsort(rows, axis=1, kind="stable")
    values = np.take_along_axis(rows, order, axis=1)
    is_recent = order >= reference
    gap = np.cumsum(is_recent, axis=1) / m - np.cumsum(~is_recent, axis=1) / reference
    # Only where the next value differs is the gap a gap between the two ECDFs.
    last_of_tie = np.ones_like(is_recent)
    last_of_tie[:, :-1] = values[:, 1:] != values[:, :-1]
    d: FloatArray = np.max(np.abs(gap) * last_of_tie, axis=1)
    return d


@dataclass(frozen=True, kw_only=True)
class KsDetector(BaseDetector):
    """Two-sample KS test of the last ``recent`` points against the ``reference`` before."""

    recent: int = 30
    reference: int = 120
    alpha: float = 1e-4
    adaptive: bool = True
    name = "ks"

    def __post_init__(self) -> None:
        check_window(self.recent, "recent", minimum=5, maximum=10_000)
        check_window(self.reference, "reference", minimum=5, maximum=10_000)
        if not 0.0 < self.alpha < 0.5:
            raise InvalidInputError("alpha must be between 0 and 0.5", field="alpha")

    def _log_p(self, d: FloatArray) -> FloatArray:
        en = self.recent * self.reference / (self.recent + self.reference)
        lam = (math.sqrt(en) + 0.12 + 0.11 / math.sqrt(en)) * d
        return np.asarray(kstwobign.logsf(lam), dtype=np.float64)

    def _ratio(self, d: FloatArray) -> FloatArray:
        return self._log_p(d) / math.log(self.alpha)

    def _d(self, xc: FloatArray) -> FloatArray:
        size = self.recent + self.reference
        out = np.full(len(xc), np.nan)
        if len(xc) < size:
            return out
        rows = sliding_window_view(xc, size)
        for start in range(0, len(rows), _CHUNK):
            block = rows[start : start + _CHUNK]
            out[start + size - 1 : start + size - 1 + len(block)] = ks_statistic(
                block, self.reference
            )
        return out

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        mask = np.isfinite(x)
        xc = x[mask]
        dc = self._d(xc)
        ratio = self._ratio(dc)
        if self.adaptive:
            ratio = ratio / tail_limits(ratio)
        d = expand(mask, dc)
        positions = np.cumsum(mask) - 1  # index into xc of each finite point

        def explain(i: int) -> str:
            if not np.isfinite(d[i]):
                return self._reason(math.nan, math.nan, math.nan)
            j = int(positions[i]) + 1
            window = xc[j - self.recent - self.reference : j]
            return self._reason_for(float(d[i]), window)

        return ratio_to_score(expand(mask, ratio)), explain

    def _reason_for(self, d: float, window: FloatArray) -> str:
        ref = rank_median(window[: self.reference])
        now = rank_median(window[self.reference :])
        return self._reason(d, now, ref)

    def _reason(self, d: float, now: float, ref: float) -> str:
        if not math.isfinite(d):
            return "missing value or not enough history"
        p = math.exp(float(self._log_p(np.array([d]))[0]))
        return (
            f"{self.label} distribution changed: last {self.recent} points differ from the "
            f"{self.reference} before (KS D={d:.2f}, p={p:.1g}; median {self.fmt(now)} "
            f"vs {self.fmt(ref)})"
        )

    def _stream(self) -> _KsStream:
        return _KsStream(self)


class _KsStream:
    def __init__(self, d: KsDetector) -> None:
        self._d = d
        self._ring = Ring(d.recent + d.reference)
        self._tails = TailState()

    def update(self, value: float, time: float | None = None) -> PointScore:
        d = self._d
        if not math.isfinite(value):
            return PointScore(0.0, lambda: d._reason(math.nan, math.nan, math.nan))
        self._ring.push(value)
        if self._ring.count < d.recent + d.reference:
            self._tails.push(math.nan)
            return PointScore(0.0, lambda: d._reason(math.nan, math.nan, math.nan))
        window = self._ring.values()
        stat = ks_statistic(window[None, :], d.reference)
        ratio = float(d._ratio(stat)[0])
        limit = self._tails.limit if d.adaptive else 1.0
        self._tails.push(ratio)
        score = score_of(ratio / limit)
        return PointScore(score, lambda: d._reason_for(float(stat[0]), window))
