"""Which metric queries a rule needs, and its states from their answers.

A query is named by a ``QueryKey`` so that rules sharing a query (and its time span) share
one evaluation per cycle. Threshold rules use an instant query; detector and absence rules a
range query over their look-back; burn-rate rules one query per window length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from radiator.alerts.evaluate import (
    Matrix,
    SeriesStates,
    absence_states,
    burn_rate_states,
    detector_states,
    threshold_states,
    window_text,
)
from radiator.alerts.models import (
    AbsenceCondition,
    AlertRule,
    AlertRuleCreate,
    BurnRateCondition,
    DetectorCondition,
    ThresholdCondition,
)
from radiator.query.service import QueryOutcome, RangeSpec

__all__ = [
    "QueryKey",
    "QueryRunner",
    "rule_queries",
    "rule_states",
    "run_key",
]

Mode = Literal["instant", "range"]


class QueryRunner(Protocol):
    """Runs one metric query (``radiator.query.service.QueryService`` is one).

    Raises ``QueryParseError`` or another ``RadiatorError`` when the query fails.
    """

    def run(self, expr: str, spec: RangeSpec, query_id: str = "A") -> QueryOutcome: ...


@dataclass(frozen=True, slots=True)
class QueryKey:
    """One query evaluation: instant at the end, or a range of ``span`` seconds at ``step``."""

    expr: str
    mode: Mode
    span: float = 0.0


def _windows(condition: BurnRateCondition) -> list[float]:
    lengths = {w.long_seconds for w in condition.windows} | {
        w.short_seconds for w in condition.windows
    }
    return sorted(lengths)


def rule_queries(
    rule: AlertRule | AlertRuleCreate, *, backtest: bool = False
) -> dict[str, QueryKey]:
    """The queries a rule needs, by role: ``main``, or ``main:<w>``/``total:<w>`` per burn
    window. A backtest asks for ranges over the whole tested span instead of instants."""
    condition = rule.condition
    mode: Mode = "range" if backtest else "instant"
    if isinstance(condition, ThresholdCondition):
        return {"main": QueryKey(rule.query, mode)}
    if isinstance(condition, DetectorCondition):
        return {"main": QueryKey(rule.query, "range", condition.lookback_seconds)}
    if isinstance(condition, AbsenceCondition):
        return {"main": QueryKey(rule.query, "range", condition.window_seconds)}
    assert isinstance(condition, BurnRateCondition)
    keys = {}
    for window in _windows(condition):
        text = window_text(window)
        keys[f"main:{window:g}"] = QueryKey(rule.query.replace("$window", text), mode)
        if condition.total_query:
            keys[f"total:{window:g}"] = QueryKey(
                condition.total_query.replace("$window", text), mode
            )
    return keys


def run_key(
    runner: QueryRunner, key: QueryKey, start: datetime, end: datetime, step: float
) -> QueryOutcome:
    """Evaluate ``key`` from ``start`` (``end`` itself when live) to ``end``; a range starts
    its span (look-back) earlier, so the first time that matters sees its whole window."""
    if key.mode == "instant":
        return runner.run(key.expr, RangeSpec(end, end, instant=True))
    since = start - timedelta(seconds=key.span + 2 * step)
    return runner.run(key.expr, RangeSpec(since, end, step_seconds=step))


def rule_states(
    rule: AlertRule | AlertRuleCreate, answers: Mapping[str, Matrix]
) -> list[SeriesStates]:
    """The rule's states from the matrices of its ``rule_queries`` roles."""
    condition = rule.condition
    if isinstance(condition, ThresholdCondition):
        return threshold_states(condition, answers["main"])
    if isinstance(condition, DetectorCondition):
        return detector_states(condition, answers["main"])
    if isinstance(condition, AbsenceCondition):
        return absence_states(condition, answers["main"])
    assert isinstance(condition, BurnRateCondition)
    windows = {
        w: (answers[f"main:{w:g}"], answers.get(f"total:{w:g}")) for w in _windows(condition)
    }
    return burn_rate_states(condition, windows)
