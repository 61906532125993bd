"""Instant selectors, tag matchers, lookback and offset, against the reference."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.core.types import MetricKind
from radiator.query import QueryParseError
from radiator.query.engine import RawMatrix

from .test_engine_reference import (
    LOOKBACK,
    MINUTE,
    RefSeries,
    S,
    Scratch,
    as_dict,
    assert_rows_equal,
    at,
    evaluate,
    gauge,
    instant_value,
    key,
    store_with,
    times_of,
)

SERVICES = ["a", "ab", "b", "c"]


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    shared = Scratch()
    yield shared
    shared.close()


@st.composite
def series_sets(draw: st.DrawFn, name: str) -> list[RefSeries]:
    services = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=4, unique=True))
    out = []
    for service in services:
        seconds = draw(st.sets(st.integers(0, 1500), min_size=0, max_size=25))
        values = [float(draw(st.integers(-50, 50))) / 4 for _ in seconds]
        tags = {"service": service}
        if draw(st.booleans()):
            tags["zone"] = draw(st.sampled_from(["eu", "us"]))
        out.append(
            gauge(name, [(at(s), v) for s, v in zip(sorted(seconds), values, strict=True)], **tags)
        )
    return out


MATCHERS = [
    ("", lambda tags: True),
    ('{service="a"}', lambda tags: tags["service"] == "a"),
    ('{service!="a"}', lambda tags: tags["service"] != "a"),
    ('{service=~"a|b"}', lambda tags: tags["service"] in ("a", "b")),
    ('{service=~"a"}', lambda tags: tags["service"] == "a"),  # anchored: not "ab"
    ('{service!~"a.*"}', lambda tags: not tags["service"].startswith("a")),
    ('{zone=""}', lambda tags: "zone" not in tags),
    ('{zone!=""}', lambda tags: "zone" in tags),
    ('{zone=~"e.|"}', lambda tags: tags.get("zone", "") in ("", "eu")),
    ('{service="b",zone="us"}', lambda tags: tags["service"] == "b" and tags.get("zone") == "us"),
]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    matcher=st.sampled_from(MATCHERS),
    offset=st.sampled_from([None, "30s", "2m", "-1m", "1m30s"]),
    start=st.integers(0, 900),
    step=st.sampled_from([7, 10, 13, 25]),
    steps=st.integers(1, 60),
    by_name_matcher=st.booleans(),
)
def test_instant_selector_matches_reference(
    scratch: Scratch,
    data: st.DataObject,
    matcher: tuple[str, object],
    offset: str | None,
    start: int,
    step: int,
    steps: int,
    by_name_matcher: bool,
) -> None:
    name = scratch.name("sel.metric")
    series = data.draw(series_sets(name))
    scratch.add(series)
    text, predicate = matcher
    if by_name_matcher:
        inner = text[1:-1] if text else ""
        query = f'{{__name__="{name}"{"," + inner if inner else ""}}}'
    else:
        query = f"{name}{text}"
    offset_us = 0
    if offset is not None:
        query += f" offset {offset}"
        sign = -1 if offset.startswith("-") else 1
        body = offset.lstrip("-")
        minutes = int(body.split("m")[0]) if "m" in body else 0
        seconds = int(body.split("m")[-1].rstrip("s") or 0) if body.endswith("s") else 0
        offset_us = sign * (minutes * 60 + seconds) * S
    start_us, end_us = at(start), at(start + step * (steps - 1))
    got = evaluate(scratch.store, query, start_us, end_us, step * S)
    times = times_of(start_us, end_us, step * S)
    want = {
        frozenset(s.labels.items()): [instant_value(s.points, t - offset_us) for t in times]
        for s in series
        if predicate(s.tags)  # type: ignore[operator]
    }
    assert_rows_equal(as_dict(got), want, abs_=0.0, rel=0.0)


def test_lookback_is_five_minutes_and_excludes_its_start() -> None:
    store = store_with([gauge("temp", [(at(0), 1.0), (at(100), 2.0)], room="x")])
    times = [at(-1), at(0), at(99), at(100), at(399), at(400), at(401)]
    got = as_dict(evaluate(store, "temp", times[0], times[0], S))
    assert got == {}
    want = [None, 1.0, 1.0, 2.0, 2.0, None, None]
    for t, expected in zip(times, want, strict=True):
        rows = as_dict(evaluate(store, "temp", t, t, S))
        value = rows[key(__name__="temp", room="x")][0] if rows else None
        assert value == expected, (t, value, expected)
    assert LOOKBACK == 5 * MINUTE


def test_offset_reads_earlier_and_negative_offset_later() -> None:
    store = store_with([gauge("temp", [(at(i * 60), float(i)) for i in range(20)])])
    t = at(600)
    now = as_dict(evaluate(store, "temp", t, t, S))[key(__name__="temp")][0]
    earlier = as_dict(evaluate(store, "temp offset 5m", t, t, S))[key(__name__="temp")][0]
    later = as_dict(evaluate(store, "temp offset -3m", t, t, S))[key(__name__="temp")][0]
    assert (now, earlier, later) == (10.0, 5.0, 13.0)


def test_names_with_dots_and_dashes_and_kinds() -> None:
    store = store_with(
        [
            gauge("http.server.requests", [(at(0), 3.0)], method="GET"),
            gauge("queue-depth", [(at(0), 7.0)]),
            RefSeries("hits", {}, MetricKind.COUNTER, [(at(0), 2.0)]),
        ]
    )
    got = as_dict(evaluate(store, 'http.server.requests{method="GET"}', at(10), at(10), S))
    assert got == {key(__name__="http.server.requests", method="GET"): pytest.approx([3.0])}
    dashed = as_dict(evaluate(store, '{__name__="queue-depth"}', at(10), at(10), S))
    assert list(dashed) == [key(__name__="queue-depth")]
    regex_name = as_dict(evaluate(store, '{__name__=~"h.*"}', at(10), at(10), S))
    assert set(regex_name) == {
        key(__name__="hits"),
        key(__name__="http.server.requests", method="GET"),
    }


def test_unknown_metric_is_empty_not_an_error() -> None:
    store = store_with([gauge("temp", [(at(0), 1.0)])])
    got = evaluate(store, "no.such.metric", at(0), at(600), 10 * S)
    assert as_dict(got) == {}
    assert as_dict(evaluate(store, "sum(rate(no.such.metric[5m]))", at(0), at(600), 10 * S)) == {}


def test_selector_that_could_match_everything_is_a_parse_error() -> None:
    store = store_with([gauge("temp", [(at(0), 1.0)])])
    with pytest.raises(QueryParseError):
        evaluate(store, '{service=""}', at(0), at(0), S)


def test_range_selector_in_an_instant_query_returns_its_raw_points() -> None:
    store = store_with([gauge("temp", [(at(i * 10), float(i)) for i in range(30)], room="x")])
    got = evaluate(store, "temp[1m]", at(200), at(200), 1, instant=True)
    assert isinstance(got, RawMatrix)
    assert got.labels == [{"__name__": "temp", "room": "x"}]
    # (t - 1m, t]: the points at 150 s … 200 s
    assert list(got.times[0]) == [at(s) for s in range(150, 201, 10)]
    assert np.array_equal(got.values[0], np.arange(15.0, 21.0))
    shifted = evaluate(store, "temp[1m] offset 1m", at(200), at(200), 1, instant=True)
    assert isinstance(shifted, RawMatrix)
    assert np.array_equal(shifted.values[0], np.arange(9.0, 15.0))
