"""Window bounds on an evenly spaced grid are counted (``windows._counted_bounds``), not
searched: they must equal the binary search over (series, end) keys they replace."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from radiator.query.windows import WindowIndex

IntArray = npt.NDArray[np.int64]


def searched(
    series_of: IntArray, ends: IntArray, series: int, times: IntArray, range_us: int
) -> tuple[IntArray, IntArray]:
    """The bounds by binary search over ``series * span + end`` (the general path)."""
    base = min(int(times.min()) - range_us, int(ends.min()) if len(ends) else 0)
    top = max(int(times.max()), int(ends.max()) if len(ends) else 0)
    span = top - base + 1
    keys = series_of * span + (ends - base)
    rows = np.arange(series, dtype=np.int64)[:, None] * span
    hi = np.searchsorted(keys, rows + (times - base), side="right")
    lo = np.searchsorted(keys, rows + (times - range_us - base), side="right")
    return lo, hi


@st.composite
def cells_and_grid(draw: st.DrawFn) -> tuple[IntArray, IntArray, int, IntArray, int]:
    series = draw(st.integers(1, 6))
    step = draw(st.integers(1, 50))
    steps = draw(st.integers(1, 30))
    start = draw(st.integers(-500, 500))
    range_us = draw(st.integers(1, 200))
    # Cells anywhere around the grid, with repeated ends, some series empty.
    ends = draw(st.lists(st.integers(start - 300, start + step * steps + 300), max_size=120))
    owners = draw(st.lists(st.integers(0, series - 1), min_size=len(ends), max_size=len(ends)))
    order = np.lexsort((np.array(ends, dtype=np.int64), np.array(owners, dtype=np.int64)))
    series_of = np.array(owners, dtype=np.int64)[order]
    sorted_ends = np.array(ends, dtype=np.int64)[order]
    times = start + step * np.arange(steps, dtype=np.int64)
    return series_of, sorted_ends, series, times, range_us


@settings(max_examples=400, deadline=None)
@given(cells_and_grid())
def test_counted_bounds_equal_searched_ones(
    case: tuple[IntArray, IntArray, int, IntArray, int],
) -> None:
    series_of, ends, series, times, range_us = case
    index = WindowIndex(series_of, ends, series, times, range_us)
    lo, hi = searched(series_of, ends, series, times, range_us)
    assert np.array_equal(index.lo, lo)
    assert np.array_equal(index.hi, hi)
    assert np.array_equal(index.lengths, hi - lo)


def test_uneven_times_are_searched() -> None:
    series_of = np.array([0, 0, 1, 1, 1], dtype=np.int64)
    ends = np.array([10, 25, 5, 26, 40], dtype=np.int64)
    times = np.array([10, 20, 40], dtype=np.int64)  # steps of 10 then 20
    index = WindowIndex(series_of, ends, 2, times, 15)
    lo, hi = searched(series_of, ends, 2, times, 15)
    assert np.array_equal(index.lo, lo)
    assert np.array_equal(index.hi, hi)
    assert index.lengths.tolist() == [[1, 1, 0], [1, 0, 2]]
