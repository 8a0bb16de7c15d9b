"""KS statistic and p-value against scipy.stats.ks_2samp, and the method's verdict rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitoring.drift import check_window
from monitoring.drift.ks import ks_pvalue, ks_statistic
from tests.monitoring.drift.streams import hours


@pytest.mark.parametrize(("n1", "n2", "shift"), [(50, 80, 0.0), (300, 40, 0.5), (1000, 1000, 0.1)])
def test_statistic_and_pvalue_match_scipy(n1: int, n2: int, shift: float) -> None:
    rng = np.random.default_rng(n1 + n2)
    a = np.sort(rng.standard_normal(n1))
    b = np.sort(rng.standard_normal(n2) + shift)
    ref = stats.ks_2samp(a, b, method="asymp")
    d = ks_statistic(a, b)
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert ks_pvalue(d, n1, n2) == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


def test_statistic_with_ties_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a = np.sort(rng.integers(0, 6, 200).astype(float))
    b = np.sort(rng.integers(1, 7, 150).astype(float))
    assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


def test_weights_act_as_repeated_rows() -> None:
    """A thinned window carries weights; weight w must count like w copies of the value."""
    rng = np.random.default_rng(4)
    ref = np.sort(rng.standard_normal(400))
    values = np.sort(rng.standard_normal(30) + 0.3)
    counts = rng.integers(1, 5, values.size)
    expanded = np.repeat(values, counts)
    assert ks_statistic(ref, values, counts.astype(float)) == pytest.approx(
        stats.ks_2samp(ref, expanded).statistic, abs=1e-12)


def test_identical_samples_have_zero_distance_and_disjoint_ones_one() -> None:
    a = np.arange(10.0)
    assert ks_statistic(a, a) == 0.0
    assert ks_statistic(a, a + 100.0) == 1.0


def test_method_reports_ks_of_residuals_against_the_reference(iid_ref) -> None:
    """With no profile and no AR term, residuals are (x - level) / sd: KS is unchanged by that map."""
    model = iid_ref.model
    assert model.core.phi.size == 0 and not model.core.terms
    rng = np.random.default_rng(5)
    t = hours(48, iid_ref.next_time)
    x = 104.0 + 5.0 * rng.standard_normal(t.size)
    result = check_window(model, t, x).method("ks")
    expected = stats.ks_2samp(iid_ref.values, x)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert result.details["threshold_source"] == "calibrated"


@pytest.mark.parametrize("n", [1001, 2500, 20_000])
def test_large_samples_use_a_fast_approximation_within_half_a_percent(n: int) -> None:
    from scipy.stats import kstwo

    from monitoring.drift.ks import kolmogorov_sf

    for d in np.linspace(0.001, 0.3, 200):
        assert kolmogorov_sf(float(d), n) == pytest.approx(kstwo.sf(d, n), abs=0.005)


def test_large_n_pvalue_equals_scipy_kstwobign() -> None:
    from monitoring.drift.ks import kolmogorov_sf

    for n in (1001.0, 5000.0, 1e6):
        root = np.sqrt(n)
        for d in (0.0, 1e-4, 0.01, 0.03, 0.2, 1.0):
            expected = float(np.clip(stats.kstwobign.sf(d * (root + 0.12 + 0.11 / root)), 0.0, 1.0))
            assert kolmogorov_sf(d, n) == pytest.approx(expected, rel=1e-12, abs=1e-300)
