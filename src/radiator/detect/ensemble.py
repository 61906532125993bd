"""An ensemble that runs several detectors and combines their scores.

Before its members look at a series the ensemble removes its seasonality, as the
``seasonal`` detector does (period found with an FFT, expected value = median of the same
phase in earlier cycles), so that every member — a point test and a change-point test by
default — sees seasonal and non-seasonal metrics alike. With no period found the members
see the raw values. Members restart when the period changes.

``combine="max"`` flags what any member flags (the best recall, the most alarms);
``"mean"`` averages the scores; ``"vote"`` takes the ``votes``-th highest score, so a point
is flagged only when that many members agree. The reason given is the reason of the member
with the highest score.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from radiator.detect.base import (
    BaseDetector,
    FloatArray,
    PointScore,
    Shared,
    StreamingDetector,
    describe_span,
)
from radiator.detect.seasonal import Deseasoner, SeasonalDetector, segments
from radiator.detect.zscore import _StepTracker
from radiator.errors import InvalidInputError

__all__ = ["EnsembleDetector"]

Combine = Literal["max", "mean", "vote"]
DEFAULT_MEMBERS = ("mad", "changepoint")


@dataclass(frozen=True, kw_only=True)
class EnsembleDetector(BaseDetector):
    """Combine the scores of ``members`` (detector names, each with its defaults)."""

    members: tuple[str, ...] = DEFAULT_MEMBERS
    combine: Combine = "max"
    votes: int = 2
    deseason: bool = True
    period: int = 0
    name = "ensemble"

    def __post_init__(self) -> None:
        if not self.members or "ensemble" in self.members:
            raise InvalidInputError("members must name other detectors", field="members")
        if self.combine not in ("max", "mean", "vote"):
            raise InvalidInputError("combine must be max, mean or vote", field="combine")
        if self.combine == "vote" and not 1 <= self.votes <= len(self.members):
            raise InvalidInputError("votes must be between 1 and the members", field="votes")
        self._season()
        self._build(0, None)  # fails early on an unknown member

    def _season(self) -> SeasonalDetector:
        return SeasonalDetector(period=self.period, label=self.label, unit=self.unit)

    def _build(self, period: int, step: float | None) -> list[BaseDetector]:
        from radiator.detect.registry import make_detector

        label = self.label
        if period:
            label = f"{self.label} (less its {describe_span(period, step)} cycle)"
        try:
            return [make_detector(m, label=label, unit=self.unit) for m in self.members]
        except InvalidInputError as exc:
            raise InvalidInputError(f"members: {exc.message}", field="members") from exc

    def combine_scores(self, scores: FloatArray) -> FloatArray:
        """Members' scores (members × points) to one score per point."""
        combined: FloatArray
        if self.combine == "max":
            combined = np.max(scores, axis=0)
        elif self.combine == "mean":
            combined = np.mean(scores, axis=0)
        else:
            combined = np.sort(scores, axis=0)[len(self.members) - self.votes]
        return combined

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        if self.deseason:
            values, _, periods = self._season().residual(x)
        else:
            values, periods = x, np.zeros(len(x))
        scores = np.zeros((len(self.members), len(x)))
        starts: list[int] = []
        explains: list[list[Callable[[int], str]]] = []
        for lo, hi in segments(periods):
            starts.append(lo)
            explains.append([])
            shared: Shared = {}
            for k, member in enumerate(self._build(int(periods[lo]), step)):
                scores[k, lo:hi], why = member._score_shared(values[lo:hi], step, shared)
                explains[-1].append(why)

        def explain(i: int) -> str:
            seg = bisect.bisect_right(starts, i) - 1
            return explains[seg][int(np.argmax(scores[:, i]))](i - starts[seg])

        return self.combine_scores(scores), explain

    def _stream(self) -> _EnsembleStream:
        return _EnsembleStream(self)


class _EnsembleStream:
    def __init__(self, d: EnsembleDetector) -> None:
        self._d = d
        self._season = Deseasoner(d._season()) if d.deseason else None
        self._step = _StepTracker()
        self._members: Sequence[StreamingDetector] = [m.stream() for m in d._build(0, None)]

    def update(self, value: float, time: float | None = None) -> PointScore:
        step = self._step.update(time)
        if self._season is not None:
            value, _, changed = self._season.update(value)
            if changed:
                built = self._d._build(self._season.period, step)
                self._members = [m.stream() for m in built]
        points = [m.update(value, time) for m in self._members]
        scores = [p.score for p in points]
        best = points[scores.index(max(scores))]  # the first highest, as argmax picks
        combined = float(self._d.combine_scores(np.array(scores)[:, None])[0])
        return PointScore(combined, best.explain)
