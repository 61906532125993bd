"""What each detector flags, what it leaves alone, and how it explains itself."""

from __future__ import annotations

import numpy as np
import pytest

from radiator.detect import DETECTORS, THRESHOLD, find_period, make_detector

POINT_DETECTORS = ["zscore", "ewma", "mad", "seasonal", "ensemble"]


def _noise(n: int = 1000, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(100.0, 5.0, n)


@pytest.mark.parametrize("name", POINT_DETECTORS)
def test_a_spike_is_flagged_with_a_readable_reason(name: str) -> None:
    x = _noise()
    x[800] = 180.0
    result = make_detector(name, label="p99 latency", unit="ms").score(x, 60.0 * np.arange(1000))

    assert result.flags[800]
    assert result.scores[800] >= THRESHOLD
    reason = result.reason(800)
    assert reason.startswith("p99 latency")
    assert "σ above" in reason and "1-hour" in reason and "ms" in reason


@pytest.mark.parametrize("name", [n for n in DETECTORS if n != "threshold"])
def test_scores_stay_in_the_unit_interval_and_quiet_noise_is_mostly_quiet(name: str) -> None:
    result = make_detector(name).score(_noise(3000, seed=5))

    assert np.all((result.scores >= 0) & (result.scores <= 1))
    assert result.flags.mean() < 0.005


@pytest.mark.parametrize("name", [n for n in DETECTORS if n != "threshold"])
def test_missing_and_empty_input_do_not_crash(name: str) -> None:
    detector = make_detector(name)
    assert len(detector.score([]).scores) == 0
    all_missing = detector.score([np.nan] * 300)
    assert np.all(all_missing.scores == 0)
    assert all_missing.reason(5) == "missing value or not enough history"
    gappy = _noise(600)
    gappy[::7] = np.nan
    gappy[200:260] = np.inf
    result = detector.score(gappy)
    assert np.all(result.scores[~np.isfinite(gappy)] == 0)


def test_threshold_scores_half_at_the_limit_and_more_past_it() -> None:
    detector = make_detector("threshold", upper=100.0, label="queue depth")
    result = detector.score([50.0, 100.0, 150.0, np.nan])

    assert result.scores[0] < THRESHOLD
    assert result.scores[1] == pytest.approx(0.5)
    assert result.scores[2] > 0.5
    assert result.scores[3] == 0
    assert result.reason(2) == "queue depth 150 is above the limit 100"


def test_a_constant_metric_that_moves_is_flagged() -> None:
    x = np.zeros(200)
    x[150] = 1.0
    assert make_detector("mad").score(x).flags[150]
    assert make_detector("zscore").score(x).flags[150]


def test_adaptive_limits_quiet_heavy_tails() -> None:
    x = 50 + 3 * np.random.default_rng(2).standard_t(2, 5000)
    fixed = make_detector("mad", adaptive=False).score(x).flags.sum()
    adaptive_result = make_detector("mad").score(x)

    assert adaptive_result.flags.sum() < fixed / 3
    widened = [adaptive_result.reason(i) for i in np.flatnonzero(adaptive_result.flags)]
    assert any("limit widened" in r for r in widened)


def test_changepoint_ignores_a_single_spike_but_sees_a_small_level_shift() -> None:
    x = _noise(1000)
    x[300] = 200.0
    x[700:] += 10.0  # two σ: too small for a point test
    result = make_detector("changepoint", label="error rate").score(x)

    assert not result.flags[295:320].any()
    assert result.flags[700:720].any()
    assert not make_detector("mad").score(x).flags[700:720].any()
    first = int(np.flatnonzero(result.flags[700:])[0]) + 700
    assert "level shifted up" in result.reason(first)


def test_ks_sees_a_variance_change_that_keeps_the_mean() -> None:
    rng = np.random.default_rng(4)
    x = np.concatenate((rng.normal(0, 1, 600), rng.normal(0, 4, 200)))
    result = make_detector("ks").score(x)

    assert not result.flags[:600].any()
    assert result.flags[600:700].any()
    assert "distribution changed" in result.reason(int(np.flatnonzero(result.flags)[0]))


def test_find_period_finds_a_daily_cycle_and_nothing_in_noise() -> None:
    t = np.arange(2048)
    rng = np.random.default_rng(6)
    daily = 100 + 30 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 5, len(t))

    assert find_period(daily) == pytest.approx(288, abs=2)
    assert find_period(rng.normal(0, 1, 2048)) is None


def test_seasonal_flags_a_value_normal_for_the_day_but_not_for_the_hour() -> None:
    t = np.arange(2500)
    x = 100 + 30 * np.sin(2 * np.pi * t / 288) + np.random.default_rng(8).normal(0, 3, len(t))
    peak = 2000 + (72 - 2000 % 288) % 288  # a daily peak
    x[peak : peak + 3] = 100.0  # the daily mean, at the top of the cycle
    result = make_detector("seasonal", label="checkouts").score(x, 300.0 * t)

    assert result.flags[peak : peak + 3].any()
    assert not make_detector("mad").score(x).flags[peak : peak + 3].any()
    flagged = peak + int(np.flatnonzero(result.flags[peak : peak + 3])[0])
    assert "1 day cycle" in result.reason(flagged)


def test_ewma_smoothing_sees_a_sustained_shift_the_point_test_misses() -> None:
    x = _noise(1000, seed=2)
    x[600:] += 10.0  # 2 σ
    smoothed = make_detector("ewma", smooth=5).score(x)
    unsmoothed = make_detector("ewma", smooth=1).score(x)

    assert smoothed.flags[600:660].any()
    assert not unsmoothed.flags[600:660].any()
    assert not smoothed.flags[100:590].any()


def test_ensemble_reports_the_member_that_fired() -> None:
    x = _noise(1000)
    x[800] = 190.0
    x[900:] += 12.0
    result = make_detector("ensemble", label="latency").score(x)

    assert "σ above its" in result.reason(800)
    shift = 900 + int(np.flatnonzero(result.flags[900:])[0])
    assert any("level shifted" in result.reason(i) for i in range(shift, shift + 10))
