"""Range functions (rate, increase, delta, *_over_time) and instant functions, against the
reference, at raw resolution (steps that are not whole minutes)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.core.types import MetricKind
from radiator.query.binary import QueryEvaluationError

from .test_engine_reference import (
    RefSeries,
    S,
    Scratch,
    as_dict,
    assert_rows_equal,
    at,
    counter,
    evaluate,
    gauge,
    key,
    range_ref,
    row,
    store_with,
    times_of,
    window,
)

FUNCTIONS = [
    "rate",
    "increase",
    "delta",
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "count_over_time",
    "quantile_over_time",
]
RANGES = {"10s": 10, "30s": 30, "45s": 45, "1m": 60, "90s": 90, "5m": 300, "1m15s": 75}
OFFSETS = {"": 0, " offset 20s": 20, " offset 2m": 120, " offset -40s": -40}


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    shared = Scratch()
    yield shared
    shared.close()


@st.composite
def some_series(draw: st.DrawFn, name: str) -> list[RefSeries]:
    out = []
    for host in draw(st.lists(st.sampled_from("xyz"), min_size=1, max_size=3, unique=True)):
        kind = draw(st.sampled_from([MetricKind.COUNTER, MetricKind.GAUGE]))
        seconds = sorted(draw(st.sets(st.integers(0, 900), max_size=40)))
        values = [draw(st.integers(-40, 200)) / 4 for _ in seconds]
        points = list(zip([at(s) for s in seconds], values, strict=True))
        out.append(RefSeries(name, {"host": host}, kind, points))
    return out


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    func=st.sampled_from(FUNCTIONS),
    range_text=st.sampled_from(sorted(RANGES)),
    offset_text=st.sampled_from(sorted(OFFSETS)),
    phi=st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.99, 1.0, -0.5, 1.5]),
    start=st.integers(0, 700),
    step=st.sampled_from([5, 10, 15, 20, 45]),
    steps=st.integers(1, 40),
)
def test_range_functions_match_reference(
    scratch: Scratch,
    data: st.DataObject,
    func: str,
    range_text: str,
    offset_text: str,
    phi: float,
    start: int,
    step: int,
    steps: int,
) -> None:
    name = scratch.name("fn.metric")
    series = data.draw(some_series(name))
    scratch.add(series)
    arg = f"{name}[{range_text}]{offset_text}"
    query = f"{func}({phi}, {arg})" if func == "quantile_over_time" else f"{func}({arg})"
    start_us, end_us = at(start), at(start + step * (steps - 1))
    range_us, offset_us = RANGES[range_text] * S, OFFSETS[offset_text] * S
    got = evaluate(scratch.store, query, start_us, end_us, step * S)
    want = {
        frozenset(s.tags.items()): [
            range_ref(func, s.kind, window(s.points, t - offset_us, range_us), range_us, phi)
            for t in times_of(start_us, end_us, step * S)
        ]
        for s in series
    }
    assert_rows_equal(as_dict(got), want, rel=1e-9, abs_=1e-9)


def test_counter_rate_is_sum_of_deltas_over_window_seconds() -> None:
    store = store_with([counter("req", [(at(i), 1.0) for i in range(1, 601)], path="/")])
    got = as_dict(evaluate(store, "rate(req[5m])", at(600), at(600), S))
    assert row(got[key(path="/")]) == [1.0]
    got = as_dict(evaluate(store, "increase(req[1m])", at(600), at(600), S))
    assert row(got[key(path="/")]) == [60.0]  # exact, no extrapolation


def test_gauge_increase_is_last_minus_first() -> None:
    store = store_with([gauge("level", [(at(10), 5.0), (at(20), 2.0), (at(30), 9.0)])])
    got = as_dict(evaluate(store, "increase(level[1m])", at(40), at(40), S))
    assert row(got[key()]) == [4.0]
    got = as_dict(evaluate(store, "rate(level[40s])", at(40), at(40), S))
    assert row(got[key()]) == [0.1]


def test_range_functions_drop_the_metric_name_and_empty_series() -> None:
    store = store_with(
        [
            gauge("level", [(at(10), 5.0)], tank="a"),
            gauge("level", [(at(500), 5.0)], tank="b"),
        ]
    )
    got = as_dict(evaluate(store, "avg_over_time(level[30s])", at(20), at(30), 10 * S))
    assert list(got) == [key(tank="a")]


INSTANT_CASES = [
    ("abs(v)", lambda x: abs(x)),
    ("clamp_min(v, 0)", lambda x: max(x, 0.0)),
    ("clamp_max(v, 1.5)", lambda x: min(x, 1.5)),
    ("round(v)", lambda x: math.floor(x + 0.5)),
    ("round(v, 0.5)", lambda x: math.floor(x / 0.5 + 0.5) * 0.5),
    ("round(v, 10)", lambda x: math.floor(x / 10 + 0.5) * 10),
    ("-v", lambda x: -x),
]


@pytest.mark.parametrize(("query", "expected"), INSTANT_CASES)
def test_instant_functions(query: str, expected: object) -> None:
    values = [-7.5, -2.5, -0.4, 0.0, 0.5, 1.25, 2.5, 14.0]
    store = store_with([gauge("v", [(at(0), x)], i=str(i)) for i, x in enumerate(values)])
    got = as_dict(evaluate(store, query, at(10), at(10), S))
    assert got == {
        key(i=str(i)): pytest.approx([expected(x)])  # type: ignore[operator]
        for i, x in enumerate(values)
    }


def test_sort_and_sort_desc_order_series_by_value() -> None:
    values = {"a": 3.0, "b": -1.0, "c": 7.0, "d": 0.0}
    store = store_with([gauge("v", [(at(0), x)], k=k) for k, x in values.items()])
    up = evaluate(store, "sort(v)", at(10), at(10), 1, instant=True)
    down = evaluate(store, "sort_desc(v)", at(10), at(10), 1, instant=True)
    assert [ls["k"] for ls in up.labels] == ["b", "d", "a", "c"]  # type: ignore[union-attr]
    assert [ls["k"] for ls in down.labels] == ["c", "a", "d", "b"]  # type: ignore[union-attr]


def test_a_range_vector_cannot_be_graphed() -> None:
    store = store_with([gauge("v", [(at(0), 1.0)])])
    with pytest.raises(QueryEvaluationError, match="rate"):
        evaluate(store, "v[5m]", at(0), at(60), 10 * S)


def test_quantile_over_time_interpolates_like_prometheus() -> None:
    store = store_with([gauge("v", [(at(i), float(x)) for i, x in enumerate([1, 2, 3, 4], 1)])])
    got = as_dict(evaluate(store, "quantile_over_time(0.25, v[10s])", at(4), at(4), S))
    assert np.allclose(got[key()], [1.75])
