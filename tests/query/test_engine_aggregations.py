"""Aggregations (sum, avg, min, max, count, stddev, stdvar, topk, bottomk, quantile), by and
without, against the reference."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_engine_reference import (
    LabelKey,
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
    prom_quantile,
    row,
    store_with,
    times_of,
)

GROUPINGS: dict[str, object] = {
    "": lambda tags: {},
    " by (dc)": lambda tags: {k: v for k, v in tags.items() if k == "dc"},
    " by (dc, host)": lambda tags: {k: v for k, v in tags.items() if k in ("dc", "host")},
    " without (host)": lambda tags: {k: v for k, v in tags.items() if k != "host"},
    " by (nothing)": lambda tags: {},
    " without ()": lambda tags: dict(tags),
}

REDUCERS = {
    "sum": sum,
    "avg": lambda xs: sum(xs) / len(xs),
    "min": min,
    "max": max,
    "count": lambda xs: float(len(xs)),
    "stddev": statistics.pstdev,
    "stdvar": statistics.pvariance,
}


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    shared = Scratch()
    yield shared
    shared.close()


@st.composite
def fleet(draw: st.DrawFn, name: str) -> list[RefSeries]:
    combos = draw(
        st.lists(
            st.tuples(st.sampled_from(["h1", "h2", "h3"]), st.sampled_from(["eu", "us", ""])),
            min_size=1,
            max_size=7,
            unique=True,
        )
    )
    out = []
    for host, dc in combos:
        tags = {"host": host, **({"dc": dc} if dc else {}), "role": "db"}
        seconds = sorted(draw(st.sets(st.integers(0, 600), max_size=12)))
        values = [draw(st.integers(-20, 20)) / 2 for _ in seconds]
        out.append(gauge(name, list(zip(map(at, seconds), values, strict=True)), **tags))
    return out


def _groups(series: list[RefSeries], grouping: str) -> dict[LabelKey, list[RefSeries]]:
    out: dict[LabelKey, list[RefSeries]] = {}
    for s in series:
        labels = GROUPINGS[grouping](s.tags)  # type: ignore[operator]
        out.setdefault(frozenset(labels.items()), []).append(s)
    return out


STEP = 30


def _grid() -> tuple[int, int, list[int]]:
    start, end = at(0), at(900)
    return start, end, times_of(start, end, STEP * S)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    op=st.sampled_from([*REDUCERS, "quantile"]),
    grouping=st.sampled_from(list(GROUPINGS)),
    phi=st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0, 2.0]),
    trailing=st.booleans(),
)
def test_aggregations_match_reference(
    scratch: Scratch, data: st.DataObject, op: str, grouping: str, phi: float, trailing: bool
) -> None:
    name = scratch.name("agg.metric")
    series = data.draw(fleet(name))
    scratch.add(series)
    param = f"{phi}, " if op == "quantile" else ""
    body = f"({param}{name})"
    query = f"{op}{body}{grouping}" if trailing else f"{op}{grouping}{body}"
    start, end, times = _grid()
    got = evaluate(scratch.store, query, start, end, STEP * S)
    want: dict[LabelKey, list[float | None]] = {}
    for group, members in _groups(series, grouping).items():
        values = []
        for t in times:
            present = [v for s in members if (v := instant_value(s.points, t)) is not None]
            if not present:
                values.append(None)
            elif op == "quantile":
                values.append(prom_quantile(present, phi))
            else:
                values.append(float(REDUCERS[op](present)))  # type: ignore[operator]
        want[group] = values
    assert_rows_equal(as_dict(got), want, rel=1e-9, abs_=1e-9)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    op=st.sampled_from(["topk", "bottomk"]),
    k=st.integers(0, 4),
    grouping=st.sampled_from(["", " by (dc)", " without (host)"]),
)
def test_topk_bottomk_keep_the_k_extreme_series_of_each_group(
    scratch: Scratch, data: st.DataObject, op: str, k: int, grouping: str
) -> None:
    name = scratch.name("top.metric")
    series = data.draw(fleet(name))
    scratch.add(series)
    start, end, times = _grid()
    got = evaluate(scratch.store, f"{op}{grouping}({k}, {name})", start, end, STEP * S)
    rows = as_dict(got)
    by_labels = {frozenset(s.labels.items()): s for s in series}
    assert set(rows) <= set(by_labels), "topk/bottomk keep every tag and the name"
    for group_members in _groups(series, grouping).values():
        member_keys = [frozenset(s.labels.items()) for s in group_members]
        for i, t in enumerate(times):
            present = sorted(
                v for s in group_members if (v := instant_value(s.points, t)) is not None
            )
            expected = present[::-1][:k] if op == "topk" else present[:k]
            kept = []
            for mk in member_keys:
                if mk in rows and not math.isnan(rows[mk][i]):
                    own = instant_value(by_labels[mk].points, t)
                    assert rows[mk][i] == own
                    kept.append(float(rows[mk][i]))
            assert sorted(kept) == sorted(expected), (t, kept, expected)


def test_count_of_a_comparison_counts_series() -> None:
    store = store_with([gauge("up", [(at(0), float(i % 2))], host=f"h{i}") for i in range(5)])
    got = as_dict(evaluate(store, "count(up == 1)", at(10), at(10), S))
    assert row(got[key()]) == [2.0]
    got = as_dict(evaluate(store, "count(up)", at(10), at(10), S))
    assert row(got[key()]) == [5.0]


def test_aggregation_over_nothing_is_empty() -> None:
    store = store_with([gauge("up", [(at(0), 1.0)])])
    assert as_dict(evaluate(store, "sum(nothing)", at(10), at(10), S)) == {}
    assert as_dict(evaluate(store, "topk(3, nothing)", at(10), at(10), S)) == {}


def test_stddev_is_population() -> None:
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    store = store_with([gauge("x", [(at(0), v)], i=str(i)) for i, v in enumerate(values)])
    assert np.allclose(as_dict(evaluate(store, "stddev(x)", at(1), at(1), S))[key()], [2.0])
    assert np.allclose(as_dict(evaluate(store, "stdvar(x)", at(1), at(1), S))[key()], [4.0])
