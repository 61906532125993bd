"""Alert data: rules and their conditions, alerts, notes, silences and maintenance windows.

Durations are seconds; the API also takes duration text (``30s``, ``5m``, ``1h``, ``7d``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from radiator.detect import DEFAULT_DETECTOR

__all__ = [
    "AbsenceCondition",
    "Alert",
    "AlertNote",
    "AlertNoteCreate",
    "AlertRule",
    "AlertRuleCreate",
    "AlertRuleRead",
    "AlertRuleUpdate",
    "AlertState",
    "BurnRateCondition",
    "BurnWindow",
    "Condition",
    "DetectorCondition",
    "MaintenanceWindow",
    "MaintenanceWindowCreate",
    "Matcher",
    "Op",
    "RuleSource",
    "Severity",
    "Silence",
    "SilenceCreate",
    "ThresholdCondition",
    "parse_seconds",
]

_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
_LABEL_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]{0,62}$"
_LABEL_RE = re.compile(_LABEL_PATTERN)
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d|w)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_SECONDS = 90 * 86400


def parse_seconds(value: Any) -> float:
    """Seconds from a number or duration text (``90``, ``30s``, ``5m``, ``1.5h``, ``7d``).

    Raises:
        ValueError: not a duration, negative, or longer than 90 days.
    """
    if isinstance(value, bool):
        raise ValueError("must be seconds or a duration such as 30s, 5m, 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        found = _DURATION_RE.match(value.strip())
        if not found:
            raise ValueError(f"must be seconds or a duration such as 30s, 5m, 1h; got {value!r}")
        seconds = float(found.group(1)) * _UNITS[found.group(2) or "s"]
    else:
        raise ValueError("must be seconds or a duration such as 30s, 5m, 1h")
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_SECONDS:
        raise ValueError("must be a duration between 0 and 90 days")
    return seconds


Seconds = Annotated[float, BeforeValidator(parse_seconds)]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    PAGE = "page"


class AlertState(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class RuleSource(StrEnum):
    API = "api"
    FILE = "file"


class Op(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="


class ThresholdCondition(BaseModel):
    """Active while the query's value compares true against ``value``."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["threshold"] = "threshold"
    op: Op = Op.GT
    value: float

    _check = field_validator("value")(_finite)


class DetectorCondition(BaseModel):
    """Active while the detector scores the latest point at least ``min_score``."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["detector"] = "detector"
    detector: str = Field(DEFAULT_DETECTOR, max_length=63)
    params: dict[str, str | float | bool] = Field(default_factory=dict, max_length=30)
    min_score: float = Field(0.5, gt=0, le=1)
    lookback_seconds: Seconds = Field(
        6 * 3600.0, description="History the detector sees at each evaluation (default 6h)."
    )


class AbsenceCondition(BaseModel):
    """A dead man's switch: active when the query had no value for ``window_seconds``."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["absence"] = "absence"
    window_seconds: Seconds = 600.0


class BurnWindow(BaseModel):
    """Both windows must burn error budget faster than ``factor`` times the sustainable rate."""

    model_config = ConfigDict(extra="forbid")
    long_seconds: Seconds
    short_seconds: Seconds
    factor: float = Field(gt=0, le=10_000)


def _default_windows() -> list[BurnWindow]:
    # The Google SRE workbook's fast and slow burn pair (2 % and 5 % of a 30-day budget).
    return [
        BurnWindow(long_seconds=3600, short_seconds=300, factor=14.4),
        BurnWindow(long_seconds=21600, short_seconds=1800, factor=6.0),
    ]


class BurnRateCondition(BaseModel):
    """SLO burn rate over several windows; the rule's query holds ``$window``.

    Without ``total_query`` the rule's query is the error ratio itself, e.g.
    ``sum(rate(http.errors[$window])) / sum(rate(http.requests[$window]))``. With it, the
    rule's query counts errors (``query_counts: errors``) or good events (``good``) and
    ``total_query`` counts all events over the same ``$window``.
    """

    model_config = ConfigDict(extra="forbid")
    kind: Literal["burn_rate"] = "burn_rate"
    objective: float = Field(description="SLO target in percent, e.g. 99.9.", gt=0, lt=100)
    total_query: str | None = Field(None, min_length=1, max_length=4000)
    query_counts: Literal["errors", "good"] = "errors"
    windows: list[BurnWindow] = Field(default_factory=_default_windows, min_length=1, max_length=6)


Condition = Annotated[
    ThresholdCondition | DetectorCondition | AbsenceCondition | BurnRateCondition,
    Field(discriminator="kind"),
]


class Matcher(BaseModel):
    """A label matcher as in silences and inhibition: ``=``, ``!=``, ``=~``, ``!~``."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(pattern=_LABEL_PATTERN)
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str = Field("", max_length=500)

    @field_validator("value")
    @classmethod
    def _regex_compiles(cls, value: str, info: Any) -> str:
        if info.data.get("op") in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    def matches(self, labels: dict[str, str]) -> bool:
        have = labels.get(self.label, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = re.fullmatch(self.value, have) is not None
        return found if self.op == "=~" else not found


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        if not _LABEL_RE.match(key):
            raise ValueError(f"label name {key!r} must match {_LABEL_PATTERN}")
        if len(value) > 500:
            raise ValueError(f"label {key!r} is longer than 500 characters")
    return labels


def _check_runbook(url: str) -> str:
    if url and not re.match(r"^https?://\S+$", url):
        raise ValueError("must be an http:// or https:// link")
    return url


class _RuleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field("", max_length=2000)
    query: str = Field(min_length=1, max_length=4000)
    condition: Condition
    for_seconds: Seconds = Field(
        0.0, description="How long the condition must hold before the alert fires."
    )
    severity: Severity = Severity.WARNING
    labels: dict[str, str] = Field(default_factory=dict, max_length=30)
    runbook_url: str = Field("", max_length=2000)
    owner: str = Field(description="The service that owns the rule (catalog).", max_length=63)
    enabled: bool = True
    group_by: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Alerts of a rule sharing these labels' values share one page.",
    )
    inhibits: list[Matcher] = Field(
        default_factory=list,
        max_length=20,
        description="While this rule fires, alerts matching all these matchers are inhibited.",
    )
    inhibit_equal: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Labels that must be equal between this rule's alert and an inhibited one.",
    )

    _labels = field_validator("labels")(_check_labels)
    _runbook = field_validator("runbook_url")(_check_runbook)

    @field_validator("group_by", "inhibit_equal")
    @classmethod
    def _label_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _LABEL_RE.match(name):
                raise ValueError(f"label name {name!r} must match {_LABEL_PATTERN}")
        return names


class AlertRuleCreate(_RuleFields):
    name: str = Field(pattern=_NAME_PATTERN, description="Unique, e.g. checkout.error-rate.")


class AlertRuleUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = Field(None, max_length=2000)
    query: str | None = Field(None, min_length=1, max_length=4000)
    condition: Condition | None = None
    for_seconds: Seconds | None = None
    severity: Severity | None = None
    labels: dict[str, str] | None = Field(None, max_length=30)
    runbook_url: str | None = Field(None, max_length=2000)
    owner: str | None = Field(None, max_length=63)
    enabled: bool | None = None
    group_by: list[str] | None = Field(None, max_length=10)
    inhibits: list[Matcher] | None = Field(None, max_length=20)
    inhibit_equal: list[str] | None = Field(None, max_length=10)


class AlertRule(AlertRuleCreate):
    """A stored rule: where it came from and whether its query works."""

    id: int
    source: RuleSource = RuleSource.API
    source_file: str = ""
    broken: bool = False
    broken_error: str = ""
    broken_since: datetime | None = None
    created_at: datetime
    updated_at: datetime

    def definition(self) -> AlertRuleCreate:
        return AlertRuleCreate.model_validate(
            self.model_dump(include=set(AlertRuleCreate.model_fields))
        )


class AlertRuleRead(AlertRule):
    """A rule with how many of its alerts are open, by state."""

    open_alerts: dict[str, int] = Field(default_factory=dict)


class AlertNote(BaseModel):
    author: str
    text: str
    created_at: datetime


class AlertNoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)


class Alert(BaseModel):
    """One alert: a rule's condition for one label set, from pending to resolved."""

    id: int
    rule: str
    fingerprint: str
    labels: dict[str, str]
    severity: Severity
    owner: str
    state: AlertState
    value: float | None = None
    summary: str = ""
    started_at: datetime
    fired_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str = ""
    resolved_at: datetime | None = None
    resolved_by: str = Field("", description="Empty when the condition cleared on its own.")
    last_seen_at: datetime = Field(description="When an evaluation last changed its value.")
    suppressed_by: str = Field("", description="silence:ID, maintenance:ID or inhibited:ID.")
    page_id: int | None = None
    group_key: str = ""
    notes: list[AlertNote] = Field(default_factory=list)


class SilenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: list[Matcher] = Field(min_length=1, max_length=20)
    starts_at: datetime | None = Field(None, description="Default: now.")
    ends_at: datetime
    comment: str = Field("", max_length=2000)


class Silence(BaseModel):
    id: int
    matchers: list[Matcher]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created_at: datetime

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class MaintenanceWindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=63)
    starts_at: datetime | None = Field(None, description="Default: now.")
    ends_at: datetime
    reason: str = Field("", max_length=2000)


class MaintenanceWindow(BaseModel):
    id: int
    service: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at
