"""``topk``/``bottomk`` keep the k largest (smallest) values of each step, ties going to the
earlier series, as a stable ranking does: the partition path used when k is the same at
every step agrees with ranking by a stable sort, with missing values and infinities."""

from __future__ import annotations

import numpy as np
import pytest

from radiator.query.aggregate import _top


def _reference(rows: np.ndarray, k: np.ndarray, largest: bool) -> np.ndarray:
    """Step by step: rank the present values (stable), keep ranks below floor(k)."""
    out = np.full(rows.shape, np.nan)
    for step in range(rows.shape[1]):
        limit = 0 if np.isnan(k[step]) else int(np.floor(k[step]))
        present = [i for i in range(rows.shape[0]) if not np.isnan(rows[i, step])]
        ranked = sorted(present, key=lambda i: -rows[i, step] if largest else rows[i, step])
        for i in ranked[: max(limit, 0)]:
            out[i, step] = rows[i, step]
    return out


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("largest", [True, False])
def test_matches_stable_ranking(seed: int, largest: bool) -> None:
    rng = np.random.default_rng(seed)
    count, steps = int(rng.integers(1, 14)), int(rng.integers(1, 7))
    rows = rng.integers(0, 4, size=(count, steps)).astype(float)  # many ties
    rows[rng.random(rows.shape) < 0.2] = np.nan
    rows[rng.random(rows.shape) < 0.1] = np.inf
    rows[rng.random(rows.shape) < 0.1] = -np.inf
    same_k = float(rng.integers(-1, count + 2)) + (0.5 if seed % 3 == 0 else 0.0)
    k = np.full(steps, same_k)
    if seed % 4 == 0:  # k varying by step takes the sorting path
        k = rng.integers(0, count + 1, size=steps).astype(float)
        k[0] = np.nan
    got = _top(rows, k, largest)
    assert np.array_equal(got, _reference(rows, k, largest), equal_nan=True)
