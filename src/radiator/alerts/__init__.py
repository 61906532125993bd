"""Alerting: rules on metric queries, their evaluation and lifecycle, backtests, silences,
maintenance windows, inhibition, rules as code, and the learning-from-alerts reports."""

from __future__ import annotations

from radiator.alerts.backtest import BacktestResult, FiringInterval, backtest_rule
from radiator.alerts.cycle import CycleReport
from radiator.alerts.files import RULE_FILE_SUFFIXES, RuleFile, SyncReport, parse_rule_file
from radiator.alerts.models import (
    AbsenceCondition,
    Alert,
    AlertNote,
    AlertNoteCreate,
    AlertRule,
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    AlertState,
    BurnRateCondition,
    BurnWindow,
    Condition,
    DetectorCondition,
    MaintenanceWindow,
    MaintenanceWindowCreate,
    Matcher,
    Op,
    RuleSource,
    Severity,
    Silence,
    SilenceCreate,
    ThresholdCondition,
)
from radiator.alerts.paging import AlertPager, EventSink, OncallPager
from radiator.alerts.queries import QueryRunner
from radiator.alerts.reports import (
    NearMiss,
    TighteningCandidate,
    WeakSignalReport,
    WeeklyReport,
    WeekRow,
)
from radiator.alerts.service import AlertService
from radiator.alerts.store import AlertStore

__all__ = [
    "RULE_FILE_SUFFIXES",
    "AbsenceCondition",
    "Alert",
    "AlertNote",
    "AlertNoteCreate",
    "AlertPager",
    "AlertRule",
    "AlertRuleCreate",
    "AlertRuleRead",
    "AlertRuleUpdate",
    "AlertService",
    "AlertState",
    "AlertStore",
    "BacktestResult",
    "BurnRateCondition",
    "BurnWindow",
    "Condition",
    "CycleReport",
    "DetectorCondition",
    "EventSink",
    "FiringInterval",
    "MaintenanceWindow",
    "MaintenanceWindowCreate",
    "Matcher",
    "NearMiss",
    "OncallPager",
    "Op",
    "QueryRunner",
    "RuleFile",
    "RuleSource",
    "Severity",
    "Silence",
    "SilenceCreate",
    "SyncReport",
    "ThresholdCondition",
    "TighteningCandidate",
    "WeakSignalReport",
    "WeekRow",
    "WeeklyReport",
    "backtest_rule",
    "parse_rule_file",
]
