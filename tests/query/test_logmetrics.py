"""Log metric rules: validation, counting windows, points, rule files and sync plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from radiator.core.telemetry import LogCount
from radiator.core.types import MetricKind, TimeRange
from radiator.errors import InvalidInputError
from radiator.query.logmetrics import (
    MAX_BUCKETS_PER_WINDOW,
    LogMetricRule,
    LogMetricRuleCreate,
    LogMetricSource,
    bucket_floor,
    check_rule,
    count_points,
    next_window,
    records_target,
    rule_target,
)
from radiator.query.logmetrics_files import RuleFile, parse_rule_file, plan_sync

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=10)


def _field(rule: LogMetricRuleCreate) -> str | None:
    with pytest.raises(InvalidInputError) as caught:
        check_rule(rule)
    return caught.value.field


def test_metric_defaults_to_logs_dot_name() -> None:
    checked = check_rule(LogMetricRuleCreate(name="sql_failures", text="SQL query failed"))
    assert checked.metric == "logs.sql_failures"


@pytest.mark.parametrize("pattern", ["(unclosed", "a{2,1}", "(?=ahead)x", r"(a)\1", "a++"])
def test_bad_or_unsupported_pattern_names_the_pattern_field(pattern: str) -> None:
    assert _field(LogMetricRuleCreate(name="r", pattern=pattern)) == "pattern"


def test_valid_pattern_is_kept() -> None:
    rule = check_rule(LogMetricRuleCreate(name="r", pattern=r"(?i)timeout after \d+ ?ms"))
    assert rule.pattern == r"(?i)timeout after \d+ ?ms"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Bad-Name"}, "name"),
        ({"name": "r", "metric": "9lives"}, "metric"),
        ({"name": "r", "metric": "by"}, "metric"),
        ({"name": "r", "metric": "logs.records"}, "metric"),
        ({"name": "r", "group_by": ["service", "service"]}, "group_by"),
        ({"name": "r", "group_by": ["http-status"]}, "group_by"),
        ({"name": "r", "attributes": {"": "x"}}, "attributes"),
    ],
)
def test_invalid_fields_are_named(data: dict[str, object], field: str) -> None:
    assert _field(LogMetricRuleCreate.model_validate(data)) == field


def test_bucket_floor_aligns_to_the_epoch() -> None:
    assert bucket_floor(T0 + timedelta(seconds=17, microseconds=5), STEP) == T0 + STEP


def test_first_window_starts_backfill_before_now_on_a_bucket_boundary() -> None:
    now = T0 + timedelta(seconds=33)
    window = next_window(
        None, now, step=STEP, lag=timedelta(seconds=5), backfill=timedelta(minutes=1)
    )
    assert window == TimeRange(T0 - timedelta(seconds=30), T0 + timedelta(seconds=20))


def test_window_waits_for_the_lag_to_pass() -> None:
    watermark = T0 + timedelta(seconds=20)
    lag = timedelta(seconds=10)
    assert (
        next_window(watermark, T0 + timedelta(seconds=39), step=STEP, lag=lag, backfill=STEP)
        is None
    )
    after = next_window(watermark, T0 + timedelta(seconds=40), step=STEP, lag=lag, backfill=STEP)
    assert after == TimeRange(watermark, T0 + timedelta(seconds=30))


def test_long_catch_up_is_cut_into_windows_of_bounded_size() -> None:
    window = next_window(T0, T0 + timedelta(days=30), step=STEP, lag=STEP, backfill=STEP)
    assert window is not None
    assert window.duration == STEP * MAX_BUCKETS_PER_WINDOW


def test_points_are_counters_tagged_by_group_without_empty_values() -> None:
    rule = LogMetricRuleCreate(name="errors", group_by=["service", "db"])
    target = rule_target(check_rule(rule))
    counts = [LogCount(T0, ("checkout", "orders"), 3), LogCount(T0 + STEP, ("search", ""), 1)]
    points = count_points(target, counts, TimeRange(T0, T0 + 3 * STEP), STEP)
    assert [(p.name, p.time, p.tags, p.value, p.kind) for p in points] == [
        ("logs.errors", T0, {"service": "checkout", "db": "orders"}, 3.0, MetricKind.COUNTER),
        ("logs.errors", T0 + STEP, {"service": "search"}, 1.0, MetricKind.COUNTER),
    ]


def test_ungrouped_rule_writes_zero_for_empty_buckets() -> None:
    target = rule_target(check_rule(LogMetricRuleCreate(name="logins")))
    points = count_points(target, [LogCount(T0 + STEP, (), 2)], TimeRange(T0, T0 + 3 * STEP), STEP)
    assert [(p.time, p.value) for p in points] == [
        (T0, 0.0),
        (T0 + STEP, 2.0),
        (T0 + 2 * STEP, 0.0),
    ]


def test_records_target_counts_everything_by_service_and_level() -> None:
    target = records_target()
    assert (target.metric, target.group_by, target.text, target.levels) == (
        "logs.records",
        ("service", "level"),
        None,
        (),
    )


# -- rule files ---------------------------------------------------------------------------

GOOD = """
rules:
  - name: sql_failures
    description: SQL queries that failed
    services: [checkout]
    levels: [ERROR]
    text: SQL query failed
    group_by: [service]
  - name: slow_payments
    metric: payments.slow
    pattern: 'took \\d{4,} ms'
"""


def test_rule_file_rules_are_parsed_and_checked() -> None:
    rules = parse_rule_file("/rules/a.yaml", GOOD)
    assert [(r.name, r.metric, r.group_by) for r in rules] == [
        ("sql_failures", "logs.sql_failures", ["service"]),
        ("slow_payments", "payments.slow", []),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [", "/r/a.yaml: not valid YAML"),
        ("rule: []", "/r/a.yaml: a rule file is a mapping"),
        ("rules:\n  - name: x\n    levels: [LOUD]", "/r/a.yaml: rule 'x': levels.0:"),
        ("rules:\n  - name: x\n    pattern: '(oops'", "/r/a.yaml: rule 'x': pattern:"),
        ("rules:\n  - name: x\n  - name: x", "/r/a.yaml: rule 'x': name: defined twice"),
        ("rules:\n  - text: no name", "/r/a.yaml: rule '#1': name:"),
        ("rules:\n  - name: x\n    colour: red", "/r/a.yaml: rule 'x': colour:"),
    ],
)
def test_bad_rule_file_error_names_file_rule_and_field(text: str, expected: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_rule_file("/r/a.yaml", text)
    assert caught.value.message.startswith(expected), caught.value.message


def _existing(name: str, source_file: str = "", text: str = "x") -> LogMetricRule:
    return LogMetricRule(
        name=name,
        metric=f"logs.{name}",
        text=text,
        source=LogMetricSource.FILE if source_file else LogMetricSource.API,
        source_file=source_file,
        created_at=T0,
        updated_at=T0,
    )


def test_sync_creates_replaces_and_deletes_to_match_the_files() -> None:
    files = [
        RuleFile(
            "/r/a.yaml",
            "rules:\n  - {name: keep, text: x}\n  - {name: change, text: new}\n  - {name: fresh}",
        )
    ]
    existing = [
        _existing("keep", "/r/a.yaml"),
        _existing("change", "/r/a.yaml"),
        _existing("dropped", "/r/a.yaml"),
        _existing("gone_file", "/r/b.yaml"),
        _existing("elsewhere", "/other/c.yaml"),
        _existing("by_api"),
    ]
    plan = plan_sync("/r", files, existing)
    assert [r.name for _, r in plan.create] == ["fresh"]
    assert [r.name for _, r in plan.replace] == ["change"]
    assert plan.delete == ["dropped", "gone_file"]
    assert plan.unchanged == ["keep"]
    assert plan.errors == []


def test_sync_of_a_bad_file_changes_none_of_its_rules() -> None:
    files = [RuleFile("/r/a.yaml", "rules:\n  - {name: fresh}\n  - {name: broken, pattern: '('}")]
    plan = plan_sync("/r", files, [_existing("old", "/r/a.yaml")])
    assert (plan.create, plan.replace, plan.delete) == ([], [], [])
    assert len(plan.errors) == 1
    assert plan.errors[0].startswith("/r/a.yaml: rule 'broken': pattern:")


def test_sync_refuses_a_name_taken_by_the_api_or_another_file() -> None:
    files = [
        RuleFile("/r/a.yaml", "rules:\n  - {name: shared}"),
        RuleFile("/r/b.yaml", "rules:\n  - {name: shared}\n  - {name: other}"),
        RuleFile("/r/c.yaml", "rules:\n  - {name: by_api}"),
    ]
    plan = plan_sync("/r", files, [_existing("by_api")])
    assert [r.name for _, r in plan.create] == ["shared"]
    assert plan.errors == [
        "/r/b.yaml: rule 'shared': name: also defined in /r/a.yaml",
        "/r/c.yaml: rule 'by_api': name: already defined by the API",
    ]
