"""Checking a rule definition beyond its schema: queries parse, detectors exist, windows fit."""

from __future__ import annotations

from radiator.alerts.models import (
    AlertRuleCreate,
    BurnRateCondition,
    DetectorCondition,
)
from radiator.detect import make_detector
from radiator.errors import InvalidInputError
from radiator.query.parser import QueryParseError, parse

__all__ = ["check_definition"]


def _parse(text: str, field: str, burn: bool) -> None:
    if burn and "$window" not in text:
        raise InvalidInputError(
            "a burn-rate query must hold $window where each window length goes, e.g. "
            "sum(rate(http.errors[$window])) / sum(rate(http.requests[$window]))",
            field=field,
        )
    if not burn and "$window" in text:
        raise InvalidInputError("$window is only replaced in burn-rate rules", field=field)
    try:
        parse(text.replace("$window", "5m"))
    except QueryParseError as exc:
        raise InvalidInputError(exc.message, field=field, **exc.details) from exc


def check_definition(rule: AlertRuleCreate) -> AlertRuleCreate:
    """Raise ``InvalidInputError`` naming the field when ``rule`` cannot be evaluated."""
    condition = rule.condition
    burn = isinstance(condition, BurnRateCondition)
    _parse(rule.query, "query", burn)
    if isinstance(condition, BurnRateCondition):
        if condition.total_query is not None:
            _parse(condition.total_query, "condition.total_query", True)
        for index, window in enumerate(condition.windows):
            if not 0 < window.short_seconds < window.long_seconds:
                raise InvalidInputError(
                    "short_seconds must be positive and shorter than long_seconds",
                    field=f"condition.windows.{index}.short_seconds",
                )
    if isinstance(condition, DetectorCondition):
        try:
            make_detector(condition.detector, **condition.params)
        except InvalidInputError as exc:
            where = "detector" if exc.field == "detector" else f"params.{exc.field}"
            raise InvalidInputError(exc.message, field=f"condition.{where}") from exc
        if condition.lookback_seconds < 60:
            raise InvalidInputError(
                "lookback_seconds must be at least 60", field="condition.lookback_seconds"
            )
    return rule
