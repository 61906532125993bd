"""Sketch quantiles per window (``WindowIndex.sketch_quantile``) are exactly those of the
per-series (cell x key) count matrix they replaced, which is kept here as the reference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radiator.query import windows
from radiator.query.windows import WindowIndex, decode_sketch_keys

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MINUTE = 60_000_000
OFFSET = 1_000_000


def reference_series(
    ends: IntArray,
    keys: IntArray,
    counts: FloatArray,
    times: IntArray,
    range_us: int,
    phi: float,
) -> FloatArray:
    """One series, as before: a (cell x key) count matrix with prefix sums over cells."""
    cells, cell_of = np.unique(ends, return_inverse=True)
    distinct, key_of = np.unique(keys, return_inverse=True)
    width = len(distinct)
    flat = np.bincount(
        (cell_of + 1) * width + key_of, weights=counts, minlength=(len(cells) + 1) * width
    )
    matrix = np.cumsum(flat.reshape(len(cells) + 1, width), axis=0)
    hi = np.searchsorted(cells, times, side="right")
    lo = np.searchsorted(cells, times - range_us, side="right")
    window = matrix[hi] - matrix[lo]
    cumulative = np.cumsum(window, axis=1)
    totals = cumulative[:, -1]
    target = np.clip(phi, 0.0, 1.0) * (totals - 1)
    found = np.argmax(cumulative > target[:, None], axis=1)
    result: FloatArray = np.where(totals > 0, decode_sketch_keys(distinct[found]), np.nan)
    return result


@dataclass
class Sketches:
    """Sketch entries sorted by (series, end), as the store hands them over."""

    series: int
    series_of: IntArray
    ends: IntArray
    keys: IntArray
    counts: FloatArray

    @classmethod
    def of(cls, series: int, rows: list[tuple[int, int, int, int]]) -> Sketches:
        """From (series, end, key, count) rows; the order within a cell is kept."""
        rows = sorted(rows, key=lambda r: (r[0], r[1]))
        columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
        return cls(
            series,
            np.array(columns[0], dtype=np.int64),
            np.array(columns[1], dtype=np.int64),
            np.array(columns[2], dtype=np.int64),
            np.array(columns[3], dtype=np.float64),
        )

    def quantile(self, times: IntArray, range_us: int, phi: float) -> FloatArray:
        index = WindowIndex(self.series_of, self.ends, self.series, times, range_us)
        return index.sketch_quantile(self.keys, self.counts, phi)

    def reference(self, times: IntArray, range_us: int, phi: float) -> FloatArray:
        out = np.full((self.series, len(times)), np.nan)
        bounds = np.searchsorted(self.series_of, np.arange(self.series + 1))
        for s in range(self.series):
            a, b = int(bounds[s]), int(bounds[s + 1])
            if a < b:
                out[s] = reference_series(
                    self.ends[a:b], self.keys[a:b], self.counts[a:b], times, range_us, phi
                )
        return out


def latency_sketches(series: int, cells: int, seed: int, empty: tuple[int, ...] = ()) -> Sketches:
    """Six lognormal latencies (ms) a minute per series, keyed as the store keys them."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int, int]] = []
    for s in range(series):
        if s in empty:
            continue
        values = rng.lognormal(np.log(rng.uniform(20, 200)), 0.3, (cells, 6))
        values[rng.random(values.shape) < 0.01] *= 10
        keys = OFFSET + np.ceil(np.log(values) / np.log(1.02)).astype(np.int64)
        for cell in range(cells):
            found, counts = np.unique(keys[cell], return_counts=True)
            rows += [
                (s, (cell + 1) * MINUTE, int(k), int(c)) for k, c in zip(found, counts, strict=True)
            ]
    return Sketches.of(series, rows)


def step_times(first_min: int, steps: int, step_s: int, floored: bool = True) -> IntArray:
    times = first_min * MINUTE + np.arange(steps, dtype=np.int64) * step_s * 1_000_000
    return (times // MINUTE) * MINUTE if floored else times


keys_near = st.one_of(
    st.just(0),
    st.integers(-40, 40).map(lambda m: OFFSET + m),
    st.integers(-40, 40).map(lambda m: -(OFFSET + m)),
)


@st.composite
def sketches(draw: st.DrawFn, minutes: int = 31, least: int = 0, most: int = 12) -> Sketches:
    """Up to 4 series, each with ``least`` to ``most`` of ``minutes`` one-minute cells."""
    series = draw(st.integers(1, 4))
    # The extreme keys a double can reach: about two million apart.
    far = draw(st.sampled_from([None, OFFSET + 35_000, -(OFFSET + 35_000)]))
    scale = draw(st.sampled_from([1, 1, 1, 2**40]))
    rows = []
    for s in range(series):
        cells = st.sets(st.integers(0, minutes - 1), min_size=least, max_size=most)
        for minute in sorted(draw(cells)):
            cell = draw(st.lists(st.tuples(keys_near, st.integers(0, 4)), min_size=1, max_size=5))
            if far is not None and draw(st.booleans()):
                cell.append((far, 1))
            rows += [(s, (minute + 1) * MINUTE, key, count * scale) for key, count in cell]
    return Sketches.of(series, rows)


@settings(max_examples=300, deadline=None)
@given(
    data=sketches(),
    first_min=st.integers(0, 35),
    steps=st.integers(1, 60),
    step_s=st.sampled_from([15, 30, 60, 120, 300]),
    floored=st.booleans(),
    range_s=st.sampled_from([30, 60, 120, 300, 600, 1800, 3600]),
    phi=st.one_of(st.sampled_from([0.0, 1.0, 0.5, 0.99]), st.floats(0.0, 1.0)),
)
def test_sketch_quantile_matches_the_per_series_count_matrix(
    data: Sketches,
    first_min: int,
    steps: int,
    step_s: int,
    floored: bool,
    range_s: int,
    phi: float,
) -> None:
    times = step_times(first_min, steps, step_s, floored)
    range_us = range_s * 1_000_000
    np.testing.assert_array_equal(
        data.quantile(times, range_us, phi), data.reference(times, range_us, phi)
    )


@settings(max_examples=60, deadline=None)
@given(
    data=sketches(minutes=61, least=40, most=61),
    phi=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0)),
)
def test_windows_holding_each_entry_many_times_match_the_reference(
    data: Sketches, phi: float
) -> None:
    times = step_times(0, 240, 15, floored=False)
    index = WindowIndex(data.series_of, data.ends, data.series, times, 30 * MINUTE)
    # Each entry lies in dozens of windows: the rank is narrowed down before rows are sorted.
    assert index.lengths.sum() > 2 * windows._ROWS_PER_ENTRY * len(data.keys)
    np.testing.assert_array_equal(
        data.quantile(times, 30 * MINUTE, phi), data.reference(times, 30 * MINUTE, phi)
    )


@pytest.mark.parametrize("phi", [0.0, 0.01, 0.5, 0.99, 1.0])
def test_five_minute_windows_of_many_series_match_the_reference(phi: float) -> None:
    data = latency_sketches(series=12, cells=125, seed=1, empty=(0, 5, 11))
    times = step_times(5, 241, 30)
    np.testing.assert_array_equal(
        data.quantile(times, 5 * MINUTE, phi), data.reference(times, 5 * MINUTE, phi)
    )


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9, 1.0])
def test_long_windows_match_the_reference(phi: float) -> None:
    data = latency_sketches(series=3, cells=240, seed=2)
    times = step_times(60, 361, 30)
    index = WindowIndex(data.series_of, data.ends, data.series, times, 60 * MINUTE)
    # Windows this long hold each entry dozens of times: they narrow the rank down first.
    assert index.lengths.sum() > 2 * windows._ROWS_PER_ENTRY * len(data.keys)
    np.testing.assert_array_equal(
        data.quantile(times, 60 * MINUTE, phi), data.reference(times, 60 * MINUTE, phi)
    )


def test_series_split_into_runs_match_the_reference() -> None:
    data = latency_sketches(series=40, cells=1100, seed=3, empty=(0, 17, 39))
    assert len(data.keys) > 1.5 * windows._RUN_ENTRIES
    times = step_times(10, 300, 120)
    np.testing.assert_array_equal(
        data.quantile(times, 10 * MINUTE, 0.95), data.reference(times, 10 * MINUTE, 0.95)
    )


def test_many_distinct_keys_match_the_reference() -> None:
    rng = np.random.default_rng(4)
    rows = [
        (0, (cell + 1) * MINUTE, OFFSET + int(k), int(rng.integers(1, 3)))
        for cell in range(400)
        for k in rng.choice(40_000, size=5, replace=False)
    ]
    data = Sketches.of(1, rows)
    times = step_times(3, 400, 60)
    np.testing.assert_array_equal(
        data.quantile(times, 3 * MINUTE, 0.3), data.reference(times, 3 * MINUTE, 0.3)
    )


def test_empty_windows_and_series_without_entries_are_nan() -> None:
    rows = [
        (1, 2 * MINUTE, OFFSET + 5, 2),
        (1, 3 * MINUTE, -(OFFSET + 5), 1),
        (1, 3 * MINUTE, 0, 1),
    ]
    data = Sketches.of(3, rows)
    got = data.quantile(step_times(1, 5, 60), MINUTE, 0.5)
    value = float(decode_sketch_keys(np.array([OFFSET + 5]))[0])
    np.testing.assert_array_equal(
        got,
        [
            [np.nan] * 5,
            # At 3 min the window holds -v and 0 once each: rank 0.5 lies in -v.
            [np.nan, value, -value, np.nan, np.nan],
            [np.nan] * 5,
        ],
    )


def test_no_entries_give_nan() -> None:
    data = Sketches.of(2, [])
    assert np.isnan(data.quantile(step_times(0, 3, 60), MINUTE, 0.5)).all()


def test_nan_phi_gives_nan() -> None:
    data = latency_sketches(series=2, cells=10, seed=5)
    assert np.isnan(data.quantile(step_times(5, 5, 60), 5 * MINUTE, float("nan"))).all()


def test_fractional_counts_are_refused() -> None:
    data = Sketches.of(1, [(0, MINUTE, OFFSET, 1)])
    index = WindowIndex(data.series_of, data.ends, 1, step_times(1, 1, 60), MINUTE)
    with pytest.raises(ValueError, match="whole"):
        index.sketch_quantile(data.keys, np.array([0.5]), 0.5)


def test_keys_far_apart_are_ranked_by_sorting() -> None:
    keys = np.array([7 * OFFSET, -3, 7 * OFFSET, 0, -3], dtype=np.int64)
    distinct, ranks = windows._key_ranks(keys)
    assert distinct.tolist() == [-3, 0, 7 * OFFSET]
    assert ranks.tolist() == [2, 0, 2, 1, 0]


def brute_select(
    ranks: IntArray, weights: IntArray, lo: IntArray, hi: IntArray, limit: IntArray
) -> list[int]:
    found = []
    for a, b, most in zip(lo, hi, limit, strict=True):
        order = np.argsort(ranks[a:b], kind="stable")
        running = np.cumsum(weights[a:b][order])
        found.append(int(ranks[a:b][order][np.argmax(running > most)]))
    return found


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    entries=st.integers(1, 60),
    rank_span=st.sampled_from([1, 2, 7, 300, 5000]),
    rows_per_entry=st.sampled_from([0, 1, 2, 1000]),
)
def test_select_finds_the_first_rank_past_the_limit(
    data: st.DataObject, entries: int, rank_span: int, rows_per_entry: int
) -> None:
    """Both ways (narrowing bit by bit, sorted rows) and any mix of them agree."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    ranks = rng.integers(0, rank_span, entries).astype(np.int32)
    weights = rng.integers(0, 4, entries) * data.draw(st.sampled_from([1, 2**45]))
    bounds = np.sort(rng.integers(0, entries + 1, (data.draw(st.integers(1, 80)), 2)), axis=1)
    lo, hi = bounds[:, 0], bounds[:, 1]
    cumulative = np.concatenate(([0], np.cumsum(weights)))
    live = cumulative[hi] > cumulative[lo]
    lo, hi = lo[live], hi[live]
    limit = (rng.random(len(lo)) * (cumulative[hi] - cumulative[lo])).astype(np.int64)
    got = windows._select(ranks, weights, lo, hi, limit, rows_per_entry=rows_per_entry)
    assert got.tolist() == brute_select(ranks.astype(np.int64), weights, lo, hi, limit)


def test_select_sorts_rows_in_batches() -> None:
    rng = np.random.default_rng(6)
    ranks = rng.integers(0, 50, 500).astype(np.int32)
    weights = rng.integers(1, 3, 500)
    lo = rng.integers(0, 460, 30_000)
    hi = lo + rng.integers(1, 41, len(lo))
    assert len(lo) * 40 > 2 * windows._ROW_CELLS
    cumulative = np.concatenate(([0], np.cumsum(weights)))
    limit = (rng.random(len(lo)) * (cumulative[hi] - cumulative[lo])).astype(np.int64)
    got = windows._select(ranks, weights, lo, hi, limit, rows_per_entry=10**6)
    assert got.tolist() == brute_select(ranks.astype(np.int64), weights, lo, hi, limit)
