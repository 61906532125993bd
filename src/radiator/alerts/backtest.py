"""Backtests: when a rule would have fired over a past range, how often and for how long.

Each of the rule's queries runs once as a range query at the backtest step (not once per
step), and the condition and its ``for`` duration are applied to the whole grid at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from pydantic import BaseModel, Field

from radiator.alerts.evaluate import BoolArray, FloatArray, SeriesStates, matrix_of
from radiator.alerts.models import AlertRule, AlertRuleCreate
from radiator.alerts.queries import QueryRunner, rule_queries, rule_states, run_key
from radiator.errors import InvalidInputError

__all__ = [
    "MAX_BACKTEST_STEPS",
    "MAX_LISTED_INTERVALS",
    "BacktestResult",
    "FiringInterval",
    "backtest_rule",
    "firing_intervals",
    "summarise",
]

MAX_BACKTEST_STEPS = 200_000
MAX_LISTED_INTERVALS = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FiringInterval(BaseModel):
    labels: dict[str, str]
    start: datetime
    end: datetime
    open: bool = Field(description="Still firing at the end of the range.")
    duration_seconds: float
    peak: float | None


class BacktestResult(BaseModel):
    rule: str
    start: datetime
    end: datetime
    step_seconds: float
    steps: int
    series: int
    firings: int = Field(description="How many times the rule would have fired.")
    total_seconds: float
    mean_seconds: float
    longest_seconds: float
    firing_share: float = Field(description="Share of the range with at least one alert firing.")
    intervals: list[FiringInterval] = Field(description="Up to 1000, earliest first.")
    truncated: bool = False


def _moment(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=float(seconds))


def _runs(active: BoolArray) -> list[tuple[int, int]]:
    """``[start, end)`` index pairs of the runs of True."""
    padded = np.concatenate(([False], active, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def firing_intervals(
    states: SeriesStates, times: FloatArray, for_seconds: float, step: float, first: float
) -> list[FiringInterval]:
    """Firing intervals of one label set: a run of active steps fires once it lasted
    ``for_seconds``, and ends at the first inactive step (or the end of the range).
    A firing that began before ``first`` counts from ``first``."""
    found = []
    size = len(times)
    for begin, stop in _runs(states.active):
        fire_at = times[begin] + for_seconds
        last = times[stop - 1]
        if fire_at > last + 1e-9:
            continue
        fire_index = int(np.searchsorted(times, fire_at - 1e-9))
        if times[fire_index] < first:  # already firing when the range starts: from there
            fire_index = int(np.searchsorted(times, first - 1e-9))
            if fire_index >= stop:
                continue
        ends = times[stop] if stop < size else last + step
        window = states.values[fire_index:stop]
        peak = float(np.nanmax(window)) if np.isfinite(window).any() else None
        found.append(
            FiringInterval(
                labels=states.labels,
                start=_moment(times[fire_index]),
                end=_moment(ends),
                open=stop >= size,
                duration_seconds=float(ends - times[fire_index]),
                peak=peak,
            )
        )
    return found


def summarise(
    rule: str,
    start: datetime,
    end: datetime,
    step: float,
    steps: int,
    series: int,
    intervals: Sequence[FiringInterval],
) -> BacktestResult:
    ordered = sorted(intervals, key=lambda i: (i.start, sorted(i.labels.items())))
    durations = [i.duration_seconds for i in ordered]
    covered = _union_seconds(ordered)
    span = max((end - start).total_seconds(), step)
    return BacktestResult(
        rule=rule,
        start=start,
        end=end,
        step_seconds=step,
        steps=steps,
        series=series,
        firings=len(ordered),
        total_seconds=float(sum(durations)),
        mean_seconds=float(np.mean(durations)) if durations else 0.0,
        longest_seconds=max(durations, default=0.0),
        firing_share=min(covered / span, 1.0),
        intervals=ordered[:MAX_LISTED_INTERVALS],
        truncated=len(ordered) > MAX_LISTED_INTERVALS,
    )


def _union_seconds(intervals: Sequence[FiringInterval]) -> float:
    total, reach = 0.0, None
    for interval in sorted(intervals, key=lambda i: i.start):
        begin, finish = interval.start, interval.end
        if reach is not None and begin < reach:
            begin = reach
        if finish > begin:
            total += (finish - begin).total_seconds()
            reach = finish if reach is None else max(reach, finish)
    return total


def backtest_rule(
    rule: AlertRule | AlertRuleCreate,
    runner: QueryRunner,
    start: datetime,
    end: datetime,
    step: float,
) -> tuple[BacktestResult, list[SeriesStates], FloatArray]:
    """Run ``rule`` over ``[start, end]`` at ``step`` seconds.

    Returns the result, and the raw states and times (the weak-signal report reuses them).

    Raises:
        InvalidInputError: an empty range or too many steps (``field`` names it).
        QueryParseError, RadiatorError: a query of the rule fails.
    """
    if end <= start:
        raise InvalidInputError("end must be after start", field="end")
    if (end - start).total_seconds() / step > MAX_BACKTEST_STEPS:
        raise InvalidInputError(
            f"a backtest evaluates at most {MAX_BACKTEST_STEPS} steps; raise the step",
            field="step",
        )
    answers = {
        role: matrix_of(run_key(runner, key, start, end, step))
        for role, key in rule_queries(rule, backtest=True).items()
    }
    times = next(iter(answers.values())).times
    states = rule_states(rule, answers)
    first = start.timestamp()
    intervals = [
        interval
        for state in states
        for interval in firing_intervals(state, times, rule.for_seconds, step, first)
    ]
    steps = int(np.count_nonzero(times >= first))  # not the look-back before the range
    result = summarise(rule.name, start, end, step, steps, len(states), intervals)
    return result, states, times
