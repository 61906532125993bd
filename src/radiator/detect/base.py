"""What every detector shares: results, the score scale, reasons and the NaN policy.

Every detector turns its own statistic (a z-score, a p-value, a distance past a limit) into
an anomaly score in [0, 1] with one mapping, ``ratio / (1 + ratio)`` where ``ratio`` is the
statistic divided by the detector's limit. A point is anomalous when its score is at least
``THRESHOLD`` (0.5), which is exactly where the statistic reaches its limit, so scores of
different detectors can be compared and combined.

Missing values (NaN, ±inf) never crash a detector: they score 0 and, unless a detector says
otherwise, are left out of its windows, so "the last 60 points" means the last 60 values
that arrived.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from radiator.errors import InvalidInputError

__all__ = [
    "THRESHOLD",
    "Anomaly",
    "BaseDetector",
    "DetectionResult",
    "Detector",
    "FloatArray",
    "PointScore",
    "Shared",
    "StreamingDetector",
    "describe_span",
    "ratio_to_score",
    "score_of",
]

FloatArray = npt.NDArray[np.float64]
THRESHOLD = 0.5
Shared = dict[tuple[str, int], tuple[FloatArray, ...]]


def ratio_to_score(ratio: FloatArray) -> FloatArray:
    """Map ``statistic / limit`` (≥ 0) to [0, 1): 1 → 0.5; NaN → 0."""
    r = np.nan_to_num(np.abs(ratio), nan=0.0, posinf=1e300)
    return r / (1.0 + r)


def score_of(ratio: float) -> float:
    """:func:`ratio_to_score` for one number (the same arithmetic, so the same result)."""
    r = abs(ratio)
    if r != r:
        return 0.0
    r = min(r, 1e300)
    return r / (1.0 + r)


def describe_span(points: int, step: float | None) -> str:
    """A window length for people: ``"1-hour"`` when the sampling step is known, else points."""
    if step is None or not np.isfinite(step) or step <= 0:
        return f"{points}-point"
    seconds = points * step
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 0.95 * size and abs(seconds / size - round(seconds / size)) < 0.05:
            return f"{round(seconds / size)}-{unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}-hour"
    if seconds >= 60:
        return f"{seconds / 60:.0f}-minute"
    return f"{seconds:g}-second"


@dataclass(frozen=True)
class Anomaly:
    """One flagged point: where, what value, how sure, and why."""

    index: int
    time: float | None
    value: float
    score: float
    reason: str


@dataclass(frozen=True)
class DetectionResult:
    """Scores for a whole series; reasons are built only for the points asked about."""

    detector: str
    scores: FloatArray
    values: FloatArray
    times: FloatArray | None
    explain: Callable[[int], str] = field(repr=False)
    threshold: float = THRESHOLD

    @property
    def flags(self) -> npt.NDArray[np.bool_]:
        """True where the score reaches the threshold."""
        return self.scores >= self.threshold

    def reason(self, index: int) -> str:
        """Why point ``index`` scored what it did, in words."""
        return self.explain(index)

    def anomalies(self, limit: int | None = None) -> list[Anomaly]:
        """The flagged points, first to last (at most ``limit``), each with its reason."""
        indices = np.flatnonzero(self.flags)
        if limit is not None:
            indices = indices[:limit]
        return [self._anomaly(int(i)) for i in indices]

    def _anomaly(self, i: int) -> Anomaly:
        time = None if self.times is None else float(self.times[i])
        return Anomaly(i, time, float(self.values[i]), float(self.scores[i]), self.reason(i))


@dataclass(frozen=True)
class PointScore:
    """The streaming answer for one point; the reason is worded only when asked for."""

    score: float
    explain: Callable[[], str] = field(repr=False)
    threshold: float = THRESHOLD

    @property
    def anomalous(self) -> bool:
        return self.score >= self.threshold

    @property
    def reason(self) -> str:
        return self.explain()


class StreamingDetector(Protocol):
    """Scores one point at a time in constant memory; agrees with the batch form."""

    def update(self, value: float, time: float | None = None) -> PointScore:
        """Score ``value`` against what came before, then remember it."""
        ...


class Detector(Protocol):
    """Contract of every detector: a batch ``score`` and a fresh ``stream``."""

    name: str

    def score(self, values: npt.ArrayLike, times: npt.ArrayLike | None = None) -> DetectionResult:
        """Score every point of a series; ``times`` (seconds) only shape the reasons."""
        ...

    def stream(self) -> StreamingDetector:
        """A streaming detector in its initial state."""
        ...


def _as_series(values: npt.ArrayLike, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numbers", field=name) from exc
    if array.ndim != 1:
        raise InvalidInputError(f"{name} must be one-dimensional", field=name)
    return array


def _step(times: FloatArray | None) -> float | None:
    if times is None or len(times) < 2:
        return None
    diffs = np.diff(times)
    diffs = diffs[np.isfinite(diffs) & (diffs > 0)]
    return float(np.median(diffs)) if len(diffs) else None


@dataclass(frozen=True, kw_only=True)
class BaseDetector(ABC):
    """Parameters every detector takes: the metric's ``label`` and ``unit`` for reasons."""

    label: str = "value"
    unit: str = ""
    name = "base"

    def score(self, values: npt.ArrayLike, times: npt.ArrayLike | None = None) -> DetectionResult:
        """Score every point of ``values``; see the module docstring for the scale."""
        x = _as_series(values, "values")
        t = None if times is None else _as_series(times, "times")
        if t is not None and len(t) != len(x):
            raise InvalidInputError("times and values differ in length", field="times")
        scores, explain = self._score(x, _step(t))
        return DetectionResult(self.name, scores, x, t, explain)

    def stream(self) -> StreamingDetector:
        return self._stream()

    @abstractmethod
    def _score(self, x: FloatArray, step: float | None) -> tuple[FloatArray, Callable[[int], str]]:
        """Scores and a reason-maker for a float series that may hold NaN."""

    def _score_shared(
        self, x: FloatArray, step: float | None, shared: Shared
    ) -> tuple[FloatArray, Callable[[int], str]]:
        """``_score``, reusing window statistics other detectors computed on the same ``x``
        (the ensemble passes one ``shared`` dict to all its members)."""
        return self._score(x, step)

    @abstractmethod
    def _stream(self) -> StreamingDetector: ...

    def fmt(self, value: float) -> str:
        """A value with the metric's unit, to three significant digits."""
        text = f"{value:.3g}" if abs(value) < 1e6 else f"{value:.4g}"
        return f"{text} {self.unit}" if self.unit else text


def check_positive(value: float, name: str, *, minimum: float = 0.0) -> None:
    """Raise ``InvalidInputError`` naming ``name`` unless ``value > minimum``."""
    if not np.isfinite(value) or value <= minimum:
        raise InvalidInputError(f"{name} must be greater than {minimum:g}", field=name)


def check_window(value: int, name: str, *, minimum: int = 3, maximum: int = 100_000) -> None:
    """Raise ``InvalidInputError`` naming ``name`` unless ``minimum <= value <= maximum``."""
    if not minimum <= value <= maximum:
        raise InvalidInputError(
            f"{name} must be between {minimum} and {maximum} points", field=name
        )


def sigma_reason(det: BaseDetector, z: float, what: str, limit: float, sigmas: float) -> str:
    """``"p99 latency 4.1σ above its 1-hour mean"``, plus the limit when it was widened."""
    side = "above" if z >= 0 else "below"
    text = f"{det.label} {abs(z):.1f}σ {side} {what}"
    if limit > sigmas * 1.005:
        text += f" (limit widened to {limit:.1f}σ by its usual extremes)"
    return text
