"""The per-interval state of one StatsD timer, histogram or distribution series.

Count and sum are corrected for the sample rate; min and max are exact. Percentiles are
nearest-rank (the smallest value with at least ``q`` of the samples at or below it) and
exact for the first ``EXACT_SAMPLES`` samples of an interval. Past that, the samples move
into a logarithmic sketch whose buckets are 2% wide, so a percentile is within 1% of the
true value (for magnitudes between 1e-9 and 1e15; smaller ones count as zero, larger ones
as 1e15) and memory per series stays bounded however many samples arrive.
"""

from __future__ import annotations

import math
from array import array

__all__ = ["EXACT_SAMPLES", "QUANTILES", "TimerSummary"]

EXACT_SAMPLES = 512
QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99))
_GAMMA = 1.02  # bucket i holds (gamma**(i-1), gamma**i]; the midpoint is within 1%
_INV_LOG_GAMMA = 1.0 / math.log(_GAMMA)
_SMALLEST = 1e-9
_LARGEST = 1e15


def _bucket(magnitude: float) -> int:
    return math.ceil(math.log(min(magnitude, _LARGEST)) * _INV_LOG_GAMMA)


def _bucket_value(index: int) -> float:
    return 2.0 * _GAMMA**index / (_GAMMA + 1.0)


class TimerSummary:
    """Count, sum, min, max and percentiles of the samples added in one interval."""

    __slots__ = ("count", "max", "min", "n", "negative", "positive", "samples", "sum", "zeros")

    def __init__(self) -> None:
        self.count = 0.0  # corrected for the sample rate
        self.sum = 0.0  # corrected for the sample rate
        self.min = math.inf
        self.max = -math.inf
        self.n = 0  # samples actually received
        self.samples: array[float] | None = array("d")
        self.positive: dict[int, int] = {}
        self.negative: dict[int, int] = {}
        self.zeros = 0

    def add(self, values: tuple[float, ...], rate: float) -> None:
        count = len(values)
        total = sum(values) if count > 1 else values[0]  # fsum would raise on overflow
        self.count += count / rate
        self.sum += total / rate
        low = min(values) if count > 1 else total
        high = max(values) if count > 1 else total
        if low < self.min:
            self.min = low
        if high > self.max:
            self.max = high
        self.n += count
        samples = self.samples
        if samples is not None:
            samples.extend(values)
            if len(samples) > EXACT_SAMPLES:
                self.samples = None
                self._sketch(samples)
        else:
            self._sketch(values)

    def _sketch(self, values: array[float] | tuple[float, ...]) -> None:
        positive, negative = self.positive, self.negative
        for value in values:
            if value >= _SMALLEST:
                index = _bucket(value)
                positive[index] = positive.get(index, 0) + 1
            elif value <= -_SMALLEST:
                index = _bucket(-value)
                negative[index] = negative.get(index, 0) + 1
            else:
                self.zeros += 1

    def quantiles(self) -> dict[str, float]:
        """``{"p50": …, "p90": …, "p95": …, "p99": …}`` of the samples so far."""
        if self.n == 0:
            return {}
        ranks = [(label, max(1, math.ceil(q * self.n))) for label, q in QUANTILES]
        if self.samples is not None:
            ordered = sorted(self.samples)
            return {label: ordered[rank - 1] for label, rank in ranks}
        out: dict[str, float] = {}
        pending = iter(ranks)
        label, rank = next(pending)
        seen = 0
        for value, weight in self._buckets():
            seen += weight
            while seen >= rank:
                out[label] = min(max(value, self.min), self.max)
                step = next(pending, None)
                if step is None:
                    return out
                label, rank = step
        return out  # pragma: no cover - the buckets always hold n samples

    def _buckets(self) -> list[tuple[float, int]]:
        ordered = [(-_bucket_value(i), c) for i, c in sorted(self.negative.items(), reverse=True)]
        if self.zeros:
            ordered.append((0.0, self.zeros))
        ordered.extend((_bucket_value(i), c) for i, c in sorted(self.positive.items()))
        return ordered
