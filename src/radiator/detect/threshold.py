"""Static thresholds: a fixed upper and/or lower limit, the simplest useful detector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from radiator.detect.base import BaseDetector, FloatArray, PointScore, ratio_to_score
from radiator.errors import InvalidInputError

__all__ = ["ThresholdDetector"]


@dataclass(frozen=True, kw_only=True)
class ThresholdDetector(BaseDetector):
    """Flag values above ``upper`` or below ``lower``.

    The score is 0.5 exactly at a limit and grows with the distance past it, measured in
    units of the band width (or of the limit's size when only one limit is set).
    """

    upper: float | None = None
    lower: float | None = None
    name = "threshold"

    def __post_init__(self) -> None:
        if self.upper is None and self.lower is None:
            raise InvalidInputError("set upper, lower or both", field="upper")
        for field, value in (("upper", self.upper), ("lower", self.lower)):
            if value is not None and not np.isfinite(value):
                raise InvalidInputError(f"{field} must be a finite number", field=field)
        if self.upper is not None and self.lower is not None and self.lower >= self.upper:
            raise InvalidInputError("lower must be below upper", field="lower")

    def _unit(self) -> float:
        if self.upper is not None and self.lower is not None:
            return self.upper - self.lower
        limit = self.upper if self.upper is not None else self.lower
        return max(abs(float(limit or 0.0)), 1e-12)

    def _ratio(self, x: FloatArray) -> FloatArray:
        """1 at a limit, more past it, less inside (never below 0)."""
        unit = self._unit()
        over = np.full(len(x), -np.inf)
        if self.upper is not None:
            over = np.maximum(over, (x - self.upper) / unit)
        if self.lower is not None:
            over = np.maximum(over, (self.lower - x) / unit)
        return np.clip(1.0 + over, 0.0, None)

    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        scores = ratio_to_score(self._ratio(x))
        scores[~np.isfinite(x)] = 0.0
        return scores, lambda i: self._reason(float(x[i]))

    def _reason(self, value: float) -> str:
        if not np.isfinite(value):
            return "missing value"
        if self.upper is not None and value > self.upper:
            return f"{self.label} {self.fmt(value)} is above the limit {self.fmt(self.upper)}"
        if self.lower is not None and value < self.lower:
            return f"{self.label} {self.fmt(value)} is below the limit {self.fmt(self.lower)}"
        return f"{self.label} {self.fmt(value)} is within its limits"

    def _stream(self) -> _ThresholdStream:
        return _ThresholdStream(self)


class _ThresholdStream:
    def __init__(self, detector: ThresholdDetector) -> None:
        self._d = detector

    def update(self, value: float, time: float | None = None) -> PointScore:
        x = np.array([value], dtype=np.float64)
        score = 0.0 if not np.isfinite(value) else float(ratio_to_score(self._d._ratio(x))[0])
        return PointScore(score, lambda: self._d._reason(float(value)))
