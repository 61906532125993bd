"""Event search over the telemetry store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from radiator.core.schema import events_batch, spans_batch
from radiator.core.telemetry import EventFilter, Signal
from radiator.core.types import Event, EventKind, Span, TimeRange
from radiator.errors import InvalidInputError
from radiator.query.events import search_events
from radiator.runtime import Runtime

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
WIDE = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=1))


@pytest.fixture
def stored(runtime: Runtime) -> Runtime:
    events = [
        Event(EventKind.DEPLOY, "Deploy api v1", T0, "api", "prod", "ci", {"version": "v1"}),
        Event(EventKind.INCIDENT, "Checkout down", T0 + timedelta(minutes=5), "shop", "prod"),
        Event(EventKind.DEPLOY, "Deploy shop 100%", T0 + timedelta(minutes=10), "shop", "dev"),
        Event(EventKind.ALERT, "Latency high", T0 + timedelta(hours=3), "api", "prod"),
    ]
    runtime.telemetry.append(Signal.EVENTS, events_batch(events))
    return runtime


def titles(runtime: Runtime, **kwargs: object) -> list[str]:
    query = EventFilter(**{"range": WIDE, **kwargs})  # type: ignore[arg-type]
    return [e.title for e in search_events(runtime.telemetry, query)]


def test_events_come_newest_first(stored: Runtime) -> None:
    assert titles(stored) == ["Latency high", "Deploy shop 100%", "Checkout down", "Deploy api v1"]


def test_time_range_is_half_open(stored: Runtime) -> None:
    assert titles(stored, range=TimeRange(T0, T0 + timedelta(minutes=5))) == ["Deploy api v1"]


def test_kinds_services_and_environment_filter(stored: Runtime) -> None:
    assert titles(stored, kinds=("deploy", "incident"), services=("shop",)) == [
        "Deploy shop 100%",
        "Checkout down",
    ]
    assert titles(stored, environment="dev") == ["Deploy shop 100%"]


def test_text_matches_title_or_attributes_case_insensitively(stored: Runtime) -> None:
    assert titles(stored, text="CHECKOUT") == ["Checkout down"]
    assert titles(stored, text="v1") == ["Deploy api v1"]


def test_text_wildcards_match_literally(stored: Runtime) -> None:
    assert titles(stored, text="100%") == ["Deploy shop 100%"]
    assert titles(stored, text="%") == ["Deploy shop 100%"]
    assert titles(stored, text="_") == []


def test_limit_bounds_results_and_is_checked(stored: Runtime) -> None:
    assert titles(stored, limit=2) == ["Latency high", "Deploy shop 100%"]
    with pytest.raises(InvalidInputError) as caught:
        titles(stored, limit=1001)
    assert caught.value.field == "limit"


def test_event_fields_round_trip(stored: Runtime) -> None:
    (row,) = search_events(stored.telemetry, EventFilter(range=WIDE, text="api v1"))
    assert row.time == T0
    assert (row.kind, row.service, row.environment, row.actor) == ("deploy", "api", "prod", "ci")
    assert row.attributes == {"version": "v1"}


def test_events_of_dependencies_are_included_on_request(stored: Runtime) -> None:
    spans = [
        Span("t", "a", "web", "GET", T0, 5.0),
        Span("t", "b", "api", "call", T0, 3.0, parent_id="a"),
        Span("t", "c", "shop", "call", T0, 1.0, parent_id="b"),
    ]
    stored.telemetry.append(Signal.SPANS, spans_batch(spans))
    query = EventFilter(range=WIDE, services=("web",))
    assert search_events(stored.telemetry, query) == []
    found = search_events(stored.telemetry, query, with_dependencies=True)
    assert [e.service for e in found] == ["api", "shop", "shop", "api"]
