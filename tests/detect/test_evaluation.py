"""The evaluation harness: event scoring, the generated suite and detector quality on it."""

from __future__ import annotations

import numpy as np
import pytest

from radiator.detect import DEFAULT_DETECTOR, DETECTORS
from radiator.detect.evaluation import (
    count_events,
    evaluate,
    report_markdown,
    standard_detectors,
)
from radiator.detect.synthetic import (
    ANOMALY_KINDS,
    BASELINES,
    LabelledSeries,
    generate_series,
    generate_suite,
)


def _flags(n: int, *indices: int) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[list(indices)] = True
    return flags


def test_an_alarm_in_a_window_detects_it_with_its_delay() -> None:
    counts = count_events(_flags(1000, 503, 504, 505), [(500, 510)], probation=0)

    assert (counts.detected, counts.windows, counts.alarms, counts.true_alarms) == (1, 1, 1, 1)
    assert counts.delays == [3]


def test_an_alarm_just_after_the_window_still_counts_later_ones_do_not() -> None:
    late = count_events(_flags(1000, 515), [(500, 510)], probation=0)
    too_late = count_events(_flags(1000, 530), [(500, 510)], probation=0)

    assert late.detected == 1 and late.true_alarms == 1
    assert too_late.detected == 0 and too_late.alarms == 1 and too_late.true_alarms == 0


def test_alarms_close_together_are_one_event_and_stray_ones_are_false() -> None:
    counts = count_events(_flags(1000, 100, 102, 104, 300, 700), [(650, 710)], probation=0)

    assert counts.alarms == 3  # 100-104 merged, 300, 700
    assert counts.true_alarms == 1
    assert counts.quality().precision == pytest.approx(1 / 3)
    assert counts.quality().recall == 1.0


def test_alarms_in_the_probation_period_are_not_counted() -> None:
    counts = count_events(_flags(1000, 10, 20), [(500, 510)], probation=0.15)
    assert counts.alarms == 0 and counts.detected == 0


def test_generated_series_are_seeded_labelled_and_anomalous_inside_their_windows() -> None:
    for kind in ANOMALY_KINDS:
        baseline = "daily" if kind == "seasonality_break" else "gaussian"
        a, b = generate_series(baseline, kind, 5), generate_series(baseline, kind, 5)
        other = generate_series(baseline, "dip" if kind == "spike" else "spike", 5)
        np.testing.assert_array_equal(a.values, b.values)
        assert a.windows and all(
            len(a.values) * 0.15 < s < e <= len(a.values) for s, e in a.windows
        )
        s, e = a.windows[0]
        # Same seed, same noise: only the injected anomaly differs.
        assert not np.allclose(a.values[s:e], other.values[s:e], equal_nan=True), kind


def test_the_suite_covers_every_baseline_and_kind() -> None:
    suite = generate_suite(seed=1, per_case=1)

    assert {s.baseline for s in suite} == set(BASELINES)
    assert {s.kind for s in suite} == set(ANOMALY_KINDS)
    assert {s.baseline for s in suite if s.kind == "seasonality_break"} == {"daily", "weekly"}


def _oracle(series: LabelledSeries) -> np.ndarray:
    scores = np.zeros(len(series.values))
    for s, e in series.windows:
        scores[s:e] = 1.0
    return scores


def _random(series: LabelledSeries) -> np.ndarray:
    return np.random.default_rng(len(series.name)).random(len(series.values)) ** 200


@pytest.fixture(scope="module")
def suite() -> list[LabelledSeries]:
    return generate_suite(seed=1, per_case=1)


def test_a_perfect_detector_scores_one_and_a_random_one_scores_low(
    suite: list[LabelledSeries],
) -> None:
    report = evaluate({"oracle": _oracle, "random": _random}, suite)

    assert report.overall["oracle"].f1 == 1.0
    assert report.overall["oracle"].median_delay == 0
    assert report.overall["random"].f1 < 0.2
    assert all(q.f1 == 1.0 for q in report.by_kind["oracle"].values())


def test_the_default_detector_does_best_and_beats_a_naive_threshold(
    suite: list[LabelledSeries],
) -> None:
    report = evaluate(standard_detectors(DETECTORS), suite)

    default = report.overall[DEFAULT_DETECTOR]
    assert default.f1 > report.overall["threshold"].f1 + 0.15
    assert report.best() == DEFAULT_DETECTOR
    markdown = report_markdown(report)
    assert f"| {DEFAULT_DETECTOR} |" in markdown and "### F1 by anomaly type" in markdown


def test_spikes_go_up_and_dips_go_down() -> None:
    for seed in range(5):
        up, down = (
            generate_series("gaussian", "spike", seed),
            generate_series("gaussian", "dip", seed),
        )
        assert all(np.nanmin(up.values[s:e]) > 110 for s, e in up.windows)
        assert all(np.nanmax(down.values[s:e]) < 90 for s, e in down.windows)
