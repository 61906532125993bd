"""Exact window quantiles (``WindowIndex.quantile``) agree with ``np.quantile`` of each
window's values, on both paths: windows of similar length sorted as padded rows, and
uneven windows expanded; a column the read did not fetch is refused."""

from __future__ import annotations

import numpy as np
import pytest

from radiator.query.windows import WindowIndex


def _case(seed: int, uneven: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    series = int(rng.integers(1, 5))
    ends_of = []
    for _ in range(series):
        count = int(rng.integers(0, 60))
        ends_of.append(np.sort(rng.choice(np.arange(0, 600), size=count, replace=False)))
    if uneven:  # one series very dense: window lengths differ a lot
        ends_of[0] = np.arange(0, 600, dtype=np.int64)
    series_of = np.concatenate([np.full(len(e), i) for i, e in enumerate(ends_of)]).astype(np.int64)
    ends = np.concatenate(ends_of).astype(np.int64)
    values = rng.normal(size=len(ends))
    values[rng.random(len(values)) < 0.1] = 0.0  # ties
    times = np.arange(30, 630, int(rng.integers(5, 40)), dtype=np.int64)
    return series_of, ends, values, times, int(rng.integers(10, 200))


def _reference(series_of, ends, values, times, range_us, phi):  # type: ignore[no-untyped-def]
    out = np.full((int(series_of.max(initial=-1)) + 1, len(times)), np.nan)
    for s in range(out.shape[0]):
        for j, t in enumerate(times):
            inside = values[(series_of == s) & (ends > t - range_us) & (ends <= t)]
            if len(inside):
                with np.errstate(invalid="ignore"):
                    out[s, j] = np.quantile(inside, phi)
    return out


@pytest.mark.parametrize("uneven", [False, True])
@pytest.mark.parametrize("seed", range(25))
def test_exact_quantile_matches_np_quantile(seed: int, uneven: bool) -> None:
    series_of, ends, values, times, range_us = _case(seed, uneven)
    index = WindowIndex(series_of, ends, int(series_of.max(initial=-1)) + 1, times, range_us)
    for phi in (0.0, 0.5, 0.9, 0.99, 1.0):
        got = index.quantile(values, phi)
        want = _reference(series_of, ends, values, times, range_us, phi)
        np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def test_a_column_not_fetched_is_refused() -> None:
    index = WindowIndex(np.zeros(3, dtype=np.int64), np.array([1, 2, 3]), 1, np.array([3]), 10)
    for use in (index.prefix_sum, index.first, index.last, lambda v: index.quantile(v, 0.5)):
        with pytest.raises(ValueError, match="0 values for 3 cells"):
            use(np.empty(0))
