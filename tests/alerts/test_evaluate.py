"""Pure condition evaluation on matrices: thresholds, absence, burn rates, label handling."""

from __future__ import annotations

import numpy as np

from radiator.alerts import AbsenceCondition, BurnRateCondition, Op, ThresholdCondition
from radiator.alerts.evaluate import (
    Matrix,
    absence_states,
    burn_rate_states,
    compare,
    matrix_of,
    threshold_states,
    window_text,
)
from radiator.query.service import QueryOutcome, SeriesOut

TIMES = np.arange(0.0, 600.0, 60.0)


def test_no_value_never_compares_true() -> None:
    values = np.array([1.0, np.nan, 7.0])
    assert compare(Op.NE, values, 5).tolist() == [True, False, True]
    assert compare(Op.LT, values, 5).tolist() == [True, False, False]


def test_outcomes_become_matrices_without_the_metric_name() -> None:
    outcome = QueryOutcome(
        "A", "cpu", "vector", [60.0], [SeriesOut({"__name__": "cpu", "host": "a"}, [3.0])]
    )
    matrix = matrix_of(outcome)
    assert matrix.labels == [{"host": "a"}] and matrix.values.tolist() == [[3.0]]
    scalar = matrix_of(QueryOutcome("A", "1", "scalar", [60.0], value=None))
    assert scalar.labels == [{}] and np.isnan(scalar.values[0, 0])
    condition = ThresholdCondition(op=Op.GE, value=3)
    (state,) = threshold_states(condition, matrix)
    assert state.active.tolist() == [True]


def test_absence_waits_for_the_whole_window_and_no_series_at_all_counts() -> None:
    values = np.array([[1.0, 1.0, np.nan, np.nan, np.nan, np.nan, np.nan, 1.0, np.nan, np.nan]])
    matrix = Matrix(TIMES, [{"host": "a"}], values)
    (state,) = absence_states(AbsenceCondition(window_seconds=180), matrix)
    assert state.active.tolist() == [False] * 4 + [True, True, True, False, False, False]
    empty = Matrix(TIMES, [], np.empty((0, len(TIMES))))
    (state,) = absence_states(AbsenceCondition(window_seconds=180), empty)
    assert state.labels == {} and state.active.tolist() == [False] * 3 + [True] * 7


def test_burn_rate_needs_both_windows_of_a_pair_and_counts_good_events() -> None:
    condition = BurnRateCondition.model_validate(
        {
            "objective": 99.0,
            "total_query": "t",
            "query_counts": "good",
            "windows": [{"long_seconds": 3600, "short_seconds": 300, "factor": 10}],
        }
    )
    total = Matrix(TIMES[:3], [{}], np.array([[100.0, 100.0, 100.0]]))
    good_long = Matrix(TIMES[:3], [{"svc": "a"}], np.array([[95.0, 85.0, 85.0]]))
    good_short = Matrix(TIMES[:3], [{"svc": "a"}], np.array([[80.0, 80.0, 95.0]]))
    (state,) = burn_rate_states(condition, {3600.0: (good_long, total), 300.0: (good_short, total)})
    # error ratios: long 5 %, 15 %, 15 % -> burn 5, 15, 15; short 20 %, 20 %, 5 % -> 20, 20, 5
    assert state.labels == {"svc": "a"}
    assert state.active.tolist() == [False, True, False]
    assert np.allclose(state.values, [5.0, 15.0, 15.0])


def test_window_lengths_become_query_durations() -> None:
    assert [window_text(s) for s in (300, 3600, 21600, 90)] == ["5m", "1h", "6h", "90s"]
