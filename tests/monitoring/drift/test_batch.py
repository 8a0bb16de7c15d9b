"""The batched window distances equal their one-window counterparts (and so scipy's)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitoring.drift.batch import bin_counts_many, ks_many, wasserstein_many
from monitoring.drift.jensen_shannon import js_distance, js_rows
from monitoring.drift.psi import bin_proportions, psi, psi_rows, smoothed


def _windows(kind: str, n_win: int, m: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "continuous":
        x = rng.standard_normal((n_win, m)) * rng.uniform(0.5, 2.0, (n_win, 1)) + rng.normal(0, 1, (n_win, 1))
    else:  # heavy ties, within the window and with the sketch
        x = rng.integers(-3, 4, (n_win, m)).astype(np.float64)
    return np.sort(x, axis=1)


def _sketch(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "continuous":
        return np.sort(rng.standard_normal(2048))
    return np.sort(rng.integers(-2, 3, 500).astype(np.float64))


@pytest.mark.parametrize("kind", ["continuous", "ties"])
@pytest.mark.parametrize("m", [1, 7, 768])
def test_ks_and_w1_equal_scipy_per_window(kind: str, m: int) -> None:
    rng = np.random.default_rng(m)
    sketch, rows = _sketch(kind, rng), _windows(kind, 25, m, rng)
    ks, w1 = ks_many(sketch, rows), wasserstein_many(sketch, rows)
    for j, row in enumerate(rows):
        assert ks[j] == pytest.approx(stats.ks_2samp(sketch, row).statistic, abs=1e-12)
        assert w1[j] == pytest.approx(stats.wasserstein_distance(sketch, row), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("kind", ["continuous", "ties"])
def test_batched_bin_counts_with_row_wise_psi_and_js_equal_the_one_window_functions(kind: str) -> None:
    rng = np.random.default_rng(7)
    sketch, rows = _sketch(kind, rng), _windows(kind, 40, 120, rng)
    edges = np.unique(np.quantile(sketch, np.arange(1, 10) / 10))
    ref_props = bin_proportions(edges, sketch)
    counts = bin_counts_many(edges, rows)
    n = counts.sum(axis=1, keepdims=True)
    psis, jss = psi_rows(ref_props, smoothed(counts / n, n)), js_rows(ref_props, counts)
    for j, row in enumerate(rows):
        props = bin_proportions(edges, row)
        assert counts[j] == pytest.approx(props * row.size)
        assert psis[j] == pytest.approx(psi(ref_props, smoothed(props, row.size)), rel=1e-12)
        assert jss[j] == pytest.approx(js_distance(ref_props, props), rel=1e-12, abs=1e-15)


def test_a_shifted_window_scores_higher_on_every_distance() -> None:
    rng = np.random.default_rng(3)
    sketch = np.sort(rng.standard_normal(2048))
    rows = np.sort(np.stack([rng.standard_normal(500), rng.standard_normal(500) + 1.0]), axis=1)
    edges = np.unique(np.quantile(sketch, np.arange(1, 10) / 10))
    counts = bin_counts_many(edges, rows)
    ref_props = bin_proportions(edges, sketch)
    n = counts.sum(axis=1, keepdims=True)
    for values in (ks_many(sketch, rows), wasserstein_many(sketch, rows),
                   psi_rows(ref_props, smoothed(counts / n, n)), js_rows(ref_props, counts)):
        assert values[1] > 3 * values[0]
