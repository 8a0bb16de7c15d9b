"""Row scores: mid-rank PIT against the reference and orthonormal Hermite polynomials."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from monitoring.drift.scores import fit_scale, hermite, pit, pull_means


def test_pit_is_the_mid_rank_share_kept_inside_the_unit_interval() -> None:
    sketch = np.array([1.0, 2.0, 3.0, 4.0])
    # 2.5: 2 below -> 2/4; 2.0: left 1, right 2 -> 3/8; far tails clipped to 1/8 and 7/8
    assert pit(sketch, np.array([2.5, 2.0, -9.0, 9.0])).tolist() == [0.5, 0.375, 0.125, 0.875]


def test_pit_with_repeated_sketch_values_is_the_two_sided_mid_rank() -> None:
    rng = np.random.default_rng(5)
    sketch = np.sort(rng.integers(-3, 4, 300).astype(float))
    x = np.concatenate((rng.integers(-5, 6, 500).astype(float), rng.normal(0, 2, 500)))
    mid = (np.searchsorted(sketch, x, "left") + np.searchsorted(sketch, x, "right")) / (2.0 * sketch.size)
    assert np.array_equal(pit(sketch, x), np.clip(mid, 0.5 / 300, 1 - 0.5 / 300))


def test_hermite_scores_are_orthonormal_under_the_normal_law() -> None:
    nodes, weights = hermegauss(30)  # exact for polynomials up to degree 59 against exp(-z^2/2)
    h = hermite(nodes)
    gram = (h * (weights / weights.sum())[:, None]).T @ h
    assert gram == pytest.approx(np.eye(4), abs=1e-10)


def test_scale_of_single_row_pulls_is_all_within() -> None:
    rng = np.random.default_rng(0)
    scores = hermite(rng.standard_normal(5000))
    offsets = np.arange(5001)
    scale = fit_scale(scores, offsets, n_params=1)
    assert scale.between.tolist() == [0.0] * 4
    # all variance is row-level, with one degree of freedom for the fitted level
    assert scale.within == pytest.approx(np.var(scores, axis=0) * 5000 / 4999)
    assert pull_means(scores, np.array([0, 2, 5]))[0] == pytest.approx(scores[:2].mean(axis=0))
