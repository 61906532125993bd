"""Window sums (``WindowIndex.prefix_sum``) are running sums over every series' cells; a
NaN or infinite value must still affect only the windows that hold it, as summing each
window would."""

from __future__ import annotations

import numpy as np
import pytest

from radiator.query.windows import WindowIndex


def _reference(
    series_of: np.ndarray,
    ends: np.ndarray,
    values: np.ndarray,
    series: int,
    times: np.ndarray,
    range_us: int,
) -> np.ndarray:
    out = np.full((series, len(times)), np.nan)
    for s in range(series):
        for j, t in enumerate(times):
            inside = (series_of == s) & (ends > t - range_us) & (ends <= t)
            if inside.any():
                with np.errstate(invalid="ignore"):
                    out[s, j] = values[inside].sum()
    return out


@pytest.mark.parametrize("seed", range(30))
def test_non_finite_values_stay_in_their_windows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series, cells = 3, 60
    series_of = np.sort(rng.integers(0, series, cells))
    ends = np.concatenate(
        [np.sort(rng.integers(0, 100, int((series_of == s).sum()))) for s in range(series)]
    )
    values = rng.normal(size=cells).round(3)
    special = rng.random(cells) < 0.1
    values[special] = rng.choice([np.nan, np.inf, -np.inf], int(special.sum()))
    times = np.arange(10, 110, 10)
    index = WindowIndex(series_of, ends, series, times, 25)
    got = index.prefix_sum(values)
    want = _reference(series_of, ends, values, series, times, 25)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.allclose(got[~np.isnan(got)], want[~np.isnan(want)])


def test_one_nan_does_not_hide_the_next_series() -> None:
    series_of = np.array([0, 0, 1, 1])
    ends = np.array([1, 2, 1, 2])
    index = WindowIndex(series_of, ends, 2, np.array([1, 2]), 1)
    sums = index.prefix_sum(np.array([np.nan, 1.0, 2.0, 3.0]))
    assert np.isnan(sums[0, 0]) and sums[0, 1] == 1.0
    assert sums[1].tolist() == [2.0, 3.0]
