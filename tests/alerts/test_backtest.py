"""Backtests over data in the real telemetry store: firing intervals, counts and durations,
one range query per rule, and every condition kind."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from radiator.alerts import AlertRuleCreate, AlertService
from radiator.errors import InvalidInputError
from radiator.query.service import QueryOutcome, QueryService, RangeSpec
from radiator.runtime import Runtime

from .conftest import T0, append_points, threshold_rule


def _day_with_two_spikes(runtime: Runtime) -> None:
    values = np.ones(24 * 60)
    values[100:110] = 9.0  # 10 minutes
    values[600:630] = 9.0  # 30 minutes
    values[900] = 9.0  # one minute: shorter than any for duration below
    append_points(runtime, "cpu", values.tolist(), T0, tags={"host": "a"})


def test_backtest_reports_each_firing_with_its_duration(
    runtime: Runtime, alerts: AlertService
) -> None:
    _day_with_two_spikes(runtime)
    alerts.create_rule(threshold_rule(for_seconds="3m"))
    result = alerts.backtest("cpu-high", T0, T0 + timedelta(days=1), 60)
    assert result.firings == 2
    first, second = result.intervals
    assert first.start == T0 + timedelta(minutes=104)  # 3 minutes after the run began
    assert first.duration_seconds == 7 * 60
    assert second.duration_seconds == 27 * 60
    assert result.total_seconds == 34 * 60
    assert result.mean_seconds == 17 * 60
    assert result.longest_seconds == 27 * 60
    assert first.peak == 9.0 and first.labels == {"host": "a"}


def test_without_for_every_active_run_fires(runtime: Runtime, alerts: AlertService) -> None:
    _day_with_two_spikes(runtime)
    rule = threshold_rule()
    assert alerts.backtest(rule, T0, T0 + timedelta(days=1), 60).firings == 3


def test_backtest_runs_one_range_query_per_rule(runtime: Runtime, alerts: AlertService) -> None:
    _day_with_two_spikes(runtime)
    calls: list[RangeSpec] = []
    inner = QueryService(runtime.telemetry)

    class Counting:
        def run(self, expr: str, spec: RangeSpec, query_id: str = "A") -> QueryOutcome:
            calls.append(spec)
            return inner.run(expr, spec, query_id)

    from radiator.alerts.backtest import backtest_rule

    result, _, _ = backtest_rule(threshold_rule(), Counting(), T0, T0 + timedelta(hours=12), 60)
    assert len(calls) == 1 and not calls[0].instant
    assert result.steps == 12 * 60 + 1  # each minute of the range, both ends included


def test_absence_rule_fires_when_data_stops(runtime: Runtime, alerts: AlertService) -> None:
    values = [1.0] * 60 + [float("nan")] * 30 + [1.0] * 30
    append_points(runtime, "heartbeat", values, T0)
    rule = AlertRuleCreate.model_validate(
        {
            "name": "heartbeat-gone",
            "owner": "checkout",
            "query": "heartbeat",
            "condition": {"kind": "absence", "window_seconds": "10m"},
        }
    )
    result = alerts.backtest(rule, T0 + timedelta(minutes=20), T0 + timedelta(hours=2), 60)
    assert result.firings == 1
    (interval,) = result.intervals
    # the selector still sees the last point for 5 minutes, then 10 minutes must pass
    assert T0 + timedelta(minutes=70) <= interval.start <= T0 + timedelta(minutes=76)
    assert interval.end <= T0 + timedelta(minutes=91)


def test_burn_rate_rule_fires_on_fast_burn(runtime: Runtime, alerts: AlertService) -> None:
    errors = np.zeros(240)
    errors[120:150] = 5.0  # 5 % errors for 30 minutes
    append_points(runtime, "errors", errors.tolist(), T0)
    append_points(runtime, "requests", [100.0] * 240, T0)
    rule = AlertRuleCreate.model_validate(
        {
            "name": "slo",
            "owner": "checkout",
            "query": "sum(sum_over_time(errors[$window]))",
            "condition": {
                "kind": "burn_rate",
                "objective": 99.9,
                "total_query": "sum(sum_over_time(requests[$window]))",
            },
        }
    )
    result = alerts.backtest(rule, T0 + timedelta(hours=1), T0 + timedelta(hours=4), 60)
    assert result.firings == 1
    (interval,) = result.intervals
    # Fast burn (1h at 14.4x) needs 18 minutes of 5 % errors against a 0.1 % budget ...
    assert T0 + timedelta(minutes=137) <= interval.start <= T0 + timedelta(minutes=140)
    # ... and the slow burn (6h and 30m at 6x) holds until 26 minutes after they stop.
    assert T0 + timedelta(minutes=175) <= interval.end <= T0 + timedelta(minutes=179)


def test_detector_rule_flags_an_outlier(runtime: Runtime, alerts: AlertService) -> None:
    rng = np.random.default_rng(7)
    values = 50 + rng.normal(0, 1, 600)
    values[500:505] = 90.0
    append_points(runtime, "latency", values.tolist(), T0)
    rule = AlertRuleCreate.model_validate(
        {
            "name": "latency-odd",
            "owner": "checkout",
            "query": "latency",
            "condition": {"kind": "detector", "detector": "zscore", "lookback_seconds": "2h"},
        }
    )
    result = alerts.backtest(rule, T0 + timedelta(hours=3), T0 + timedelta(hours=10), 60)
    assert result.firings >= 1
    assert any(
        T0 + timedelta(minutes=499) <= i.start <= T0 + timedelta(minutes=506)
        for i in result.intervals
    )


def test_bad_backtest_ranges_name_the_field(alerts: AlertService) -> None:
    with pytest.raises(InvalidInputError) as caught:
        alerts.backtest(threshold_rule(), T0, T0 - timedelta(hours=1), 60)
    assert caught.value.field == "end"
    with pytest.raises(InvalidInputError) as caught:
        alerts.backtest(threshold_rule(), T0, T0 + timedelta(days=300), 1)
    assert caught.value.field == "step"


def test_a_rule_already_firing_when_the_range_starts_counts_from_the_start(
    runtime: Runtime, alerts: AlertService
) -> None:
    append_points(runtime, "cpu", [9.0] * 180, T0)
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    result = alerts.backtest(threshold_rule(), start, end, 60)
    (interval,) = result.intervals
    assert interval.start == start and interval.open is True
    assert result.firings == 1 and result.firing_share == 1.0
