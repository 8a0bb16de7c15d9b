"""Wasserstein-1 against scipy.stats.wasserstein_distance, and its reference-sd normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitoring.drift import check_window
from monitoring.drift.wasserstein import wasserstein
from tests.monitoring.drift.streams import hours


@pytest.mark.parametrize(("n1", "n2"), [(10, 7), (500, 60), (2048, 1200)])
def test_matches_scipy(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1)
    u = np.sort(rng.standard_normal(n1))
    v = np.sort(rng.gamma(2.0, 1.0, n2))
    assert wasserstein(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-10)


def test_weighted_matches_scipy_weights() -> None:
    rng = np.random.default_rng(2)
    u = np.sort(rng.standard_normal(300))
    v = np.sort(rng.standard_normal(40) + 1.0)
    w = rng.uniform(0.5, 3.0, v.size)
    assert wasserstein(u, v, w) == pytest.approx(stats.wasserstein_distance(u, v, v_weights=w), rel=1e-10)


def test_a_pure_shift_moves_by_the_shift() -> None:
    u = np.linspace(-1.0, 1.0, 101)
    assert wasserstein(u, u + 0.7) == pytest.approx(0.7)


def test_method_is_w1_in_reference_sd_units(iid_ref) -> None:
    """Residuals are (x - level) / sd here, so W1 on them is W1 on raw values / reference sd."""
    model = iid_ref.model
    assert model.core.phi.size == 0 and not model.core.terms
    ref = iid_ref.values
    rng = np.random.default_rng(3)
    t = hours(48, iid_ref.next_time)
    x = 103.0 + 6.0 * rng.standard_normal(t.size)
    clipped = np.clip(x, ref.min(), ref.max())  # the method clips the window to the reference range
    expected = stats.wasserstein_distance(ref, clipped) / np.std(ref)
    result = check_window(model, t, x).method("wasserstein")
    assert result.statistic == pytest.approx(expected, rel=1e-9)
    assert result.details["units"] == "reference sd"
