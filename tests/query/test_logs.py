"""Log search, cursor paging and level counts over the telemetry store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.core.schema import logs_batch
from radiator.core.telemetry import LogFilter, Signal
from radiator.core.types import LogLevel, LogRecord, TimeRange
from radiator.errors import InvalidInputError
from radiator.query.logs import (
    decode_cursor,
    encode_cursor,
    level_counts,
    levels_at_least,
    search_logs,
)
from radiator.runtime import Runtime

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
WIDE = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=1))


def record(minutes: int, service: str, level: LogLevel, message: str, **attrs: str) -> LogRecord:
    return LogRecord(T0 + minutes * MINUTE, service, level, message, dict(attrs))


@pytest.fixture
def stored(runtime: Runtime) -> Runtime:
    records = [
        record(0, "api", LogLevel.INFO, "request served", route="/users"),
        record(1, "api", LogLevel.ERROR, "SQL query failed", route="/orders"),
        record(2, "shop", LogLevel.WARN, "slow 100% cpu", region="eu"),
        record(3, "shop", LogLevel.DEBUG, "cache miss"),
        LogRecord(T0 + 4 * MINUTE, "api", LogLevel.FATAL, "crash", trace_id="t1"),
    ]
    runtime.telemetry.append(Signal.LOGS, logs_batch(records))
    return runtime


def messages(runtime: Runtime, **kwargs: object) -> list[str]:
    query = LogFilter(**{"range": WIDE, **kwargs})  # type: ignore[arg-type]
    return [r.message for r in search_logs(runtime.telemetry, query).records]


def test_logs_come_newest_first(stored: Runtime) -> None:
    assert messages(stored) == [
        "crash",
        "cache miss",
        "slow 100% cpu",
        "SQL query failed",
        "request served",
    ]


def test_service_level_and_trace_filters(stored: Runtime) -> None:
    assert messages(stored, services=("shop",)) == ["cache miss", "slow 100% cpu"]
    assert messages(stored, levels=("ERROR", "WARN")) == ["slow 100% cpu", "SQL query failed"]
    assert messages(stored, trace_id="t1") == ["crash"]


def test_minimum_level_includes_more_severe_levels() -> None:
    assert levels_at_least(LogLevel.WARN) == ("WARN", "ERROR", "FATAL")


def test_attribute_equality(stored: Runtime) -> None:
    assert messages(stored, attributes=(("route", "/orders"),)) == ["SQL query failed"]
    assert messages(stored, attributes=(("route", "/orders"), ("region", "eu"))) == []


def test_text_is_case_insensitive_and_literal(stored: Runtime) -> None:
    assert messages(stored, text="sql QUERY") == ["SQL query failed"]
    assert messages(stored, text="100%") == ["slow 100% cpu"]
    assert messages(stored, text="c_che") == []


def test_time_range_filters(stored: Runtime) -> None:
    window = TimeRange(T0 + MINUTE, T0 + 3 * MINUTE)
    assert messages(stored, range=window) == ["slow 100% cpu", "SQL query failed"]


def test_cursor_pages_through_equal_timestamps_without_gaps_or_repeats(runtime: Runtime) -> None:
    same = [LogRecord(T0, "api", LogLevel.INFO, f"m{i}") for i in range(7)]
    runtime.telemetry.append(Signal.LOGS, logs_batch(same[:4]))
    runtime.telemetry.append(Signal.LOGS, logs_batch(same[4:]))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = search_logs(runtime.telemetry, LogFilter(range=WIDE, limit=3, after=after))
        seen += [r.message for r in page.records]
        pages += 1
        if page.next_cursor is None:
            break
        after = decode_cursor(page.next_cursor)
    assert sorted(seen) == sorted(r.message for r in same)
    assert len(seen) == len(set(seen))
    assert pages == 3


def test_last_page_has_no_cursor(stored: Runtime) -> None:
    assert search_logs(stored.telemetry, LogFilter(range=WIDE, limit=5)).next_cursor is None


@pytest.mark.parametrize("cursor", ["", "!!", "bm90IGpzb24", encode_cursor((1, 2))[:-2] + "x"])
def test_bad_cursor_is_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_cursor(cursor)
    assert caught.value.field == "cursor"


def test_cursor_round_trips() -> None:
    assert decode_cursor(encode_cursor((-5, 2**40))) == (-5, 2**40)


def test_limit_over_maximum_is_refused(stored: Runtime) -> None:
    with pytest.raises(InvalidInputError):
        messages(stored, limit=1001)


def test_level_counts_per_service_per_interval(stored: Runtime) -> None:
    hours = TimeRange(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    rows = level_counts(stored.telemetry, hours, timedelta(minutes=2))
    got = [(r.time - T0, r.service, r.level, r.count) for r in rows]
    assert got == [
        (timedelta(0), "api", "ERROR", 1),
        (timedelta(0), "api", "INFO", 1),
        (2 * MINUTE, "shop", "DEBUG", 1),
        (2 * MINUTE, "shop", "WARN", 1),
        (4 * MINUTE, "api", "FATAL", 1),
    ]


def test_level_counts_bound_the_number_of_buckets(stored: Runtime) -> None:
    with pytest.raises(InvalidInputError) as caught:
        level_counts(stored.telemetry, WIDE, timedelta(seconds=1))
    assert caught.value.field == "step"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1), key=st.text(), value=st.text())
def test_arbitrary_text_never_matches_through_wildcards(
    stored: Runtime, text: str, key: str, value: str
) -> None:
    query = LogFilter(range=WIDE, text=text)
    found = [r.message for r in search_logs(stored.telemetry, query).records]
    if "_" in text:  # no stored message holds "_", so only a wildcard could match
        assert found == []
    for message in found:
        assert text.casefold() in message.casefold() or text.lower() in message.lower()
    by_attribute = LogFilter(range=WIDE, attributes=((key, value),))
    for row in search_logs(stored.telemetry, by_attribute).records:
        assert str(row.attributes.get(key)) == value
