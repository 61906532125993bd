"""Seeded, labelled series for the evaluation harness.

Each series is a baseline (what normal looks like) with anomalies of one kind injected at
known places; ``windows`` holds their ``[start, end)`` index ranges. Baselines cover the
shapes real metrics have: Gaussian noise, lognormal latencies, Poisson and bursty
(overdispersed, autocorrelated) counts, heavy tails (Student t, 3 degrees of freedom) and
daily and weekly seasonality. Every series also misses 0.5 % of its points at random
(NaN, not labelled): detectors must cope, not alarm.

Anomaly sizes are in units of the baseline's noise spread and drawn from ranges, so the
suite has easy and hard cases; nothing here is tuned to a detector. The spread is the
99.9th-percentile absolute deviation / 3.29, which is σ for Gaussian noise and larger for
heavy tails, so that a "6σ spike" is outside what the baseline does on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np

from radiator.detect.base import FloatArray

__all__ = [
    "ANOMALY_KINDS",
    "BASELINES",
    "LabelledSeries",
    "generate_series",
    "generate_suite",
]

Baseline = Literal["gaussian", "lognormal", "poisson", "bursty", "heavy_tail", "daily", "weekly"]
Kind = Literal[
    "spike", "dip", "level_shift", "trend_drift", "variance_change", "seasonality_break", "dropout"
]
BASELINES: tuple[Baseline, ...] = (
    "gaussian",
    "lognormal",
    "poisson",
    "bursty",
    "heavy_tail",
    "daily",
    "weekly",
)
ANOMALY_KINDS: tuple[Kind, ...] = (
    "spike",
    "dip",
    "level_shift",
    "trend_drift",
    "variance_change",
    "seasonality_break",
    "dropout",
)
SEASONAL: frozenset[str] = frozenset({"daily", "weekly"})
LENGTH = 4032
_STEP = {"weekly": 900.0}  # seconds between points; 300 s (5 minutes) otherwise
_DAY = 86400.0
_Rng = np.random.Generator


@dataclass(frozen=True)
class LabelledSeries:
    """A generated series and where its anomalies are."""

    name: str
    baseline: str
    kind: str
    values: FloatArray
    times: FloatArray
    windows: tuple[tuple[int, int], ...]


@dataclass
class _Parts:
    """``expected + noise`` before anomalies; ``cycle`` is the seasonal part of expected."""

    expected: FloatArray
    noise: FloatArray
    cycle: FloatArray
    floor: float | None  # values cannot go below this (counts, latencies)
    sigma: float


def _ar1(rng: _Rng, n: int, phi: float, sd: float) -> FloatArray:
    eps = rng.normal(0.0, sd * np.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + eps[i]
    return out


def _flat(n: int, level: float) -> tuple[FloatArray, FloatArray]:
    return np.full(n, level), np.zeros(n)


def _baseline(kind: str, rng: _Rng, t: FloatArray) -> _Parts:
    n = len(t)
    if kind == "gaussian":
        exp, cyc = _flat(n, 100.0)
        return _Parts(exp, rng.normal(0, 5, n), cyc, None, 5.0)
    if kind == "lognormal":
        values = np.exp(rng.normal(np.log(120.0), 0.35, n))
        exp, cyc = _flat(n, float(np.median(values)))
        return _Parts(exp, values - exp, cyc, 0.0, 120.0 * 0.35)
    if kind == "poisson":
        exp, cyc = _flat(n, 20.0)
        return _Parts(exp, rng.poisson(20.0, n) - exp, cyc, 0.0, np.sqrt(20.0))
    if kind == "bursty":
        rate = 20.0 * np.exp(_ar1(rng, n, 0.9, 0.3))
        exp, cyc = _flat(n, 20.0)
        return _Parts(exp, rng.poisson(rate) - exp, cyc, 0.0, 20.0 * 0.3)
    if kind == "heavy_tail":
        exp, cyc = _flat(n, 50.0)
        return _Parts(exp, 3.0 * rng.standard_t(3, n), cyc, None, 3.0)
    return _seasonal(kind, rng, t)


def _seasonal(kind: str, rng: _Rng, t: FloatArray) -> _Parts:
    day = 2 * np.pi * t / _DAY
    shape = 0.5 * np.sin(day - np.pi / 2) + 0.15 * np.sin(2 * day)
    if kind == "daily":
        cycle = 30.0 * shape / 0.5
        return _Parts(100.0 + cycle, rng.normal(0, 5, len(t)), cycle, None, 5.0)
    weekend = ((t // _DAY) % 7) >= 5
    rate = 50.0 * (1.0 + shape) * np.where(weekend, 0.55, 1.0)
    noise = rng.poisson(rate) - rate
    return _Parts(rate, noise, rate - 50.0, 0.0, float(np.sqrt(50.0)))


def _spread(noise: FloatArray) -> float:
    """The noise's σ as its 99.9th-percentile deviation / 3.29 (equal to σ when Gaussian):
    anomalies measured in it lie beyond the baseline's normal extremes, heavy tails or not."""
    return float(np.percentile(np.abs(noise - np.median(noise)), 99.9) / 3.29)


def _windows(rng: _Rng, n: int, count: int, longest: int) -> list[int]:
    """Starts of ``count`` anomalies after a warm-up, well apart from each other."""
    start, end = n * 3 // 8, n - longest - 50
    slots = np.linspace(start, end, count + 1).astype(int)
    return [int(rng.integers(a, max(a + 1, b - longest))) for a, b in pairwise(slots.tolist())]


_Inject = Callable[[_Parts, FloatArray, _Rng, int, int], int]


def _spike(p: _Parts, x: FloatArray, rng: _Rng, s: int, sign: int) -> int:
    length = int(rng.integers(1, 4))
    x[s : s + length] += sign * rng.uniform(6, 12) * p.sigma
    return length


def _level_shift(p: _Parts, x: FloatArray, rng: _Rng, s: int, sign: int) -> int:
    x[s:] += sign * rng.uniform(3, 6) * p.sigma
    return 60


def _trend_drift(p: _Parts, x: FloatArray, rng: _Rng, s: int, sign: int) -> int:
    length = int(rng.integers(100, 200))
    size = sign * rng.uniform(6, 10) * p.sigma
    x[s : s + length] += np.linspace(0, size, length)
    x[s + length :] += size
    return length


def _variance_change(p: _Parts, x: FloatArray, rng: _Rng, s: int, sign: int) -> int:
    length = int(rng.integers(100, 200))
    x[s : s + length] += (rng.uniform(3, 5) - 1) * p.noise[s : s + length]
    return length


def _seasonality_break(p: _Parts, x: FloatArray, rng: _Rng, s: int, sign: int) -> int:
    length = int(rng.integers(60, 150))
    # The daily pattern stops: the value stays at the day's average (a stuck or broken cycle).
    x[s : s + length] -= p.cycle[s : s + length] - float(np.mean(p.cycle))
    return length


def _dropout(p: _Parts, x: FloatArray, rng: _Rng, s: int, sign: int) -> int:
    length = int(rng.integers(10, 30))
    x[s : s + length] = 0.0
    gaps = rng.random(length) < 0.3
    x[s : s + length][gaps] = np.nan
    return length


_INJECT: dict[str, _Inject] = {
    "spike": lambda p, x, rng, s, sign: _spike(p, x, rng, s, 1),
    "dip": lambda p, x, rng, s, sign: _spike(p, x, rng, s, -1),
    "level_shift": _level_shift,
    "trend_drift": _trend_drift,
    "variance_change": _variance_change,
    "seasonality_break": _seasonality_break,
    "dropout": _dropout,
}


def generate_series(baseline: str, kind: str, seed: int, *, length: int = LENGTH) -> LabelledSeries:
    """One labelled series: ``baseline`` noise with 1–3 anomalies of ``kind``."""
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64) * _STEP.get(baseline, 300.0) + 1.7e9
    parts = _baseline(baseline, rng, t)
    parts.sigma = _spread(parts.noise)
    x = parts.expected + parts.noise
    # Level shifts and drifts are permanent, so one per series keeps them separate.
    count = 1 if kind in ("level_shift", "trend_drift") else int(rng.integers(2, 4))
    windows = []
    for s in _windows(rng, length, count, 200):
        sign = 1 if rng.random() < 0.5 else -1
        windows.append((s, s + _INJECT[kind](parts, x, rng, s, sign)))
    if parts.floor is not None:
        x = np.maximum(x, parts.floor)
    x[rng.random(length) < 0.005] = np.nan
    return LabelledSeries(f"{baseline}/{kind}/{seed}", baseline, kind, x, t, tuple(windows))


def generate_suite(
    seed: int = 1, *, per_case: int = 3, length: int = LENGTH
) -> list[LabelledSeries]:
    """``per_case`` series for every baseline and anomaly kind (seasonality breaks only
    on seasonal baselines)."""
    suite = []
    for b, baseline in enumerate(BASELINES):
        for k, kind in enumerate(ANOMALY_KINDS):
            if kind == "seasonality_break" and baseline not in SEASONAL:
                continue
            for r in range(per_case):
                case_seed = seed * 1_000_003 + (b * 100 + k) * 1000 + r
                suite.append(generate_series(baseline, kind, case_seed, length=length))
    return suite
