"""Evaluation errors and limits: steps, series, cells read, wall time; bad operands."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from radiator.errors import InvalidInputError
from radiator.query import QueryParseError, parse
from radiator.query.binary import QueryEvaluationError
from radiator.query.engine import Evaluator, Limits, QueryLimitError, QueryTimeoutError
from radiator.query.values import Grid

from .test_engine_reference import MINUTE, S, as_dict, at, evaluate, gauge, store_with


@pytest.fixture(scope="module")
def store() -> object:
    return store_with(
        [gauge("cpu", [(at(i * 10), float(i)) for i in range(100)], host=f"h{h}") for h in range(5)]
    )


def test_too_many_steps_is_refused_with_a_clear_message(store: object) -> None:
    with pytest.raises(QueryLimitError, match="larger step") as caught:
        evaluate(store, "cpu", at(0), at(1000), S, limits=Limits(max_steps=100))
    assert caught.value.field == "step"
    assert "1001" in caught.value.message
    # exactly at the limit is fine
    assert as_dict(evaluate(store, "cpu", at(0), at(99), S, limits=Limits(max_steps=100)))


def test_too_many_series_is_refused(store: object) -> None:
    with pytest.raises(QueryLimitError, match="matches 5 series") as caught:
        evaluate(store, "sum(cpu)", at(0), at(100), 10 * S, limits=Limits(max_series=4))
    assert isinstance(caught.value, InvalidInputError)
    got = evaluate(
        store, 'sum(cpu{host=~"h[0-3]"})', at(0), at(100), 10 * S, limits=Limits(max_series=4)
    )
    assert len(as_dict(got)) == 1


def test_too_many_cells_is_refused(store: object) -> None:
    with pytest.raises(QueryLimitError, match="more than 100 points"):
        evaluate(
            store,
            "avg_over_time(cpu[10m])",
            at(600),
            at(1000),
            10 * S,
            limits=Limits(max_cells=100),
        )
    # the count is over the whole query, across selectors (a repeated selector is read once)
    with pytest.raises(QueryLimitError):
        evaluate(
            store,
            'cpu{host="h0"} + ignoring(host) cpu{host="h1"} + ignoring(host) cpu{host="h2"}',
            at(0),
            at(990),
            10 * S,
            limits=Limits(max_cells=200),
        )


def test_a_query_running_too_long_is_cancelled(store: object) -> None:
    # The deadline is also handed to the store (a time.monotonic() instant), so the fake
    # clock runs on monotonic time and jumps 2 s per look: a query of several selectors
    # passes the 5 s limit during evaluation, while the store's own timer stays far off.
    ticks = itertools.count()
    evaluator = Evaluator(
        store,  # type: ignore[arg-type]
        Grid(at(0), at(100), 10 * S),
        Limits(timeout_seconds=5),
        clock=lambda: time.monotonic() + 2.0 * next(ticks),
    )
    with pytest.raises(QueryTimeoutError, match="query_timeout_seconds"):
        evaluator.evaluate(parse("sum(cpu) + sum(cpu) + sum(cpu) + sum(cpu)"))
    fast = Evaluator(store, Grid(at(0), at(100), 10 * S), Limits(timeout_seconds=60))  # type: ignore[arg-type]
    got = fast.evaluate(parse("sum(cpu) + sum(cpu)"))
    assert [float(v) for v in as_dict(got)[frozenset()]] == [10.0 * i for i in range(11)]


def test_range_vector_in_a_range_query_is_an_evaluation_error(store: object) -> None:
    with pytest.raises(QueryEvaluationError, match="cannot be graphed"):
        evaluate(store, "cpu[5m] offset 1m", at(0), at(600), MINUTE)


@pytest.mark.parametrize(
    "query",
    [
        "cpu + cpu[5m]",
        'cpu + "text"',
        "irate(cpu[5m])",
        "rat(cpu[5m])",
        "sum(cpu) by (host",
        "cpu and 1",
        "1 > 2",
        "cpu[5m:1m]",
        "rate(cpu)",
    ],
)
def test_bad_queries_fail_at_parse_time(store: object, query: str) -> None:
    with pytest.raises(QueryParseError):
        evaluate(store, query, at(0), at(600), 10 * S)


def test_histogram_quantile_of_series_without_le_is_empty(store: object) -> None:
    got = evaluate(store, "histogram_quantile(0.9, cpu)", at(0), at(600), 10 * S)
    assert as_dict(got) == {}


def test_division_by_zero_gives_infinities_not_errors(store: object) -> None:
    got = as_dict(evaluate(store, "cpu / (cpu - cpu)", at(10), at(10), S))
    values = np.array([v[0] for v in got.values()])
    assert len(values) == 5
    assert np.isposinf(values).all()


def test_thousands_of_series_within_the_series_limit_evaluate() -> None:
    """The window index keys (series, time) in 64 bits: that must hold for any selector the
    series limit allows, not only for ~2 500 series (keys counted from the epoch overflow)."""
    store = store_with([gauge("x", [(at(0), 1.0), (at(30), 2.0)], i=str(i)) for i in range(3000)])
    got = as_dict(evaluate(store, "sum(x)", at(10), at(40), 10 * S))
    assert [float(v) for v in next(iter(got.values()))] == [3000.0, 3000.0, 6000.0, 6000.0]
    rated = as_dict(evaluate(store, "sum(sum_over_time(x[1m]))", at(40), at(40), S))
    assert [float(v) for v in next(iter(rated.values()))] == [9000.0]
