"""Every detector's streaming form gives the batch form's scores and reasons, point by point."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from radiator.detect import DETECTORS, BaseDetector, make_detector


def _series() -> tuple[np.ndarray, np.ndarray]:
    """Lognormal noise on a 48-point cycle, a spike, a level shift and missing values."""
    rng = np.random.default_rng(11)
    n = 1200
    t = np.arange(n, dtype=np.float64)
    x = 100 + 20 * np.sin(2 * np.pi * t / 48) + rng.lognormal(0, 0.5, n) * 5
    x[700] += 150
    x[900:] += 40
    x[rng.random(n) < 0.02] = np.nan
    x[400:410] = np.nan
    return x, 1.7e9 + 60.0 * t


def _detector(name: str) -> BaseDetector:
    if name == "threshold":
        return make_detector(name, upper=160.0, lower=60.0, label="p99 latency", unit="ms")
    return make_detector(name, label="p99 latency", unit="ms")


@pytest.mark.parametrize("name", DETECTORS)
def test_streaming_scores_and_reasons_match_batch(name: str) -> None:
    x, t = _series()
    detector = _detector(name)
    batch = detector.score(x, t)
    stream = detector.stream()
    points = [stream.update(float(v), float(s)) for v, s in zip(x, t, strict=True)]

    streamed = np.array([p.score for p in points])
    np.testing.assert_allclose(streamed, batch.scores, rtol=0, atol=1e-9)
    flagged = batch.anomalies()
    assert flagged, f"{name} flagged nothing on a series with a spike and a shift"
    assert [points[a.index].reason for a in flagged] == [a.reason for a in flagged]
    assert all(points[a.index].anomalous for a in flagged)


@pytest.mark.parametrize("name", ["seasonal", "ensemble"])
def test_a_found_period_is_the_same_in_both_forms(name: str) -> None:
    x, t = _series()
    detector = make_detector(name)
    batch = detector.score(x, t)
    stream = detector.stream()
    streamed = np.array(
        [stream.update(float(v), float(s)).score for v, s in zip(x, t, strict=True)]
    )

    np.testing.assert_allclose(streamed, batch.scores, rtol=0, atol=1e-9)
    assert "cycle" in " ".join(batch.reason(i) for i in range(800, 1200))


@pytest.mark.parametrize(
    ("name", "params", "warmup"),
    [
        ("ensemble", {"period": 96}, 1_000),
        ("seasonal", {"learn": 1024}, 1_500),  # past its last period estimate
        ("ks", {}, 500),
    ],
)
def test_streaming_memory_stays_bounded(name: str, params: dict[str, int], warmup: int) -> None:
    rng = np.random.default_rng(1)
    stream = make_detector(name, **params).stream()
    n = warmup + 3_000
    values = (100 + 20 * np.sin(np.arange(n) * 2 * np.pi / 96) + rng.normal(0, 3, n)).tolist()
    for v in values[:warmup]:
        stream.update(v, None)
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.take_snapshot()
        for v in values[warmup:]:
            stream.update(v, None)
        gc.collect()  # SciPy's distribution code leaves short-lived reference cycles
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < 32 * 1024, f"{name} grew by {grown} bytes over 3,000 points"
