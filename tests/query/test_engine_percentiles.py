"""histogram_quantile and the pNN shortcuts on histograms, timers and gauges."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
import pytest

from radiator.core.types import MetricKind
from radiator.query.binary import QueryEvaluationError

from .test_engine_reference import (
    MINUTE,
    RefSeries,
    S,
    as_dict,
    assert_rows_equal,
    at,
    dt,
    evaluate,
    gauge,
    key,
    prom_quantile,
    row,
    store_with,
    times_of,
)

BOUNDS = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, math.inf]


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(bound)


def bucket_estimate(phi: float, counts: Sequence[float]) -> float | None:
    """Prometheus' histogram_quantile over cumulative ``counts`` per bound of BOUNDS."""
    if phi < 0:
        return -math.inf
    if phi > 1:
        return math.inf
    total = counts[-1]
    if total <= 0:
        return None
    rank = phi * total
    i = next(i for i, c in enumerate(counts) if c >= rank)
    if math.isinf(BOUNDS[i]):
        return BOUNDS[-2]
    lower = BOUNDS[i - 1] if i > 0 else 0.0
    below = counts[i - 1] if i > 0 else 0.0
    if counts[i] == below:  # φ = 0 with an empty first bucket: 0/0, NaN as in Prometheus
        return None
    return lower + (BOUNDS[i] - lower) * (rank - below) / (counts[i] - below)


def histogram_series(
    name: str, seed: int, services: Sequence[str], seconds: int, every: int = 10
) -> tuple[list[RefSeries], dict[str, list[tuple[int, list[float]]]]]:
    """Histogram points every ``every`` s per service (cumulative over ``le``, delta over
    time) from lognormal observations; also the observations per service and time."""
    rng = random.Random(seed)
    series: dict[tuple[str, str], RefSeries] = {}
    observed: dict[str, list[tuple[int, list[float]]]] = {s: [] for s in services}
    for service in services:
        for t in range(every, seconds + 1, every):
            values = [rng.lognormvariate(-0.5, 1.0) for _ in range(rng.randint(0, 8))]
            observed[service].append((at(t), values))
            for bound in BOUNDS:
                tags = {"service": service, "le": _le(bound)}
                entry = series.setdefault(
                    (service, _le(bound)), RefSeries(name, tags, MetricKind.HISTOGRAM)
                )
                entry.points.append((at(t), float(sum(v <= bound for v in values))))
    return list(series.values()), observed


def _window_counts(
    observed: dict[str, list[tuple[int, list[float]]]],
    services: Sequence[str],
    t: int,
    range_us: int,
    buckets: bool,
) -> list[float]:
    values = [
        v
        for service in services
        for pt, vs in observed[service]
        if (t - range_us <= pt < t if buckets else t - range_us < pt <= t)
        for v in vs
    ]
    return [float(sum(v <= b for v in values)) for b in BOUNDS]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9, 0.99, 1.0])
def test_histogram_quantile_matches_prometheus_estimate(seed: int, phi: float) -> None:
    series, observed = histogram_series("rpc.duration", seed, ["a", "b"], 1200)
    store = store_with(series)
    start, end, step = at(300), at(1200), 15 * S
    query = f"histogram_quantile({phi}, sum by (le) (increase(rpc.duration[2m])))"
    got = as_dict(evaluate(store, query, start, end, step))
    want = [
        bucket_estimate(phi, _window_counts(observed, ["a", "b"], t, 2 * MINUTE, False))
        for t in times_of(start, end, step)
    ]
    assert_rows_equal(got, {key(): want}, rel=1e-9)
    per_service = as_dict(
        evaluate(
            store,
            f"histogram_quantile({phi}, sum by (le, service) (rate(rpc.duration[2m])))",
            start,
            end,
            step,
        )
    )
    wanted = {
        key(service=s): [
            bucket_estimate(phi, _window_counts(observed, [s], t, 2 * MINUTE, False))
            for t in times_of(start, end, step)
        ]
        for s in ("a", "b")
    }
    assert_rows_equal(per_service, wanted, rel=1e-9)


def test_histogram_quantile_out_of_range_phi_and_missing_inf_bucket() -> None:
    series, _ = histogram_series("h", 7, ["a"], 600)
    store = store_with(series)
    q = "histogram_quantile({}, sum by (le) (increase(h[5m])))"
    low = as_dict(evaluate(store, q.format(-1), at(600), at(600), S))
    high = as_dict(evaluate(store, q.format(2), at(600), at(600), S))
    assert row(low[key()]) == [-math.inf]
    assert row(high[key()]) == [math.inf]
    no_inf = as_dict(
        evaluate(
            store,
            'histogram_quantile(0.5, sum by (le) (increase(h{le!="+Inf"}[5m])))',
            at(600),
            at(600),
            S,
        )
    )
    assert no_inf == {}


@pytest.mark.parametrize("rolled_up", [False, True])
@pytest.mark.parametrize("percent", [50, 90, 99])
def test_pnn_on_a_histogram_merges_buckets_per_step(percent: int, rolled_up: bool) -> None:
    series, observed = histogram_series("http.server.duration", 11, ["a", "b"], 3600)
    store = store_with(series)
    if rolled_up:  # else every bucket is aggregated from raw points at read time
        store.roll_up(dt(at(2400)))
    start, end, step = at(600), at(3600), 5 * MINUTE
    phi = percent / 100
    got = as_dict(evaluate(store, f"p{percent}(http.server.duration)", start, end, step))
    explicit = as_dict(
        evaluate(
            store,
            f"histogram_quantile({phi}, sum by (le) (increase(http.server.duration[5m])))",
            start,
            end,
            step,
        )
    )
    assert got.keys() == explicit.keys() == {key()}
    assert row(got[key()]) == row(explicit[key()])
    # Whole-minute steps read 1-minute buckets: the window is [t - 5m, t).
    want = [
        bucket_estimate(phi, _window_counts(observed, ["a", "b"], t, 5 * MINUTE, True))
        for t in times_of(start, end, step)
    ]
    assert_rows_equal(got, {key(): want}, rel=1e-9)
    grouped = as_dict(
        evaluate(store, f"p{percent} by (service) (http.server.duration)", start, end, step)
    )
    assert grouped.keys() == {key(service="a"), key(service="b")}
    for s in ("a", "b"):
        want_s = [
            bucket_estimate(phi, _window_counts(observed, [s], t, 5 * MINUTE, True))
            for t in times_of(start, end, step)
        ]
        assert_rows_equal({key(): grouped[key(service=s)]}, {key(): want_s}, rel=1e-9)


def test_pnn_on_a_histogram_reads_at_least_a_minute_below_a_minute_step() -> None:
    # docs/query.md: the window is the step, at least one minute (short auto steps would
    # otherwise leave most windows empty).
    series, _ = histogram_series("h", 5, ["a"], 900)
    store = store_with(series)
    start, end, step = at(300), at(900), 20 * S
    got = as_dict(evaluate(store, "p90(h)", start, end, step))
    explicit = as_dict(
        evaluate(store, "histogram_quantile(0.9, sum by (le) (increase(h[1m])))", start, end, step)
    )
    assert got and {k: row(v) for k, v in got.items()} == {k: row(v) for k, v in explicit.items()}


def _timer(name: str, service: str, host: str, stats: dict[str, float]) -> list[RefSeries]:
    return [
        RefSeries(
            f"{name}.{stat}", {"service": service, "host": host}, MetricKind.TIMER, [(at(0), v)]
        )
        for stat, v in stats.items()
    ]


def test_pnn_on_a_timer_reads_the_stored_statistic_and_takes_the_largest() -> None:
    series = [
        *_timer("api.latency", "a", "h1", {"count": 10, "p50": 12.0, "p99": 80.0}),
        *_timer("api.latency", "a", "h2", {"count": 10, "p50": 15.0, "p99": 60.0}),
        *_timer("api.latency", "b", "h1", {"count": 10, "p50": 3.0, "p99": 9.0}),
    ]
    store = store_with(series)
    got = as_dict(evaluate(store, "p99(api.latency)", at(10), at(10), S))
    assert {k: row(v) for k, v in got.items()} == {key(): [80.0]}
    grouped = as_dict(evaluate(store, "p50 by (service) (api.latency)", at(10), at(10), S))
    assert {k: row(v) for k, v in grouped.items()} == {
        key(service="a"): [15.0],
        key(service="b"): [3.0],
    }
    filtered = as_dict(evaluate(store, 'p99(api.latency{host="h2"})', at(10), at(10), S))
    assert {k: row(v) for k, v in filtered.items()} == {key(): [60.0]}
    with pytest.raises(QueryEvaluationError, match="p42"):
        evaluate(store, "p42(api.latency)", at(10), at(10), S)


def test_pnn_on_gauges_is_the_quantile_across_series() -> None:
    values = [1.0, 5.0, 2.0, 8.0, 3.0]
    store = store_with([gauge("cpu", [(at(0), v)], host=f"h{i}") for i, v in enumerate(values)])
    got = as_dict(evaluate(store, "p90(cpu)", at(10), at(10), S))
    assert np.allclose(got[key()], [prom_quantile(values, 0.9)])
    computed = as_dict(evaluate(store, "p50(cpu * 2)", at(10), at(10), S))
    assert np.allclose(computed[key()], [prom_quantile([v * 2 for v in values], 0.5)])
    plain = store_with([gauge("p99", [(at(0), 4.0)])])
    as_metric = as_dict(evaluate(plain, "p99", at(10), at(10), S))
    assert {k: row(v) for k, v in as_metric.items()} == {key(__name__="p99"): [4.0]}
