"""An ensemble that runs several detectors and combines their scores.

``combine="max"`` flags what any member flags (the best recall, the most alarms);
``"mean"`` averages the scores; ``"vote"`` takes the ``votes``-th highest score, so a point
is flagged only when that many members agree. The reason given is the reason of the member
with the highest score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from radiator.detect.base import BaseDetector, FloatArray, PointScore, StreamingDetector
from radiator.errors import InvalidInputError

__all__ = ["EnsembleDetector"]

Combine = Literal["max", "mean", "vote"]
DEFAULT_MEMBERS = ("mad", "changepoint", "seasonal")


@dataclass(frozen=True, kw_only=True)
class EnsembleDetector(BaseDetector):
    """Combine the scores of ``members`` (detector names, each with its defaults)."""

    members: tuple[str, ...] = DEFAULT_MEMBERS
    combine: Combine = "max"
    votes: int = 2
    name = "ensemble"
    _built: tuple[BaseDetector, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        from radiator.detect.registry import make_detector

        if not self.members or "ensemble" in self.members:
            raise InvalidInputError("members must name other detectors", field="members")
        if self.combine not in ("max", "mean", "vote"):
            raise InvalidInputError("combine must be max, mean or vote", field="combine")
        if self.combine == "vote" and not 1 <= self.votes <= len(self.members):
            raise InvalidInputError("votes must be between 1 and the members", field="votes")
        built = tuple(make_detector(m, label=self.label, unit=self.unit) for m in self.members)
        object.__setattr__(self, "_built", built)

    def combine_scores(self, scores: FloatArray) -> FloatArray:
        """Members' scores (members × points) to one score per point."""
        if self.combine == "max":
            return np.max(scores, axis=0)
        if self.combine == "mean":
            return np.mean(scores, axis=0)
        return np.sort(scores, axis=0)[len(self.members) - self.votes]

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        results = [m._score(x, step) for m in self._built]
        scores = np.vstack([r[0] for r in results])

        def explain(i: int) -> str:
            return results[int(np.argmax(scores[:, i]))][1](i)

        return self.combine_scores(scores), explain

    def _stream(self) -> _EnsembleStream:
        return _EnsembleStream(self, [m.stream() for m in self._built])


class _EnsembleStream:
    def __init__(self, d: EnsembleDetector, members: Sequence[StreamingDetector]) -> None:
        self._d = d
        self._members = members

    def update(self, value: float, time: float | None = None) -> PointScore:
        points = [m.update(value, time) for m in self._members]
        scores = np.array([[p.score] for p in points])
        best = points[int(np.argmax(scores[:, 0]))]
        return PointScore(float(self._d.combine_scores(scores)[0]), best.reason)
