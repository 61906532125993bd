"""The ``quantile`` aggregation, vectorised over steps, agrees with ``np.quantile`` applied
step by step, bit for bit, with missing values, infinities and φ outside [0, 1]."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from radiator.query.aggregate import _quantile


def _reference(rows: np.ndarray, phi: np.ndarray) -> np.ndarray:
    out = np.full(rows.shape[1], np.nan)
    for step in range(rows.shape[1]):
        column = rows[:, step][~np.isnan(rows[:, step])]
        if not len(column) or np.isnan(phi[step]):
            continue
        if phi[step] < 0 or phi[step] > 1:
            out[step] = -np.inf if phi[step] < 0 else np.inf
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[step] = np.quantile(column, phi[step])
    return out


@pytest.mark.parametrize("seed", range(40))
def test_matches_np_quantile_step_by_step(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(int(rng.integers(0, 7)), int(rng.integers(1, 9))))
    rows[rng.random(rows.shape) < 0.3] = np.nan
    if rows.size and seed % 3 == 0:
        rows.flat[0] = np.inf if seed % 2 else -np.inf
    phi = rng.choice([0, 0.25, 0.5, 0.9, 0.99, 1, -0.5, 1.5, np.nan], size=rows.shape[1])
    assert np.array_equal(_quantile(rows, phi), _reference(rows, phi), equal_nan=True)
