"""The fitted core: AR filter, seasonal profile, effective sizes, residuals of the reference."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from monitoring.drift import DriftConfig, group_pulls
from monitoring.drift.ar import fit_ar, forecasts
from monitoring.drift.core import fit_core, residualize
from monitoring.drift.seasonal import DAY, candidate_terms, design
from tests.monitoring.drift.streams import ar1, hours

CFG = DriftConfig(pull_interval_minutes=60)


def test_forecasts_by_hand_with_a_reset() -> None:
    # phi 0.5, last deviation before the series 4: forecasts 0.5*4, 0.5*1, 0.5*2
    assert forecasts(np.array([1.0, 2.0, 3.0]), np.array([0.5]), np.array([4.0])).tolist() == [2.0, 0.5, 1.0]
    # a gap before pull 2: its lag is unknown, forecast the mean (0)
    resets = np.array([False, False, True])
    assert forecasts(np.array([1.0, 2.0, 3.0]), np.array([0.5]), np.array([4.0]), resets).tolist() == [
        2.0, 0.5, 0.0]


def test_ar_order_and_coefficient() -> None:
    rng = np.random.default_rng(0)
    phi, sigma2 = fit_ar(ar1(5000, 0.6, rng), 4)
    assert phi.size == 1 and phi[0] == pytest.approx(0.6, abs=0.03) and sigma2 == pytest.approx(1.0, abs=0.05)
    white, _ = fit_ar(rng.standard_normal(2000), 4)
    assert white.size == 0


def test_candidate_terms_need_a_full_period_and_respect_nyquist() -> None:
    assert candidate_terms(3 * DAY, 3600.0, 3, 2) == [(DAY, 1), (DAY, 2), (DAY, 3)]  # no weekly: span < week
    assert (7 * DAY, 2) in candidate_terms(14 * DAY, 3600.0, 3, 2)
    assert candidate_terms(14 * DAY, 8 * 3600.0, 3, 0) == [(DAY, 1)]  # 12 h and 8 h cycles alias at 8 h pulls
    assert design(np.array([0.0, DAY / 4]), [(DAY, 1)]) == pytest.approx(np.array([[1, 1, 0], [1, 0, 1]]))


def test_a_daily_cycle_is_kept_and_removed_from_the_residuals() -> None:
    rng = np.random.default_rng(1)
    t = hours(14 * 24)
    x = 50.0 + 10.0 * np.sin(2 * np.pi * t / DAY) + rng.standard_normal(t.size)
    core = fit_core(group_pulls(t, x), CFG)
    assert (DAY, 1) in core.terms
    assert core.scale == pytest.approx(1.0, abs=0.15)  # the cycle (sd 7) is gone from the residual sd
    assert core.value_sd == pytest.approx(1.0, abs=0.15)


def test_no_cycle_is_invented_in_persistent_noise() -> None:
    rng = np.random.default_rng(2)
    t = hours(14 * 24)
    core = fit_core(group_pulls(t, 5.0 * ar1(t.size, 0.6, rng)), CFG)
    assert core.terms == ()
    assert core.phi.size == 1


def test_reference_residuals_are_standardised_and_binned_in_deciles() -> None:
    rng = np.random.default_rng(3)
    t = hours(14 * 24)
    pulls = group_pulls(t, 20.0 + 3.0 * ar1(t.size, 0.5, rng))
    core = fit_core(pulls, CFG)
    res = residualize(core, pulls, np.zeros(0), None)
    assert np.std(res.resid) == pytest.approx(1.0)
    assert core.ref_props == pytest.approx(np.full(10, 0.1), abs=0.01)


def test_effective_size_discounts_within_pull_correlation() -> None:
    rng = np.random.default_rng(4)
    t = hours(14 * 24)
    core = fit_core(group_pulls(t, rng.standard_normal(t.size)), CFG)
    core = replace(core, icc=0.1)  # n / (1 + (m - 1) icc) with m = 10 rows a pull
    assert core.n_eff(100, 10) == pytest.approx(100 / 1.9)
    assert core.n_eff(100, 100) == 100.0
