"""Logs to metrics: rules that count log records, and how they become counter points.

A rule names the records to count (services, levels, attributes, a text or a regular
expression) and the tags to count them by (``service``, ``level`` or attribute keys). Its
counts are materialised as counter points of one metric, one point per bucket and group,
so dashboards and alerts read them like any other metric. ``logs.records`` (by service and
level) is materialised the same way without a rule.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from radiator.core.telemetry import LogCount, LogCountQuery
from radiator.core.types import LogLevel, MetricKind, Point, TimeRange
from radiator.errors import InvalidInputError

__all__ = [
    "MAX_BUCKETS_PER_WINDOW",
    "RECORDS_KEY",
    "RECORDS_METRIC",
    "RULE_NAME_PATTERN",
    "LogMetricRule",
    "LogMetricRuleBody",
    "LogMetricRuleCreate",
    "LogMetricSource",
    "LogMetricStore",
    "Target",
    "bucket_floor",
    "check_rule",
    "count_points",
    "default_metric",
    "next_window",
    "records_target",
    "rule_target",
]

RULE_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
RECORDS_METRIC = "logs.records"
# Watermark key of the built-in metric: not a valid rule name, so it never clashes with one.
RECORDS_KEY = "@records"
# One count query covers at most this many buckets, so a long backfill advances in steps.
MAX_BUCKETS_PER_WINDOW = 1000

# The query language's identifier (docs/query.md), for metric and tag names.
_IDENT_RE = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:.]*$")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "on", "ignoring", "group_left", "group_right", "offset"}
    | {"by", "without"}
)
_COLUMNS = ("service", "level")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Python's re accepts these, RE2 (which counts in the store) does not.
_UNSUPPORTED = (
    (re.compile(r"\(\?<?[=!]"), "lookaround assertions"),
    (re.compile(r"\(\?P=|\\[1-9]"), "backreferences"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"\(\?\("), "conditional groups"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers"),
)


class LogMetricSource(StrEnum):
    """Where a rule was defined: through the API/CLI, or in a rule file (read-only)."""

    API = "api"
    FILE = "file"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogMetricRuleBody(_Strict):
    """What a rule counts and how it is named; everything but the rule's own name."""

    metric: str = Field(
        "",
        max_length=200,
        description="Metric the counts are written to; empty means logs.<name>.",
        examples=["logs.sql_failures"],
    )
    description: str = Field("", max_length=2000)
    owner: str = Field("", max_length=63, description="Service that owns the rule.")
    services: list[str] = Field(
        default_factory=list, max_length=50, description="Count records of these services."
    )
    levels: list[LogLevel] = Field(
        default_factory=list, max_length=5, description="Count records of these levels."
    )
    attributes: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description="Count records whose attributes have these values (compared as text).",
    )
    text: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Count records whose message contains this text (case-insensitive).",
    )
    pattern: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Count records whose message matches this regular expression (RE2 "
        "syntax, unanchored; (?i) for case-insensitive).",
    )
    group_by: list[str] = Field(
        default_factory=list,
        max_length=6,
        description="Tags of the metric: service, level and/or attribute keys.",
    )


class LogMetricRuleCreate(LogMetricRuleBody):
    name: str = Field(
        max_length=63,
        examples=["sql_failures"],
        json_schema_extra={"pattern": RULE_NAME_PATTERN},
        description="Lower-case letters, digits and '_', starting with a letter or '_'.",
    )


class LogMetricRule(LogMetricRuleCreate):
    source: LogMetricSource
    source_file: str = Field("", description="The rule file of a rule from a file.")
    created_at: datetime
    updated_at: datetime
    materialised_until: datetime | None = Field(
        None, description="Records before this time are counted (the rule's watermark)."
    )

    def definition(self) -> LogMetricRuleCreate:
        """The rule as created: what a rule file or a request body holds."""
        return LogMetricRuleCreate.model_validate(
            self.model_dump(include=set(LogMetricRuleCreate.model_fields))
        )


class LogMetricStore(Protocol):
    """Persistence of rules and of the watermarks of log metrics.

    Contract: names are unique; ``add`` raises ``ConflictError`` on a taken name; ``replace``
    and ``delete`` raise ``NotFoundError`` on an unknown one; ``delete`` also forgets the
    rule's watermark. A watermark is the end of what has been counted, keyed by rule name
    (or ``RECORDS_KEY``); None when nothing was counted yet.
    """

    def list_rules(self) -> list[LogMetricRule]: ...

    def get_rule(self, name: str) -> LogMetricRule | None: ...

    def add_rule(self, rule: LogMetricRule) -> LogMetricRule: ...

    def replace_rule(self, rule: LogMetricRule) -> LogMetricRule: ...

    def delete_rule(self, name: str) -> None: ...

    def watermark(self, key: str) -> datetime | None: ...

    def set_watermark(self, key: str, when: datetime) -> None: ...


def default_metric(name: str) -> str:
    return f"logs.{name}"


def _check_name(value: str) -> None:
    if not re.fullmatch(RULE_NAME_PATTERN, value):
        raise InvalidInputError(
            "name must be 1-63 lower-case letters, digits and '_', starting with a letter "
            f"or '_' (got {value!r})",
            field="name",
        )


def _check_metric(metric: str) -> None:
    if not _IDENT_RE.match(metric) or metric in _KEYWORDS:
        raise InvalidInputError(
            f"metric {metric!r} is not a metric name a query can select: use letters, digits, "
            "'_', ':' and '.', not starting with a digit or '.'",
            field="metric",
        )
    if metric == RECORDS_METRIC:
        raise InvalidInputError(f"{RECORDS_METRIC} is the built-in metric", field="metric")


def _check_pattern(pattern: str) -> None:
    for finder, what in _UNSUPPORTED:
        if finder.search(pattern):
            raise InvalidInputError(
                f"pattern uses {what}, which the log store's RE2 regular expressions lack",
                field="pattern",
            )
    try:
        # Python warns about POSIX classes like [[:alpha:]], which RE2 accepts.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except re.error as exc:
        raise InvalidInputError(
            f"pattern is not a valid regular expression: {exc}", field="pattern"
        ) from exc


def _check_group_by(group_by: list[str]) -> None:
    if len(set(group_by)) != len(group_by):
        raise InvalidInputError("group_by names a tag twice", field="group_by")
    for key in group_by:
        if not _IDENT_RE.match(key) or key in _KEYWORDS:
            raise InvalidInputError(
                f"group_by {key!r} cannot be a tag name: use letters, digits, '_', ':' and "
                "'.', not starting with a digit or '.'",
                field="group_by",
            )


def check_rule(rule: LogMetricRuleCreate) -> LogMetricRuleCreate:
    """Validate what the schema cannot, and fill in the default metric name.

    Raises:
        InvalidInputError: naming the field (``name``, ``metric``, ``pattern``,
            ``attributes`` or ``group_by``) that is wrong.
    """
    _check_name(rule.name)
    metric = rule.metric or default_metric(rule.name)
    _check_metric(metric)
    if rule.pattern is not None:
        _check_pattern(rule.pattern)
    if any(not key for key in rule.attributes):
        raise InvalidInputError("attribute keys must not be empty", field="attributes")
    _check_group_by(rule.group_by)
    return rule.model_copy(update={"metric": metric})


# -- materialisation planning ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """One log metric to keep materialised: its watermark key, metric and count query."""

    key: str
    metric: str
    services: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    pattern: str | None = None
    group_by: tuple[str, ...] = ()

    def query(self, window: TimeRange, step: timedelta) -> LogCountQuery:
        return LogCountQuery(
            range=window,
            step=step,
            services=self.services,
            levels=self.levels,
            attributes=self.attributes,
            text=self.text,
            pattern=self.pattern,
            group_by=self.group_by,
        )


def records_target() -> Target:
    """The built-in ``logs.records``: every record, by service and level."""
    return Target(key=RECORDS_KEY, metric=RECORDS_METRIC, group_by=_COLUMNS)


def rule_target(rule: LogMetricRuleCreate) -> Target:
    return Target(
        key=rule.name,
        metric=rule.metric or default_metric(rule.name),
        services=tuple(rule.services),
        levels=tuple(str(level) for level in rule.levels),
        attributes=tuple(sorted(rule.attributes.items())),
        text=rule.text,
        pattern=rule.pattern,
        group_by=tuple(rule.group_by),
    )


def bucket_floor(moment: datetime, step: timedelta) -> datetime:
    """The start of the ``step`` bucket holding ``moment`` (buckets align to the epoch)."""
    return moment - (moment - _EPOCH) % step


def next_window(
    watermark: datetime | None,
    now: datetime,
    *,
    step: timedelta,
    lag: timedelta,
    backfill: timedelta,
) -> TimeRange | None:
    """The next whole buckets to count, or None when none has ended ``lag`` ago yet.

    A target never counted starts ``backfill`` before now. A window spans at most
    ``MAX_BUCKETS_PER_WINDOW`` buckets; the caller advances the watermark to its end.
    """
    start = watermark if watermark is not None else bucket_floor(now - backfill, step)
    end = min(bucket_floor(now - lag, step), start + step * MAX_BUCKETS_PER_WINDOW)
    return TimeRange(start, end) if end > start else None


def _bucket_starts(window: TimeRange, step: timedelta) -> list[datetime]:
    first = bucket_floor(window.start, step)
    first = first if first == window.start else first + step
    count = max(0, -((first - window.end) // step))
    return [first + step * i for i in range(count)]


def count_points(
    target: Target, counts: list[LogCount], window: TimeRange, step: timedelta
) -> list[Point]:
    """Counter points of ``counts``: one per bucket and group, tagged by ``group_by``.

    Empty values are left out of the tags. A target without ``group_by`` gets a zero point
    for each bucket without records, so "nothing happened" is a value and not a gap.
    """
    points = [
        Point(
            target.metric,
            float(count.count),
            count.time,
            {key: value for key, value in zip(target.group_by, count.groups, strict=True) if value},
            MetricKind.COUNTER,
        )
        for count in counts
    ]
    if not target.group_by:
        seen = {count.time for count in counts}
        points += [
            Point(target.metric, 0.0, start, {}, MetricKind.COUNTER)
            for start in _bucket_starts(window, step)
            if start not in seen
        ]
        points.sort(key=lambda point: point.time)
    return points
